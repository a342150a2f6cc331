"""Resizing float images: area averaging to shrink (no aliasing), bicubic to enlarge."""

from __future__ import annotations

import numpy as np


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float32 HxW or HxWxC image to ``size`` = (width, height), values kept in [0, 1]."""
    import cv2

    width, height = size
    if (image.shape[1], image.shape[0]) == (width, height):
        return image.copy()
    shrinking = width * height < image.shape[0] * image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    out = cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=interpolation)
    if image.ndim == 3 and out.ndim == 2:  # cv2 drops a trailing axis of length 1
        out = out[:, :, None]
    return np.clip(out, 0.0, 1.0) if not shrinking else out


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a bool mask to (width, height); any covered pixel stays covered (no hole is lost by shrinking)."""
    import cv2

    width, height = size
    if (mask.shape[1], mask.shape[0]) == (width, height):
        return mask.copy()
    as_float = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    return as_float > 0.0


def fit_within(width: int, height: int, longest: int) -> tuple[int, int]:
    """The (width, height) scaled down to fit ``longest`` on its longest side, unchanged if already smaller."""
    scale = longest / max(width, height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))
