"""Denoising for scanned prints and film grain: non-local means on luminance, edge-aware smoothing of colour.

The photo is split into luminance and two colour-difference planes (YCrCb). Luminance goes through OpenCV's
non-local means, whose filter strength follows the noise level measured in the photo (Immerkaer's estimator)
times ``strength``; colour noise, which the eye forgives less on smooth skin and sky, is smoothed by a guided
filter steered by the denoised luminance, so colour does not bleed across edges. ``strength`` 0 leaves the
photo unchanged, 1 removes about all of the measured noise.

OpenCV's non-local means works on 8-bit planes; for 16-bit photos only its change (denoised minus input, both
at 8 bits) is added to the full-precision luminance, so detail the filter keeps keeps its 16-bit precision.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.types import ProgressCallback, no_progress

NLM_PER_SIGMA = 1.2  # non-local means h per unit of measured noise (0..255 scale) at strength 1
NLM_MIN_H = 2.0  # at strength 1, even a clean-looking photo gets this much (grain under the estimator's radar)
# The mean of a half-normal variable below its 90th percentile, relative to its full mean.
_TRUNCATED_MEAN = (1 - np.exp(-(1.6448536**2) / 2)) / 0.9
CHROMA_RADIUS_PER_STRENGTH = 6  # guided-filter radius at strength 1, scaled with the photo's size (per 1000 px)
NLM_TEMPLATE, NLM_SEARCH = 7, 21  # OpenCV's patch and search window sides
NLM_REACH = NLM_SEARCH // 2 + NLM_TEMPLATE // 2 + 2  # rows an output row depends on, each side, with room
NLM_BAND_PIXELS = 250_000  # pixels per band: about a second of non-local means on two cores
STAGE = "denoise"


def estimate_noise(plane: np.ndarray) -> float:
    """The standard deviation of white Gaussian noise in a 2-D plane, in its own units (Immerkaer 1996).

    A 3x3 difference-of-Laplacians filter cancels smooth image content; edges, which it does not cancel, are left
    out by ignoring the strongest tenth of the response (and the mean corrected for that truncation).
    """
    import cv2

    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = np.abs(cv2.filter2D(plane.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT101))
    inner = response[1:-1, 1:-1]
    if inner.size == 0:
        return 0.0
    calm = inner[inner <= np.quantile(inner, 0.9)]
    return float(np.sqrt(np.pi / 2) * calm.mean() / 6.0 / _TRUNCATED_MEAN)


def denoise(image: np.ndarray, strength: float, progress: ProgressCallback = no_progress) -> np.ndarray:
    """``image`` (HxWx3 float32 RGB in [0, 1]) denoised to the degree ``strength`` in [0, 1]. progress:
    ("denoise", band, bands) after each band of rows of the non-local means (it may raise to stop)."""
    import cv2

    if not 0.0 <= strength <= 1.0:
        raise InvalidInput(f"denoise strength must be between 0 and 1, got {strength}")
    if strength == 0.0:
        return image.copy()
    ycc = cv2.cvtColor(image.astype(np.float32, copy=False), cv2.COLOR_RGB2YCrCb)
    luma = ycc[:, :, 0]
    luma8 = np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)
    sigma = estimate_noise(luma8.astype(np.float32))
    h = strength * max(NLM_MIN_H, NLM_PER_SIGMA * sigma)
    cleaned8 = _non_local_means(luma8, float(h), progress)
    ycc[:, :, 0] = np.clip(luma + (cleaned8.astype(np.float32) - luma8.astype(np.float32)) / 255.0, 0.0, 1.0)

    radius = max(1, round(CHROMA_RADIUS_PER_STRENGTH * strength * max(image.shape[:2]) / 1000))
    guide = ycc[:, :, 0]
    for channel in (1, 2):
        chroma = np.ascontiguousarray(ycc[:, :, channel])
        smooth = cv2.ximgproc.guidedFilter(guide, chroma, radius, (0.02 * strength) ** 2)
        ycc[:, :, channel] = chroma + (smooth - chroma) * np.float32(strength)
    return np.clip(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), 0.0, 1.0)


def _non_local_means(plane: np.ndarray, h: float, progress: ProgressCallback) -> np.ndarray:
    """OpenCV's non-local means over bands of rows (a progress step each, about a second on two cores), each
    computed with NLM_REACH rows of context above and below: the same pixels as one call over the whole plane."""
    import cv2

    height, width = plane.shape
    rows = max(NLM_REACH, NLM_BAND_PIXELS // max(width, 1))
    starts = range(0, height, rows)
    out = np.empty_like(plane)
    progress(STAGE, 0, len(starts))
    for done, y0 in enumerate(starts, 1):
        y1 = min(height, y0 + rows)
        top, bottom = max(0, y0 - NLM_REACH), min(height, y1 + NLM_REACH)
        rows_read = np.ascontiguousarray(plane[top:bottom])
        band = cv2.fastNlMeansDenoising(
            rows_read, None, h=h, templateWindowSize=NLM_TEMPLATE, searchWindowSize=NLM_SEARCH
        )
        out[y0:y1] = band[y0 - top : y1 - top]
        progress(STAGE, done, len(starts))
    return out
