"""The Cleanup tool: erase what the mask covers (``retouch.tools.erase``)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.erase import OPTIONS, PROMPT
from retouch.tools.options.generate import MODEL, STEPS
from retouch.types import Picture, ProgressCallback

FIELDS = (*OPTIONS, PROMPT, MODEL, STEPS)  # the prompt and the diffusion model's options: a generative fill
EraseOptions = form_model("EraseOptions", FIELDS)


def run(
    picture: Picture,
    mask: np.ndarray | None,
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    _max_pixels: int,  # the output keeps the picture's size and no other image is read
) -> Picture:
    from retouch.tools.erase import erase

    assert mask is not None
    arguments = tool_arguments(FIELDS, options)
    if not (arguments["prompt"] or "").strip():  # an empty description: the usual erase
        arguments["prompt"] = None
    return erase(picture, mask, **arguments, device=device, progress=progress)


def engines() -> dict[str, bool]:
    from retouch.tools.erase import available_engines

    return available_engines()


SPEC = ToolSpec(
    name="erase",
    title="Cleanup",
    summary="Paint over an object, a person, text or a blemish: it disappears and the background fills in.",
    options=EraseOptions,
    run=run,
    uses_mask=True,
    takes_clicks=True,
    engines=engines,
    fields=FIELDS,
)
