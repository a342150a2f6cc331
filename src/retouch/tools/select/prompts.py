"""Click and box prompts: checked once, at the edge, and parsed from the CLI's ``x,y`` text.

A click is (x, y, label) in the photo's pixels: label 1 adds what lies under it to the selection (a click,
shift-click in the web app), 0 removes it (alt-click). A box is (x, y, width, height).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retouch.errors import InvalidInput

_CLICK_RE = re.compile(r"^\s*(-?\d+)\s*,\s*(-?\d+)\s*$")
_LABELLED_RE = re.compile(r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*$")  # ASCII digits: int() reads them all


@dataclass(frozen=True)
class Click:
    x: int
    y: int
    positive: bool


def parse_click(text: str, *, positive: bool = True) -> Click:
    """``"x,y"`` (whole pixels) as a click; InvalidInput naming the text when it is not that."""
    match = _CLICK_RE.match(text)
    if match is None:
        raise InvalidInput(f"bad click {text!r}: expected x,y in pixels, e.g. 120,80")
    return Click(int(match.group(1)), int(match.group(2)), positive)


def parse_labelled(text: str) -> tuple[int, int, int]:
    """``"x,y,label"`` (whole numbers) as a point for ``check_clicks``; InvalidInput when it is not that."""
    match = _LABELLED_RE.match(text)
    if match is None:
        raise InvalidInput(f"bad click {text.strip()!r}, expected x,y,label")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def check_clicks(points: Iterable[Sequence[int] | Click] | None, size: tuple[int, int]) -> list[Click]:
    """The clicks of ``points`` ((x, y, label) with label 1 or 0), each inside the image of ``size`` (w, h)."""
    width, height = size
    clicks = []
    for point in points or ():
        if isinstance(point, Click):
            point = (point.x, point.y, int(point.positive))
        if len(point) != 3 or not all(_whole(v) for v in point) or point[2] not in (0, 1):
            raise InvalidInput(f"bad click {tuple(point)!r}: expected (x, y, label) with whole x, y and label 1 or 0")
        x, y, label = (int(v) for v in point)
        if not (0 <= x < width and 0 <= y < height):
            raise InvalidInput(f"click ({x}, {y}) is outside the {width}x{height} image")
        clicks.append(Click(x, y, bool(label)))
    return clicks


def check_box(box: Sequence[int] | None, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """``box`` (x, y, width, height) clipped to the image; InvalidInput when it is malformed or misses the image."""
    if box is None:
        return None
    if len(box) != 4 or not all(_whole(v) for v in box):
        raise InvalidInput(f"bad box {tuple(box)!r}: expected (x, y, width, height) in whole pixels")
    x, y, w, h = (int(v) for v in box)
    width, height = size
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if w <= 0 or h <= 0 or x1 <= x0 or y1 <= y0:
        raise InvalidInput(f"box {x},{y},{w},{h} does not overlap the {width}x{height} image")
    return x0, y0, x1 - x0, y1 - y0


def _whole(value: object) -> bool:
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
