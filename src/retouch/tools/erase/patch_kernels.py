"""Numba kernels of the exemplar inpainting engine (``patch.py`` is the public entry and explains the method).

Every kernel is compiled once and cached on disk (``cache=True``), so a new process loads machine code instead of
compiling. Kernels take C-contiguous arrays of fixed dtypes (float32 pixels, int32 indices, uint8 flags) so each
compiles exactly one specialisation. Randomness comes from an explicit xorshift state threaded through the calls:
results depend on the seed only.

Images are float32 HxWx3; the patch distance reads them raveled (index ``(y * W + x) * 3 + c``), so a patch row
is one contiguous run of memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_INF = np.float32(3.0e38)


@njit(cache=True, nogil=True, inline="always")
def _next(state: np.int64) -> np.int64:
    """xorshift32 on an int64 holding an unsigned 32-bit value (never 0)."""
    state ^= (state << 13) & 0xFFFFFFFF
    state ^= state >> 17
    state ^= (state << 5) & 0xFFFFFFFF
    return state


@njit(cache=True, nogil=True)
def chamfer_distance(inside: np.ndarray) -> np.ndarray:
    """Distance (3x3 chamfer, weights 1 and sqrt 2) from each pixel with ``inside`` set to the nearest one
    without; 0 where ``inside`` is 0, about 1e9 everywhere if no pixel is outside."""
    h, w = inside.shape
    d = np.empty((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            d[y, x] = np.float32(1e9) if inside[y, x] else np.float32(0.0)
    a = np.float32(1.0)
    b = np.float32(1.4142135)
    for y in range(h):
        for x in range(w):
            v = d[y, x]
            if v == 0.0:
                continue
            if x > 0:
                v = min(v, d[y, x - 1] + a)
            if y > 0:
                v = min(v, d[y - 1, x] + a)
                if x > 0:
                    v = min(v, d[y - 1, x - 1] + b)
                if x < w - 1:
                    v = min(v, d[y - 1, x + 1] + b)
            d[y, x] = v
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            v = d[y, x]
            if v == 0.0:
                continue
            if x < w - 1:
                v = min(v, d[y, x + 1] + a)
            if y < h - 1:
                v = min(v, d[y + 1, x] + a)
                if x < w - 1:
                    v = min(v, d[y + 1, x + 1] + b)
                if x > 0:
                    v = min(v, d[y + 1, x - 1] + b)
            d[y, x] = v
    return d


@njit(cache=True, nogil=True)
def downsample(img: np.ndarray, hole: np.ndarray, min_known: int) -> tuple[np.ndarray, np.ndarray]:
    """Halve an image and its hole mask. A coarse pixel is known if at least ``min_known`` of its 2x2 children
    are (all of them, where the image edge leaves fewer); its colour is the mean of its known children."""
    h, w, c = img.shape
    h2 = (h + 1) // 2
    w2 = (w + 1) // 2
    out = np.zeros((h2, w2, c), np.float32)
    hole2 = np.zeros((h2, w2), np.uint8)
    for y2 in range(h2):
        for x2 in range(w2):
            n = 0
            m = 0
            for yy in range(2 * y2, min(2 * y2 + 2, h)):
                for xx in range(2 * x2, min(2 * x2 + 2, w)):
                    m += 1
                    if not hole[yy, xx]:
                        n += 1
                        for k in range(c):
                            out[y2, x2, k] += img[yy, xx, k]
            if n > 0:
                for k in range(c):
                    out[y2, x2, k] /= n
            hole2[y2, x2] = 1 if n < min(min_known, m) else 0
    return out, hole2


@njit(cache=True, nogil=True)
def window_counts(flag: np.ndarray, r: int) -> np.ndarray:
    """For each pixel, how many pixels with ``flag`` set lie in the (2r+1)^2 window around it (clipped)."""
    h, w = flag.shape
    s = np.zeros((h + 1, w + 1), np.int32)
    for y in range(h):
        acc = 0
        for x in range(w):
            acc += flag[y, x]
            s[y + 1, x + 1] = s[y, x + 1] + acc
    out = np.empty((h, w), np.int32)
    for y in range(h):
        y0 = max(y - r, 0)
        y1 = min(y + r + 1, h)
        for x in range(w):
            x0 = max(x - r, 0)
            x1 = min(x + r + 1, w)
            out[y, x] = s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]
    return out


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _patch_dist(
    feat: np.ndarray, w: int, ty: int, tx: int, sy: int, sx: int, r: int, h: int, limit: np.float32
) -> np.float32:
    """Sum of squared RGB differences between the target patch at (ty, tx), clipped to the image, and the source
    patch at (sy, sx), which always lies inside; ``feat`` is the image raveled. Stops early past ``limit``."""
    y0 = max(-r, -ty)
    y1 = min(r, h - 1 - ty)
    x0 = max(-r, -tx)
    x1 = min(r, w - 1 - tx)
    n = np.uint64((x1 - x0 + 1) * 3)
    d = np.float32(0.0)
    for dy in range(y0, y1 + 1):
        # unsigned offsets let LLVM drop the negative-index wraparound and vectorise the row
        tb = np.uint64(((ty + dy) * w + tx + x0) * 3)
        sb = np.uint64(((sy + dy) * w + sx + x0) * 3)
        for q in range(n):
            e = feat[tb + q] - feat[sb + q]
            d += e * e
        if d >= limit:
            return d
    return d


@njit(cache=True, nogil=True)
def targets(hole: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels whose patch overlaps the hole, in raster order, and a map from pixel to target index (-1)."""
    cnt = window_counts(hole, r)
    h, w = hole.shape
    tidx = np.full((h, w), -1, np.int32)
    n = 0
    for y in range(h):
        for x in range(w):
            if cnt[y, x] > 0:
                tidx[y, x] = n
                n += 1
    ty = np.empty(n, np.int32)
    tx = np.empty(n, np.int32)
    for y in range(h):
        for x in range(w):
            i = tidx[y, x]
            if i >= 0:
                ty[i] = y
                tx[i] = x
    return ty, tx, tidx


@njit(cache=True, nogil=True)
def valid_sources(hole: np.ndarray, r: int, near: np.ndarray, band: float) -> np.ndarray:
    """1 where a patch may be copied from: entirely inside the image, free of hole pixels and centred within
    ``band`` pixels of the hole (``near`` is the distance to it)."""
    cnt = window_counts(hole, r)
    h, w = hole.shape
    valid = np.zeros((h, w), np.uint8)
    for y in range(r, h - r):
        for x in range(r, w - r):
            if cnt[y, x] == 0 and near[y, x] <= band:
                valid[y, x] = 1
    return valid


@njit(cache=True, nogil=True)
def random_nnf(
    n: int, k: int, vy: np.ndarray, vx: np.ndarray, state: np.int64
) -> tuple[np.ndarray, np.ndarray, np.int64]:
    """Each of the ``k`` matches of each target is a uniformly drawn valid source."""
    sy = np.empty(n * k, np.int32)
    sx = np.empty(n * k, np.int32)
    m = vy.shape[0]
    for i in range(n * k):
        state = _next(state)
        j = state % m
        sy[i] = vy[j]
        sx[i] = vx[j]
    return sy, sx, state


@njit(cache=True, nogil=True)
def _nearest_valid(valid: np.ndarray, y: int, x: int, reach: int, skip: int) -> tuple[bool, int, int]:
    """The valid source in the square rings around (y, x) up to ``reach``, skipping the first ``skip`` found
    (so that several matches of one target differ)."""
    h, w = valid.shape
    for rad in range(1, reach + 1):
        for qy in range(y - rad, y + rad + 1):
            if qy < 0 or qy >= h:
                continue
            edge = qy == y - rad or qy == y + rad
            qx = x - rad
            while qx <= x + rad:
                if 0 <= qx < w and valid[qy, qx]:
                    if skip == 0:
                        return True, qy, qx
                    skip -= 1
                qx += 1 if edge else 2 * rad
    return False, 0, 0


@njit(cache=True, nogil=True)
def upsample_nnf(
    ty: np.ndarray,
    tx: np.ndarray,
    k: int,
    ctidx: np.ndarray,
    csy: np.ndarray,
    csx: np.ndarray,
    valid: np.ndarray,
    vy: np.ndarray,
    vx: np.ndarray,
    state: np.int64,
) -> tuple[np.ndarray, np.ndarray, np.int64]:
    """Carry a coarse nearest-neighbour field to the level twice as large: a fine target takes its coarse parent's
    matches, doubled, plus its own position inside the parent. Where that is not a valid source it takes the
    nearest valid one within 3 pixels, else (or if the parent was no target) a random valid one, which the
    search then improves."""
    n = ty.shape[0]
    ch, cw = ctidx.shape
    h, w = valid.shape
    sy = np.empty(n * k, np.int32)
    sx = np.empty(n * k, np.int32)
    m = vy.shape[0]
    for i in range(n):
        y = ty[i]
        x = tx[i]
        cy = min(y // 2, ch - 1)
        cx = min(x // 2, cw - 1)
        j = ctidx[cy, cx]
        for e in range(k):
            ok = False
            py = 0
            px = 0
            if j >= 0:
                py = csy[j * k + e] * 2 + (y - cy * 2)
                px = csx[j * k + e] * 2 + (x - cx * 2)
                if 0 <= py < h and 0 <= px < w and valid[py, px]:
                    ok = True
                else:
                    # the nearest valid source around the carried one, within a few pixels
                    for rad in range(1, 4):
                        for qy in range(py - rad, py + rad + 1):
                            for qx in range(px - rad, px + rad + 1):
                                if ok or max(abs(qy - py), abs(qx - px)) != rad:
                                    continue
                                if 0 <= qy < h and 0 <= qx < w and valid[qy, qx]:
                                    py = qy
                                    px = qx
                                    ok = True
                        if ok:
                            break
            if not ok and j < 0:
                # no coarse match to carry (the hole vanished there): the nearest valid patch around the target
                ok, py, px = _nearest_valid(valid, y, x, 2 * (e + 1) + 4, e)
            if not ok:
                state = _next(state)
                q = state % m
                py = vy[q]
                px = vx[q]
            sy[i * k + e] = py
            sx[i * k + e] = px
    return sy, sx, state


@njit(cache=True, nogil=True, inline="always")
def _insert(sy: np.ndarray, sx: np.ndarray, dist: np.ndarray, base: int, k: int, cy: int, cx: int, d: float) -> None:
    """Put a match into a target's list, kept sorted by distance; the worst one drops out."""
    p = k - 1
    while p > 0 and dist[base + p - 1] > d:
        dist[base + p] = dist[base + p - 1]
        sy[base + p] = sy[base + p - 1]
        sx[base + p] = sx[base + p - 1]
        p -= 1
    dist[base + p] = d
    sy[base + p] = cy
    sx[base + p] = cx


@njit(cache=True, nogil=True, inline="always")
def _listed(sy: np.ndarray, sx: np.ndarray, base: int, k: int, cy: int, cx: int) -> bool:
    for e in range(k):
        if sy[base + e] == cy and sx[base + e] == cx:
            return True
    return False


@njit(cache=True, nogil=True, fastmath=True)
def _distances(
    feat: np.ndarray, w: int, h: int, ty: np.ndarray, tx: np.ndarray, k: int, sy: np.ndarray, sx: np.ndarray, r: int,
    dist: np.ndarray, lo: int, hi: int,
) -> None:
    for i in range(lo, hi):
        base = i * k
        for e in range(k):
            cy = sy[base + e]
            cx = sx[base + e]
            d = _patch_dist(feat, w, ty[i], tx[i], cy, cx, r, h, _INF)
            dist[base + e] = _INF
            _insert(sy, sx, dist, base, e + 1, cy, cx, d)


@njit(cache=True, nogil=True, parallel=True)
def nnf_distances(
    feat: np.ndarray, w: int, h: int, ty: np.ndarray, tx: np.ndarray, k: int, sy: np.ndarray, sx: np.ndarray, r: int,
    chunks: int,
) -> np.ndarray:
    """The patch distance of every target to each of its matches; each target's list is re-sorted. Work is split
    into ``chunks`` parallel parts (1: no threads at all)."""
    n = ty.shape[0]
    dist = np.empty(n * k, np.float32)
    if chunks <= 1:
        _distances(feat, w, h, ty, tx, k, sy, sx, r, dist, 0, n)
        return dist
    for c in prange(chunks):
        _distances(feat, w, h, ty, tx, k, sy, sx, r, dist, n * c // chunks, n * (c + 1) // chunks)
    return dist


@njit(cache=True, nogil=True, fastmath=True)
def _sweep(
    feat: np.ndarray,
    w: int,
    h: int,
    ty: np.ndarray,
    tx: np.ndarray,
    tidx: np.ndarray,
    k: int,
    sy: np.ndarray,
    sx: np.ndarray,
    dist: np.ndarray,
    valid: np.ndarray,
    r: int,
    radius: int,
    searched: int,
    reverse: bool,
    lo: int,
    hi: int,
    state: np.int64,
) -> None:
    """PatchMatch over the targets lo..hi-1 only; neighbours outside that range are not read, so separate ranges
    can run at the same time."""
    step = -1 if reverse else 1
    centres_y = np.empty(k, np.int32)
    centres_x = np.empty(k, np.int32)
    for q in range(hi - lo):
        i = hi - 1 - q if reverse else lo + q
        y = ty[i]
        x = tx[i]
        base = i * k
        # propagation: a neighbour's match, shifted by one pixel, probably matches here too
        for side in range(2):
            ny = y if side == 0 else y - step
            nx = x - step if side == 0 else x
            if ny < 0 or ny >= h or nx < 0 or nx >= w:
                continue
            j = tidx[ny, nx]
            if j < lo or j >= hi:
                continue
            for e in range(k):
                cy = sy[j * k + e] + (y - ny)
                cx = sx[j * k + e] + (x - nx)
                if cy < 0 or cy >= h or cx < 0 or cx >= w or not valid[cy, cx]:
                    continue
                if _listed(sy, sx, base, k, cy, cx):
                    continue
                worst = dist[base + k - 1]
                d = _patch_dist(feat, w, y, x, cy, cx, r, h, worst)
                if d < worst:
                    _insert(sy, sx, dist, base, k, cy, cx, d)
        # random search around the first ``searched`` matches
        for e in range(searched):
            centres_y[e] = sy[base + e]
            centres_x[e] = sx[base + e]
        for e in range(searched):
            rad = radius
            while rad >= 1:
                state = _next(state)
                cy = centres_y[e] + (state % (2 * rad + 1)) - rad
                state = _next(state)
                cx = centres_x[e] + (state % (2 * rad + 1)) - rad
                rad //= 2
                if cy < 0 or cy >= h or cx < 0 or cx >= w or not valid[cy, cx]:
                    continue
                if _listed(sy, sx, base, k, cy, cx):
                    continue
                worst = dist[base + k - 1]
                d = _patch_dist(feat, w, y, x, cy, cx, r, h, worst)
                if d < worst:
                    _insert(sy, sx, dist, base, k, cy, cx, d)


@njit(cache=True, nogil=True, parallel=True)
def patchmatch_pass(
    feat: np.ndarray,
    w: int,
    h: int,
    ty: np.ndarray,
    tx: np.ndarray,
    tidx: np.ndarray,
    k: int,
    sy: np.ndarray,
    sx: np.ndarray,
    dist: np.ndarray,
    valid: np.ndarray,
    r: int,
    radius: int,
    searched: int,
    reverse: bool,
    bands: int,
    state: np.int64,
) -> np.int64:
    """One sweep of k-nearest-neighbour PatchMatch (Barnes et al. 2009, 2010) over the targets, in place: each
    target keeps its ``k`` best distinct matches, tries its two visited neighbours' matches shifted by one pixel
    (left and up, or right and down on a reverse sweep), then random samples in windows halving from
    ``radius`` around each of its ``searched`` best matches.

    The targets (in raster order) are cut into ``bands`` runs of rows searched in parallel, each with its own
    random stream: the result depends on ``bands`` and the seed, not on the number of threads. Reverse sweeps
    shift the cuts by half a band so no cut stays put. One band runs on the calling thread alone."""
    n = ty.shape[0]
    cuts = bands + 1 if reverse else bands
    starts = np.empty(cuts + 1, np.int64)
    for b in range(cuts + 1):
        pos = 2 * b - 1 if reverse else 2 * b
        starts[b] = min(max(n * pos // (2 * bands), 0), n)
    seeds = np.empty(cuts, np.int64)
    for b in range(cuts):
        state = _next(state)
        seeds[b] = state
    if bands <= 1:
        _sweep(feat, w, h, ty, tx, tidx, k, sy, sx, dist, valid, r, radius, searched, reverse, 0, n, seeds[0])
        return _next(state)
    for b in prange(cuts):
        _sweep(
            feat, w, h, ty, tx, tidx, k, sy, sx, dist, valid, r, radius, searched, reverse, starts[b], starts[b + 1],
            seeds[b],
        )
    return _next(state)


@njit(cache=True, nogil=True, fastmath=True)
def vote(
    img: np.ndarray,
    ty: np.ndarray,
    tx: np.ndarray,
    k: int,
    sy: np.ndarray,
    sx: np.ndarray,
    weight: np.ndarray,
    r: int,
    py: np.ndarray,
    px: np.ndarray,
    out: np.ndarray,
) -> None:
    """Expectation-maximisation voting (Wexler et al. 2007): each listed pixel (py, px) of ``out`` becomes the
    weighted mean of what every match of every target patch covering it puts there. Each match adds its whole
    source patch, row by contiguous row, into an accumulator over the targets' bounding box."""
    h, w, _ = img.shape
    n = ty.shape[0]
    if n == 0:
        return
    y0 = max(ty.min() - r, 0)
    x0 = max(tx.min() - r, 0)
    bh = min(ty.max() + r + 1, h) - y0
    bw = min(tx.max() + r + 1, w) - x0
    acc = np.zeros(bh * bw * 3, np.float32)
    wsum = np.zeros(bh * bw, np.float32)
    src = img.reshape(-1)
    for i in range(n):
        y = ty[i]
        x = tx[i]
        dy0 = max(-r, -y)
        dy1 = min(r, h - 1 - y)
        dx0 = max(-r, -x)
        dx1 = min(r, w - 1 - x)
        m = np.uint64(dx1 - dx0 + 1)
        for e in range(i * k, i * k + k):
            wt = np.float32(weight[e])
            for dy in range(dy0, dy1 + 1):
                a = np.uint64((y + dy - y0) * bw + x + dx0 - x0)
                b = np.uint64(((sy[e] + dy) * w + sx[e] + dx0) * 3)
                for q in range(m * np.uint64(3)):
                    acc[a * np.uint64(3) + q] += wt * src[b + q]
                for q in range(m):
                    wsum[a + q] += wt
    for i in range(py.shape[0]):
        j = (py[i] - y0) * bw + px[i] - x0
        if wsum[j] > 0.0:
            for c in range(3):
                out[py[i], px[i], c] = acc[j * 3 + c] / wsum[j]


@njit(cache=True, nogil=True)
def coarsen_membrane(vals: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve a membrane problem. ``state``: 0 outside the domain, 1 fixed value, 2 unknown. A coarse pixel is fixed
    (mean of its fixed children) if any child is fixed, else unknown if any child is, else outside."""
    h, w, c = vals.shape
    h2 = (h + 1) // 2
    w2 = (w + 1) // 2
    out = np.zeros((h2, w2, c), np.float32)
    st = np.zeros((h2, w2), np.uint8)
    for y2 in range(h2):
        for x2 in range(w2):
            n = 0
            unknown = False
            for yy in range(2 * y2, min(2 * y2 + 2, h)):
                for xx in range(2 * x2, min(2 * x2 + 2, w)):
                    s = state[yy, xx]
                    if s == 1:
                        n += 1
                        for k in range(c):
                            out[y2, x2, k] += vals[yy, xx, k]
                    elif s == 2:
                        unknown = True
            if n > 0:
                for k in range(c):
                    out[y2, x2, k] /= n
                st[y2, x2] = 1
            elif unknown:
                st[y2, x2] = 2
    return out, st


@njit(cache=True, nogil=True)
def prolong_membrane(coarse: np.ndarray, cstate: np.ndarray, vals: np.ndarray, state: np.ndarray) -> None:
    """Start the unknown pixels of the finer level from the bilinear interpolation of the coarse solution
    (coarse pixels outside the domain take no part)."""
    h, w, c = vals.shape
    ch, cw = cstate.shape
    acc = np.zeros(c, np.float64)
    for y in range(h):
        fy = (y + 0.5) * 0.5 - 0.5
        y0 = int(np.floor(fy))
        wy = fy - y0
        for x in range(w):
            if state[y, x] != 2:
                continue
            fx = (x + 0.5) * 0.5 - 0.5
            x0 = int(np.floor(fx))
            wx = fx - x0
            acc[:] = 0.0
            ws = 0.0
            for q in range(4):
                yy = y0 + (q >> 1)
                xx = x0 + (q & 1)
                if yy < 0 or yy >= ch or xx < 0 or xx >= cw or cstate[yy, xx] == 0:
                    continue
                wt = (wy if q >> 1 else 1.0 - wy) * (wx if q & 1 else 1.0 - wx)
                for k in range(c):
                    acc[k] += wt * coarse[yy, xx, k]
                ws += wt
            if ws > 1e-6:
                for k in range(c):
                    vals[y, x, k] = acc[k] / ws
            else:
                cy = min(y // 2, ch - 1)
                cx = min(x // 2, cw - 1)
                for k in range(c):
                    vals[y, x, k] = coarse[cy, cx, k]


@njit(cache=True, nogil=True, fastmath=True)
def relax_membrane(vals: np.ndarray, state: np.ndarray, sweeps: int, omega: float) -> None:
    """Red-black successive over-relaxation of Laplace's equation on the unknown pixels (4-neighbours; pixels
    outside the domain or the image are left out, i.e. a free boundary)."""
    h, w, c = vals.shape
    for _ in range(sweeps):
        for colour in range(2):
            for y in range(h):
                for x in range((y + colour) & 1, w, 2):
                    if state[y, x] != 2:
                        continue
                    up = y > 0 and state[y - 1, x] != 0
                    down = y < h - 1 and state[y + 1, x] != 0
                    left = x > 0 and state[y, x - 1] != 0
                    right = x < w - 1 and state[y, x + 1] != 0
                    n = int(up) + int(down) + int(left) + int(right)
                    if n == 0:
                        continue
                    for k in range(c):
                        t = 0.0
                        if up:
                            t += vals[y - 1, x, k]
                        if down:
                            t += vals[y + 1, x, k]
                        if left:
                            t += vals[y, x - 1, k]
                        if right:
                            t += vals[y, x + 1, k]
                        vals[y, x, k] += omega * (t / n - vals[y, x, k])
