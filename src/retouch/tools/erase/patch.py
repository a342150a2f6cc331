"""The built-in, weight-free erase engine: exemplar-based image completion.

The hole is filled with pieces of the surrounding photo, in the line of PatchMatch (Barnes et al. 2009) and of
Wexler, Shechtman and Irani's "Space-Time Completion of Video" (2007):

1. An image pyramid, halving until the hole is a few pixels deep (a coarse pixel counts as known when any of
   its four children is, so thin strokes vanish early and their surroundings survive). The coarsest hole starts
   as a membrane (harmonic) fill of its edge: a smooth guess that carries the right colours.
2. At each level, expectation-maximisation: a k-nearest-neighbour field maps every patch that overlaps the hole
   to its most similar fully known patches near the hole (randomised search and propagation, in parallel row
   bands), then every hole pixel becomes the weighted mean of what all matches of all overlapping patches put
   there. Votes weigh by similarity and by closeness to the known edge, where the estimate is most reliable.
   Averaging several matches per patch is what makes the fill accurate rather than just plausible. Patches
   are compared on RGB alone: luminance-gradient terms measured worse on held-out photos.
3. The field is carried to the next finer level and refined there; deep in the hole the finer level starts
   from a copy of what the carried matches hold at its own size (enlarging the coarser result would blur), and
   at full size only the targets near the edge are searched again. Finally the fill is joined to its
   surroundings in the gradient domain: the result is the membrane interpolation of the known edge plus the
   patch fill's own detail (its difference from its membrane), so no seam remains. That detail fades with
   depth into the hole, where a copied texture is ever less likely to be the right one, down to a floor the
   caller picks: a smooth fill scores best on average (PSNR, SSIM), a textured one looks like a photo.

All heavy loops are numba kernels in ``patch_kernels``, compiled once and cached on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from retouch.errors import InvalidInput
from retouch.types import ProgressCallback, no_progress

PATCH_RADIUS = 3  # 7x7 patches
NEIGHBOURS = 4  # matches kept per patch; all of them vote
SEARCHED = 1  # how many of them get a random search around them
CONFIDENCE_DECAY = 1.3  # vote weight falls by this factor per pixel of depth into the hole (Wexler et al.)
SIMILARITY_PERCENTILE = 95.0  # vote weight exp(-d / 2 sigma^2), sigma^2 this percentile of the distances
COARSEST_DEPTH = 3.0  # halve until the deepest hole pixel is about this close to known pixels
MIN_KNOWN_CHILDREN = 1  # a coarse pixel is known if this many of its 2x2 children are
SOURCE_BAND = 3.0  # copy from patches within this many hole depths of the hole ...
MIN_SOURCE_BAND = 24.0  # ... and at least this many pixels (at full size)
DETAIL_DEPTH = 16.0  # the patch detail fades as exp(-depth / this), depth in pixels from the known edge, ...
DEFAULT_DETAIL = 0.7  # ... down to this fraction of it (the ``detail`` argument). 0.7: about the most
# texture at which the fill still beats every classic baseline on PSNR and SSIM in bench/erase.py (1 fell 0.001-0.002
# SSIM short of FSR on medium and thick masks); 0.3 looks smeared on a 400-pixel object.
DETAIL_REACH = 4.0  # at full size, patches are searched this many DETAIL_DEPTHs deep; deeper ones are carried
CARRY_DEPTH = 16.0  # deeper than this (full-size pixels), a finer level starts from its carried matches' copy
SHALLOW_LEVELS = 4  # pyramids of at most this many levels (thin holes) search hard on every level
MEMBRANE_SWEEPS = 12  # relaxation sweeps per level of the membrane solver
BANDS = 8  # big levels search in this many bands of rows at once (a constant: results do not depend on threads)
PARALLEL_TARGETS = 20000  # levels with fewer target patches than this run on one thread


@dataclass
class _Level:
    """One pyramid level: its image (hole being filled), hole mask and k-nearest-neighbour field."""

    img: np.ndarray  # float32 HxWx3, C-contiguous
    hole: np.ndarray  # uint8 HxW
    tidx: np.ndarray | None = None  # target index of each pixel, -1 where the patch there misses the hole
    ty: np.ndarray | None = None  # target (patch centre) rows and columns, raster order
    tx: np.ndarray | None = None
    sy: np.ndarray | None = None  # source rows of the matches, NEIGHBOURS per target
    sx: np.ndarray | None = None
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # vote weight of each match


def inpaint_patch(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int = 0,
    detail: float = DEFAULT_DETAIL,
    progress: ProgressCallback = no_progress,
) -> np.ndarray:
    """Fill ``mask`` in ``image`` with content synthesised from the rest of the image.

    image: float32 HxWx3 RGB in [0, 1], typically a crop around the hole with a margin of context.
    mask: HxW bool, True = the pixels to fill. seed: the search's random seed; equal inputs and seed give equal
    output. detail: how much of the copied texture is kept deep inside the hole, from 0 (a smooth fill there:
    the best average accuracy) to 1 (all of it: the look of classic content-aware fill, sharp but more often
    wrong); near the known edge all of it is kept. progress: called as ``(stage, done, total)`` per level.
    Returns a new float32 HxWx3 array in [0, 1]; pixels outside the mask equal the input exactly.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInput(f"inpaint_patch needs an HxWx3 RGB image, got shape {image.shape}")
    if mask.shape != image.shape[:2]:
        raise InvalidInput(f"mask shape {mask.shape} does not match image size {image.shape[:2]}")
    if not 0.0 <= detail <= 1.0:
        raise InvalidInput(f"detail must be between 0 and 1, got {detail}")
    src = np.ascontiguousarray(image, dtype=np.float32)
    hole = np.ascontiguousarray(mask, dtype=bool)
    out = src.copy()
    if not hole.any():
        return out
    if hole.all():
        out[:] = 0.5  # nothing to copy from: a neutral grey is as good a guess as any
        return out

    from retouch.tools.erase import patch_kernels as k

    state = np.int64((seed * 2654435761 + 12345) % 0xFFFFFFFF or 1)
    levels = _pyramid(k, src, hole.astype(np.uint8))
    n_levels = len(levels)
    _membrane_fill(k, levels[-1].img, np.where(levels[-1].hole > 0, 2, 1).astype(np.uint8))
    for depth in range(n_levels - 1, -1, -1):
        coarser = levels[depth + 1] if depth + 1 < n_levels else None
        if coarser is not None:
            _prolong_image(k, coarser.img, levels[depth])
        state = _complete_level(k, levels[depth], coarser, 2**depth, n_levels, detail, state)
        progress("patch", n_levels - depth, n_levels)

    fill = _blend_in(k, src, hole, levels[0], detail)
    out[hole] = np.clip(fill[hole], 0.0, 1.0)
    return out


def warm_up() -> None:
    """Load the compiled kernels from numba's on-disk cache now (about half a second of imports and linking in a
    new process), and OpenCV, which the erase tool grows masks with (0.1 s), e.g. in a background thread while
    the photo decodes, so the first real fill starts at once."""
    import cv2  # noqa: F401

    img = np.zeros((40, 40, 3), np.float32)
    hole = np.zeros((40, 40), bool)
    hole[14:26, 14:26] = True
    inpaint_patch(img, hole)


def _pyramid(k: ModuleType, img: np.ndarray, hole: np.ndarray) -> list[_Level]:
    levels = [_Level(img.copy(), hole)]
    while True:
        top = levels[-1]
        h, w = top.hole.shape
        if k.chamfer_distance(top.hole).max() <= COARSEST_DEPTH or min(h, w) // 2 < 4 * (2 * PATCH_RADIUS + 1):
            return levels
        img2, hole2 = k.downsample(top.img, top.hole, MIN_KNOWN_CHILDREN)
        levels.append(_Level(img2, hole2))


def _schedule(shrink: int, coarsest: bool, n_levels: int, size: int) -> tuple[int, int, int]:
    """(EM iterations, PatchMatch sweeps per iteration, random search radius) at a level. The coarsest level is
    small and searches the whole image. A shallow pyramid (a thin hole) has few levels to decide its structure
    on, and few targets away from full size, so every level gets that full effort. In a deep one (a big hole)
    the finer levels refine the field carried from below, nearby; full size gets one sweep, as it holds most of
    the targets and the least structure (and only its targets near the edge are searched)."""
    if coarsest or n_levels <= SHALLOW_LEVELS:
        return 5, 2, size
    if shrink == 1:
        return 1, 1, 4
    return 2, 1, 16


def _complete_level(
    k: ModuleType,
    level: _Level,
    coarser: _Level | None,
    shrink: int,
    n_levels: int,
    detail: float,
    state: np.int64,
) -> np.int64:
    """EM at one level (``shrink``: how many times smaller than full size), in place; returns the random state."""
    coarsest = shrink == 2 ** (n_levels - 1)
    r, kn = PATCH_RADIUS, NEIGHBOURS
    img, hole = level.img, level.hole
    h, w = hole.shape
    hole_depth = k.chamfer_distance(hole)
    near = k.chamfer_distance((hole == 0).astype(np.uint8))
    band = max(SOURCE_BAND * float(hole_depth.max()), MIN_SOURCE_BAND / shrink)
    valid = k.valid_sources(hole, r, near, band)
    vy, vx = (a.astype(np.int32) for a in np.nonzero(valid))
    all_ty, all_tx, all_tidx = k.targets(hole, r)
    level.tidx, level.ty, level.tx = all_tidx, all_ty, all_tx
    if vy.size == 0:
        return state  # no patch free of the hole: keep the smooth estimate
    # votes trust pixels near the known edge more (Wexler et al.: confidence decays with depth)
    all_conf = np.power(CONFIDENCE_DECAY, -hole_depth[all_ty, all_tx]).astype(np.float64)
    if coarser is None or coarser.sy is None:
        sy, sx, state = k.random_nnf(all_ty.size, kn, vy, vx, state)
        level.sy, level.sx, level.weight = sy, sx, np.repeat(all_conf, kn) + 1e-30
    else:
        sy, sx, state = k.upsample_nnf(all_ty, all_tx, kn, coarser.tidx, coarser.sy, coarser.sx, valid, vy, vx, state)
        level.sy, level.sx, level.weight = sy, sx, _carried_weights(level, coarser, all_conf)
        # Deep in the hole, start from a copy of what the carried matches hold at this size, not from the
        # enlarged coarser result: that keeps this size's texture where averaging would blur it.
        deep = (hole > 0) & (hole_depth > CARRY_DEPTH / shrink)
        dy, dx = (a.astype(np.int32) for a in np.nonzero(deep))
        k.vote(img, all_ty, all_tx, kn, sy, sx, level.weight, r, dy, dx, img)
    if shrink == 1:  # at full size, search only the targets near the edge; deeper ones keep their copy
        searched = (hole > 0) & (hole_depth <= DETAIL_REACH * DETAIL_DEPTH)
        ty, tx, tidx = k.targets(searched.astype(np.uint8), r)
        picked = all_tidx[ty, tx]
        sy = sy.reshape(-1, kn)[picked].ravel()
        sx = sx.reshape(-1, kn)[picked].ravel()
    else:
        searched, ty, tx, tidx, picked = hole > 0, all_ty, all_tx, all_tidx, None
    conf = np.repeat(all_conf[all_tidx[ty, tx]], kn)
    # Averaging several matches is accurate but blurs; deep in the hole, where texture matters more than a
    # guess's accuracy, the best match alone votes (as far as ``detail`` asks).
    others = (1.0 - detail) + detail * np.exp(-hole_depth[ty, tx].astype(np.float64) * shrink / DETAIL_DEPTH)
    conf = conf * np.where(np.arange(ty.size * kn) % kn == 0, 1.0, np.repeat(others, kn))
    npix = np.repeat(_patch_sizes(ty, tx, h, w, r), kn)
    hy, hx = (a.astype(np.int32) for a in np.nonzero(searched))
    flat = img.reshape(-1)  # a view: votes written into img show up here
    n_em, n_pm, radius = _schedule(shrink, coarsest, n_levels, max(h, w))
    bands = BANDS if ty.size >= PARALLEL_TARGETS else 1
    weight = np.zeros(0)
    for it in range(n_em):
        dist = k.nnf_distances(flat, w, h, ty, tx, kn, sy, sx, r, bands)
        for sweep in range(n_pm):
            reverse = (it * n_pm + sweep) % 2 == 1
            state = k.patchmatch_pass(
                flat, w, h, ty, tx, tidx, kn, sy, sx, dist, valid, r, radius, SEARCHED, reverse, bands, state
            )
        weight = _vote_weights(dist, npix, conf)
        # sources are fully known and only hole pixels are written, so the vote can read and write img
        k.vote(img, ty, tx, kn, sy, sx, weight, r, hy, hx, img)
    if picked is None:
        level.sy, level.sx, level.weight = sy, sx, weight
    else:
        for whole, part in ((level.sy, sy), (level.sx, sx), (level.weight, weight)):
            whole.reshape(-1, kn)[picked] = part.reshape(-1, kn)
    return state


def _carried_weights(level: _Level, coarser: _Level, conf: np.ndarray) -> np.ndarray:
    """Vote weights of a field carried from ``coarser``: each target's parent's weights, times its confidence."""
    kn = NEIGHBOURS
    ch, cw = coarser.tidx.shape
    parent = coarser.tidx[np.minimum(level.ty // 2, ch - 1), np.minimum(level.tx // 2, cw - 1)]
    inherited = np.where(parent[:, None] >= 0, coarser.weight.reshape(-1, kn)[np.maximum(parent, 0)], 1.0)
    return (inherited * conf[:, None]).ravel() + 1e-30


def _patch_sizes(ty: np.ndarray, tx: np.ndarray, h: int, w: int, r: int) -> np.ndarray:
    """How many pixels of each target's patch lie inside the image."""
    rows = np.minimum(ty + r, h - 1) - np.maximum(ty - r, 0) + 1
    cols = np.minimum(tx + r, w - 1) - np.maximum(tx - r, 0) + 1
    return (rows * cols).astype(np.float64)


def _vote_weights(dist: np.ndarray, npix: np.ndarray, conf: np.ndarray) -> np.ndarray:
    d = dist.astype(np.float64) / npix
    sample = d[:: max(1, d.size // 20000)]  # the percentile of a regular sample is close enough, and cheap
    sigma2 = max(float(np.percentile(sample, SIMILARITY_PERCENTILE)), 1e-8)
    return conf * np.exp(-np.minimum(d / (2.0 * sigma2), 60.0)) + 1e-30


def _prolong_image(k: ModuleType, coarse: np.ndarray, level: _Level) -> None:
    """Start a finer level's hole from the bilinear enlargement of the coarser result."""
    cstate = np.ones(coarse.shape[:2], np.uint8)
    k.prolong_membrane(coarse, cstate, level.img, np.where(level.hole > 0, 2, 0).astype(np.uint8))


def _membrane_fill(k: ModuleType, vals: np.ndarray, state: np.ndarray) -> None:
    """Fill the unknown pixels (state 2) of ``vals`` in place with the membrane (harmonic) interpolation of the
    fixed ones (state 1), by a cascade from coarse to fine; state 0 pixels take no part."""
    if not (state == 2).any():
        return
    h, w = state.shape
    if min(h, w) <= 8 or not (state == 1).any():
        fixed = state == 1
        vals[state == 2] = vals[fixed].mean(axis=0) if fixed.any() else 0.0
        k.relax_membrane(vals, state, 8 * max(h, w), 1.5)
        return
    cvals, cstate = k.coarsen_membrane(vals, state)
    _membrane_fill(k, cvals, cstate)
    k.prolong_membrane(cvals, cstate, vals, state)
    k.relax_membrane(vals, state, MEMBRANE_SWEEPS, 1.6)


def _blend_in(k: ModuleType, src: np.ndarray, hole: np.ndarray, level: _Level, detail: float) -> np.ndarray:
    """The final fill: membrane(known edge) + fade(depth) * (patch fill - membrane(patch fill's own edge)).

    The patches' reconstruction of the known pixels just outside the hole gives the patch fill an edge of its
    own; subtracting its membrane leaves only the fill's detail, which is then laid over the smooth membrane of
    the real edge (gradient-domain blending), fading with depth down to ``detail``."""
    fill = level.img
    ring = np.zeros_like(hole)
    ring[:-1] |= hole[1:]
    ring[1:] |= hole[:-1]
    ring[:, :-1] |= hole[:, 1:]
    ring[:, 1:] |= hole[:, :-1]
    ring &= ~hole
    # work on the hole's bounding box grown by the ring
    ys, xs = np.nonzero(hole | ring)
    box = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    hole_b, ring_b = hole[box], ring[box]
    depth = k.chamfer_distance(hole_b.astype(np.uint8))
    recon = fill.copy()
    if level.sy is not None:
        # only the patches that reach the ring vote on it: those centred outside or near the edge
        ty, tx = level.ty, level.tx
        by = np.clip(ty - box[0].start, 0, depth.shape[0] - 1)  # targets off the box lie outside the hole
        bx = np.clip(tx - box[1].start, 0, depth.shape[1] - 1)
        near = np.flatnonzero(~hole[ty, tx] | (depth[by, bx] <= PATCH_RADIUS + 2))
        picked = (near[:, None] * NEIGHBOURS + np.arange(NEIGHBOURS)).ravel()
        ry, rx = (a.astype(np.int32) for a in np.nonzero(ring))
        sy, sx, weight = level.sy[picked], level.sx[picked], level.weight[picked]
        k.vote(fill, ty[near], tx[near], NEIGHBOURS, sy, sx, weight, PATCH_RADIUS, ry, rx, recon)
    both = np.zeros(hole_b.shape + (6,), np.float32)
    both[..., :3][ring_b] = src[box][ring_b]
    both[..., 3:][ring_b] = recon[box][ring_b]
    state = np.zeros(hole_b.shape, np.uint8)
    state[ring_b] = 1
    state[hole_b] = 2
    _membrane_fill(k, both, state)
    fade = (detail + (1.0 - detail) * np.exp(-depth[..., None] / DETAIL_DEPTH)).astype(np.float32)
    out = fill.copy()
    out[box] = both[..., :3] + fade * (fill[box] - both[..., 3:])
    return out
