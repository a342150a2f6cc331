"""Padding to the size a network needs (a multiple of N, a square) and cropping back."""

from __future__ import annotations

import numpy as np


def pad_to_multiple(image: np.ndarray, multiple: int, *, square: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad HxW[xC] at the bottom and right with symmetric reflection so both sides are multiples of ``multiple``
    (and equal, when ``square``). Returns the padded array and the original (height, width) to crop back to."""
    height, width = image.shape[:2]
    target_h = -(-height // multiple) * multiple
    target_w = -(-width // multiple) * multiple
    if square:
        target_h = target_w = max(target_h, target_w)
    pad = [(0, target_h - height), (0, target_w - width)] + [(0, 0)] * (image.ndim - 2)
    # 'symmetric' repeats the edge row, like the official LaMa code; it also works when the pad exceeds the size.
    return np.pad(image, pad, mode="symmetric"), (height, width)


def crop_back(image: np.ndarray, original: tuple[int, int]) -> np.ndarray:
    return image[: original[0], : original[1]]
