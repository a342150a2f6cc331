"""A matte solved on a smaller copy of the photo, enlarged to the photo's size along the photo's own edges.

Fast guided filter (He and Sun, 2015): in each small window the matte is fitted as a linear function of the colours,
a . I + b (the same colour-line model the matting itself rests on); the coefficients are computed on the small copy,
smoothed, enlarged bilinearly, and applied to the full-resolution colours. A strand the small copy shows as a soft
streak comes back as sharp as the photo draws it. Where the small matte is flat (its four nearest samples all 0 or all
1) the value is kept exactly.

Measured on the alphamatting.com photos matted at half their size and enlarged (the data of bench/cutout.py): mean
SAD 28.78 enlarged bilinearly, 28.30 with this filter; radius 1 to 4 and epsilon 1e-5 to 1e-3 all lie within 0.4.
"""

from __future__ import annotations

import numpy as np

from retouch.tools.cutout import _kernels

RADIUS = 2  # window radius on the small copy, in its pixels
EPSILON = 1e-4  # regularization: colour variance below this counts as flat


def guided_upsample(
    image: np.ndarray,
    small_image: np.ndarray,
    small_alpha: np.ndarray,
    *,
    radius: int = RADIUS,
    epsilon: float = EPSILON,
) -> np.ndarray:
    """The matte (float32, ``image``'s HxW in [0, 1]) from ``small_alpha`` solved on ``small_image``."""
    height, width = image.shape[:2]
    a, b = _coefficients(small_image.astype(np.float32), small_alpha.astype(np.float32), radius, epsilon)
    rows, cols = sample_axis(height, a.shape[0]), sample_axis(width, a.shape[1])
    alpha = np.empty((height, width), dtype=np.float32)
    # alpha = bilinear(a) . image + bilinear(b), with the small matte's flat (all 0 or all 1) parts copied exactly
    _kernels.apply_guided(image, a, b, small_alpha, rows, cols, alpha)
    return alpha


def sample_axis(size: int, source: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``size`` output positions, the two source positions and the weight of the second: bilinear
    enlargement of ``source`` samples with pixel centres aligned (as OpenCV's INTER_LINEAR)."""
    centre = (np.arange(size, dtype=np.float64) + 0.5) * (source / size) - 0.5
    centre = np.clip(centre, 0.0, source - 1)
    first = np.floor(centre).astype(np.int64)
    second = np.minimum(first + 1, source - 1)
    return first, second, (centre - first).astype(np.float32)


def _coefficients(image: np.ndarray, alpha: np.ndarray, radius: int, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's a (HxWx3) and b (HxW), already averaged over each pixel's windows."""
    import cv2

    size = (2 * radius + 1, 2 * radius + 1)

    def mean(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_i = mean(image)
    mean_p = mean(alpha)
    cov_ip = mean(image * alpha[:, :, None]) - mean_i * mean_p[:, :, None]
    # The 3x3 colour covariance of each window (symmetric: six planes), regularized.
    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    sigma = {(i, j): mean(image[:, :, i] * image[:, :, j]) - mean_i[:, :, i] * mean_i[:, :, j] for i, j in pairs}
    for i in range(3):
        sigma[(i, i)] = sigma[(i, i)] + np.float32(epsilon)
    s00, s01, s02, s11, s12, s22 = (sigma[p] for p in pairs)
    # Inverse by cofactors.
    c00 = s11 * s22 - s12 * s12
    c01 = s02 * s12 - s01 * s22
    c02 = s01 * s12 - s02 * s11
    c11 = s00 * s22 - s02 * s02
    c12 = s01 * s02 - s00 * s12
    c22 = s00 * s11 - s01 * s01
    det = s00 * c00 + s01 * c01 + s02 * c02
    v0, v1, v2 = cov_ip[:, :, 0], cov_ip[:, :, 1], cov_ip[:, :, 2]
    a = np.stack(
        [
            (c00 * v0 + c01 * v1 + c02 * v2) / det,
            (c01 * v0 + c11 * v1 + c12 * v2) / det,
            (c02 * v0 + c12 * v1 + c22 * v2) / det,
        ],
        axis=2,
    ).astype(np.float32)
    b = (mean_p - (a * mean_i).sum(axis=2)).astype(np.float32)
    return mean(a), mean(b)
