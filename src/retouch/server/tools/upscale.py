"""The Upscale tool: enlarge the whole photo with a super-resolution network (``retouch.tools.upscale``)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from retouch.server.schemas import EngineInfo
from retouch.server.tools import ToolSpec
from retouch.tools.upscale.networks import DEFAULT_MODEL
from retouch.types import Picture, ProgressCallback


class UpscaleOptions(BaseModel):
    scale: float | None = Field(None, ge=1, le=16, description="Enlargement factor (default: the model's, 4 for most).")
    model: str = Field(DEFAULT_MODEL, description="An upscaling model of the registry (see the tool's engines).")
    denoise: float | None = Field(
        None, ge=0, le=1, description="realesr-general-x4v3 only: 0 keeps the noise, 1 removes most (default 0.5)."
    )


def run(
    picture: Picture, mask: np.ndarray | None, options: BaseModel, device: str, progress: ProgressCallback
) -> Picture:
    from retouch.tools.upscale import upscale

    assert isinstance(options, UpscaleOptions)
    return upscale(
        picture, scale=options.scale, model=options.model, device=device, progress=progress, denoise=options.denoise
    )


def engines() -> list[EngineInfo]:
    """Every upscaling model of the registry, and whether its weights are on this machine."""
    from retouch.models.registry import list_models
    from retouch.models.weights import is_installed

    return [EngineInfo(name=spec.name, available=is_installed(spec)) for spec in list_models("upscale")]


SPEC = ToolSpec(
    name="upscale",
    title="Upscale",
    summary="Enlarge the photo 2, 3 or 4 times (or any factor up to 16) with a super-resolution network.",
    options=UpscaleOptions,
    run=run,
    uses_mask=False,
    engines=engines,
)
