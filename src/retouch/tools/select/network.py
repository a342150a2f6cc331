"""Where the cutout network sees an object under the clicks: its probability map over the photo.

The network answers "what is the salient subject of this frame", so the frame decides what it finds. Measured on
the alphamatting.com photos (bench/select.py's first click, at the subject's innermost point; IoU of the
component under the click; an exploratory run of the network alone): the whole photo 0.816; a square crop centred
on the click of 1/2, 3/4 and 1/1 of the long side 0.18, 0.66, 0.82 (a crop cuts large subjects). So the whole
photo (or the box, when one is given) comes first; only a positive click that the whole-photo map leaves outside
its subject gets crops around it, growing from a quarter of the long side until the object under the click no
longer touches a side of the crop (the crop then holds all of it): a small object that is not the photo's main
subject is found in its own frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retouch.tools.cutout.segment import Segmenter, to_full
from retouch.tools.select.prompts import Click

THRESHOLD = 0.5  # the map above this is the object
CROPS = (
    0.25,
    0.5,
)  # crop sides tried around a missed click, as fractions of the long side
BOX_MARGIN = 0.1  # context around a box prompt, as a fraction of its size


def subject_map(
    rgb: np.ndarray,
    segmenter: Segmenter,
    clicks: list[Click],
    box: tuple[int, int, int, int] | None,
    check: Callable[[], None],
) -> np.ndarray:
    """The network's HxW float32 map in [0, 1]: of the box (zero outside it) or of the photo, raised around each
    positive click it missed by the map of the smallest crop that holds the object under that click."""
    height, width = rgb.shape[:2]
    if box is not None:
        x, y, w, h = box
        mx, my = round(w * BOX_MARGIN), round(h * BOX_MARGIN)
        frame = (
            max(x - mx, 0),
            max(y - my, 0),
            min(x + w + mx, width),
            min(y + h + my, height),
        )
        prob = _framed(rgb, segmenter, frame, check)
        inside = np.zeros_like(prob)
        inside[y : y + h, x : x + w] = prob[y : y + h, x : x + w]
        return inside
    prob = _framed(rgb, segmenter, (0, 0, width, height), check)
    for click in clicks:
        if click.positive and prob[click.y, click.x] <= THRESHOLD:
            found = _grown_crop(rgb, segmenter, click, check)
            if found is not None:
                np.maximum(prob, found, out=prob)
    return prob


def _framed(
    rgb: np.ndarray,
    segmenter: Segmenter,
    frame: tuple[int, int, int, int],
    check: Callable[[], None],
) -> np.ndarray:
    """The map of the part ``frame`` = (x0, y0, x1, y1) of the photo, placed in a full-size zero map."""
    x0, y0, x1, y1 = frame
    prob = np.zeros(rgb.shape[:2], dtype=np.float32)
    prob[y0:y1, x0:x1] = to_full(segmenter(rgb[y0:y1, x0:x1], check), (x1 - x0, y1 - y0))
    return prob


def _grown_crop(rgb: np.ndarray, segmenter: Segmenter, click: Click, check: Callable[[], None]) -> np.ndarray | None:
    """The map of the object under ``click`` from the first crop around it that holds all of it, else None."""
    import cv2

    height, width = rgb.shape[:2]
    for fraction in CROPS:
        side = max(round(fraction * max(width, height)), 16)
        x0, y0 = (
            min(max(click.x - side // 2, 0), max(width - side, 0)),
            min(max(click.y - side // 2, 0), max(height - side, 0)),
        )
        x1, y1 = min(x0 + side, width), min(y0 + side, height)
        prob = _framed(rgb, segmenter, (x0, y0, x1, y1), check)
        _, labels = cv2.connectedComponents((prob > THRESHOLD).view(np.uint8), connectivity=8)
        label = labels[click.y, click.x]
        if label == 0:
            continue
        part = labels[y0:y1, x0:x1] == label
        # a side of the crop that is not the photo's own edge cuts the object: it continues outside the crop
        cut = (y0 > 0 and part[0].any()) or (y1 < height and part[-1].any())
        cut = cut or (x0 > 0 and part[:, 0].any()) or (x1 < width and part[:, -1].any())
        if not cut:
            return np.where(labels == label, prob, np.float32(0.0))
    return None
