"""Full-resolution alpha: the network's low-resolution map only guides; the edges are solved on the photo itself.

1. Prior (``prior``): the network's map with its faint but distinct responses raised, and a trust per pixel.
2. Trimap. Where the network itself is sure (above ``HIGH``) the pixel is foreground, where the prior is below
   ``LOW`` background, except within ``band`` pixels of the other side: that margin and every unsure pixel form
   the uncertain band. A confident region too thin to keep its middle after that shrinking (a strand, a small gap)
   keeps its middle anyway, so thin parts and small holes keep their seeds.
3. Enclosed background. A low region of the network's map surrounded by the subject (the gap between an arm and
   the body, the inside of a ring) is background even where the network hedged and the prior raised it: its core
   becomes a background seed.
4. Closed-form matting (``laplacian``) over the band with a pull towards the prior, weighted by its trust: the
   colours decide where they can, the network where they cannot (subject and background of one colour). Solved
   coarse to fine: to convergence on a small copy (long side <= ``BASE``), then each finer level starts from the
   level below and takes a fixed number of conjugate-gradient steps over its own band.
5. A photo larger than ``WORK`` is matted at that size and enlarged by a guided filter on the full-resolution photo
   (``upsample``), so hair keeps the photo's own detail at a fraction of the cost.

Constants chosen by measurement on the alphamatting.com training set with isnet-imgly (bench/cutout.py; mean SAD
and MSE over the 13 photos; the network's own map 38.7 / 0.062, this 26.8 / 0.0415). Seeds from the raised prior
instead of the network's own map: 26.4 / 0.0415, but loose hair turns opaque (GT03 18.4 against the network's 19.4
and this 11.8; GT08 26.5 against 24.6 and 23.0). Band 5 / 12 / 16 pixels per 1024: 26.8 / 0.0419, 26.8 / 0.0409,
26.8 / 0.0406, slower as it widens. Pull 0.003: 28.5 / 0.0447 (0.03: 26.5 / 0.0408, worse on loose hair). 100 steps
at the finest level instead of 30: 26.5 / 0.0411 at 1.7x the solving time. Enclosed gaps found on the prior
instead of the map: 26.9, and a hedged gap inside the subject turns opaque.
"""

from __future__ import annotations

import numpy as np

from retouch.tools.cutout import _kernels
from retouch.tools.cutout.laplacian import solve_band
from retouch.tools.cutout.prior import confidence, network_prior
from retouch.types import ProgressCallback, no_progress

HIGH = 0.98  # the network's own map above this is foreground, away from the edge...
LOW = 0.05  # ...and the prior below this background
BAND = 8  # pixels of uncertain band inside each confident side, per 1024 pixels of the long side
HOLE = 0.5  # enclosed regions of the map below this are background gaps...
HOLE_SIZE = 4  # ...when at least this many band radii across
EPSILON = 1e-6  # the Laplacian's regularization (Levin et al. use 1e-7; a little more is steadier on noise)
PULL = 0.01  # weight of the pull towards the prior where it is fully trusted
WORK = 1024  # long side at which the matte is solved
BASE = 128  # long side of the coarsest level
STAGE = "matting"
ITERATIONS = (300, 100, 30)  # conjugate-gradient steps at the coarsest level, those between, and the finest


def band_radius(width: int, height: int) -> int:
    return max(1, round(BAND * max(width, height) / 1024))


def trimap(coarse: np.ndarray, radius: int, prior: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(foreground seeds, background seeds) as HxW bool from the network's map and its prior (default: the map)."""
    prior = coarse if prior is None else prior
    fg = _core(coarse > HIGH, radius)
    bg = _core(prior < LOW, radius) | _core(enclosed_background(coarse, radius), radius)
    return fg & ~bg, bg


def enclosed_background(coarse: np.ndarray, radius: int) -> np.ndarray:
    """Regions of the map below ``HOLE`` that do not touch the image border and are at least ``HOLE_SIZE`` band
    radii across (in area): gaps the subject surrounds. Smaller ones, between strands of hair or fur, are left
    to the matting, which weighs them against the colours around them."""
    import cv2

    low = (coarse < HOLE).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(low, connectivity=4)
    if count <= 2:  # only the outer background (or nothing) is low
        return np.zeros(coarse.shape, dtype=bool)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inside = stats[:, cv2.CC_STAT_AREA] >= (HOLE_SIZE * radius) ** 2
    inside[0] = False
    inside[border] = False
    return inside[labels]


def refine_alpha(image: np.ndarray, coarse: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
    """The matte (float32 HxW in [0, 1]) of ``image`` (float32 HxWx3 in [0, 1]) guided by ``coarse`` (HxW).
    progress: ("matting", done, total) after each pyramid level (and the enlargement to full size); it may
    raise to stop the work."""
    from retouch.tools.cutout.upsample import guided_upsample

    height, width = coarse.shape
    scale = WORK / max(height, width)
    if scale >= 1.0:
        return solve_matte(image, coarse, progress)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.clip(_resize(image, size), 0.0, 1.0)
    alpha = solve_matte(small, np.clip(_resize(coarse, size), 0.0, 1.0), progress, extra_steps=1)
    upsampled = guided_upsample(image, small, alpha)
    progress(STAGE, _level_count(size) + 1, _level_count(size) + 1)
    return upsampled


def solve_matte(
    image: np.ndarray, coarse: np.ndarray, progress: ProgressCallback = no_progress, extra_steps: int = 0
) -> np.ndarray:
    """``refine_alpha`` at the image's own size (``extra_steps``: progress steps the caller adds after it)."""
    height, width = coarse.shape
    prior = network_prior(coarse)
    fg, bg = trimap(coarse, band_radius(width, height), prior)
    weight = PULL * confidence(prior)
    alpha: np.ndarray | None = None
    levels = _pyramid(image, prior, weight, fg, bg)
    total = len(levels) + extra_steps
    progress(STAGE, 0, total)
    for depth, (img, prior_l, weight_l, fg_l, bg_l) in enumerate(reversed(levels)):
        h, w = prior_l.shape
        start = prior_l if alpha is None else _resize(alpha, (w, h), enlarge=True)
        start = np.where(fg_l, 1.0, np.where(bg_l, 0.0, start)).astype(np.float64)
        coarsest, between, finest = ITERATIONS
        steps = coarsest if depth == 0 else finest if depth == len(levels) - 1 else between
        # the level's band improved from ``start`` by at most ``steps`` conjugate-gradient steps
        alpha = solve_band(
            img,
            start,
            ~(fg_l | bg_l),
            epsilon=EPSILON,
            prior=prior_l,
            prior_weight=weight_l,
            tolerance=1e-6,
            max_iterations=steps,
        )
        progress(STAGE, depth + 1, total)
    assert alpha is not None
    return alpha.astype(np.float32)


Level = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _level_count(size: tuple[int, int]) -> int:
    """How many levels ``_pyramid`` makes for an image of ``size`` = (width, height)."""
    longest, count = max(size), 1
    while longest > BASE:
        longest, count = (longest + 1) // 2, count + 1
    return count


def _pyramid(image: np.ndarray, prior: np.ndarray, weight: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> list[Level]:
    """Halve until the long side is at most BASE; a pixel stays a seed only if all it covers were seeds."""
    levels = [(image, prior, weight, fg, bg)]
    while max(levels[-1][1].shape) > BASE:
        img, p, wt, f, b = levels[-1]
        h, w = p.shape
        size = ((w + 1) // 2, (h + 1) // 2)
        levels.append(
            (
                _resize(img, size),
                _resize(p, size),
                _resize(wt, size),
                _resize(f.astype(np.float32), size) > 0.999,
                _resize(b.astype(np.float32), size) > 0.999,
            )
        )
    return levels


def _core(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrink by ``radius``, except that a region thinner than that keeps its middle (half its own depth)."""
    import cv2

    if not np.any(mask):
        return mask
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    deepest = _kernels.label_maxima(labels, depth, count)  # each region's deepest pixel
    needed = np.maximum(np.minimum(np.float32(radius), deepest * np.float32(0.5)), np.float32(1.0))
    return mask & (depth >= needed[labels])


def _resize(array: np.ndarray, size: tuple[int, int], *, enlarge: bool = False) -> np.ndarray:
    import cv2

    interpolation = cv2.INTER_LINEAR if enlarge else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(array), size, interpolation=interpolation)
