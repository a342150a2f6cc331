"""The erase engines: which exist, which are installed, and loading one (networks through the runtime's cache).

An engine is a callable ``(image, mask, progress) -> image`` over float32 HxWx3 RGB in [0, 1] and an HxW bool hole
mask; it may return anything inside the hole and must return the input outside it (the caller composites anyway).
It reports its own steps as (stage, done, total) through ``progress``, which may raise to stop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retouch.errors import InvalidInput, WeightsMissing
from retouch.tools.options.erase import ENGINES
from retouch.types import ProgressCallback, no_progress

# Network engines and the registry rows that can serve them, best first.
ENGINE_MODELS: dict[str, tuple[str, ...]] = {
    "lama": ("big-lama", "big-lama-ckpt"),
    "migan": ("migan",),
}
# What "auto" prefers when several are installed: the best inpainting quality first.
AUTO_ORDER = ("lama", "migan")


class InpaintEngine(Protocol):
    name: str
    # The longest side the engine should see: larger crops are shrunk to it and the fill enlarged back.
    # None means any size (the exemplar engine works at full resolution).
    max_side: int | None

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
        ...


@dataclass(frozen=True)
class PatchEngine:
    """The built-in exemplar engine: no weights, full resolution."""

    seed: int = 0
    name: str = "patch"
    max_side: int | None = None

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
        from retouch.tools.erase.patch import inpaint_patch

        return inpaint_patch(image, mask, seed=self.seed, progress=progress)


def installed_model(engine: str) -> str | None:
    """The first registry row that can serve ``engine`` and whose weights are installed, if any."""
    from retouch.models.weights import is_installed

    return next((model for model in ENGINE_MODELS.get(engine, ()) if is_installed(model)), None)


def resolve_engine_name(engine: str) -> str:
    """Turn "auto" into the best installed network, else "patch"; validate the name."""
    if engine not in ENGINES:
        raise InvalidInput(f"unknown erase engine '{engine}'; choose one of: {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    return next((name for name in AUTO_ORDER if installed_model(name)), "patch")


def load_engine(engine: str, *, device: str = "auto", seed: int = 0) -> InpaintEngine:
    """A ready engine. Network engines come from the runtime's cache (``retouch.models.runtime``): one load per
    weight file (path, size, mtime) and device, shared between threads. seed is the patch engine's (see
    ``patch.inpaint_patch``); the networks ignore it."""
    from retouch.models.conventions import EraseConventions
    from retouch.models.registry import get_spec
    from retouch.models.weights import resolve_weights

    name = resolve_engine_name(engine)
    if name == "patch":
        return PatchEngine(seed=seed)
    model = installed_model(name)
    if model is None:
        raise WeightsMissing(ENGINE_MODELS[name][0], f"retouch models pull {ENGINE_MODELS[name][0]}")
    spec = get_spec(model)
    path = resolve_weights(spec, allow_download=False)
    max_side = spec.conventions_as(EraseConventions).max_side
    if name == "lama":
        from retouch.tools.erase.lama import load_lama

        return load_lama(path, device, max_side=max_side)
    from retouch.tools.erase.migan import load_migan

    return load_migan(path, device, max_side=max_side)
