"""The Remove text tool: find every line of text and erase its letters (``retouch.tools.detext``)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.server.tools.erase import engines
from retouch.tools.options.detext import OPTIONS
from retouch.types import Picture, ProgressCallback

DetextOptions = form_model("DetextOptions", OPTIONS)


def run(
    picture: Picture,
    _mask: np.ndarray | None,  # the tool finds its own mask
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    _max_pixels: int,  # the output keeps the picture's size and no other image is read
) -> Picture:
    from retouch.tools.detext import detext

    return detext(picture, **tool_arguments(OPTIONS, options), device=device, progress=progress)


SPEC = ToolSpec(
    name="detext",
    title="Remove text",
    summary="Find every line of text and every watermark and erase the letters; `keep` spares matching text.",
    options=DetextOptions,
    run=run,
    uses_mask=False,
    engines=engines,
    fields=OPTIONS,
)
