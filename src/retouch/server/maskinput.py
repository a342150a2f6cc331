"""The mask of a tool request, at the image's full resolution, from any mix of a mask image (any size: it is
scaled to the image), brush strokes (drawn over a canvas of any size) and boxes in image pixels."""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.server.schemas import StrokeMask


def build_mask(
    size: tuple[int, int],
    *,
    mask_file: bytes | None = None,
    strokes: StrokeMask | None = None,
    boxes: str | None = None,
) -> np.ndarray:
    """The union of every mask given, as an HxW bool array for an image of ``size`` = (width, height)."""
    from retouch import masks

    parts = []
    if mask_file:
        parts.append(masks.load_mask(mask_file, size, resize=True))
    if strokes is not None:
        parts.append(rasterize(strokes, size))
    if boxes:
        parsed = [masks.parse_box(text) for text in boxes.split(";") if text.strip()]
        parts.append(masks.mask_from_boxes(parsed, size))
    if not parts:
        raise InvalidInput("no mask: send a mask image, brush strokes or boxes over what to change")
    return masks.combine(parts)


def rasterize(spec: StrokeMask, size: tuple[int, int]) -> np.ndarray:
    """Draw the strokes in order at full resolution: round brush, round joins; erase strokes clear."""
    from PIL import Image, ImageDraw

    width, height = size
    sx, sy = width / spec.width, height / spec.height
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in spec.strokes:
        fill = 255 if stroke.mode == "paint" else 0
        radius = max(0.5, stroke.radius * (sx + sy) / 2)
        # Canvas coordinates are continuous (pixel i spans [i, i + 1)); Pillow draws around pixel centres.
        points = [(x * sx - 0.5, y * sy - 0.5) for x, y in stroke.points]
        if len(points) > 1:
            draw.line(points, fill=fill, width=max(1, round(2 * radius)), joint="curve")
        for x, y in points:  # round caps, and dots for single clicks
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
    return np.asarray(canvas) > 127
