"""The Relight tool: add coloured lights to the photo (``retouch.tools.relight``)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, field_validator

from retouch.errors import InvalidInput
from retouch.server.options import form_model, tool_arguments
from retouch.server.tools import ToolSpec
from retouch.tools.options.relight import RELIGHT_OPTIONS
from retouch.types import Picture, ProgressCallback


class RelightOptions(form_model("RelightFields", RELIGHT_OPTIONS)):  # type: ignore[misc]
    """The form fields; bad light specs are refused on arrival (422), before a job is queued."""

    @field_validator("lights")
    @classmethod
    def _parse(cls, value: str | None) -> str | None:
        from retouch.tools.relight.lights import parse_lights

        try:
            parse_lights(value)
        except InvalidInput as error:
            raise ValueError(str(error)) from None
        return value


def run(
    picture: Picture,
    mask: np.ndarray | None,  # the subject selected by clicks, or None: the tool finds it
    options: BaseModel,
    device: str,
    progress: ProgressCallback,
    _max_pixels: int,  # the output keeps the picture's size and no other image is read
) -> Picture:
    from retouch.tools.relight import relight

    arguments = tool_arguments(RELIGHT_OPTIONS, options)
    return relight(picture, **arguments, matte=mask, device=device, progress=progress)


def subject_model(model: str) -> str | None:
    """The segmenter a click selects the subject with: the panel's subject model ("none" lights the frame flat,
    so its clicks use retouch.select's default), as ``retouch relight --click --model`` does."""
    from retouch.tools.options.relight import NO_MODEL

    return None if model == NO_MODEL else model


def engines() -> dict[str, bool]:
    """The subject models: "auto" is always usable (without a cutout model the photo is lit flat), "none" too."""
    from retouch.tools.cutout import available_models
    from retouch.tools.options.relight import NO_MODEL

    models = available_models()
    return {"auto": True, NO_MODEL: True, **{name: ok for name, ok in models.items() if name != "auto"}}


SPEC = ToolSpec(
    name="relight",
    title="Relight",
    summary="Add coloured point, directional, spot and rim lights; the subject is inflated into a 3D shape.",
    options=RelightOptions,
    run=run,
    uses_mask=False,
    engines=engines,
    fields=RELIGHT_OPTIONS,
    takes_clicks=True,
    click_model=lambda options: subject_model(options.model),
)
