"""The Uncrop tool: extend the photo beyond its frame (``retouch.tools.uncrop``); works on the whole photo, no
mask. Without a diffusion model, "auto" extends with the built-in patch engine (GET /api/generative says what
gets a model)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retouch.errors import TooLarge
from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.generate import FRAME, MODEL, PROMPT, SEED, SIDES, STEPS, UNCROP_ENGINE
from retouch.types import Picture, ProgressCallback

OPTIONS = (FRAME, *SIDES, UNCROP_ENGINE, PROMPT, SEED, STEPS, MODEL)
UncropOptions = form_model("UncropOptions", OPTIONS)


def run(
    picture: Picture,
    mask: np.ndarray | None,
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    max_pixels: int,
) -> Picture:
    from retouch.tools.uncrop import border_for, uncrop

    arguments = tool_arguments(OPTIONS, options)
    sides = {option.name: arguments[option.name] for option in SIDES}
    border = border_for(picture.width, picture.height, to=arguments["to"], **sides)
    width, height = picture.width + border.left + border.right, picture.height + border.top + border.bottom
    if width * height > max_pixels:  # refused before any work, like an upload over the limit
        raise TooLarge(f"the extended photo would be {width}x{height}, over this server's {max_pixels} pixels")
    return uncrop(picture, **arguments, device=device, progress=progress)


def engines() -> dict[str, bool]:
    """auto and patch always; model when the extra and a generative model are installed."""
    from retouch.tools.uncrop import missing_for_model

    return {"auto": True, "patch": True, "model": missing_for_model() is None}


SPEC = ToolSpec(
    name="uncrop",
    title="Uncrop",
    summary="Extend the photo beyond its frame; its own pixels stay exactly as they were.",
    options=UncropOptions,
    run=run,
    uses_mask=False,
    engines=engines,
    fields=OPTIONS,
)
