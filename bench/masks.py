"""Random hole masks for inpainting benchmarks: LaMa-style strokes and boxes, and painted-over objects.

Three families in the style of the LaMa paper (Suvorov et al. 2021), as in its
``configs/data_gen/random_{thin,medium,thick}_512.yaml``: brush strokes of random polylines drawn as thick lines,
mixed with random axis-aligned boxes for ``medium`` and ``thick``. A mask that is empty or covers more than half
the image is drawn again, as LaMa's generator does (``max_tamper_area: 0.5``). The parameters below restate those
configs. Unlike LaMa we keep the whole image instead of a random square crop.

A fourth, ``object``, is what a user paints over a passer-by or a bin: one filled blob covering 5-15% of the
frame, its outline a closed curve with smooth radial noise (tall like a person, wide like a car or a bench, or
roundish) and a slightly ragged brush edge.

The drawing is our own code on a ``numpy.random.Generator``, so a seed gives the same masks on every machine.

Run it to write the masks of the benchmark as PNGs for a look: ``python bench/masks.py OUT_DIR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class StrokeParams:
    min_times: int  # number of strokes, drawn from [min_times, max_times]
    max_times: int
    max_width: int  # brush width is 5 + randint(max_width)
    max_len: int  # segment length is 10 + randint(max_len)
    max_angle: int  # segment angle (radians) is 0.01 + randint(max_angle), mirrored on even strokes


@dataclass(frozen=True)
class BoxParams:
    min_times: int
    max_times: int
    min_size: int
    max_size: int
    margin: int


@dataclass(frozen=True)
class MaskKind:
    strokes: StrokeParams
    boxes: BoxParams | None
    box_share: float  # the probability weight of the box generator against 1.0 for strokes


@dataclass(frozen=True)
class ObjectParams:
    min_area: float  # share of the frame the blob covers, drawn uniformly from [min_area, max_area]
    max_area: float
    shapes: tuple[tuple[float, float, float], ...]  # (weight, least, most height / width) of each silhouette
    harmonics: int  # the outline's radius varies with this many low harmonics of the angle ...
    wobble: float  # ... of amplitudes up to this share of the radius, falling as 1 / harmonic
    ragged: float  # the brush edge jitters by up to this many pixels from point to point
    margin: int  # the blob stays this many pixels inside the frame


# the index of a kind in this dict seeds its masks: append new kinds, never reorder
MASK_KINDS: dict[str, MaskKind | ObjectParams] = {
    "thin": MaskKind(StrokeParams(4, 70, 20, 100, 4), None, 0.0),
    "medium": MaskKind(StrokeParams(4, 10, 100, 200, 4), BoxParams(1, 5, 30, 150, 0), 0.3),
    "thick": MaskKind(StrokeParams(1, 5, 250, 450, 4), BoxParams(1, 4, 30, 300, 10), 0.3),
    # a person (tall), a car or bench (wide), a bin or bush (roundish)
    "object": ObjectParams(0.05, 0.15, ((0.45, 1.6, 3.0), (0.3, 0.35, 0.7), (0.25, 0.8, 1.25)), 5, 0.25, 2.5, 4),
}

MAX_AREA = 0.5
OUTLINE_POINTS = 180  # vertices of an object's outline (2 degrees apart)


def _strokes(rng: np.random.Generator, height: int, width: int, p: StrokeParams) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    for i in range(int(rng.integers(p.min_times, p.max_times + 1))):
        x, y = int(rng.integers(width)), int(rng.integers(height))
        for _ in range(1 + int(rng.integers(5))):
            angle = 0.01 + int(rng.integers(p.max_angle))
            if i % 2 == 0:
                angle = 2 * math.pi - angle
            length = 10 + int(rng.integers(p.max_len))
            brush = 5 + int(rng.integers(p.max_width))
            x2 = int(np.clip(x + length * math.sin(angle), 0, width))
            y2 = int(np.clip(y + length * math.cos(angle), 0, height))
            cv2.line(canvas, (x, y), (x2, y2), 1, brush)
            x, y = x2, y2
    return canvas.astype(bool)


def _boxes(rng: np.random.Generator, height: int, width: int, p: BoxParams) -> np.ndarray:
    canvas = np.zeros((height, width), bool)
    largest = min(p.max_size, height - 2 * p.margin, width - 2 * p.margin)
    for _ in range(int(rng.integers(p.min_times, p.max_times + 1))):
        bw = int(rng.integers(p.min_size, largest))
        bh = int(rng.integers(p.min_size, largest))
        x = int(rng.integers(p.margin, width - p.margin - bw + 1))
        y = int(rng.integers(p.margin, height - p.margin - bh + 1))
        canvas[y : y + bh, x : x + bw] = True
    return canvas


def _outline(rng: np.random.Generator, p: ObjectParams) -> np.ndarray:
    """A closed star-shaped outline around (0, 0) of unit area: (OUTLINE_POINTS, 2) float x, y."""
    weights = np.array([w for w, _, _ in p.shapes])
    _, least, most = p.shapes[int(rng.choice(len(p.shapes), p=weights / weights.sum()))]
    aspect = float(rng.uniform(least, most))  # height / width
    theta = np.linspace(0.0, 2 * math.pi, OUTLINE_POINTS, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, p.harmonics + 2):  # k = 1 would only shift the blob
        radius += rng.uniform(0, p.wobble) / (k - 1) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    radius = np.maximum(radius, 0.3)
    points = np.stack([radius * np.cos(theta), aspect * radius * np.sin(theta)], axis=1)
    x, y = points[:, 0], points[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))  # shoelace
    return points / math.sqrt(area)


def _object(rng: np.random.Generator, height: int, width: int, p: ObjectParams) -> np.ndarray:
    """One filled blob of p.min_area..p.max_area of the frame, or an empty mask when it would not fit."""
    points = _outline(rng, p) * math.sqrt(rng.uniform(p.min_area, p.max_area) * height * width)
    # the brush edge: each outline point nudged along the outward direction by a pixel or two
    points *= 1 + rng.uniform(-p.ragged, p.ragged, (len(points), 1)) / np.linalg.norm(points, axis=1, keepdims=True)
    lo, hi = points.min(axis=0), points.max(axis=0)
    room = np.array([width, height]) - 2 * p.margin - (hi - lo)
    if (room < 0).any():
        return np.zeros((height, width), bool)
    origin = p.margin - lo + rng.uniform(0, 1, 2) * room
    canvas = np.zeros((height, width), np.uint8)
    cv2.fillPoly(canvas, [np.round((points + origin) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def random_mask(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One HxW bool hole mask of the given kind (a key of MASK_KINDS), non-empty, at most half the image; an
    ``object`` mask covers min_area..max_area of it."""
    spec = MASK_KINDS[kind]
    if isinstance(spec, ObjectParams):
        while True:
            mask = _object(rng, height, width, spec)
            if spec.min_area <= mask.mean() <= spec.max_area:
                return mask
    while True:
        use_boxes = spec.boxes is not None and rng.random() < spec.box_share / (1.0 + spec.box_share)
        if use_boxes:
            assert spec.boxes is not None
            mask = _boxes(rng, height, width, spec.boxes)
        else:
            mask = _strokes(rng, height, width, spec.strokes)
        if mask.any() and mask.mean() <= MAX_AREA:
            return mask


def benchmark_masks(kind: str, shapes: list[tuple[int, int]], seed: int = 2021) -> list[np.ndarray]:
    """One mask per image shape, the same for a given (kind, shapes, seed) on every run and machine."""
    rng = np.random.default_rng([seed, list(MASK_KINDS).index(kind)])
    return [random_mask(kind, h, w, rng) for h, w in shapes]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "masks_preview")
    out.mkdir(parents=True, exist_ok=True)
    for name in MASK_KINDS:
        for i, m in enumerate(benchmark_masks(name, [(512, 768)] * 24)):
            cv2.imwrite(str(out / f"{name}_{i:02d}.png"), m.astype(np.uint8) * 255)
        print(f"{name}: mean hole area {np.mean([m.mean() for m in benchmark_masks(name, [(512, 768)] * 24)]):.3f}")
