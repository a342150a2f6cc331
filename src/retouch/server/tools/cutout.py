"""The Remove background and Replace background tools (``retouch.tools.cutout``)."""

from __future__ import annotations

import base64
import binascii

import numpy as np
from pydantic import BaseModel

from retouch.errors import InvalidInput
from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.cutout import (
    BACKGROUND,
    BACKGROUND_IMAGE,
    BG_COLOR,
    BLUR,
    COLOR,
    CROP,
    DIFFUSION_MODEL,
    FIT,
    HARMONIZE,
    MARGIN,
    MASK_ONLY,
    MODEL,
    PROMPT,
    PROMPT_SEED,
    SHADOW,
)
from retouch.types import Picture, ProgressCallback

MAX_BACKGROUND_BYTES = 12 * 1024 * 1024
CUTOUT_OPTIONS = (MODEL, CROP, MARGIN, MASK_ONLY, BG_COLOR)  # the server always refines the matte
REPLACE_OPTIONS = (
    BACKGROUND, COLOR, BACKGROUND_IMAGE, PROMPT, PROMPT_SEED, DIFFUSION_MODEL, FIT, BLUR, HARMONIZE, SHADOW, MODEL
)
PROMPT_ARGUMENTS = ("prompt", "seed", "diffusion_model")  # replace_background's keywords of background=prompt
CutoutOptions = form_model("CutoutOptions", CUTOUT_OPTIONS)
ReplaceOptions = form_model("ReplaceOptions", REPLACE_OPTIONS)


def _keep_alpha_format(picture: Picture) -> Picture:
    """A transparent result of a JPEG (or BMP) is downloaded as PNG: that format cannot carry alpha."""
    import dataclasses

    from retouch.io import format_named

    fmt = picture.metadata.source_format
    if picture.alpha is None or not fmt or format_named(fmt).alpha:
        return picture
    return picture.replace(metadata=dataclasses.replace(picture.metadata, source_format="PNG"))


def run_cutout(
    picture: Picture,
    mask: np.ndarray | None,  # the subject selected by clicks, or None: the network's subject
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    _max_pixels: int,  # the output keeps the picture's size and no other image is read
) -> Picture:
    from retouch.tools.cutout import cutout

    arguments = tool_arguments(CUTOUT_OPTIONS, options)
    margin = arguments.pop("margin")  # the form's crop switch and margin are the tool's one crop margin
    arguments["crop"] = margin if arguments["crop"] else None
    arguments["background"] = arguments["background"] or None  # an empty colour field: nothing behind
    return _keep_alpha_format(cutout(picture, **arguments, subject=mask, device=device, progress=progress))


def run_replace(
    picture: Picture,
    mask: np.ndarray | None,
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    max_pixels: int,
) -> Picture:
    from retouch.tools.cutout import replace_background

    arguments = tool_arguments(REPLACE_OPTIONS, options)
    kind, colour, image = arguments.pop("background"), arguments.pop("color"), arguments.pop("background_image")
    made = {name: arguments.pop(name) for name in PROMPT_ARGUMENTS}
    if kind == "prompt":
        if not (made["prompt"] or "").strip():
            raise InvalidInput("background=prompt needs 'prompt': what the new background shows")
        arguments.update(made)
        target = None
    else:
        target = _decode_background(image, max_pixels) if kind == "image" else colour if kind == "color" else kind
    return _keep_alpha_format(replace_background(picture, target, **arguments, device=device, progress=progress))


def _decode_background(data_url: str | None, max_pixels: int) -> Picture:
    from retouch.io import load_image
    from retouch.server.imaging import server_limit

    if not data_url:
        raise InvalidInput("background=image needs 'background_image': the background image as a data URL")
    _, _, payload = data_url.partition(",") if data_url.startswith("data:") else ("", "", data_url)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the background image is not valid base64 (expected a data: URL)") from None
    if len(raw) > MAX_BACKGROUND_BYTES:
        raise InvalidInput(f"the background image is larger than {MAX_BACKGROUND_BYTES // (1024 * 1024)} MB")
    with server_limit():  # the same pixel limit as uploads, checked on the header before decoding
        try:
            return load_image(raw, max_pixels=max_pixels)
        except InvalidInput as error:  # name it as the user knows it, not as "the image data"
            raise type(error)(str(error).replace("the image data", "the background image", 1)) from None


def engines() -> dict[str, bool]:
    from retouch.tools.cutout import available_models

    return available_models()


SPEC = ToolSpec(
    name="cutout",
    title="Remove background",
    summary="Cut the subject out: transparent background, full-resolution edges, hair included.",
    options=CutoutOptions,
    run=run_cutout,
    uses_mask=False,
    takes_clicks=True,
    click_model=lambda options: options.model,  # the panel's network selects, as `retouch cutout --click --model`
    engines=engines,
    fields=CUTOUT_OPTIONS,
)

REPLACE_SPEC = ToolSpec(
    name="replace-bg",
    title="Replace background",
    summary="Put the subject on a colour, another photo, a blurred copy of its background, a background made from "
    "a prompt, or transparency.",
    options=ReplaceOptions,
    run=run_replace,
    uses_mask=False,
    engines=engines,
    fields=REPLACE_OPTIONS,
)
