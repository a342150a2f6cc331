"""Brush strokes rasterised exactly (a pixel is painted when its centre lies within the radius of the path), with
work bounded by the rows the segments cross whatever the radius, and absurd values refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retouch import masks
from retouch.errors import InvalidInput, TooLarge
from retouch.ops import capsules


def brute_force(strokes: list[masks.Stroke], width: int, height: int) -> np.ndarray:
    """The definition, pixel by pixel: distance from each pixel centre to each segment of each stroke."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    mask = np.zeros((height, width), dtype=bool)
    for stroke in strokes:
        points = np.array(stroke.points, dtype=float)
        radius = max(stroke.radius, 0.5)
        pairs = list(zip(points[:-1], points[1:], strict=True)) or [(points[0], points[0])]
        hit = np.zeros_like(mask)
        for a, b in pairs:
            d = b - a
            length2 = float(d @ d)
            along = (xs - a[0]) * d[0] + (ys - a[1]) * d[1]
            t = np.zeros_like(xs) if length2 == 0 else np.clip(along / length2, 0, 1)
            hit |= (xs - a[0] - t * d[0]) ** 2 + (ys - a[1] - t * d[1]) ** 2 <= radius * radius
        mask = mask | hit if stroke.mode == "paint" else mask & ~hit
    return mask


def random_strokes(rng: np.random.Generator, width: int, height: int, max_radius: float) -> list[masks.Stroke]:
    return [
        masks.Stroke(
            [tuple(rng.uniform(-12, [width + 12, height + 12])) for _ in range(int(rng.integers(1, 7)))],
            float(rng.uniform(0.3, max_radius)),
            "paint" if rng.random() < 0.7 else "erase",
        )
        for _ in range(int(rng.integers(1, 5)))
    ]


@pytest.mark.parametrize("max_radius", [3.0, 20.0, 400.0])
def test_strokes_paint_exactly_the_pixels_within_the_radius_of_the_path(max_radius: float) -> None:
    rng = np.random.default_rng(int(max_radius))
    for _ in range(60):
        width, height = (int(v) for v in rng.integers(3, 70, 2))
        strokes = random_strokes(rng, width, height, max_radius)
        drawn = masks.mask_from_strokes(strokes, (width, height))
        np.testing.assert_array_equal(drawn, brute_force(strokes, width, height))


def test_axis_aligned_and_degenerate_segments_are_exact() -> None:
    strokes = [
        masks.Stroke([(3.0, 10.5), (30.0, 10.5)], 4.0),  # horizontal: the band's row test has no x term
        masks.Stroke([(20.5, 2.0), (20.5, 30.0)], 2.5),  # vertical
        masks.Stroke([(8.0, 25.0), (8.0, 25.0), (8.0, 25.0)], 3.0),  # repeated points: zero-length segments
        masks.Stroke([(15.0, 15.0), (25.0, 25.0)], 1.0, "erase"),
    ]
    np.testing.assert_array_equal(masks.mask_from_strokes(strokes, (34, 33)), brute_force(strokes, 34, 33))


def test_the_issue_request_a_radius_of_100000_covers_the_image_at_the_cost_of_its_rows() -> None:
    """646 bytes: 4 strokes of 10 points, radius 100000 over a small canvas. Painting it used to take minutes;
    now each segment visits at most the image's rows, whatever the radius."""
    rng = np.random.default_rng(13)
    strokes = [masks.Stroke([tuple(rng.uniform(0, 64, 2)) for _ in range(10)], 100_000.0) for _ in range(4)]
    width, height = 1200, 900
    painted = masks.mask_from_strokes(strokes, (width, height), canvas=(64, 48))
    assert painted.all()
    starts = np.array([p for s in strokes for p in s.points[:-1]]) * (width / 64, height / 48)
    ends = np.array([p for s in strokes for p in s.points[1:]]) * (width / 64, height / 48)
    rows = capsules.spanned_rows(starts, ends, np.full(len(starts), 1e5 * 18.75), height)
    assert rows <= 36 * height  # the work measure: 36 segments, each at most every row


def test_a_radius_larger_than_needed_paints_what_the_needed_one_does() -> None:
    """The radius is cut to the image's diagonal plus the stroke's distance from it: the same pixels."""
    for point in [(-500.0, 40.0), (30.0, 20.0), (90.0, -300.0)]:
        huge = masks.mask_from_strokes([masks.Stroke([point], 1e6)], (60, 40))
        assert huge.all()
    # just short of the far corner: the corner pixel stays unpainted, as the definition says
    near = masks.Stroke([(-10.0, -10.0)], math.hypot(59.5 + 10, 39.5 + 10) - 0.01)
    drawn = masks.mask_from_strokes([near], (60, 40))
    assert not drawn[39, 59] and drawn[39, 58] and drawn[38, 59]
    np.testing.assert_array_equal(drawn, brute_force([near], 60, 40))


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(math.nan, 1.0)], "finite"),
        ([(1.0, math.inf)], "finite"),
        ([(-math.inf, 1.0)], "finite"),
        ([(1e12, 1.0)], "within"),
        ([(1.0, 2.0, 3.0)], "pairs"),
        ([("a", 1.0)], "pairs"),
    ],
)
def test_points_that_are_not_finite_pairs_within_bounds_are_refused(points: list, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        masks.mask_from_strokes([masks.Stroke(points, 2.0)], (10, 10))


@pytest.mark.parametrize("radius", [-1.0, 0.0, math.nan, math.inf, "wide"])
def test_radii_that_are_not_positive_finite_numbers_are_refused(radius: object) -> None:
    with pytest.raises(InvalidInput, match="radius"):
        masks.mask_from_strokes([masks.Stroke([(1.0, 1.0)], radius)], (10, 10))  # type: ignore[arg-type]


def test_strokes_crossing_too_many_rows_are_refused_before_painting() -> None:
    height = 1000
    segments = masks.MAX_STROKE_ROWS // height + 2  # full-height zigzag: each segment crosses every row
    zigzag = [(float(i % 50), 0.0 if i % 2 else float(height)) for i in range(segments + 1)]
    with pytest.raises(TooLarge, match="rows"):
        masks.mask_from_strokes([masks.Stroke(zigzag, 0.6)], (50, height))


def test_a_dense_wide_brush_is_exact() -> None:
    """Hundreds of overlapping capsules on the same rows (their spans are merged before painting)."""
    rng = np.random.default_rng(5)
    path = np.cumsum(rng.normal(0, 1.5, (400, 2)), axis=0) + 60
    stroke = masks.Stroke([tuple(p) for p in path], 25.0)
    np.testing.assert_array_equal(masks.mask_from_strokes([stroke], (120, 110)), brute_force([stroke], 120, 110))
