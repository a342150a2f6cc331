"""Models as data: the schema of a row (``spec``, each task's ``conventions``), the rows (``registry``), finding
and fetching their files (``weights``) and the runtimes that run them (``runtime``, which imports torch / onnxruntime only when called)."""

from __future__ import annotations

from retouch.models.registry import get_spec, list_models
from retouch.models.spec import (
    FrozenMapping,
    ModelSpec,
    NpmSource,
    PackageSource,
    UrlSource,
    WeightFile,
    WheelSource,
)
from retouch.models.weights import (
    VerifyResult,
    is_installed,
    pull,
    remove,
    resolve_files,
    resolve_weights,
    verify,
)

__all__ = [
    "FrozenMapping",
    "ModelSpec",
    "NpmSource",
    "PackageSource",
    "UrlSource",
    "VerifyResult",
    "WeightFile",
    "WheelSource",
    "get_spec",
    "is_installed",
    "list_models",
    "pull",
    "remove",
    "resolve_files",
    "resolve_weights",
    "verify",
]
