"""The tools the server offers: each is a row here and one module beside it; ``routers.tools`` turns every row
into one endpoint, and the web app gives each one panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from retouch.tools.options import Option
from retouch.types import Picture, ProgressCallback

# (picture, mask or None, validated options, device, progress, the server's pixel limit for side inputs such as
# a background image and for outputs) -> the edited picture
ToolRun = Callable[[Picture, np.ndarray | None, BaseModel, str, ProgressCallback, int], Picture]


@dataclass(frozen=True)
class ToolSpec:
    name: str  # the endpoint is POST /api/<name>; also the job's label
    title: str  # the panel's title in the web app
    summary: str
    options: type[BaseModel]  # form fields of the endpoint, validated (422 on bad values)
    run: ToolRun
    uses_mask: bool = True
    engines: Callable[[], dict[str, bool]] = field(default=dict)  # engine or model name -> usable here
    fields: tuple[Option, ...] = ()  # what ``options`` was made from: labels and choices for the web app
    # clicks select an object (retouch.select): added to the mask, or passed as ``mask`` (the subject) when
    # the tool takes no mask
    takes_clicks: bool = False
    # the segmenter those clicks select with, read from the tool's options (None: retouch.select's default)
    click_model: Callable[[BaseModel], str | None] | None = None


def all_tools() -> list[ToolSpec]:
    from retouch.server.tools import cutout, detext, erase, relight, restore, uncrop, upscale

    return [
        erase.SPEC, detext.SPEC, restore.SPEC, cutout.SPEC, cutout.REPLACE_SPEC, upscale.SPEC, relight.SPEC, uncrop.SPEC
    ]
