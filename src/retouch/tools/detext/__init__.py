"""Remove text: find every line of text in a photo, mask its letters, and erase them with the erase tool.

find text (``detect``: PP-OCRv6's detector at full resolution and on the whole frame) > keep the lines the user
spares (``keep``: a regular expression over what the recogniser reads) > mask the letters of the others, with
their outlines and shadows (``glyphs``) > erase that mask (``retouch.tools.erase``: its engines, its crop
strategy and its promise that every pixel outside the mask is left exactly as it was).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.detext.detect import TextRegion
from retouch.tools.options import check_options
from retouch.tools.options.detext import GROW, KEEP
from retouch.types import Picture, ProgressCallback, Rect, no_progress

__all__ = ["FoundText", "Line", "detext", "erase_found", "find_text", "push_pull", "rgb8", "smooth_fill"]

BOX_MARGIN = 16  # pixels of context around a --box given to the detector
# Lines on textured backgrounds the recogniser reads with less confidence are dropped as textures: on the Kodak
# photos, real lettering read at 0.56-1.0 and the detector's false finds (a face, brickwork, parrots) at 0.21-0.51.
MIN_CONFIDENCE = 0.55
# Lines only the detector's second look found (small text on a busy background, where it also mistakes textures
# for writing) must be read better: on the benchmark the real ones read at 0.81-0.99, a knit read as
# 'ostudiopteee' at 0.62 and leaves as 'LY' at 0.81.
SECOND_LOOK_CONFIDENCE = 0.7
SECOND_LOOK_SYMBOLS = 3
SMOOTH_MARGIN = 6  # pixels around each part of a flat hole that its smooth fill is drawn from


@dataclass(frozen=True)
class FoundText:
    """What ``find_text`` found: ``mask`` (HxW bool, True = erase); ``flat``, the part of it on flat backgrounds
    (a few colours, no texture: screenshots, slides, painted walls); the lines erased and the lines kept, each
    with its box and, when ``keep`` asked for reading, its text."""

    mask: np.ndarray
    flat: np.ndarray
    erased: tuple[Line, ...]
    kept: tuple[Line, ...]


@dataclass(frozen=True)
class Line:
    """A line of text: its box (x, y, w, h), what the recogniser read and its confidence (None where it was not
    read: text on a flat background when nothing asked to ``keep``), and the detector's score."""

    box: Rect
    text: str | None
    score: float
    confidence: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The line as the CLI's --json and the HTTP API report it."""
        return {"box": list(self.box), "text": self.text}


def find_text(
    picture: Picture,
    *,
    boxes: Sequence[Sequence[int]] | None = None,
    keep: str | None = None,
    grow: int | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> FoundText:
    """The mask of the text in ``picture`` (see the module's description), without erasing it.

    boxes: look only inside these (x, y, w, h) boxes. keep: a regular expression; a line whose recognised text it
    matches (``re.search``) is left alone. grow: pixels added around the letters (default: 2 + height / 16 for
    each line). device: "auto", "cpu" or "cuda". Raises InvalidInput for a bad expression or box,
    WeightsMissing when the detector's files are not installed.
    """
    from retouch import masks
    from retouch.models.runtime import check_device
    from retouch.tools.detext import detect, extent, glyphs
    from retouch.tools.detext.recognize import Reader

    check_device(device)
    check_options(((GROW, grow), (KEEP, keep)))  # the same bounds as every door's
    pattern = _pattern(keep)
    rgb = rgb8(picture)
    height, width = rgb.shape[:2]
    areas = [(0, 0, width, height)] if not boxes else [_with_margin(b, width, height) for b in boxes]
    if boxes:
        masks.mask_from_boxes(boxes, (width, height))  # refuses boxes with no area or wholly outside
    session = detect.detector_session(device)
    regions: list[TextRegion] = []
    for index, (x, y, w, h) in enumerate(areas):
        def report(done: int, total: int, index: int = index) -> None:
            progress("detect", index * total + done, len(areas) * total)

        found = detect.find_regions(rgb[y : y + h, x : x + w], session, report)
        regions += [detect.moved(region, x, y) for region in found]
    reader: Reader | None = None  # loaded when a line needs reading
    texts = np.zeros((height, width), bool)
    for region in regions:
        x, y, w, h = region.box
        texts[y : y + h, x : x + w] |= region.mask
    mask = np.zeros((height, width), bool)
    flat = np.zeros((height, width), bool)
    erased, kept = [], []
    pending, taken = list(regions), []
    while pending:
        region = pending.pop(0)
        pad = glyphs.default_grow(region.height) if grow is None else grow
        whole_pad = glyphs.WHOLE_GROW if grow is None else grow
        letters = glyphs.glyph_mask(rgb, region, pad, texts, whole_pad)
        text, confidence = None, None
        if pattern is not None or not letters.plain or region.second_look:
            reader = reader or Reader(device)
            reading = reader.read(rgb, region.rect)
            text, confidence = reading.text, reading.confidence
            # the detector also fires on some textures (hair, brickwork, foliage); what the recogniser cannot
            # read with some confidence is not text. On a plain background, whatever it found is lettering.
            if not letters.plain and confidence < MIN_CONFIDENCE:
                if not region.second_look:  # small text the detector ran together with the texture around it
                    again = detect.look_again(rgb, session, region.box, detect.WEAK_MARGIN)
                    # a line the detector's own second look found already is not read twice
                    seen = taken + [other for other in pending if other.second_look]
                    pending += [line for line in again if not detect.mostly_known(line, seen)]
                continue
            if region.second_look and (
                confidence < SECOND_LOOK_CONFIDENCE or len(text.replace(" ", "")) < SECOND_LOOK_SYMBOLS
            ):
                continue
            # on a busy background the detector's region can stop short of a line's ends or run on into the
            # texture beside it: the line goes as far as the recogniser reads letters
            if not letters.plain and (wider := extent.settled(region, reading, reader, rgb)) is not region:
                region = wider
                letters = glyphs.glyph_mask(rgb, region, pad, texts, whole_pad)
        taken.append(region)
        line = Line(region.box, text, float(region.score), confidence)
        if pattern is not None and text is not None and pattern.search(text):
            kept.append(line)
            continue
        erased.append(line)
        bx, by, bw, bh = letters.box
        mask[by : by + bh, bx : bx + bw] |= letters.mask
        if letters.flat:
            flat[by : by + bh, bx : bx + bw] |= letters.mask
    return FoundText(mask, flat & mask, tuple(erased), tuple(kept))


def detext(
    picture: Picture,
    *,
    boxes: Sequence[Sequence[int]] | None = None,
    keep: str | None = None,
    grow: int | None = None,
    engine: str = "auto",
    device: str = "auto",
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> Picture:
    """``picture`` with its text erased: ``find_text``'s mask given to ``retouch.erase`` (``engine``, ``seed``
    as there; the mask is not grown again), recorded as "detext (engine=...)" for the provenance XMP. A picture
    without text comes back unchanged, with nothing recorded. Raises what ``find_text`` and ``erase`` raise."""
    found = find_text(picture, boxes=boxes, keep=keep, grow=grow, device=device, progress=progress)
    return erase_found(picture, found, engine=engine, device=device, seed=seed, progress=progress)


def erase_found(
    picture: Picture,
    found: FoundText,
    *,
    engine: str = "auto",
    device: str = "auto",
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> Picture:
    """``picture`` with ``found``'s mask erased (see ``detext``). Text on flat backgrounds is filled smoothly from
    its surroundings (``smooth_fill``), which is what the background was there, in a fraction of the engine's
    time; the
    rest goes to the erase engine, which sees the smooth fills as known pixels."""
    from retouch.tools.erase import erase

    if not found.mask.any():
        return picture
    smoothed = smooth_fill(picture, found.flat, found.mask) if found.flat.any() else picture
    rest = found.mask & ~found.flat
    if not rest.any():
        return smoothed.with_operation("detext (engine=smooth)")
    erased = erase(smoothed, rest, engine=engine, grow=0, device=device, seed=seed, progress=progress)
    *before, last = erased.metadata.operations
    named = (*before, last.replace("erase", "detext", 1))
    return erased.replace(metadata=dataclasses.replace(erased.metadata, operations=named))


def smooth_fill(picture: Picture, hole: np.ndarray, unknown: np.ndarray | None = None) -> Picture:
    """``picture`` with ``hole`` filled smoothly from its surroundings (``push_pull``), none of the ``unknown``
    pixels (default: the hole; give every pixel to be erased, so that text left for another fill does not bleed
    in) counting as surroundings. Each connected part of the hole is filled from a margin around it alone, so a
    far edge (a dark menu bar 50 px away) does not tint it. Only the hole's pixels change, and a flat colour
    comes back exactly (Telea's fast marching, tried first, left letter-shaped patterns of up to 6 levels)."""
    import cv2

    pixels = picture.pixels.copy()
    unknown = hole if unknown is None else unknown | hole
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    height, width = hole.shape
    for label in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[label])
        margin = max(SMOOTH_MARGIN, min(w, h) // 2)
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
        part = labels[y0:y1, x0:x1] == label
        known = ~unknown[y0:y1, x0:x1]
        if not known.any():
            continue
        filled = push_pull(pixels[y0:y1, x0:x1].astype(np.float32), known)
        target = pixels[y0:y1, x0:x1]
        target[part] = np.clip(np.rint(filled[part]), 0, picture.max_value).astype(pixels.dtype)
    return picture.replace(pixels=pixels)


def push_pull(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """A smooth fill of the unknown pixels of ``image`` (HxWxC float32) from the known ones (HxW bool), by the
    push-pull pyramid (Gortler et al., "The Lumigraph", 1996): known values and their weights are averaged down
    to a single pixel, then each level's gaps are filled from the enlarged coarser estimate on the way back up.
    Known pixels keep their values; a hole in one flat colour is filled with exactly that colour."""
    import cv2

    values = [image * known[:, :, None]]
    weights = [known.astype(np.float32)]
    while min(weights[-1].shape) > 1:
        height, width = weights[-1].shape
        size = (max(1, width // 2), max(1, height // 2))
        values.append(cv2.resize(values[-1], size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1))
        weights.append(cv2.resize(weights[-1], size, interpolation=cv2.INTER_AREA))
    estimate = values[-1] / np.maximum(weights[-1], 1e-6)[:, :, None]
    for value, weight in zip(reversed(values[:-1]), reversed(weights[:-1]), strict=True):
        height, width = weight.shape
        enlarged = cv2.resize(estimate, (width, height), interpolation=cv2.INTER_LINEAR).reshape(height, width, -1)
        share = np.minimum(weight, 1.0)[:, :, None]
        # a pixel with weight w of known values below it: their mean, topped up with (1 - w) of the coarser guess
        estimate = value + (1.0 - share) * enlarged
    return estimate


def _pattern(keep: str | None) -> re.Pattern[str] | None:
    if keep is None:
        return None
    try:
        return re.compile(keep)
    except re.error as error:
        raise InvalidInput(f"keep is not a valid regular expression ({error}): {keep!r}") from None


def rgb8(picture: Picture) -> np.ndarray:
    """The picture as HxWx3 uint8 RGB (16-bit samples rounded, grey repeated), as the networks read it."""
    from retouch.io.encode import to_8bit

    pixels = to_8bit(picture.pixels) if picture.pixels.dtype != np.uint8 else picture.pixels
    return np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels


def _with_margin(box: Sequence[int], width: int, height: int) -> Rect:
    x, y, w, h = (int(v) for v in box)
    x0, y0 = max(0, x - BOX_MARGIN), max(0, y - BOX_MARGIN)
    x1, y1 = min(width, x + w + BOX_MARGIN), min(height, y + h + BOX_MARGIN)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))
