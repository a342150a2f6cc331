"""Retouch's HTTP API and web app: ``create_app(ServerSettings(...))`` gives a FastAPI app; ``retouch serve``
runs it with uvicorn. Names load on first use, so the CLI can read the settings' defaults without FastAPI."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {"create_app": "retouch.server.app", "ServerSettings": "retouch.server.settings"}
__all__ = ["ServerSettings", "create_app"]

if TYPE_CHECKING:
    from retouch.server.app import create_app
    from retouch.server.settings import ServerSettings


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'retouch.server' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
