"""The Upscale tool: enlarge the whole photo with a super-resolution network (``retouch.tools.upscale``)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.upscale import DENOISE, MODEL, SCALE
from retouch.types import Picture, ProgressCallback

OPTIONS = (SCALE, MODEL, DENOISE)  # tile and precision are the server's to choose
UpscaleOptions = form_model("UpscaleOptions", OPTIONS)


def run(
    picture: Picture,
    mask: np.ndarray | None,
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    max_pixels: int,
) -> Picture:
    from retouch.server.imaging import server_limit
    from retouch.tools.upscale import upscale

    with server_limit():  # the output is held to the server's --max-megapixels, checked before any work
        arguments = tool_arguments(OPTIONS, options)
        return upscale(picture, **arguments, device=device, progress=progress, max_pixels=max_pixels)


def engines() -> dict[str, bool]:
    """"auto" first (the default: it always has x4plus or a compact model to pick), then every model."""
    from retouch.tools.options.upscale import AUTO_MODEL
    from retouch.tools.upscale import available_models

    return {AUTO_MODEL: True, **available_models()}


SPEC = ToolSpec(
    name="upscale",
    title="Upscale",
    summary="Enlarge the photo 2, 3 or 4 times (or any factor up to 16) with a super-resolution network.",
    options=UpscaleOptions,
    run=run,
    uses_mask=False,
    engines=engines,
    fields=OPTIONS,
)
