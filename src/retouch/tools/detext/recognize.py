"""Reading a line of text, for ``keep``: PP-OCRv6's recogniser (an SVTR-style network trained with CTC) on the
region's box, decoded greedily.

Input as PaddleOCR trains it: the line's crop in BGR, resized to 48 pixels high keeping its aspect ratio,
(x / 255 - 0.5) / 0.5. Output: per horizontal step, scores over the alphabet stored in the model file's metadata
(``character``, one symbol a line) with the CTC blank first and a space last; the best class per step, repeats
merged and blanks dropped, is the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

RotatedRect = tuple[tuple[float, float], tuple[float, float], float]

if TYPE_CHECKING:
    import onnxruntime

RECOGNISER = "ppocr-v6-rec-small"
LINE_HEIGHT = 48
MAX_WIDTH = 48 * 40  # longer lines are squeezed: the network reads them all the same, a little less well


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

    def read(self, pixels: np.ndarray, rect: RotatedRect) -> tuple[str, float]:
        """The text in ``rect`` of ``pixels`` (HxWx3 uint8 RGB; ``rect`` as ``cv2.minAreaRect`` gives it), one
        line read along its long side, and the network's confidence in it: the mean probability of the symbols
        read (0 when nothing is read)."""
        import cv2

        crop = _straightened(pixels, rect)
        line_w = int(np.clip(round(crop.shape[1] * LINE_HEIGHT / max(1, crop.shape[0])), 8, MAX_WIDTH))
        line = cv2.resize(np.ascontiguousarray(crop[:, :, ::-1]), (line_w, LINE_HEIGHT), interpolation=cv2.INTER_AREA)
        batch = (line.astype(np.float32) * np.float32(2 / 255) - np.float32(1)).transpose(2, 0, 1)[None]
        name = self.session.get_inputs()[0].name
        scores = self.session.run(None, {name: batch})[0][0]
        best = scores.argmax(axis=1)
        chosen = (best != 0) & np.concatenate(([True], best[1:] != best[:-1]))
        kept = best[chosen]
        text = "".join(self.symbols[i] for i in kept if i < len(self.symbols))
        confidence = float(scores.max(axis=1)[chosen].mean()) if kept.size else 0.0
        return text, confidence


def _straightened(pixels: np.ndarray, rect: RotatedRect) -> np.ndarray:
    """The pixels under ``rect``, turned so its long side runs left to right (as PaddleOCR crops a rotated box)."""
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
    crop = cv2.warpPerspective(
        pixels, cv2.getPerspectiveTransform(corners, target), (width, height), borderMode=cv2.BORDER_REPLICATE
    )
    return np.rot90(crop) if height > 1.5 * width else crop
