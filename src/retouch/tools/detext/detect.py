"""Finding text: PP-OCRv6's DB detector (Liao et al., "Real-time Scene Text Detection with Differentiable
Binarization", AAAI 2020) run over the photo at two scales, then its probability map cut into text regions.

The network marks the shrunk core of each text line with a high probability. It sees text well from about 8 to a
few hundred pixels high at the scale it is run at, so it runs twice and the maps are merged by maximum:

- at full resolution, in overlapping tiles on large photos, for small text (captions, screenshots, 10 px
  lettering on a 12 MP photo);
- on the whole frame shrunk to OVERVIEW_SIDE, for text too large for the first pass to take in (a title
  across the frame, a big watermark).

Lines up to FULL_RES_MAX_HEIGHT come from the first pass, taller ones from the second. A third pass, on the
photo with its local contrast raised and shrunk to WATERMARK_SIDE, adds semi-transparent watermarks the others
miss. In each map, regions are
the connected parts above PROB_THRESHOLD whose mean probability reaches REGION_SCORE,
each grown back out by the distance DB shrank it by (area x UNCLIP / perimeter, as the paper's "unclip"), so a
region covers its line of text. Preprocessing as PaddleOCR trains it: BGR, (x / 255 - 0.5) / 0.5, sides padded
to multiples of 32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
FULL_RES_MAX_HEIGHT = 256  # taller lines are taken from the whole-frame pass (measured: found whole up to ~300 px)
PROB_THRESHOLD = 0.3  # DB's binarisation threshold (PaddleOCR's default)
REGION_SCORE = 0.5  # a region's mean probability must reach this (PaddleOCR's box_thresh)
UNCLIP = 1.6  # PaddleOCR's unclip ratio
MIN_SHORT_SIDE = 736  # the first pass enlarges smaller photos to this short side (PaddleOCR's limit_side_len) ...
MAX_ZOOM = 2.0  # ... by at most this much
MIN_REGION_PIXELS = 16  # smaller specks in the map are noise (the inside of a big letter seen up close)


@dataclass(frozen=True)
class TextRegion:
    """One line of text: ``mask`` (bool, the size of ``box``) marks the pixels of its region in ``box`` (x, y, w,
    h in image pixels); ``height`` is the text's height in pixels (the region's short side); ``score`` the
    detector's mean probability over its core; ``rect`` the line's rotated rectangle, as ``cv2.minAreaRect``
    gives it ((centre x, centre y), (width, height), angle in degrees), for reading a tilted line."""

    box: Rect
    mask: np.ndarray
    height: float
    score: float
    rect: tuple[tuple[float, float], tuple[float, float], float]


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
    total = len(tiles) + overview + 1  # and the watermark pass
    probability = np.zeros(sharp.shape[:2], np.float32)
    for done, (top, left, bottom, right) in enumerate(tiles, 1):
        part = _run(session, sharp[top:bottom, left:right])
        np.maximum(probability[top:bottom, left:right], part, out=probability[top:bottom, left:right])
        report(done, total)
    if zoom != 1.0:
        probability = cv2.resize(probability, (width, height), interpolation=cv2.INTER_AREA)
    regions = text_regions(probability)
    if overview:
        coarse = _shrunk_pass(session, pixels, OVERVIEW_SIDE)
        regions = [region for region in regions if region.height <= FULL_RES_MAX_HEIGHT]
        regions += [region for region in text_regions(coarse) if region.height > FULL_RES_MAX_HEIGHT]
        report(total - 1, total)
    # semi-transparent watermarks: the same network on the photo with its local contrast raised (CLAHE on the
    # lightness), where a 30-70% opaque light mark over brickwork stands out; what it adds is new lines only
    if not _mostly_flat(pixels):  # on a screenshot or a slide the first pass sees every mark: save the time
        faint = text_regions(_shrunk_pass(session, _local_contrast(pixels), WATERMARK_SIDE))
        regions += [region for region in faint if not _mostly_known(region, regions)]
    report(total, total)
    return sorted(regions, key=lambda region: (region.box[1], region.box[0]))


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


def _mostly_known(region: TextRegion, known: list[TextRegion]) -> bool:
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
