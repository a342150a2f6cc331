"""The HD strategy, written once above every engine: which part of the photo each engine sees, and at what size.

- ``whole``: the whole image at full resolution, in one call.
- ``resize``: the whole image shrunk so its longest side is at most ``RESIZE_LIMIT`` (or the engine's own
  limit), the fill enlarged back.
- ``crop``: one crop around each connected hole region (regions whose context boxes overlap share a crop), with a
  margin of context proportional to the hole; a crop larger than the engine's limit is shrunk for the engine.
- ``auto``: ``crop`` for the exemplar engine and for photos whose longest side exceeds ``CROP_TRIGGER``,
  ``whole`` otherwise.

Every strategy yields fills for boxes of the full image; the caller composites them inside the hole only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import numpy as np

from retouch import masks
from retouch.errors import InvalidInput
from retouch.ops.resize import fit_within, resize, resize_mask
from retouch.progress import scaled
from retouch.tools.erase.engines import InpaintEngine
from retouch.tools.options.erase import STRATEGIES
from retouch.types import ProgressCallback, Rect, no_progress

CROP_TRIGGER = 800  # longest side above which "auto" works crop by crop
RESIZE_LIMIT = 1280  # longest side of the whole image under the "resize" strategy
CONTEXT_RATIO = 1.0  # context margin around a hole, as a fraction of the hole's larger side
MIN_CONTEXT = 48  # pixels of context even around a tiny hole
BOX_STEPS = 100  # progress units per crop: each engine's own steps are spread over them


# Reads the float32 RGB pixels of one box of the full image.
CropReader = Callable[[Rect], np.ndarray]


def choose_strategy(strategy: str, engine: InpaintEngine, width: int, height: int) -> str:
    if strategy not in STRATEGIES:
        raise InvalidInput(f"unknown HD strategy '{strategy}'; choose one of: {', '.join(STRATEGIES)}")
    if strategy != "auto":
        return strategy
    return "crop" if engine.max_side is None or max(width, height) > CROP_TRIGGER else "whole"


def context_margin(hole: np.ndarray) -> int:
    """Context around the holes: proportional to the largest hole region, never below MIN_CONTEXT."""
    largest = max((max(r.width, r.height) for r in masks.regions(hole)), default=0)
    return max(MIN_CONTEXT, round(CONTEXT_RATIO * largest))


def plan_boxes(hole: np.ndarray, strategy: str) -> list[Rect]:
    height, width = hole.shape
    if strategy != "crop":
        return [Rect(0, 0, width, height)]
    return [Rect(*box) for box in masks.region_boxes_merged(hole, context_margin(hole))]


def run_engine(
    engine: InpaintEngine,
    image: np.ndarray,
    hole: np.ndarray,
    longest: int | None,
    progress: ProgressCallback = no_progress,
) -> np.ndarray:
    """Run the engine on one crop, shrinking it to ``longest`` first when it is larger; the fill comes back at
    the crop's own size. ``progress`` receives the engine's own steps."""
    height, width = hole.shape
    size = (width, height) if longest is None else fit_within(width, height, longest)
    if size == (width, height):
        return engine(image, hole, progress=progress)
    small_fill = engine(resize(image, size), resize_mask(hole, size), progress=progress)
    return resize(small_fill, (width, height))


def fill_boxes(
    read_crop: CropReader,
    hole: np.ndarray,
    engine: InpaintEngine,
    strategy: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Iterator[tuple[Rect, np.ndarray]]:
    """Yield (box, fill) pairs covering every hole pixel; ``fill`` is float32 RGB at the box's full size.
    ``progress`` gets ("erase (<engine>)", done, BOX_STEPS per box), moving with each engine's own steps.

    ``read_crop(box)`` returns the float32 RGB pixels of a box, so a 12-megapixel photo is never converted to
    float as a whole when only small crops are needed.
    """
    height, width = hole.shape
    chosen = choose_strategy(strategy, engine, width, height)
    longest = {"whole": None, "resize": min(RESIZE_LIMIT, engine.max_side or RESIZE_LIMIT)}.get(
        chosen, engine.max_side
    )
    boxes = plan_boxes(hole, chosen)
    stage, total = f"erase ({engine.name})", BOX_STEPS * len(boxes)
    for done, box in enumerate(boxes):
        progress(stage, BOX_STEPS * done, total)
        steps = scaled(progress, stage, BOX_STEPS * done, BOX_STEPS, total)
        yield box, run_engine(engine, read_crop(box), hole[box.slices], longest, steps)
    progress(stage, total, total)
