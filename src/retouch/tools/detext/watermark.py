"""A watermark shared by many photos (a stock agency's mark on a whole folder), estimated from all of them and
taken off each by inverting its blend, after Dekel et al., "On the Effectiveness of Visible Watermarks" (CVPR
2017): the pixels under a semi-transparent mark are recovered, not invented.

A mark blends into each photo I_k as J_k = alpha W + (1 - alpha) I_k, alpha and W the same in every photo. Over a
varied folder the photos' own structure averages out, and what stays is the mark:

1. where: the per-pixel median of the photos' gradients keeps the mark's edges only; the region is those edges,
   slightly grown, with what they enclose;
2. how strong: that median gradient integrated over the region (Jacobi iterations of Poisson's equation, zero
   outside) gives the mark's matted strength, which tells its pixels from the region's background;
3. how opaque and in what colour: at each pixel the photos' spread is (1 - alpha) times what it would be without
   the mark, and their median is alpha W + (1 - alpha) m, where the unmarked median m and spread are those of the
   photos around the region, carried in smoothly (``push_pull``). The spread ratio gives a first alpha, from which
   one colour W of the mark is taken (its median where alpha is clear); alpha is then read again from the median,
   a far steadier statistic: alpha = (median - m) . (W - m) / |W - m|^2, smoothed by a guided filter along the
   median image (where the mark's shapes are crisp);
4. each photo: I_k = (J_k - alpha W) / (1 - alpha). Where the mark is nearly opaque (alpha above MAX_ALPHA) nothing
   of the photo is left to recover: those pixels go to the erase engine.

Memory: the statistics are computed in bands of rows, so a folder of large photos is held once, as 8-bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from retouch.errors import InvalidInput
from retouch.types import Picture, ProgressCallback, no_progress

MIN_PHOTOS = 8  # fewer photos do not average a mark's background out
MAX_ALPHA = 0.85  # above this, what is left of the photo under the mark is noise: it is erased instead
BAND_ROWS = 256
EDGE_SHARE = 0.3  # mark edges: median gradient above this share of its 99th percentile
STRENGTH_SHARE = 0.25  # mark pixels: matted strength above this share of its 95th percentile in the region
JACOBI_ROUNDS = 800
# alpha is smoothed along the median image, where the mark's shapes are crisp: a guided filter (He et al. 2010)
# averages the per-pixel noise of the estimate inside a letter without blurring its edge (+0.8 dB measured)
GUIDE_RADIUS = 2
GUIDE_EPS = 25.0


@dataclass(frozen=True)
class Watermark:
    """The shared mark: ``alpha`` (HxW float32, 0 outside it) and its colour (3 values, 0-255)."""

    alpha: np.ndarray
    colour: np.ndarray

    @property
    def opaque(self) -> np.ndarray:
        """The pixels too opaque to recover (HxW bool)."""
        return self.alpha > MAX_ALPHA


def estimate_watermark(photos: list[np.ndarray]) -> Watermark:
    """The mark shared by ``photos`` (each HxWx3 uint8, all the same size). InvalidInput for fewer than
    MIN_PHOTOS photos or photos of different sizes, or when no shared mark stands out."""
    import cv2

    from retouch.tools.detext import push_pull
    from retouch.tools.detext.glyphs import with_enclosed

    if len(photos) < MIN_PHOTOS:
        raise InvalidInput(f"estimating a shared watermark needs at least {MIN_PHOTOS} photos, got {len(photos)}")
    shape = photos[0].shape
    if any(photo.shape != shape for photo in photos):
        raise InvalidInput("the photos must all have the same size: the mark sits at the same place in each")
    gx, gy, median, spread = _statistics(photos)
    magnitude = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    edges = magnitude > EDGE_SHARE * float(np.quantile(magnitude, 0.99))
    if not edges.any():
        raise InvalidInput("no watermark shared by these photos stands out")
    region = with_enclosed(cv2.dilate(edges.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool))
    known = ~region
    unmarked_median = push_pull(median, known)
    unmarked_spread = push_pull(spread, known)
    matted_mark = _matted(gx, gy, region)
    strength = np.abs(matted_mark).max(axis=2)
    mark = region & (strength > STRENGTH_SHARE * float(np.quantile(strength[region], 0.95)))
    # a first alpha from the spread, steady enough to find the mark's one colour
    rough = np.clip(1.0 - (spread / np.maximum(unmarked_spread, 1.0)).mean(axis=2), 0.0, 0.95)
    clear = mark & (rough > 0.25)
    if not clear.any():
        raise InvalidInput("no watermark shared by these photos stands out")
    matted = median - (1.0 - rough)[:, :, None] * unmarked_median
    colour = np.median(matted[clear] / rough[clear][:, None], axis=0).clip(0, 255).astype(np.float32)
    # alpha again, from the median: along the direction from the unmarked colour to the mark's
    towards = colour[None, None, :] - unmarked_median
    alpha = ((median - unmarked_median) * towards).sum(axis=2) / np.maximum((towards * towards).sum(axis=2), 1.0)
    guide = cv2.cvtColor(np.clip(median, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    alpha = cv2.ximgproc.guidedFilter(guide, np.where(mark, alpha, 0.0).astype(np.float32), GUIDE_RADIUS, GUIDE_EPS)
    alpha = np.where(mark, np.clip(alpha, 0.0, 1.0), 0.0).astype(np.float32)
    return Watermark(alpha, colour)


def remove_watermark(pixels: np.ndarray, mark: Watermark) -> np.ndarray:
    """``pixels`` (HxWx3 uint8) with the mark's blend inverted where it can be (alpha up to MAX_ALPHA); the
    opaque rest is left as it is, for the erase engine. Pixels outside the mark are returned unchanged."""
    inside = (mark.alpha > 0) & ~mark.opaque
    alpha = mark.alpha[inside][:, None]
    values = pixels[inside].astype(np.float32)
    recovered = (values - alpha * mark.colour[None, :]) / (1.0 - alpha)
    out = pixels.copy()
    out[inside] = np.clip(np.rint(recovered), 0, 255).astype(np.uint8)
    return out


def _statistics(photos: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, over the photos: the median x and y gradients (Sobel), the median value and the standard
    deviation, each HxWx3 float32, computed a band of rows at a time."""
    import cv2

    height, width = photos[0].shape[:2]
    results = [np.empty((height, width, 3), np.float32) for _ in range(4)]
    for top in range(0, height, BAND_ROWS):
        bottom = min(height, top + BAND_ROWS)
        lo, hi = max(0, top - 1), min(height, bottom + 1)  # one more row each side for the gradient
        band = np.stack([photo[lo:hi] for photo in photos]).astype(np.float32)
        gx = np.median(np.stack([cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3) for b in band]), axis=0)
        gy = np.median(np.stack([cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3) for b in band]), axis=0)
        rows = slice(top - lo, top - lo + bottom - top)
        results[0][top:bottom] = gx[rows]
        results[1][top:bottom] = gy[rows]
        results[2][top:bottom] = np.median(band[:, rows], axis=0)
        results[3][top:bottom] = band[:, rows].std(axis=0)
    return results[0], results[1], results[2], results[3]


def _matted(gx: np.ndarray, gy: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The mark as the photos' median gradient sees it: that gradient integrated over ``region`` (Poisson's
    equation by Jacobi iterations, zero outside), HxWx3; about alpha (W - m), m the unmarked median."""
    import cv2

    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = max(0, ys.min() - 1), ys.max() + 2, max(0, xs.min() - 1), xs.max() + 2
    inside = region[y0:y1, x0:x1, None]
    divergence = (
        cv2.Sobel(np.ascontiguousarray(gx[y0:y1, x0:x1]), cv2.CV_32F, 1, 0, ksize=1)
        + cv2.Sobel(np.ascontiguousarray(gy[y0:y1, x0:x1]), cv2.CV_32F, 0, 1, ksize=1)
    ) / 8.0  # the 3x3 Sobel's gradients are 8 times the pixel differences
    field = np.zeros(divergence.shape, np.float32)
    for _ in range(JACOBI_ROUNDS):
        around = np.zeros_like(field)
        around[1:] += field[:-1]
        around[:-1] += field[1:]
        around[:, 1:] += field[:, :-1]
        around[:, :-1] += field[:, 1:]
        field = np.where(inside, (around - divergence) / 4.0, 0.0).astype(np.float32)
    matted = np.zeros((*region.shape, 3), np.float32)
    matted[y0:y1, x0:x1] = field
    return matted


def remove_shared_watermark(
    pictures: list[Picture],
    *,
    engine: str = "auto",
    device: str = "auto",
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> list[Picture]:
    """Each of ``pictures`` (8-bit, all the same size, at least MIN_PHOTOS) without the watermark they share:
    the mark's blend inverted where it is semi-transparent, its opaque parts erased with ``engine``. Recorded as
    "detext (watermark)" for the provenance XMP. InvalidInput as ``estimate_watermark``, and for 16-bit pictures."""
    from retouch import masks
    from retouch.tools.detext import rgb8
    from retouch.tools.erase import erase

    if any(picture.pixels.dtype != np.uint8 for picture in pictures):
        raise InvalidInput("a shared watermark is estimated from 8-bit photos; convert 16-bit ones first")
    rgb = [rgb8(picture) for picture in pictures]
    mark = estimate_watermark(rgb)
    opaque = masks.grow(mark.opaque, 2) if mark.opaque.any() else None
    cleaned = []
    for index, (picture, pixels) in enumerate(zip(pictures, rgb, strict=True)):
        progress("watermark", index, len(pictures))
        recovered = remove_watermark(pixels, mark)
        if picture.is_grey:
            recovered = np.rint(recovered.mean(axis=2, keepdims=True)).astype(np.uint8)
        result = picture.replace(pixels=recovered)
        if opaque is not None:
            result = erase(result, opaque, engine=engine, grow=0, device=device, seed=seed)
            # one operation is recorded for the whole removal, not the erase of its opaque part as well
            kept = dataclasses.replace(result.metadata, operations=picture.metadata.operations)
            result = result.replace(metadata=kept)
        cleaned.append(result.with_operation("detext (watermark)"))
    progress("watermark", len(pictures), len(pictures))
    return cleaned
