"""Retouch: a local, open-source AI photo editor.

Only the public API lives here. Importing this package is cheap: every function is loaded on first use, and no
heavy library (torch, onnxruntime, cv2) is imported until a tool needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from retouch._version import __version__
from retouch.errors import (
    BackendUnavailable,
    ChecksumError,
    CorruptImage,
    DownloadError,
    InvalidInput,
    LicenseNotAccepted,
    OutputExists,
    RetouchError,
    TooLarge,
    UnsupportedFormat,
    WeightsMissing,
)
from retouch.types import Metadata, Picture, ProgressCallback

# Public name -> module that defines it; resolved on first attribute access (PEP 562).
_LAZY = {
    "erase": "retouch.tools.erase",
    "detext": "retouch.tools.detext",
    "find_text": "retouch.tools.detext",
    "cutout": "retouch.tools.cutout",
    "replace_background": "retouch.tools.cutout",
    "restore": "retouch.tools.restore",
    "upscale": "retouch.tools.upscale",
    "relight": "retouch.tools.relight",
    "select": "retouch.tools.select",
    "generate": "retouch.tools.generate",
    "uncrop": "retouch.tools.uncrop",
    "reimagine": "retouch.tools.reimagine",
    "batch": "retouch.batching.api",
    "load_image": "retouch.io",
    "save_image": "retouch.io",
    "list_models": "retouch.models.registry",
}

__all__ = [
    "BackendUnavailable",
    "ChecksumError",
    "CorruptImage",
    "DownloadError",
    "InvalidInput",
    "LicenseNotAccepted",
    "Metadata",
    "OutputExists",
    "Picture",
    "ProgressCallback",
    "RetouchError",
    "TooLarge",
    "UnsupportedFormat",
    "WeightsMissing",
    "__version__",
    *_LAZY,
]

if TYPE_CHECKING:
    from retouch.tools.cutout import cutout, replace_background
    from retouch.tools.detext import detext, find_text
    from retouch.tools.erase import erase
    from retouch.tools.restore import restore
    from retouch.tools.upscale import upscale
    from retouch.tools.relight import relight
    from retouch.tools.select import select
    from retouch.tools.generate import generate
    from retouch.tools.uncrop import uncrop
    from retouch.tools.reimagine import reimagine
    from retouch.batching.api import batch
    from retouch.io import load_image, save_image
    from retouch.models.registry import list_models


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'retouch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
