"""Reading a line of text, for ``keep``: PP-OCRv6's recogniser (an SVTR-style network trained with CTC) on the
region's box, decoded greedily.

Input as PaddleOCR trains it: the line's crop in BGR, resized to 48 pixels high keeping its aspect ratio,
(x / 255 - 0.5) / 0.5. Output: per horizontal step, scores over the alphabet stored in the model file's metadata
(``character``, one symbol a line) with the CTC blank first and a space last; the best class per step, repeats
merged and blanks dropped, is the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

RotatedRect = tuple[tuple[float, float], tuple[float, float], float]

if TYPE_CHECKING:
    import onnxruntime

RECOGNISER = "ppocr-v6-rec-small"
LINE_HEIGHT = 48
MAX_WIDTH = 48 * 40  # longer lines are squeezed: the network reads them all the same, a little less well
SPAN_SYMBOL_CONFIDENCE = 0.7  # only symbols read at least this surely bound the span
SPAN_MARGIN = 1.0  # line heights kept beyond the first and last symbol read: a letter it could not read, a shadow


class Reading(NamedTuple):
    """What the recogniser read on a line: the text; its confidence, the mean probability of the symbols read
    (0 when nothing was read); and ``span``, the quadrilateral (4 x 2 image coordinates) from SPAN_MARGIN line
    heights before the first symbol read to as far after the last, across the line's whole height (None when
    nothing was read); whether the first and the last symbols lie within a line height of the line's ends (the
    line may go on beyond them)."""

    text: str
    confidence: float
    span: np.ndarray | None
    open_ends: tuple[bool, bool] = (False, False)


class Reader:
    """The recogniser's session and its alphabet, loaded once."""

    def __init__(self, device: str = "auto") -> None:
        from retouch.models.runtime import cached_session
        from retouch.models.weights import resolve_weights

        self.session: onnxruntime.InferenceSession = cached_session(
            resolve_weights(RECOGNISER, allow_download=False), device
        )
        listed = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.symbols = ["", *listed, " "]

    def read(self, pixels: np.ndarray, rect: RotatedRect) -> Reading:
        """What is written in ``rect`` of ``pixels`` (HxWx3 uint8 RGB; ``rect`` as ``cv2.minAreaRect`` gives it),
        one line read along its long side."""
        import cv2

        crop, to_crop, turned = _straightened(pixels, rect)
        line_w = int(np.clip(round(crop.shape[1] * LINE_HEIGHT / max(1, crop.shape[0])), 8, MAX_WIDTH))
        line = cv2.resize(np.ascontiguousarray(crop[:, :, ::-1]), (line_w, LINE_HEIGHT), interpolation=cv2.INTER_AREA)
        batch = (line.astype(np.float32) * np.float32(2 / 255) - np.float32(1)).transpose(2, 0, 1)[None]
        name = self.session.get_inputs()[0].name
        scores = self.session.run(None, {name: batch})[0][0]
        best = scores.argmax(axis=1)
        chosen = (best != 0) & np.concatenate(([True], best[1:] != best[:-1]))
        kept = best[chosen]
        text = "".join(self.symbols[i] for i in kept if i < len(self.symbols))
        if not kept.size:
            return Reading(text, 0.0, None)
        probabilities = scores.max(axis=1)[chosen]
        confidence = float(probabilities.mean())
        # the network's steps tile the line's width evenly: the first and last symbols' steps bound the letters;
        # symbols read with little confidence at the ends are the texture beside the line, more often than not
        steps = np.flatnonzero(chosen)
        if (probabilities >= SPAN_SYMBOL_CONFIDENCE).any():
            steps = steps[probabilities >= SPAN_SYMBOL_CONFIDENCE]
        per_step = crop.shape[1] / len(best)
        margin = SPAN_MARGIN * crop.shape[0]
        # (beyond the crop's ends too: the detector's box may stop short of the line's first or last letter)
        first, last = steps[0] * per_step, (steps[-1] + 1) * per_step
        open_ends = (first < crop.shape[0], last > crop.shape[1] - crop.shape[0])
        span = _in_picture(first - margin, last + margin, crop.shape, to_crop, turned)
        return Reading(text, confidence, span, open_ends)


def _in_picture(
    start: float, end: float, shape: tuple[int, ...], to_crop: np.ndarray, turned: bool
) -> np.ndarray:
    """The corners, in the picture, of columns ``start`` to ``end`` of the straightened crop (``shape``), which
    ``to_crop`` maps the picture to and which was then turned a quarter when ``turned``."""
    import cv2

    height = shape[0]
    corners = np.array([[start, 0], [end, 0], [end, height], [start, height]], np.float32)
    if turned:  # np.rot90: column j of the turned crop is row j of the crop, row i its column (width - 1 - i)
        corners = np.column_stack([shape[0] - corners[:, 1], corners[:, 0]]).astype(np.float32)
    back = cv2.perspectiveTransform(corners[None], np.linalg.inv(to_crop))
    return back[0]


def _straightened(pixels: np.ndarray, rect: RotatedRect) -> tuple[np.ndarray, np.ndarray, bool]:
    """The pixels under ``rect``, turned so its long side runs left to right (as PaddleOCR crops a rotated box);
    the perspective transform from the picture to the crop before it was turned; whether it was turned."""
    import cv2

    corners = cv2.boxPoints(rect).astype(np.float32)
    # start at the corner nearest the top left, then go round clockwise, as getPerspectiveTransform pairs them
    start = int(np.argmin(corners.sum(axis=1)))
    corners = np.roll(corners, -start, axis=0)
    (ax, ay), (bx, by) = corners[1] - corners[0], corners[3] - corners[0]
    if ax * by - ay * bx < 0:  # counter-clockwise on screen (y down): turn the order round
        corners = corners[[0, 3, 2, 1]]
    width = int(round(max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3]))))
    height = int(round(max(np.linalg.norm(corners[3] - corners[0]), np.linalg.norm(corners[2] - corners[1]))))
    width, height = max(width, 2), max(height, 2)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    to_crop = cv2.getPerspectiveTransform(corners, target)
    crop = cv2.warpPerspective(pixels, to_crop, (width, height), borderMode=cv2.BORDER_REPLICATE)
    turned = height > 1.5 * width
    return (np.rot90(crop) if turned else crop), to_crop, turned
