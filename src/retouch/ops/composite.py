"""Compositing: a filled region back into the untouched original, and one layer over another."""

from __future__ import annotations

import numpy as np


def blend_inside(original: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """original * (1 - weight) + fill * weight, all float32; weight is HxW, images HxWxC."""
    w = weight[:, :, None]
    return original + (fill - original) * w


def write_where(target: np.ndarray, values: np.ndarray, where: np.ndarray) -> None:
    """Copy ``values`` into ``target`` only where ``where`` is True: every other sample stays bit-identical."""
    target[where] = values[where]


def over(
    colour: np.ndarray, alpha: np.ndarray, background: np.ndarray, cover: np.ndarray | np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Porter-Duff "over": ``colour`` at opacity ``alpha`` in front of ``background`` at opacity ``cover``.

    colour: HxWx3 float32 in [0, 1], not premultiplied; alpha: HxW float32 in [0, 1]. background: HxWx3 float32
    in [0, 1] or one (3,) colour, not premultiplied; cover: its opacity, HxW float32 in [0, 1] or one float32.
    Returns (alpha, colours): HxW and HxWx3 float32, colours not premultiplied (0 where both layers are clear).
    """
    out_alpha = alpha + cover * (1.0 - alpha)
    premultiplied = colour * alpha[:, :, None] + background * (cover * (1.0 - alpha))[:, :, None]
    return out_alpha, premultiplied / np.maximum(out_alpha, 1e-6)[:, :, None]
