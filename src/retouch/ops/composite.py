"""Compositing a filled region back into the untouched original."""

from __future__ import annotations

import numpy as np


def blend_inside(original: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """original * (1 - weight) + fill * weight, all float32; weight is HxW, images HxWxC."""
    w = weight[:, :, None]
    return original + (fill - original) * w


def write_where(target: np.ndarray, values: np.ndarray, where: np.ndarray) -> None:
    """Copy ``values`` into ``target`` only where ``where`` is True: every other sample stays bit-identical."""
    target[where] = values[where]
