"""Whether a region a model is asked to make covers a person: the trigger of the stricter refusal list for the
fill tools (``refusals.check_prompt(..., person_in_region=True)``). A person is found by their face, with the
face detector the restore tool uses (RetinaFace, built in; YuNet when pulled)."""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.types import Picture

MARGIN = 0.5  # a face's box grown by half its size each way: the head and neck around it count as the person


def person_in_region(picture: Picture, region: np.ndarray, *, device: str = "auto") -> bool:
    """True when a face detected in ``picture`` overlaps ``region`` (HxW bool, True = to be made), its box grown
    by MARGIN. Raises WeightsMissing when no face detector is installed: the check is never skipped silently."""
    from retouch.tools.restore.faces.detect import detect_faces

    if region.shape != (picture.height, picture.width):
        size = (picture.height, picture.width)
        raise InvalidInput(f"region shape {region.shape} does not match the picture's {size}")
    if not region.any():
        return False
    for face in detect_faces(picture.rgb_float(), device=device):
        x, y, w, h = face.box
        x0, y0 = max(0, int(x - MARGIN * w)), max(0, int(y - MARGIN * h))
        x1, y1 = int(np.ceil(x + (1 + MARGIN) * w)), int(np.ceil(y + (1 + MARGIN) * h))
        if region[y0:y1, x0:x1].any():
            return True
    return False
