"""The Remove background and Replace background tools (``retouch.tools.cutout``)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from retouch.errors import InvalidInput
from retouch.server.schemas import EngineInfo
from retouch.server.tools import ToolSpec
from retouch.types import Picture, ProgressCallback

MAX_BACKGROUND_BYTES = 12 * 1024 * 1024


class CutoutOptions(BaseModel):
    model: str = Field("auto", description="A cutout model; auto: the best installed permissive one.")
    crop: bool = Field(False, description="Crop to the subject.")
    margin: int = Field(0, ge=0, le=2000, description="With crop: pixels of margin around the subject.")
    mask_only: bool = Field(False, description="Return the matte alone (white = subject).")
    bg_color: str | None = Field(None, max_length=40, description="Put this colour behind the subject.")


class ReplaceOptions(BaseModel):
    background: Literal["color", "blur", "transparent", "image"] = Field("color", description="What goes behind.")
    color: str = Field("white", max_length=40, description="With background=color: the colour.")
    background_image: str | None = Field(
        None, description="With background=image: the image as a data URL (data:image/...;base64,...)."
    )
    fit: Literal["fill", "fit"] = Field("fill", description="How the background image covers the frame.")
    blur: float | None = Field(None, gt=0, le=500, description="With background=blur: Gaussian sigma in pixels.")
    harmonize: bool = Field(True, description="Match the subject's colour and light to the new background.")
    shadow: bool = Field(False, description="Add a soft contact shadow under the subject.")
    model: str = Field("auto", description="A cutout model; auto: the best installed permissive one.")


def _keep_alpha_format(picture: Picture) -> Picture:
    """A transparent result of a JPEG (or BMP) is downloaded as PNG: that format cannot carry alpha."""
    import dataclasses

    from retouch.io import format_named

    fmt = picture.metadata.source_format
    if picture.alpha is None or not fmt or format_named(fmt).alpha:
        return picture
    return picture.replace(metadata=dataclasses.replace(picture.metadata, source_format="PNG"))


def run_cutout(
    picture: Picture, mask: np.ndarray | None, options: BaseModel, device: str, progress: ProgressCallback
) -> Picture:
    from retouch.tools.cutout import cutout

    assert isinstance(options, CutoutOptions)
    result = cutout(
        picture,
        model=options.model,
        mask_only=options.mask_only,
        crop=options.margin if options.crop else None,
        background=options.bg_color or None,
        device=device,
        progress=progress,
    )
    return _keep_alpha_format(result)


def run_replace(
    picture: Picture, mask: np.ndarray | None, options: BaseModel, device: str, progress: ProgressCallback
) -> Picture:
    from retouch.tools.cutout.replace import replace_background

    assert isinstance(options, ReplaceOptions)
    if options.background == "image":
        target: str | Picture = _decode_background(options.background_image)
    elif options.background == "color":
        target = options.color
    else:
        target = options.background
    result = replace_background(
        picture,
        target,
        fit=options.fit,
        blur=options.blur,
        harmonize=options.harmonize,
        shadow=options.shadow,
        model=options.model,
        device=device,
        progress=progress,
    )
    return _keep_alpha_format(result)


def _decode_background(data_url: str | None) -> Picture:
    from retouch.io import load_image

    if not data_url:
        raise InvalidInput("background=image needs 'background_image': the background image as a data URL")
    _, _, payload = data_url.partition(",") if data_url.startswith("data:") else ("", "", data_url)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the background image is not valid base64 (expected a data: URL)") from None
    if len(raw) > MAX_BACKGROUND_BYTES:
        raise InvalidInput(f"the background image is larger than {MAX_BACKGROUND_BYTES // (1024 * 1024)} MB")
    return load_image(raw)


def engines() -> list[EngineInfo]:
    from retouch.tools.cutout.networks import cutout_models, installed_models

    installed = set(installed_models())
    auto = any(spec.permissive and spec.name in installed for spec in cutout_models())
    return [EngineInfo(name="auto", available=auto)] + [
        EngineInfo(name=spec.name, available=spec.name in installed) for spec in cutout_models()
    ]


SPEC = ToolSpec(
    name="cutout",
    title="Remove background",
    summary="Cut the subject out: transparent background, full-resolution edges, hair included.",
    options=CutoutOptions,
    run=run_cutout,
    uses_mask=False,
    engines=engines,
)

REPLACE_SPEC = ToolSpec(
    name="replace-bg",
    title="Replace background",
    summary="Put the subject on a colour, another photo, a blurred copy of its background, or transparency.",
    options=ReplaceOptions,
    run=run_replace,
    uses_mask=False,
    engines=engines,
)
