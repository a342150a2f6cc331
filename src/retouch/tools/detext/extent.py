"""Where a line of text begins and ends, on a busy background.

The detector's region of a line over texture is often too short (a semi-transparent watermark whose middle stands
out and whose ends fade into the photo) or too long (small lettering run together with the bricks beside it). The
recogniser reads letters where there are letters, so the region is followed along its run for as long as the
recogniser keeps reading at its ends, and reading as surely (FOLLOW line heights at a time, at most FOLLOW_STEPS
times), then cut to where the letters read end (``Reading.span``, with its margin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from retouch.tools.detext import detect
from retouch.tools.detext.detect import TextRegion

if TYPE_CHECKING:
    from retouch.tools.detext.recognize import Reader, Reading

FOLLOW = 3.0  # line heights added at each end per step
FOLLOW_STEPS = 3
FOLLOW_DROP = 0.1  # a longer reading whose confidence falls by more than this has run into texture


def settled(region: TextRegion, reading: Reading, reader: Reader, pixels: np.ndarray) -> TextRegion:
    """``region`` followed along its run while ``reader`` reads letters at its ends, then cut to the letters it
    reads; ``reading`` is what it read on the region's own rectangle."""
    height, width = pixels.shape[:2]
    rect, span = region.rect, reading.span
    for _ in range(FOLLOW_STEPS):
        if span is None or not any(reading.open_ends):
            break
        longer = _longer(rect, FOLLOW * region.height, reading.open_ends)
        attempt = reader.read(pixels, longer)
        if attempt.span is None or attempt.confidence < reading.confidence - FOLLOW_DROP:
            break  # what lies beyond reads as texture, not as more of the line
        if not _reaches_beyond(attempt.span, rect, region.height):
            break  # no letters beyond the ends after all
        rect, reading, span = longer, attempt, attempt.span
    if rect is not region.rect:
        import cv2

        region = detect.widened(region, cv2.boxPoints(rect), (height, width))
    return region if span is None else detect.clipped(region, span)


def _longer(
    rect: tuple[tuple[float, float], tuple[float, float], float], by: float, ends: tuple[bool, bool]
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """``rect`` (as ``cv2.minAreaRect`` gives it) longer by ``by`` at each of its two ends along its long side
    that ``ends`` (start, end: as the recogniser reads it, left to right) says are open."""
    import cv2

    (cx, cy), (rw, rh), angle = rect
    direction = detect.run_direction(rect)
    # the recogniser reads from the rectangle's corner nearest the top left: its "start" is the end that lies
    # more to the left (or, for an upright line, higher up)
    corners = cv2.boxPoints(rect)
    first = corners[np.argmin(corners.sum(axis=1))]
    start_sign = -1.0 if float(np.dot(first - (cx, cy), direction)) < 0 else 1.0
    grow_start, grow_end = (by if ends[0] else 0.0), (by if ends[1] else 0.0)
    shift = (grow_end - grow_start) / 2 * -start_sign
    centre = (cx + shift * direction[0], cy + shift * direction[1])
    size = (rw + grow_start + grow_end, rh) if rw >= rh else (rw, rh + grow_start + grow_end)
    return centre, size, angle


def _reaches_beyond(
    span: np.ndarray, rect: tuple[tuple[float, float], tuple[float, float], float], height: float
) -> bool:
    """Whether letters read in ``span`` lie beyond either end of ``rect`` along its run (the span reaches
    SPAN_MARGIN line heights past its letters, and half a letter more counts as a letter)."""
    from retouch.tools.detext.recognize import SPAN_MARGIN

    (cx, cy), (rw, rh), _ = rect
    half = max(rw, rh) / 2
    along = (span - (cx, cy)) @ detect.run_direction(rect)
    beyond = (SPAN_MARGIN + 0.5) * height
    return bool(along.min() < -half - beyond or along.max() > half + beyond)

