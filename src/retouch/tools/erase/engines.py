"""The erase engines: which exist, which are installed, and one loaded instance of each per device.

An engine is a callable ``(image, mask) -> image`` over float32 HxWx3 RGB in [0, 1] and an HxW bool hole mask;
it may return anything inside the hole and must return the input outside it (the caller composites anyway).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retouch.errors import InvalidInput, WeightsMissing

ENGINES = ("auto", "patch", "lama", "migan")

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

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class PatchEngine:
    """The built-in exemplar engine: no weights, full resolution."""

    seed: int = 0
    name: str = "patch"
    max_side: int | None = None

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from retouch.tools.erase.patch import inpaint_patch

        return inpaint_patch(image, mask, seed=self.seed)


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


_load_lock = threading.Lock()


def load_engine(engine: str, *, device: str = "auto", seed: int = 0) -> InpaintEngine:
    """A ready engine; network engines are loaded once per (engine, model, device) and shared (thread-safe).
    seed is the patch engine's (see ``patch.inpaint_patch``); the networks ignore it."""
    name = resolve_engine_name(engine)
    if name == "patch":
        return PatchEngine(seed=seed)
    model = installed_model(name)
    if model is None:
        raise WeightsMissing(ENGINE_MODELS[name][0], f"retouch models pull {ENGINE_MODELS[name][0]}")
    with _load_lock:
        return _load_network(name, model, device)


@functools.lru_cache(maxsize=8)
def _load_network(engine: str, model: str, device: str) -> InpaintEngine:
    from retouch.models.runtime import select_device
    from retouch.models.weights import resolve_weights

    path = resolve_weights(model, allow_download=False)
    if engine == "lama":
        from retouch.tools.erase.lama import load_lama

        return load_lama(path, select_device(device))
    from retouch.tools.erase.migan import load_migan

    return load_migan(path, device)
