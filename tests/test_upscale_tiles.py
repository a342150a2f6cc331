"""Tiling, feathered blending and streaming (``retouch.ops.tiles``), and resampling a tile's network output to
any scale (``retouch.tools.upscale.resample``): whatever the tiling, the output is the untiled one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.ops.tiles import Box, TileJob, plan_spans, plan_tiles, run_tiles
from retouch.tools.upscale.resample import axis_weights, resample


@pytest.mark.parametrize("length", [1, 31, 64, 65, 257, 1000, 8000])
@pytest.mark.parametrize(("tile", "overlap", "context", "align"), [(64, 16, 8, 1), (256, 16, 16, 4), (48, 0, 5, 2)])
def test_spans_cover_the_axis_with_aligned_overlapping_tiles(length, tile, overlap, context, align) -> None:
    spans = plan_spans(length, tile=tile, overlap=overlap, context=context, align=align)
    assert spans[0].start == 0 and spans[-1].stop == length
    reach = -(-context // align) * align  # the context, rounded up to the alignment
    for span in spans:
        assert span.start % align == 0 and span.read_start % align == 0
        assert span.stop - span.start <= tile + align - 1
        assert (span.read_start, span.read_stop) == (max(0, span.start - reach), min(length, span.stop + reach))
    for left, right in zip(spans, spans[1:], strict=False):
        assert left.stop - right.start == overlap  # neighbours share exactly the overlap
    for first, third in zip(spans, spans[2:], strict=False):
        assert third.start >= first.stop  # no point lies in three tiles


def test_bad_tiling_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="more than a third"):
        plan_spans(100, tile=30, overlap=11, context=0)
    with pytest.raises(ValueError):
        plan_spans(100, tile=0, overlap=0, context=0)


def run(plan, process) -> tuple[np.ndarray, list[tuple[int, int]]]:
    out = np.full((*plan.out_size, 3), np.nan, np.float32)
    written: list[tuple[int, int]] = []

    def write(y0: int, y1: int, rows: np.ndarray) -> None:
        assert np.isnan(out[y0:y1]).all()  # every row is written once
        out[y0:y1] = rows
        written.append((y0, y1))

    run_tiles(plan, process, write)
    return out, written


@pytest.mark.parametrize("out_size", [(300, 200), (750, 500), (331, 217)])
def test_blend_weights_sum_to_one_everywhere_and_rows_stream_in_order(out_size) -> None:
    plan = plan_tiles((300, 200), out_size, tile=64, overlap=16, context=8)
    assert len(plan.rows) > 3 and len(plan.cols) > 2
    out, written = run(plan, lambda job: np.ones((*job.target.shape, 3), np.float32))
    np.testing.assert_allclose(out, 1.0, atol=1e-6)  # no seam can come from the weights themselves
    assert written[0][0] == 0 and written[-1][1] == out_size[0]
    assert all(a[1] == b[0] for a, b in zip(written, written[1:], strict=False))
    assert len(written) == len(plan.rows)


def test_memory_is_one_band_not_the_whole_output() -> None:
    plan = plan_tiles((1000, 300), (4000, 1200), tile=100, overlap=10, context=8)
    heights = []

    def write(y0: int, y1: int, rows: np.ndarray) -> None:
        heights.append(rows.shape[0])

    run_tiles(plan, lambda job: np.zeros((*job.target.shape, 3), np.float32), write)
    assert max(heights) <= 4 * 100 and sum(heights) == 4000


def test_progress_counts_every_tile() -> None:
    plan = plan_tiles((100, 100), (200, 200), tile=40, overlap=8, context=4)
    calls = []

    def zeros(job: TileJob) -> np.ndarray:
        return np.zeros((*job.target.shape, 1), np.float32)

    run_tiles(plan, zeros, lambda *a: None, progress=lambda *c: calls.append(c))
    assert calls[0] == ("tiles", 0, plan.count) and calls[-1] == ("tiles", plan.count, plan.count)
    assert [c[1] for c in calls] == list(range(plan.count + 1))


def box_blur_x2(image: np.ndarray) -> np.ndarray:
    """A local "network": 5x5 box blur, then nearest x2 (its receptive field is 2 input pixels)."""
    blurred = cv2.blur(image, (5, 5), borderType=cv2.BORDER_REFLECT)
    return np.repeat(np.repeat(blurred, 2, axis=0), 2, axis=1)


@pytest.mark.parametrize("out_size", [(224, 176), (160, 120), (301, 233)], ids=["native", "shrink", "enlarge"])
def test_tiled_equals_untiled_for_a_network_with_a_small_receptive_field(out_size) -> None:
    rng = np.random.default_rng(0)
    image = rng.random((112, 88, 3), dtype=np.float32)

    def process(job: TileJob) -> np.ndarray:
        samples = box_blur_x2(image[job.read.slices])
        rows = axis_weights((job.target.y0, job.target.y1), out_size[0], 112, (job.read.y0, job.read.y1), 2)
        cols = axis_weights((job.target.x0, job.target.x1), out_size[1], 88, (job.read.x0, job.read.x1), 2)
        return resample(samples, rows, cols)

    whole, _ = run(plan_tiles((112, 88), out_size, tile=1000, overlap=0, context=0), process)
    tiled, _ = run(plan_tiles((112, 88), out_size, tile=40, overlap=8, context=8), process)
    np.testing.assert_allclose(tiled, whole, atol=2e-6)


def test_resampling_matches_opencv_area_and_cubic() -> None:
    rng = np.random.default_rng(1)
    samples = rng.random((40, 60, 4), dtype=np.float32)
    for size, interpolation in (((33, 45), cv2.INTER_AREA), ((17, 26), cv2.INTER_AREA), ((55, 81), cv2.INTER_CUBIC)):
        rows = axis_weights((0, size[0]), size[0], 40, (0, 40), 1)
        cols = axis_weights((0, size[1]), size[1], 60, (0, 60), 1)
        expected = cv2.resize(samples, (size[1], size[0]), interpolation=interpolation)
        np.testing.assert_allclose(resample(samples, rows, cols), expected, atol=2e-6)


def test_at_the_networks_scale_resampling_is_a_crop() -> None:
    weights = axis_weights((40, 60), 400, 100, (8, 30), 4)
    assert weights == slice(40 - 32, 60 - 32)
    samples = np.arange(88 * 3 * 2, dtype=np.float32).reshape(88, 3, 2)
    np.testing.assert_array_equal(resample(samples, weights, slice(None)), samples[8:28])


def test_box_slices() -> None:
    box = Box(2, 5, 1, 4)
    assert box.shape == (3, 3) and np.zeros((6, 6))[box.slices].shape == (3, 3)
