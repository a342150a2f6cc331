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
from numba import njit

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
    _apply(np.ascontiguousarray(image, dtype=np.float32), a, b, small_alpha.astype(np.float32), rows, cols, alpha)
    return alpha


def sample_axis(size: int, source: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``size`` output positions, the two source positions and the weight of the second: bilinear
    enlargement of ``source`` samples with pixel centres aligned (as OpenCV's INTER_LINEAR)."""
    centre = (np.arange(size, dtype=np.float64) + 0.5) * (source / size) - 0.5
    centre = np.clip(centre, 0.0, source - 1)
    first = np.floor(centre).astype(np.int64)
    second = np.minimum(first + 1, source - 1)
    return first, second, (centre - first).astype(np.float32)


@njit(cache=True, nogil=True)
def _apply(image, a, b, small_alpha, rows, cols, out):  # pragma: no cover - compiled
    """out = bilinear(a) . image + bilinear(b), clipped to [0, 1]; flat (all 0 or all 1) neighbourhoods of the
    small matte are copied, so those pixels stay exact."""
    y0s, y1s, fys = rows
    x0s, x1s, fxs = cols
    for y in range(out.shape[0]):
        y0 = y0s[y]
        y1 = y1s[y]
        fy = fys[y]
        for x in range(out.shape[1]):
            x0 = x0s[x]
            x1 = x1s[x]
            fx = fxs[x]
            s00 = small_alpha[y0, x0]
            if s00 == small_alpha[y0, x1] and s00 == small_alpha[y1, x0] and s00 == small_alpha[y1, x1]:
                if s00 == 0.0 or s00 == 1.0:
                    out[y, x] = s00
                    continue
            w00 = (1 - fy) * (1 - fx)
            w01 = (1 - fy) * fx
            w10 = fy * (1 - fx)
            w11 = fy * fx
            value = w00 * b[y0, x0] + w01 * b[y0, x1] + w10 * b[y1, x0] + w11 * b[y1, x1]
            for c in range(3):
                coefficient = w00 * a[y0, x0, c] + w01 * a[y0, x1, c] + w10 * a[y1, x0, c] + w11 * a[y1, x1, c]
                value += coefficient * image[y, x, c]
            if value >= 1.0 - 1e-4:  # within rounding of opaque or transparent: exact
                value = 1.0
            elif value <= 1e-4:
                value = 0.0
            out[y, x] = value


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
