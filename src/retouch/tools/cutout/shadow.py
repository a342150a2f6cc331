"""A soft contact shadow: the subject's silhouette near its base, flattened onto the ground and blurred."""

from __future__ import annotations

import numpy as np

OPACITY = 0.45
BASE_FRACTION = 0.12  # the lowest part of the subject that casts the contact shadow
SQUASH = 0.25  # vertical scale of the projected silhouette


def contact_shadow(alpha: np.ndarray) -> np.ndarray:
    """How much each pixel is darkened (float32 HxW in [0, OPACITY]); zeros when there is no subject."""
    import cv2

    from retouch.tools.cutout.blur import gaussian_blur

    height, width = alpha.shape
    solid = alpha > 0.5
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return np.zeros_like(alpha, dtype=np.float32)
    top, bottom = int(rows[0]), int(rows[-1])
    base_top = bottom - max(1, round((bottom - top + 1) * BASE_FRACTION))
    silhouette = np.zeros_like(alpha, dtype=np.float32)
    silhouette[base_top : bottom + 1] = alpha[base_top : bottom + 1]
    # Flatten the base onto the ground line (the subject's bottom row), then soften it.
    matrix = np.float32([[1, 0, 0], [0, SQUASH, bottom * (1 - SQUASH)]])
    flat = cv2.warpAffine(silhouette, matrix, (width, height), flags=cv2.INTER_LINEAR)
    columns = np.flatnonzero(solid.any(axis=0))
    sigma = max(1.0, 0.04 * float(columns[-1] - columns[0] + 1))
    soft = gaussian_blur(flat, sigma, sigma * SQUASH + 1.0)
    peak = float(soft.max())
    if peak > 0:
        soft *= np.float32(OPACITY / peak)
    return soft
