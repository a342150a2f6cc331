"""Where the workplace's shared evaluation data and real weights live: ``shared/`` beside the repository.

Tests that need them skip with a reason where they are absent (a user's fresh clone). In CI (the ``CI`` environment
variable set, as ``.ci/run`` sets it) such a skip is a failure instead: a CI run that silently skipped them would
be green with none of them run (see ``conftest.py``).
"""

import os
from pathlib import Path
from typing import NoReturn

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVAL = SHARED / "eval"
MODELS = SHARED / "models"
KODAK = EVAL / "photos" / "kodak"


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but empty, 0 or false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# Files that tests use when present but that the shared folder does not provide (MODELS.md there: LaMa's weights
# are not obtainable on the workplace's machines): their absence is no failure in CI.
OPTIONAL = (MODELS / "big-lama.pt",)


def is_missing_requirement(reason: str) -> bool:
    """A skip reason that names the shared folder (and none of its optional files): data CI must have."""
    if any(str(path) in reason for path in OPTIONAL):
        return False
    return str(SHARED) in reason or "../shared" in reason


def unavailable(reason: str) -> NoReturn:
    """Skip for a missing requirement, or, in CI, fail."""
    if in_ci():
        pytest.fail(f"CI is set, so this cannot be skipped: {reason}", pytrace=False)
    pytest.skip(reason)
