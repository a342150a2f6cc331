"""How each task's networks encode their inputs and outputs: one typed, frozen class per task.

A registry row carries the instance of its task's class (``ModelSpec.conventions``); every field is read by the
code that runs the model. What a network needs of its input's size (a multiple of N, a minimum, a square) is not a
convention of the row but of the network: see ``retouch.models.descriptor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class EraseConventions:
    """An inpainting network (read by ``tools.erase``).

    max_side: the longest side the network should see; the HD strategy shrinks larger crops to it and enlarges
    the fill back. None: any size.
    """

    max_side: int | None = None


@dataclass(frozen=True)
class CutoutConventions:
    """A segmentation network with a fixed input size (read by ``tools.cutout.segment``).

    The RGB image in [0, 1] is resized to ``input_size`` (width, height; aspect ratio not kept), enlarged with
    ``resize`` (shrinking always averages areas), divided by its largest sample when ``scale_to_max`` (as rembg
    does), then normalized per channel: ``(x - mean) / std``. The matte is output ``output_index``, logits when
    ``activation`` is "sigmoid", probabilities when "none"; ``stretch`` maps it to its own min..max (the U^2-Net
    authors' normPRED, which rembg applies to every model).
    """

    input_size: tuple[int, int]
    resize: Literal["bilinear", "lanczos"]
    scale_to_max: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output_index: int
    activation: Literal["none", "sigmoid"]
    stretch: bool


@dataclass(frozen=True)
class UpscaleConventions:
    """A super-resolution network (read by ``tools.upscale.networks``).

    scale: the row's nominal factor (the default of ``upscale(scale=...)``); with an ncnn export whose graph ends
    with a resize it is the network's factor times that resize. denoise_default: for a row whose two files are
    mixed (Real-ESRGAN's deep network interpolation: ``s * files[0] + (1 - s) * files[1]``), the default strength
    s in [0, 1]; None for rows that do not mix.
    """

    scale: float
    denoise_default: float | None = None


@dataclass(frozen=True)
class FaceRestoreConventions:
    """A face restoration network (read by ``tools.restore.faces.restore``).

    value_range: (low, high) the network sees [0, 1] crops mapped to, and clamps its output to before mapping back.
    """

    value_range: tuple[float, float] = (-1.0, 1.0)


@dataclass(frozen=True)
class FaceDetectConventions:
    """A face detector on BGR samples in 0..255 (read by ``tools.restore.faces.detect``).

    mean_bgr: subtracted from each pixel before the network sees it.
    """

    mean_bgr: tuple[float, float, float] = (0.0, 0.0, 0.0)


Conventions = EraseConventions | CutoutConventions | UpscaleConventions | FaceRestoreConventions | FaceDetectConventions

# The conventions class of each task that has one; rows of other tasks carry none.
TASK_CONVENTIONS: dict[str, type[Conventions]] = {
    "erase": EraseConventions,
    "cutout": CutoutConventions,
    "upscale": UpscaleConventions,
    "face-restore": FaceRestoreConventions,
    "face-detect": FaceDetectConventions,
}
