"""Rasterising round-brush strokes: the pixels whose centres lie within a radius of a line segment (a capsule).

A capsule crosses each pixel row in one interval (it is convex), found in closed form from the two end disks and
the band between them. So a segment costs one small computation per row it spans plus the pixels it paints, never
its bounding box or the whole image; work is bounded by the rows the segments span (``spanned_rows``), which a
caller can check before painting. Rows are computed in vectorised chunks, and the spans of one chunk are merged
per row before they are painted, so overlapping segments (a dense brush path) paint each pixel about once.

Coordinates are continuous image coordinates: pixel (column c, row r) spans [c, c + 1) x [r, r + 1) and its
centre is (c + 0.5, r + 0.5). Arithmetic is float64, exact to far below a pixel for coordinates up to 1e9.
"""

from __future__ import annotations

import numpy as np

# Rows of segments computed at once: bounds the temporary arrays (about 40 float64 values a row: ~160 MB).
CHUNK_ROWS = 1 << 19
SHORT_SPAN = 64  # spans up to this many pixels are painted together, longer ones one by one


def spanned_rows(starts: np.ndarray, ends: np.ndarray, radii: np.ndarray, height: int) -> int:
    """How many (segment, image row) pairs painting these capsules visits: the measure of its work."""
    first, last = _row_ranges(starts, ends, radii, height)
    return int(np.maximum(last - first + 1, 0).sum())


def paint_capsules(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray, radii: np.ndarray, value: bool) -> None:
    """Set to ``value`` every pixel of ``mask`` (HxW bool, changed in place) whose centre lies within ``radii[i]``
    of the segment from ``starts[i]`` to ``ends[i]`` (Nx2 arrays of (x, y); a segment may be a single point)."""
    if not mask.flags.c_contiguous:
        raise ValueError("paint_capsules needs a C-contiguous mask")
    height, width = mask.shape
    first, last = _row_ranges(starts, ends, radii, height)
    counts = np.maximum(last - first + 1, 0)
    keep = counts > 0
    starts, ends, radii, first, counts = starts[keep], ends[keep], radii[keep], first[keep], counts[keep]
    totals = np.cumsum(counts)
    begin = 0
    while begin < len(counts):
        # whole segments per chunk, at least one (a segment spans at most ``height`` rows)
        base = int(totals[begin - 1]) if begin else 0
        end = max(begin + 1, int(np.searchsorted(totals, base + CHUNK_ROWS, side="right")))
        chunk = slice(begin, end)
        rows, lo, hi = _spans(starts[chunk], ends[chunk], radii[chunk], first[chunk], counts[chunk], width)
        _fill(mask, *_merged(rows, lo, hi, width), value)
        begin = end


def _row_ranges(
    starts: np.ndarray, ends: np.ndarray, radii: np.ndarray, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first and last image row whose centre line a capsule may reach (last < first: none)."""
    top = np.minimum(starts[:, 1], ends[:, 1]) - radii
    bottom = np.maximum(starts[:, 1], ends[:, 1]) + radii
    first = np.clip(np.ceil(top - 0.5), 0, height).astype(np.int64)
    last = np.clip(np.floor(bottom - 0.5), -1, height - 1).astype(np.int64)
    return first, last


def _spans(
    starts: np.ndarray, ends: np.ndarray, radii: np.ndarray, first: np.ndarray, counts: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every (segment, row) pair: the row and the half-open column range [lo, hi) painted (possibly empty).

    Per-segment constants are computed once and gathered per row; the per-row work is done in place."""
    dx, dy = ends[:, 0] - starts[:, 0], ends[:, 1] - starts[:, 1]
    length2 = dx * dx + dy * dy
    reach = radii * np.sqrt(length2)
    segment = np.repeat(np.arange(len(counts)), counts)
    rows = np.arange(int(counts.sum()), dtype=np.int64)
    rows += (first - (np.cumsum(counts) - counts))[segment]
    ay, by, r2 = starts[segment, 1], ends[segment, 1], (radii * radii)[segment]
    ax, bx = starts[segment, 0], ends[segment, 0]
    dy_a = rows + (0.5 - ay)  # the row's centre line, relative to the start
    dy_b = rows + (0.5 - by)

    # the end disks: x within sqrt(r^2 - dy^2) of the centre, where that is real
    left, right = _disk(ax, dy_a, r2)
    left_b, right_b = _disk(bx, dy_b, r2)
    np.minimum(left, left_b, out=left)
    np.maximum(right, right_b, out=right)

    # The band between the end disks: 0 <= (p - a).d <= |d|^2 and |cross(d, p - a)| <= r |d|, each linear in x.
    sdx, sdy, along = dx[segment], dy[segment], dy_a * dy[segment]
    band_lo, band_hi = _solve(sdx, -along, length2[segment] - along)
    across = sdx * dy_a
    perp_lo, perp_hi = _solve(-sdy, -reach[segment] - across, reach[segment] - across)
    np.maximum(band_lo, perp_lo, out=band_lo)
    np.minimum(band_hi, perp_hi, out=band_hi)
    band_lo += ax
    band_hi += ax
    band = (band_lo <= band_hi) & (length2 > 0)[segment]
    np.minimum(left, band_lo, out=left, where=band)
    np.maximum(right, band_hi, out=right, where=band)

    # pixel c is painted when its centre c + 0.5 lies in [left, right]
    left -= 0.5
    np.ceil(left, out=left)
    right -= 0.5
    np.floor(right, out=right)
    right += 1
    np.clip(left, 0, width, out=left)
    np.clip(right, 0, width, out=right)
    painted = left < right  # false for empty rows (inf bounds) too
    return rows[painted], left[painted].astype(np.int64), right[painted].astype(np.int64)


def _disk(cx: np.ndarray, dy: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each row crosses a disk: [cx - h, cx + h] with h = sqrt(r^2 - dy^2); (inf, -inf) where it misses."""
    half = r2 - dy * dy
    missed = half < 0
    np.sqrt(half, out=half, where=~missed)
    left, right = cx - half, cx + half
    left[missed] = np.inf
    right[missed] = -np.inf
    return left, right


def _solve(k: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval of u with k * u in [low, high] (all of it when k = 0 and 0 lies in [low, high], else empty)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = low / k, high / k
    falling = k < 0
    lo, hi = np.where(falling, b, a), np.where(falling, a, b)
    flat = k == 0
    if flat.any():
        holds = (low <= 0) & (0 <= high)
        lo[flat] = np.where(holds[flat], -np.inf, np.inf)
        hi[flat] = np.where(holds[flat], np.inf, -np.inf)
    return lo, hi


def _merged(
    rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spans of one row that overlap or touch, joined: each pixel is then painted once."""
    if len(rows) == 0:
        return rows, lo, hi
    order = np.argsort(rows * (width + 1) + lo)
    rows, lo, hi = rows[order], lo[order], hi[order]
    # running end within each row: rows are sorted, and row * (width + 1) outweighs any column end
    reach = np.maximum.accumulate(rows * (width + 1) + hi) - rows * (width + 1)
    opens = np.ones(len(rows), dtype=bool)
    opens[1:] = (rows[1:] != rows[:-1]) | (lo[1:] > reach[:-1])
    closes = np.append(opens[1:], True)
    return rows[opens], lo[opens], reach[closes]


def _fill(mask: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, value: bool) -> None:
    """Set the spans [lo, hi) of their rows: short ones at once through their flat indices, long ones (few: each
    paints at least SHORT_SPAN pixels) one slice each."""
    lengths = hi - lo
    short = lengths <= SHORT_SPAN
    starts, counts = rows[short] * mask.shape[1] + lo[short], lengths[short]
    flat = np.arange(int(counts.sum()), dtype=np.int64)
    flat += np.repeat(starts - (np.cumsum(counts) - counts), counts)
    mask.reshape(-1)[flat] = value  # a view: the mask is C-contiguous
    for row, left, right in zip(rows[~short].tolist(), lo[~short].tolist(), hi[~short].tolist(), strict=True):
        mask[row, left:right] = value
