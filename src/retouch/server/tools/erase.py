"""The Cleanup tool: erase what the mask covers (``retouch.tools.erase``)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from retouch.server.schemas import EngineInfo
from retouch.server.tools import ToolSpec
from retouch.types import Picture, ProgressCallback


class EraseOptions(BaseModel):
    engine: Literal["auto", "patch", "lama", "migan"] = Field(
        "auto", description="auto: the best installed network, else patch (built in, no weights)."
    )
    grow: int | None = Field(None, ge=0, le=500, description="Pixels to grow the mask by (default: by image size).")
    feather: float | None = Field(None, ge=0, le=500, description="Soft edge inside the grown mask, in pixels.")
    strategy: Literal["auto", "whole", "resize", "crop"] = Field("auto", description="How large photos are processed.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the patch engine's random search.")


def run(
    picture: Picture, mask: np.ndarray | None, options: BaseModel, device: str, progress: ProgressCallback
) -> Picture:
    from retouch.tools.erase import erase

    assert isinstance(options, EraseOptions) and mask is not None
    return erase(
        picture,
        mask,
        engine=options.engine,
        grow=options.grow,
        feather=options.feather,
        strategy=options.strategy,
        device=device,
        seed=options.seed,
        progress=progress,
    )


def engines() -> list[EngineInfo]:
    from retouch.tools.erase.engines import ENGINES, installed_model

    return [
        EngineInfo(name=name, available=name in ("auto", "patch") or installed_model(name) is not None)
        for name in ENGINES
    ]


SPEC = ToolSpec(
    name="erase",
    title="Cleanup",
    summary="Paint over an object, a person, text or a blemish: it disappears and the background fills in.",
    options=EraseOptions,
    run=run,
    uses_mask=True,
    engines=engines,
)
