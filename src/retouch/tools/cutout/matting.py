"""Full-resolution alpha: the network's low-resolution map only guides; the edges are solved on the photo itself.

1. Trimap. Where the network is sure (above ``HIGH`` or below ``LOW``) the pixel is known, except within ``band``
   pixels of the other side: that margin and every unsure pixel form the uncertain band. A confident region too
   thin to keep its middle after that shrinking (a strand, a small gap) keeps its middle anyway, so thin parts
   and small holes keep their seeds.
2. Enclosed background. A low region of the map surrounded by the subject (the gap between an arm and the body,
   the inside of a ring) is background even where the network hedged: its core becomes a background seed.
3. Closed-form matting (``laplacian``) over the band, coarse to fine: the band is solved exactly on a small copy
   of the photo (long side <= ``BASE``), where information crosses wide uncertain areas cheaply, and each finer
   level, up to full resolution, starts from the level below and is refined by a few preconditioned
   conjugate-gradient steps over its own band, which is where hair and fine edges are resolved.

Constants chosen by measurement on the alphamatting.com training set (bench/cutout.py).
"""

from __future__ import annotations

import numpy as np

from retouch.tools.cutout.laplacian import band_system

HIGH = 0.95  # the network's map above this is foreground (below LOW background), away from the edge
LOW = 0.05
BAND = 5  # pixels of uncertain band inside each confident side, per 1024 pixels of the photo's long side
HOLE = 0.5  # enclosed regions of the map below this are background gaps...
HOLE_SIZE = 4  # ...when at least this many band radii across
EPSILON = 1e-6  # the Laplacian's regularization (Levin et al. use 1e-7; a little more is steadier on noise)
BASE = 256  # long side of the coarsest level, solved exactly
FINE_ITERATIONS = 30  # conjugate-gradient steps at each finer level


def band_radius(width: int, height: int) -> int:
    return max(BAND, round(BAND * max(width, height) / 1024))


def trimap(coarse: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(foreground seeds, background seeds) as HxW bool from the network's map at full resolution."""
    fg = _core(coarse > HIGH, radius)
    bg = _core(coarse < LOW, radius) | _core(enclosed_background(coarse, radius), radius)
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


def refine_alpha(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """The matte (float32 HxW in [0, 1]) of ``image`` (float32 HxWx3 in [0, 1]) guided by ``coarse`` (HxW)."""
    height, width = coarse.shape
    fg, bg = trimap(coarse, band_radius(width, height))
    levels = _pyramid(image, coarse, fg, bg)
    alpha: np.ndarray | None = None
    for depth, (img, guide, fg_l, bg_l) in enumerate(reversed(levels)):
        h, w = guide.shape
        start = guide if alpha is None else _resize(alpha, (w, h), enlarge=True)
        start = np.where(fg_l, 1.0, np.where(bg_l, 0.0, start)).astype(np.float64)
        unknown = ~(fg_l | bg_l)
        exact = depth == 0
        alpha = _solve_level(img, start, unknown, exact)
    assert alpha is not None
    return alpha.astype(np.float32)


def _pyramid(
    image: np.ndarray, coarse: np.ndarray, fg: np.ndarray, bg: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Halve until the long side is at most BASE; a pixel stays a seed only if all it covers were seeds."""
    levels = [(image, coarse, fg, bg)]
    while max(levels[-1][1].shape) > BASE:
        img, guide, f, b = levels[-1]
        h, w = guide.shape
        size = ((w + 1) // 2, (h + 1) // 2)
        levels.append(
            (
                _resize(img, size),
                _resize(guide, size),
                _resize(f.astype(np.float32), size) > 0.999,
                _resize(b.astype(np.float32), size) > 0.999,
            )
        )
    return levels


def _solve_level(image: np.ndarray, start: np.ndarray, unknown: np.ndarray, exact: bool) -> np.ndarray:
    result = start.copy()
    if not np.any(unknown):
        return result
    matrix, rhs, (ys, xs) = band_system(image, start, unknown, epsilon=EPSILON)
    if exact:
        from scipy.sparse.linalg import spsolve

        solution = spsolve(matrix.tocsc(), rhs)
    else:
        solution = _jacobi_cg(matrix, rhs, start[ys, xs], FINE_ITERATIONS)
    result[ys, xs] = np.clip(solution, 0.0, 1.0)
    return result


def _jacobi_cg(matrix, rhs: np.ndarray, x: np.ndarray, iterations: int) -> np.ndarray:
    """A fixed number of Jacobi-preconditioned conjugate-gradient steps from ``x`` (a good start)."""
    inverse_diagonal = 1.0 / matrix.diagonal()
    x = x.copy()
    residual = rhs - matrix @ x
    z = inverse_diagonal * residual
    direction = z.copy()
    rz = float(residual @ z)
    floor = 1e-12 * float(rhs @ rhs + 1.0)
    for _ in range(iterations):
        if rz <= floor:
            break
        product = matrix @ direction
        step = rz / float(direction @ product)
        x += step * direction
        residual -= step * product
        z = inverse_diagonal * residual
        rz_next = float(residual @ z)
        direction = z + (rz_next / rz) * direction
        rz = rz_next
    return x


def _core(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrink by ``radius``, except that a region thinner than that keeps its middle (half its own depth)."""
    import cv2
    from scipy import ndimage

    if not np.any(mask):
        return mask
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    deepest = np.asarray(ndimage.maximum(depth, labels, index=np.arange(count)), dtype=np.float32)
    needed = np.maximum(np.minimum(np.float32(radius), deepest * np.float32(0.5)), np.float32(1.0))
    return mask & (depth >= needed[labels])


def _resize(array: np.ndarray, size: tuple[int, int], *, enlarge: bool = False) -> np.ndarray:
    import cv2

    interpolation = cv2.INTER_LINEAR if enlarge else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(array), size, interpolation=interpolation)
