"""The Restore tool: faces and old photos (``retouch.tools.restore``); works on the whole photo, no mask."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from retouch.server.schemas import EngineInfo
from retouch.server.tools import ToolSpec
from retouch.types import Picture, ProgressCallback

FACE_MODEL = "gfpgan-v1.4"
FACES = {"auto": None, "on": True, "off": False}


class RestoreOptions(BaseModel):
    faces: Literal["auto", "on", "off"] = Field(
        "auto",
        description=f"auto: restore faces when the face model is installed (else a warning: retouch models pull "
        f"{FACE_MODEL}); on: a missing face model is an error; off: leave faces alone.",
    )
    strength: float = Field(1.0, ge=0, le=1, description="How much of each restored face replaces the original.")
    scratches: bool = Field(False, description="Find scratches and dust and erase them (built-in patch engine).")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Scratch and dust sensitivity.")
    denoise: float = Field(0.3, ge=0, le=1, description="Noise removal strength (0: off).")
    colour: float = Field(0.5, ge=0, le=1, description="Colour-cast correction strength (0: off).")
    upscale: int = Field(1, ge=1, le=4, description="Enlarge the photo this many times.")
    detector: Literal["auto", "retinaface", "yunet"] = Field("auto", description="The face detector.")


def run(
    picture: Picture, mask: np.ndarray | None, options: BaseModel, device: str, progress: ProgressCallback
) -> Picture:
    from retouch.tools.restore import restore

    assert isinstance(options, RestoreOptions)
    return restore(
        picture,
        faces=FACES[options.faces],
        strength=options.strength,
        scratches=options.scratches,
        scratch_sensitivity=options.sensitivity,
        denoise=options.denoise,
        colour=options.colour,
        upscale=options.upscale,
        face_model=FACE_MODEL,
        detector=options.detector,
        device=device,
        progress=progress,
    )


def engines() -> list[EngineInfo]:
    """The models Restore can use and whether each is installed: the face network and the two detectors."""
    from retouch.models.weights import is_installed
    from retouch.tools.restore.faces.detect import DETECTOR_MODELS

    return [EngineInfo(name=name, available=is_installed(name)) for name in (FACE_MODEL, *DETECTOR_MODELS.values())]


SPEC = ToolSpec(
    name="restore",
    title="Restore",
    summary="Bring back old photos and faces: scratches and dust, noise, faded colour, blurry faces, small size.",
    options=RestoreOptions,
    run=run,
    uses_mask=False,
    engines=engines,
)
