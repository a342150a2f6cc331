"""Putting restored faces back: each crop is warped back into the photo and blended through a feathered mask.

The mask is drawn in crop space (full weight in the middle, a smooth ramp to zero near the crop's border), so
the feather scales with the face; it is then multiplied by the face's strength (0: the original face, 1: the
restored one). Only the pixels a crop covers are touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.restore.faces.align import crop_footprint, warp_from_crop

BORDER = 0.02  # of the crop side: left out entirely (the edge of a warped crop carries interpolation artefacts)
FEATHER = 0.12  # of the crop side: the width of the ramp from zero to full weight


@dataclass(frozen=True)
class Paste:
    """A restored crop, the transform from image to crop coordinates, and how strongly to apply it."""

    crop: np.ndarray  # S x S x 3 float32 in [0, 1]
    matrix: np.ndarray  # 2x3, image -> crop
    strength: float = 1.0


@lru_cache(maxsize=4)
def feather_mask(size: int) -> np.ndarray:
    """The size x size weight of a crop: 0 at the border, rising smoothly (smoothstep) to 1 inside."""
    index = np.arange(size, dtype=np.float32)
    to_edge = np.minimum(index, size - 1 - index)
    ramp = np.clip((to_edge - BORDER * size) / (FEATHER * size), 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)
    mask = np.minimum.outer(ramp, ramp).astype(np.float32)
    mask.setflags(write=False)
    return mask


def paste_faces(image: np.ndarray, pastes: Sequence[Paste]) -> np.ndarray:
    """``image`` (HxWx3 float32) with each restored crop blended in, in order; a new array."""
    out = image.copy()
    height, width = image.shape[:2]
    for paste in pastes:
        if not 0.0 <= paste.strength <= 1.0:
            raise InvalidInput(f"a face strength must be between 0 and 1, got {paste.strength}")
        size = paste.crop.shape[0]
        box = crop_footprint(paste.matrix, size, (width, height)) if paste.strength > 0 else None
        if box is None:
            continue
        x, y, w, h = box
        face = warp_from_crop(paste.crop.astype(np.float32, copy=False), paste.matrix, box)
        weight = warp_from_crop(feather_mask(size), paste.matrix, box) * np.float32(paste.strength)
        region = out[y : y + h, x : x + w]
        region += (face - region) * weight[:, :, None]
    return out
