"""Running a per-pixel network over an image of any size, tile by tile, and writing the result as it finishes.

Geometry. Along each axis the input is cut into tiles that overlap their neighbours by ``overlap`` pixels; the
network sees each tile plus ``context`` more pixels on every side (clamped to the image), so that a tile's edge
is not computed from the zero padding of its convolutions. Tile starts are multiples of ``align`` (networks that
pixel-unshuffle their input need their 2x2 or 4x4 grid to stay where the whole image has it).

Output. The output has any size (``out_size``), an arbitrary multiple of the input. Output pixel X along an axis
of input length L and output length N is centred on input coordinate u = (X + 0.5) L / N. A tile owns the output
pixels whose centres fall inside it; inside an overlap the two tiles' results are mixed with linear weights that
sum to one (feathering), so a seam cannot show as a step.

Streaming. Tiles are processed row by row. One row's blended result (a band of output rows) is kept in float32;
the rows that no later tile touches are handed to ``write`` at once, the rows shared with the next tile row are
carried over. Memory is one band, never the whole float output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retouch.types import ProgressCallback, no_progress


@dataclass(frozen=True)
class Span:
    """One tile along one axis: it owns input [start, stop); the network reads [read_start, read_stop)."""

    start: int
    stop: int
    read_start: int
    read_stop: int


@dataclass(frozen=True)
class Box:
    """A rectangle: rows [y0, y1), columns [x0, x1)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0


@dataclass(frozen=True)
class TileJob:
    """What one tile must produce: output pixels ``target`` computed from input pixels ``read``."""

    index: int
    read: Box
    target: Box


@dataclass(frozen=True)
class TilePlan:
    in_size: tuple[int, int]  # (height, width)
    out_size: tuple[int, int]  # (height, width)
    rows: tuple[Span, ...]
    cols: tuple[Span, ...]

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)


def plan_spans(length: int, *, tile: int, overlap: int, context: int, align: int = 1) -> tuple[Span, ...]:
    """Cut [0, length) into tiles of about ``tile`` pixels (at most ``tile`` + ``align`` - 1) overlapping by
    ``overlap``; all tiles but the last have the same length, and the last is longer than the overlap."""
    if tile < 1 or overlap < 0 or context < 0 or align < 1:
        raise ValueError("tile must be positive; overlap and context not negative; align positive")
    if overlap * 3 > tile:  # keeps every point inside at most two tiles
        raise ValueError(f"overlap {overlap} is more than a third of the tile size {tile}")
    context = _round_up(context, align)
    if length <= tile:
        return (Span(0, length, 0, length),)
    count = math.ceil((length - overlap) / (tile - overlap))
    step = _round_up(math.ceil((length - overlap) / count), align)
    starts = [index * step for index in range(count) if index == 0 or index * step + overlap < length]
    stops = [start + step + overlap for start in starts[:-1]] + [length]
    return tuple(
        Span(start, stop, max(0, start - context), min(length, stop + context))
        for start, stop in zip(starts, stops, strict=True)
    )


def plan_tiles(
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    *,
    tile: int,
    overlap: int,
    context: int,
    align: int = 1,
) -> TilePlan:
    """The tiles over an input of ``in_size`` = (height, width) for an output of ``out_size``."""
    rows = plan_spans(in_size[0], tile=tile, overlap=overlap, context=context, align=align)
    cols = plan_spans(in_size[1], tile=tile, overlap=overlap, context=context, align=align)
    return TilePlan(in_size, out_size, rows, cols)


def run_tiles(
    plan: TilePlan,
    process: Callable[[TileJob], np.ndarray],
    write: Callable[[int, int, np.ndarray], None],
    *,
    progress: ProgressCallback = no_progress,
    stage: str = "tiles",
) -> None:
    """Compute every tile with ``process`` (which returns the job's ``target`` box, HxWxC float32), blend the
    overlaps and call ``write(y0, y1, rows)`` with finished output rows, top to bottom, each row exactly once."""
    out_h, out_w = plan.out_size
    y_owned = [_owned(span, plan.in_size[0], out_h) for span in plan.rows]
    x_owned = [_owned(span, plan.in_size[1], out_w) for span in plan.cols]
    y_weights = [_weights(i, plan.rows, y_owned[i], plan.in_size[0], out_h) for i in range(len(plan.rows))]
    x_weights = [_weights(j, plan.cols, x_owned[j], plan.in_size[1], out_w) for j in range(len(plan.cols))]

    progress(stage, 0, plan.count)
    carry: np.ndarray | None = None
    done = 0
    for i, row in enumerate(plan.rows):
        band_y0, band_y1 = y_owned[i]
        band: np.ndarray | None = None
        for j, col in enumerate(plan.cols):
            target = Box(band_y0, band_y1, *x_owned[j])
            result = process(TileJob(done, Box(row.read_start, row.read_stop, col.read_start, col.read_stop), target))
            if result.shape[:2] != target.shape:
                raise ValueError(f"tile {done}: process returned {result.shape[:2]}, expected {target.shape}")
            if band is None:
                band = np.zeros((band_y1 - band_y0, out_w, result.shape[2]), np.float32)
                if carry is not None:
                    band[: carry.shape[0]] += carry
            weight = y_weights[i][:, None, None] * x_weights[j][None, :, None]
            band[:, target.x0 : target.x1] += result * weight
            done += 1
            progress(stage, done, plan.count)
        assert band is not None
        final = y_owned[i + 1][0] if i + 1 < len(plan.rows) else band_y1
        write(band_y0, final, band[: final - band_y0])
        carry = band[final - band_y0 :].copy() if final < band_y1 else None


def _owned(span: Span, length: int, out_length: int) -> tuple[int, int]:
    """The output pixels whose centres fall inside [span.start, span.stop)."""
    ratio = out_length / length
    first = max(0, math.ceil(span.start * ratio - 0.5))
    last = out_length if span.stop == length else max(first, math.ceil(span.stop * ratio - 0.5))
    return first, last


def _weights(index: int, spans: tuple[Span, ...], owned: tuple[int, int], length: int, out_length: int) -> np.ndarray:
    """Linear ramps across the overlaps with the previous and next tile; 1 elsewhere."""
    centres = (np.arange(owned[0], owned[1], dtype=np.float64) + 0.5) * (length / out_length)
    weight = np.ones_like(centres)
    span = spans[index]
    if index > 0 and spans[index - 1].stop > span.start:  # rising across the overlap with the previous tile
        weight *= np.clip((centres - span.start) / (spans[index - 1].stop - span.start), 0.0, 1.0)
    if index + 1 < len(spans) and span.stop > spans[index + 1].start:  # falling into the next tile
        weight *= np.clip((span.stop - centres) / (span.stop - spans[index + 1].start), 0.0, 1.0)
    return weight.astype(np.float32)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
