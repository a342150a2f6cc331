"""Foreground colours: what the subject's edge pixels look like without the background mixed in.

A pixel of alpha a shows I = a F + (1 - a) B. Cutting out with I itself as the colour keeps the old background in
every soft edge (a grey-green fringe on hair shot against a lawn). This estimates F by blur fusion (Forte and
Pitie, "Approximate Fast Foreground Colour Estimation", ICIP 2021): local alpha-weighted means of the foreground
and of the background, then the residual of the compositing equation given to F, first with a large window (far
colours) and then a small one (detail). Box filters make it linear in the number of pixels, whatever the radius.

Chosen by measurement against multilevel foreground estimation (Germer et al. 2020, as pymatting implements it)
and against three and four window sizes: on the alphamatting.com photos, with Retouch's alpha, the edge-colour error
of bench/cutout.py is 0.0484 with these two windows, 0.0477 with pymatting's estimator and 0.0480 with four
windows; with the true alpha it is 0.0054. What is left of the error comes from the alpha, not the colours.
"""

from __future__ import annotations

import numpy as np

from retouch.tools.cutout import _kernels
from retouch.tools.cutout.upsample import sample_axis

LARGE = 90  # window radii at scale 1: far colours first, then detail
SMALL = 6
_EPS = np.float32(1e-4)


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, *, scale: float = 1.0, in_place: bool = False
) -> np.ndarray:
    """F (float32 HxWx3 in [0, 1]) for ``image`` (HxWx3) and ``alpha`` (HxW), both float32 in [0, 1].

    ``scale`` stretches the windows (90 and 6 pixels at scale 1, meant for a photo of about a megapixel). Where
    alpha is exactly 1 the result is the image itself, so opaque pixels keep their values exactly. Only the
    bounding box of the soft pixels (plus the large window) is computed; above scale 1 the local means are taken
    on a copy shrunk by ``scale`` (they are smooth) and only the last step, the compositing equation, runs at
    full resolution. in_place: write the result into ``image`` (float32, C-contiguous) instead of a copy, which
    on a 12-megapixel photo saves copying 144 MB.
    """
    soft = (alpha > 0) & (alpha < 1)
    if in_place and (image.dtype != np.float32 or not image.flags.c_contiguous):
        raise ValueError("estimate_foreground(in_place=True) needs a C-contiguous float32 image")
    result = image if in_place else image.astype(np.float32, copy=True)
    if not np.any(soft):
        return result
    shrink = max(scale, 1.0)
    box = _bounds(soft, round(LARGE * shrink), alpha.shape)
    img = np.asarray(image, dtype=np.float32)[box]  # views: a copy of a large photo costs more than the rest
    a = np.asarray(alpha, dtype=np.float32)[box]
    radii = (max(3, round(LARGE * min(scale, 1.0))), max(1, round(SMALL * min(scale, 1.0))))
    img_s, a_s = (img, a) if shrink == 1.0 else _shrunk(img, a, shrink)
    fg, bg = img_s, img_s
    fg, bg = _blur_fusion(img_s, fg, bg, a_s, radii[0])
    fg_mean, bg_mean = _local_means(fg, bg, a_s, radii[1])
    h, w = a.shape
    rows, cols = sample_axis(h, fg_mean.shape[0]), sample_axis(w, fg_mean.shape[1])
    crop = result[box]  # a view: written in place
    # the compositing equation's residual given to F at each soft pixel, the means enlarged on the fly
    _kernels.finish_foreground(img, a, fg_mean.astype(np.float32), bg_mean.astype(np.float32), rows, cols, crop)
    return result


def _blur_fusion(
    image: np.ndarray, fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    fg_mean, bg_mean = _local_means(fg, bg, alpha, radius)
    a = alpha[:, :, None]
    estimate = fg_mean + a * (image - a * fg_mean - (1 - a) * bg_mean)
    return np.clip(estimate, 0.0, 1.0), bg_mean


def _local_means(fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The alpha-weighted local mean of the foreground and the (1 - alpha)-weighted one of the background."""
    import cv2

    size = (2 * radius + 1, 2 * radius + 1)
    a = alpha[:, :, None]
    blurred_alpha = cv2.blur(alpha, size)[:, :, None]
    fg_mean = cv2.blur(fg * a, size) / (blurred_alpha + _EPS)
    bg_mean = cv2.blur(bg * (1 - a), size) / ((1 - blurred_alpha) + _EPS)
    return fg_mean, bg_mean


def _shrunk(image: np.ndarray, alpha: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = alpha.shape
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)


def _bounds(mask: np.ndarray, margin: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = shape[:2]
    return (
        slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, h)),
        slice(max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, w)),
    )
