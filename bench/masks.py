"""Random hole masks in the style of the LaMa paper (Suvorov et al. 2021), for inpainting benchmarks.

Three families, as in LaMa's ``configs/data_gen/random_{thin,medium,thick}_512.yaml``: brush strokes of random
polylines drawn as thick lines, mixed with random axis-aligned boxes for ``medium`` and ``thick``. A mask that is
empty or covers more than half the image is drawn again, as LaMa's generator does (``max_tamper_area: 0.5``).
The parameters below restate those configs; the drawing is our own code on a ``numpy.random.Generator``, so a
seed gives the same masks on every machine. Unlike LaMa we keep the whole image instead of a random square crop.

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


MASK_KINDS: dict[str, MaskKind] = {
    "thin": MaskKind(StrokeParams(4, 70, 20, 100, 4), None, 0.0),
    "medium": MaskKind(StrokeParams(4, 10, 100, 200, 4), BoxParams(1, 5, 30, 150, 0), 0.3),
    "thick": MaskKind(StrokeParams(1, 5, 250, 450, 4), BoxParams(1, 4, 30, 300, 10), 0.3),
}

MAX_AREA = 0.5


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


def random_mask(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One HxW bool hole mask of the given kind ("thin", "medium" or "thick"), non-empty, at most half the image."""
    spec = MASK_KINDS[kind]
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
