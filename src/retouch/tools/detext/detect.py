"""Finding text: PP-OCRv6's DB detector (Liao et al., "Real-time Scene Text Detection with Differentiable
Binarization", AAAI 2020) run over the photo at two scales, then its probability map cut into text regions.

The network marks the shrunk core of each text line with a high probability. It sees text well from about 8 to a
few hundred pixels high at the scale it is run at, so it runs twice and the maps are merged by maximum:

- at full resolution, in overlapping tiles on large photos, for small text (captions, screenshots, 10 px
  lettering on a 12 MP photo);
- on the whole frame shrunk to OVERVIEW_SIDE, for text too large for the first pass to take in (a title
  across the frame, a big watermark).

Lines up to FULL_RES_MAX_HEIGHT come from the first pass, taller ones from the second. Small text on a busy
background (10 px lettering over brickwork) often leaves the first pass only a weak response or a line found in
part: those places get a second look at SECOND_LOOK_ZOOM, which adds the small lines it finds there. A last pass,
on the photo with its local contrast raised and shrunk to WATERMARK_SIDE, adds semi-transparent watermarks the
others miss. In each map, regions are
the connected parts above PROB_THRESHOLD whose mean probability reaches REGION_SCORE,
each grown back out by the distance DB shrank it by (area x UNCLIP / perimeter, as the paper's "unclip"), so a
region covers its line of text. Preprocessing as PaddleOCR trains it: BGR, (x / 255 - 0.5) / 0.5, sides padded
to multiples of 32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from retouch.types import Rect

if TYPE_CHECKING:
    import onnxruntime

DETECTOR = "ppocr-v6-det-small"
TILE = 1280  # side of a full-resolution tile, a multiple of 32
OVERLAP = 128  # tiles overlap by this much, so text cut by one tile's edge is whole in its neighbour
OVERVIEW_SIDE = 768  # the long side of the whole-frame pass
WATERMARK_SIDE = 1024  # the long side of the watermark pass
FLAT_SHARE = 0.5  # pictures at least this flat skip it
WATERMARK_MAX_HEIGHT = 0.5  # of the picture's short side: a thicker "line" from the watermark pass is no text
FULL_RES_MAX_HEIGHT = 256  # taller lines are taken from the whole-frame pass (measured: found whole up to ~300 px)
PROB_THRESHOLD = 0.3  # DB's binarisation threshold (PaddleOCR's default)
REGION_SCORE = 0.5  # a region's mean probability must reach this (PaddleOCR's box_thresh)
UNCLIP = 1.6  # PaddleOCR's unclip ratio
MIN_SHORT_SIDE = 736  # the first pass enlarges smaller photos to this short side (PaddleOCR's limit_side_len) ...
MAX_ZOOM = 2.0  # ... by at most this much
MIN_REGION_PIXELS = 16  # smaller specks in the map are noise (the inside of a big letter seen up close)
# The second look: where the first pass's map rises above WEAK_PROBABILITY outside the lines it found, and along
# the lines it found up to SMALL_TEXT_HEIGHT high, the photo is read again enlarged SECOND_LOOK_ZOOM times (from
# the original, not from the first pass's enlargement); lines up to SMALL_TEXT_HEIGHT found there are added.
# Measured on the remove-text benchmark: 10 px lettering on brickwork peaks at 0.18 at 1.44x and is found whole
# at 2x; a whole 2x pass finds it too but costs 4x the first pass and breaks large text into pieces.
SECOND_LOOK_ZOOM = 2.0
WEAK_PROBABILITY = 0.05
SMALL_TEXT_HEIGHT = 32
WEAK_MARGIN = (24, 12)  # pixels added around a weak response (x, y): a few letters of 10-20 px text
LINE_REACH = 6  # a small line's box is widened by this many times its height along its run, for its lost words
LENGTHEN = 1.0  # a second look's line reaches this many line heights further at each end (see _lengthened)


@dataclass(frozen=True)
class TextRegion:
    """One line of text: ``mask`` (bool, the size of ``box``) marks the pixels of its region in ``box`` (x, y, w,
    h in image pixels); ``height`` is the text's height in pixels (the region's short side); ``score`` the
    detector's mean probability over its core; ``rect`` the line's rotated rectangle, as ``cv2.minAreaRect``
    gives it ((centre x, centre y), (width, height), angle in degrees), for reading a tilted line; ``second_look``
    whether only the second look found it."""

    box: Rect
    mask: np.ndarray
    height: float
    score: float
    rect: tuple[tuple[float, float], tuple[float, float], float]
    second_look: bool = False  # found only by the second look, on weak evidence


def detector_session(device: str = "auto") -> onnxruntime.InferenceSession:
    from retouch.models.runtime import cached_session
    from retouch.models.weights import resolve_weights

    return cached_session(resolve_weights(DETECTOR, allow_download=False), device)


def find_regions(
    pixels: np.ndarray, session: onnxruntime.InferenceSession, report: Callable[[int, int], None]
) -> list[TextRegion]:
    """The text lines of ``pixels`` (HxWx3 uint8 RGB), in reading order. Lines up to FULL_RES_MAX_HEIGHT pixels
    high come from the full-resolution pass; taller ones from the whole-frame pass, where they are within the
    network's reach (at full resolution a 450 px title comes out as one region over the whole frame).
    ``report(done, total)`` after each network run."""
    import cv2

    height, width = pixels.shape[:2]
    # small photos are enlarged for the first pass, as PaddleOCR brings the short side to 736 px: 10 px text on a
    # 768x512 photo is found at 1.44x and missed at 1x
    zoom = min(MAX_ZOOM, max(1.0, MIN_SHORT_SIDE / min(height, width)))
    sharp = pixels if zoom == 1.0 else cv2.resize(pixels, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
    tiles = _tiles(*sharp.shape[:2])
    overview = max(height, width) > OVERVIEW_SIDE * 1.25  # else the full-resolution pass sees the whole frame
    # on a screenshot or a slide the first pass sees every mark: the second look and the watermark pass, there
    # for text on busy backgrounds, would only cost time
    busy = not _mostly_flat(pixels)
    total = len(tiles) + overview + 1  # and the watermark pass
    probability = np.zeros(sharp.shape[:2], np.float32)
    for done, (top, left, bottom, right) in enumerate(tiles, 1):
        part = _run(session, sharp[top:bottom, left:right])
        np.maximum(probability[top:bottom, left:right], part, out=probability[top:bottom, left:right])
        report(done, total)
    if zoom != 1.0:
        probability = cv2.resize(probability, (width, height), interpolation=cv2.INTER_AREA)
    regions = text_regions(probability)
    if busy and zoom < SECOND_LOOK_ZOOM:
        for area in _second_look_areas(probability, regions):
            regions += [region for region in look_again(pixels, session, area) if not mostly_known(region, regions)]
    if overview:
        coarse = _shrunk_pass(session, pixels, OVERVIEW_SIDE)
        regions = [region for region in regions if region.height <= FULL_RES_MAX_HEIGHT]
        regions += [region for region in text_regions(coarse) if region.height > FULL_RES_MAX_HEIGHT]
        report(total - 1, total)
    # semi-transparent watermarks: the same network on the photo with its local contrast raised (CLAHE on the
    # lightness), where a 30-70% opaque light mark over brickwork stands out; what it adds is new lines only
    if busy:
        faint = text_regions(_shrunk_pass(session, _local_contrast(pixels), WATERMARK_SIDE))
        # raised contrast can make a whole busy picture respond (a region 696 px "high" over a 768x512 photo)
        most = WATERMARK_MAX_HEIGHT * min(height, width)
        regions += [region for region in faint if region.height <= most and not mostly_known(region, regions)]
    report(total, total)
    return sorted(regions, key=lambda region: (region.box[1], region.box[0]))


def look_again(
    pixels: np.ndarray, session: onnxruntime.InferenceSession, area: Rect, margin: tuple[int, int] = (0, 0)
) -> list[TextRegion]:
    """The lines up to SMALL_TEXT_HEIGHT high in ``area`` (x, y, w, h) of ``pixels``, grown by ``margin`` (x,
    y), found with the picture enlarged SECOND_LOOK_ZOOM times; each marked as the second look's."""
    import cv2

    height, width = pixels.shape[:2]
    mx, my = margin
    x0, y0 = max(0, area[0] - mx), max(0, area[1] - my)
    x1, y1 = min(width, area[0] + area[2] + mx), min(height, area[1] + area[3] + my)
    part = pixels[y0:y1, x0:x1]
    large = cv2.resize(part, None, fx=SECOND_LOOK_ZOOM, fy=SECOND_LOOK_ZOOM, interpolation=cv2.INTER_CUBIC)
    # cut into lines at the scale the network saw them: brought back to size first, a line's core can run into
    # the weak response of the texture beside it
    found = [_shrunk(region, SECOND_LOOK_ZOOM, part.shape[:2]) for region in text_regions(_run(session, large))]
    small = [region for region in found if region.height <= SMALL_TEXT_HEIGHT]
    return [replace(_lengthened(moved(region, x0, y0), (height, width)), second_look=True) for region in small]


def _lengthened(region: TextRegion, shape: tuple[int, int]) -> TextRegion:
    """``region``'s pixels reaching LENGTHEN line heights further at both ends of its run, within a picture of
    ``shape`` (h, w): the detector's core of small text on a busy background often stops a letter or two short of
    the line's ends, which then stay behind as a ghost ("...copyrig" erased, "ht" left). Its ``rect`` stays the
    detector's, which the recogniser reads best; what it reads then bounds the longer mask (``clipped``)."""
    import cv2

    reach = max(1, round(LENGTHEN * region.height))
    dx, dy = reach * run_direction(region.rect)
    kernel = np.zeros((2 * reach + 1, 2 * reach + 1), np.uint8)
    cv2.line(kernel, (round(reach - dx), round(reach - dy)), (round(reach + dx), round(reach + dy)), 1)
    x, y, w, h = region.box
    x0, y0 = max(0, x - reach), max(0, y - reach)
    x1, y1 = min(shape[1], x + w + reach), min(shape[0], y + h + reach)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = region.mask
    mask = cv2.dilate(mask, kernel).astype(bool)
    ys, xs = np.nonzero(mask)
    top, left = int(ys.min()), int(xs.min())
    box = (x0 + left, y0 + top, int(xs.max()) + 1 - left, int(ys.max()) + 1 - top)
    return replace(region, box=box, mask=mask[top : int(ys.max()) + 1, left : int(xs.max()) + 1])


def run_direction(rect: tuple[tuple[float, float], tuple[float, float], float]) -> np.ndarray:
    """The unit vector (x, y) along the long side of ``rect`` (as ``cv2.minAreaRect`` gives it): a line's run."""
    _, (rw, rh), angle = rect
    theta = np.radians(angle if rw >= rh else angle + 90.0)
    return np.array([np.cos(theta), np.sin(theta)])


def _second_look_areas(probability: np.ndarray, regions: list[TextRegion]) -> list[Rect]:
    """The boxes (x, y, w, h) that get a second look: the weak responses of ``probability`` outside ``regions``
    with WEAK_MARGIN around them, and the small lines among ``regions`` widened along their run, overlapping
    boxes merged."""
    import cv2

    height, width = probability.shape
    known = np.zeros((height, width), np.uint8)
    areas = np.zeros((height, width), np.uint8)
    for region in regions:
        x, y, w, h = region.box
        known[y : y + h, x : x + w] |= region.mask
        if region.height <= SMALL_TEXT_HEIGHT:
            reach = round(LINE_REACH * region.height)
            wide = w >= h  # the run of a line tilted by up to 45 degrees
            mx, my = (reach, 0) if wide else (0, reach)
            areas[max(0, y - my) : y + h + my, max(0, x - mx) : x + w + mx] = 1
    known = cv2.dilate(known, np.ones((9, 9), np.uint8))
    weak = ((probability > WEAK_PROBABILITY) & (known == 0)).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    mx, my = WEAK_MARGIN
    for x, y, w, h, area in stats[1:]:
        if area >= 4:
            areas[max(0, y - my) : y + h + my, max(0, x - mx) : x + w + mx] = 1
    # merged, so overlapping boxes are read once
    _, _, stats, _ = cv2.connectedComponentsWithStats(areas, connectivity=8)
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:]]


def _shrunk(region: TextRegion, zoom: float, shape: tuple[int, int]) -> TextRegion:
    """``region`` found in a picture enlarged ``zoom`` times, brought to the picture's own ``shape`` (h, w)."""
    import cv2

    x, y, w, h = region.box
    x0, y0 = int(x / zoom), int(y / zoom)
    x1, y1 = min(shape[1], -(-(x + w) // zoom)), min(shape[0], -(-(y + h) // zoom))
    x1, y1 = max(int(x1), x0 + 1), max(int(y1), y0 + 1)
    large = np.zeros((int(y1 * zoom) - int(y0 * zoom) + 1, int(x1 * zoom) - int(x0 * zoom) + 1), np.float32)
    ox, oy = x - int(x0 * zoom), y - int(y0 * zoom)
    large[oy : oy + h, ox : ox + w] = region.mask[: large.shape[0] - oy, : large.shape[1] - ox]
    mask = cv2.resize(large, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA) > 0.25
    (cx, cy), (rw, rh), angle = region.rect
    rect = ((cx / zoom, cy / zoom), (rw / zoom, rh / zoom), angle)
    return replace(region, box=(x0, y0, x1 - x0, y1 - y0), mask=mask, height=region.height / zoom, rect=rect)


def clipped(region: TextRegion, polygon: np.ndarray) -> TextRegion:
    """``region`` cut down to its part inside ``polygon`` (N x 2 picture coordinates), its box shrunk to fit;
    ``region`` itself when that part is all of it or nothing."""
    import cv2

    x, y, w, h = region.box
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(polygon - (x, y)).astype(np.int32)], 1)
    mask = region.mask & inside.astype(bool)
    if not mask.any() or mask.sum() == region.mask.sum():
        return region
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    box = (x + x0, y + y0, x1 - x0, y1 - y0)
    return replace(region, box=box, mask=mask[y0:y1, x0:x1])


def widened(region: TextRegion, polygon: np.ndarray, shape: tuple[int, int]) -> TextRegion:
    """``region`` with the pixels inside ``polygon`` (N x 2 picture coordinates) added, within a picture of
    ``shape`` (h, w)."""
    import cv2

    x, y, w, h = region.box
    x0 = max(0, min(x, int(np.floor(polygon[:, 0].min()))))
    y0 = max(0, min(y, int(np.floor(polygon[:, 1].min()))))
    x1 = min(shape[1], max(x + w, int(np.ceil(polygon[:, 0].max())) + 1))
    y1 = min(shape[0], max(y + h, int(np.ceil(polygon[:, 1].max())) + 1))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon - (x0, y0)).astype(np.int32)], 1)
    mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] |= region.mask
    return replace(region, box=(x0, y0, x1 - x0, y1 - y0), mask=mask.astype(bool))


def moved(region: TextRegion, dx: int, dy: int) -> TextRegion:
    """``region`` found in a part of the picture whose top left corner is at (dx, dy)."""
    x, y, w, h = region.box
    (cx, cy), size, angle = region.rect
    return replace(region, box=(x + dx, y + dy, w, h), rect=((cx + dx, cy + dy), size, angle))


def _shrunk_pass(session: onnxruntime.InferenceSession, pixels: np.ndarray, side: int) -> np.ndarray:
    """The network's map of ``pixels`` shrunk to at most ``side`` on its long side, brought back to full size."""
    import cv2

    height, width = pixels.shape[:2]
    scale = min(1.0, side / max(height, width))
    small = pixels if scale == 1.0 else cv2.resize(
        pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
    )
    found = _run(session, small)
    return found if scale == 1.0 else cv2.resize(found, (width, height), interpolation=cv2.INTER_LINEAR)


def _mostly_flat(pixels: np.ndarray) -> bool:
    """Whether most of the picture is flat colour (a screenshot, a document, a slide), judged on a small copy: at
    least FLAT_SHARE of its pixels vary by under a level from their 5x5 neighbourhood."""
    import cv2

    scale = min(1.0, 256 / max(pixels.shape[:2]))
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = grey.astype(np.float32)
    mean = cv2.blur(grey, (5, 5))
    spread = cv2.blur(grey * grey, (5, 5)) - mean * mean
    return float((spread < 1.0).mean()) >= FLAT_SHARE


def _local_contrast(pixels: np.ndarray) -> np.ndarray:
    import cv2

    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def mostly_known(region: TextRegion, known: list[TextRegion]) -> bool:
    """Whether most of ``region`` lies within the regions already found."""
    x, y, w, h = region.box
    seen = np.zeros((h, w), bool)
    for other in known:
        ox, oy, ow, oh = other.box
        x0, y0, x1, y1 = max(x, ox), max(y, oy), min(x + w, ox + ow), min(y + h, oy + oh)
        if x0 < x1 and y0 < y1:
            seen[y0 - y : y1 - y, x0 - x : x1 - x] |= other.mask[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return (seen & region.mask).sum() > 0.5 * region.mask.sum()


def text_regions(probability: np.ndarray) -> list[TextRegion]:
    """The text lines of a probability map (see the module's description), in reading order (top to bottom)."""
    import cv2

    core = (probability > PROB_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    sums = np.bincount(labels.ravel(), weights=probability.ravel(), minlength=count)
    height, width = probability.shape
    regions = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < MIN_REGION_PIXELS or sums[label] / area < REGION_SCORE:
            continue
        kernel = labels[y : y + h, x : x + w] == label
        ys, xs = np.nonzero(kernel)
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(np.column_stack([xs + x, ys + y]).astype(np.float32))
        rw, rh = max(rw, 1.0), max(rh, 1.0)
        # DB shrinks a line's polygon by area x (1 - r^2) / perimeter; unclip grows the kernel back by
        # area x UNCLIP / perimeter, on its rotated rectangle (a tilted line's upright box would overstate it)
        grow = max(1, round(rw * rh * UNCLIP / (2.0 * (rw + rh))))
        x0, y0 = max(0, x - grow), max(0, y - grow)
        x1, y1 = min(width, x + w + grow), min(height, y + h + grow)
        padded = (labels[y0:y1, x0:x1] == label).astype(np.uint8)
        # a square, not a disk: a line's kernel is a rectangle with rounded ends, and its first and last letters
        # sit in the corners a disk would leave out
        square = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
        mask = cv2.dilate(padded, square).astype(bool)
        rect = ((float(cx), float(cy)), (rw + 2 * grow, rh + 2 * grow), float(angle))
        thickness = float(min(rw, rh) + 2 * grow)
        regions.append(TextRegion((x0, y0, x1 - x0, y1 - y0), mask, thickness, sums[label] / area, rect))
    return sorted(regions, key=lambda region: (region.box[1], region.box[0]))


def _tiles(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of the full-resolution pass: the whole image when it is at most a tile and a
    half on each side (one run is cheaper than overlapping ones), else overlapping TILE x TILE tiles."""
    def starts(length: int) -> list[int]:
        if length <= TILE * 3 // 2:
            return [0]
        step = TILE - OVERLAP
        count = -(-(length - OVERLAP) // step)
        return [min(i * step, length - TILE) for i in range(count)]

    def span(start: int, length: int) -> int:
        return length if length <= TILE * 3 // 2 else start + TILE

    return [(top, left, span(top, height), span(left, width)) for top in starts(height) for left in starts(width)]


def _run(session: onnxruntime.InferenceSession, pixels: np.ndarray) -> np.ndarray:
    """The network's probability map of one image (HxWx3 uint8 RGB), HxW float32."""
    height, width = pixels.shape[:2]
    padded_h, padded_w = -(-height // 32) * 32, -(-width // 32) * 32
    planes = np.full((3, padded_h, padded_w), -1.0, np.float32)  # padding: black, as normalised below
    planes[:, :height, :width] = pixels.transpose(2, 0, 1)[::-1]  # BGR planes
    view = planes[:, :height, :width]
    view *= np.float32(2 / 255)  # (x / 255 - 0.5) / 0.5, in place
    view -= np.float32(1)
    name = session.get_inputs()[0].name
    output = session.run(None, {name: planes[None]})[0]
    return np.ascontiguousarray(output[0, 0, :height, :width], dtype=np.float32)
