"""The Restore tool: faces and old photos (``retouch.tools.restore``); works on the whole photo, no mask."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.restore import COLOUR, DENOISE, DETECTOR, FACES, SCRATCHES, SENSITIVITY, STRENGTH, UPSCALE
from retouch.types import Picture, ProgressCallback

OPTIONS = (FACES, STRENGTH, SCRATCHES, SENSITIVITY, DENOISE, COLOUR, UPSCALE, DETECTOR)  # the default face model
RestoreOptions = form_model("RestoreOptions", OPTIONS)


def run(
    picture: Picture,
    mask: np.ndarray | None,
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    _max_pixels: int,  # the output keeps the picture's size and no other image is read
) -> Picture:
    from retouch.tools.restore import restore

    return restore(picture, **tool_arguments(OPTIONS, options), device=device, progress=progress)


def engines() -> dict[str, bool]:
    """The models Restore can use and whether each is installed: the face network and the two detectors."""
    from retouch.tools.restore import available_models

    return available_models()


SPEC = ToolSpec(
    name="restore",
    title="Restore",
    summary="Bring back old photos and faces: scratches and dust, noise, faded colour, blurry faces, small size.",
    options=RestoreOptions,
    run=run,
    uses_mask=False,
    engines=engines,
    fields=OPTIONS,
)
