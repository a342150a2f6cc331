"""Random tokens for documents and jobs; an id from a request is used only after it matches the pattern."""

from __future__ import annotations

import re
import secrets

ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
_ID_RE = re.compile(ID_PATTERN)


def new_id() -> str:
    """128 random bits, URL-safe: unguessable, and safe as a file name."""
    return secrets.token_urlsafe(16)


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))
