"""Erase: remove what the user painted; every pixel outside the grown mask stays exactly as it was.

validate > grow the mask > pick and load the engine (with a prompt: the prompt through the refusal lists, then a
diffusion model, ``retouch.tools.generate.fill``) > fill each crop (HD strategy) > composite inside the grown
mask with a feathered edge, writing only the pixels whose weight is above zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from retouch import masks
from retouch.errors import BackendUnavailable, InvalidInput
from retouch.ops.composite import blend_inside, write_where
from retouch.tools.erase.engines import InpaintEngine, installed_model, load_engine
from retouch.tools.erase.hd import fill_boxes
from retouch.tools.options import check_options
from retouch.tools.options.erase import ENGINES, FEATHER, GROW, SEED
from retouch.types import Picture, ProgressCallback, Rect, no_progress

if TYPE_CHECKING:
    from retouch.tools.generate.fill import PromptFill


__all__ = ["available_engines", "default_grow", "erase"]


def available_engines() -> dict[str, bool]:
    """Every engine name and whether it can run here: "auto" and "patch" always can, a network needs its weights."""
    return {name: name in ("auto", "patch") or installed_model(name) is not None for name in ENGINES}


def default_grow(width: int, height: int) -> int:
    """A few pixels, more on big photos: enough to take in an object's halo and the edge of its shadow."""
    return max(3, round(max(width, height) / 500))


def erase(
    picture: Picture,
    mask: np.ndarray,
    *,
    engine: str = "auto",
    grow: int | None = None,
    feather: float | None = None,
    strategy: str = "auto",
    device: str = "auto",
    seed: int = 0,
    prompt: str | None = None,
    model: str = "auto",
    steps: int | None = None,
    progress: ProgressCallback = no_progress,
) -> Picture:
    """Erase the masked pixels of ``picture`` and fill them with what plausibly lies behind, or, with ``prompt``,
    with what the prompt describes (generative fill).

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. mask: HxW, the picture's size,
    True (or nonzero) = erase; at least one pixel set. engine: "auto" (the best installed network, else "patch"),
    "patch" (built in, no weights), "lama" or "migan". grow: pixels >= 0 added around the mask (default:
    ``default_grow``, a few by image size). feather: width in pixels >= 0 of the soft edge inside the grown mask
    (default: half the grow; 0: a hard edge). strategy: the HD strategy, "auto", "whole", "resize" or "crop" (see
    ``hd``). device: "auto", "cpu" or "cuda". seed: the patch engine's random seed (equal inputs and seed give
    equal output). progress: called with (stage, done, total).
    prompt: what to put in the region instead, made by a diffusion model (the optional ``gen`` extra and a pulled
    generative model; ``model`` by name, or "auto": the first installed) through the same crops and compositing,
    each crop scaled to the model's working size and back; ``steps`` (1 to 50, default the model's) and ``seed``
    are the model's. engine must then be "auto". The prompt is refused like ``generate``'s, and by the stricter
    list when a person's face is inside the grown mask.
    Returns a new Picture of the same size, bit depth and layout: pixels outside the grown mask are the input's
    exactly, alpha (when present) is continued into the hole; "erase (engine=...)" is recorded for the provenance
    XMP (with a prompt "erase (engine=model, model=NAME, ...)": compositeWithTrainedAlgorithmicMedia).
    Raises InvalidInput (a mask of another size, an empty mask, one that covers the whole picture once grown,
    grow, feather or seed out of range, an unknown engine, strategy or device), WeightsMissing (a network engine
    whose weights are not installed; it names the pull command) or BackendUnavailable (a device that is not
    there, or a GPU asked of the patch engine, which runs on the CPU). With a prompt: PromptRefused (an
    InvalidInput) for a refused prompt, InvalidInput for an engine other than auto, BackendUnavailable without the
    extra (naming the pip command), WeightsMissing without a generative model (naming the pull command).
    """
    from retouch.models.runtime import check_device, requests_gpu

    check_options(((GROW, grow), (FEATHER, feather), (SEED, seed)))
    check_device(device)
    hole = _checked_mask(picture, mask)
    grow_px = default_grow(picture.width, picture.height) if grow is None else grow
    grown = masks.grow(hole, grow_px)
    if grown.all():
        raise InvalidInput(_covers_all(hole, grow_px))
    feather_px = grow_px / 2 if feather is None else feather
    if prompt is None and (model != "auto" or steps is not None):
        raise InvalidInput("a diffusion model and its steps fill from a prompt: give the prompt too")
    if prompt is None:
        filler: InpaintEngine = load_engine(engine, device=device, seed=seed)
        label = f"engine={filler.name}"
    else:
        filler = _prompt_engine(picture, grown, prompt, engine, model, steps, seed, device)
        label = f"engine=model, model={filler.diffusion.name}, steps={filler.steps}, seed={seed}"
    if filler.name == "patch" and requests_gpu(device):
        raise BackendUnavailable(
            f"the patch engine runs on the CPU only, and device '{device}' was asked for; use --device auto or "
            "cpu, or a network engine (lama, migan) on the GPU"
        )

    pixels = picture.pixels.copy()
    alpha = None if picture.alpha is None else picture.alpha.copy()
    scale = np.float32(picture.max_value)

    def read_crop(box: Rect) -> np.ndarray:
        crop = np.divide(picture.pixels[box.slices], scale, dtype=np.float32)
        return np.repeat(crop, 3, axis=2) if picture.is_grey else crop

    for box, fill in fill_boxes(read_crop, grown, filler, strategy, progress):
        weight = masks.feather(grown[box.slices], feather_px) if feather_px > 0 else grown[box.slices] * 1.0
        # Composite only where the weight is above zero: the crop around the grown mask, not the engine's whole
        # context box (a ninth of it for one painted region), since nothing outside it changes.
        inside = masks.bounding_slices(weight > 0)
        if inside is not None:
            weight, fill = weight[inside], fill[inside]
            original = np.divide(picture.pixels[box.slices][inside], scale, dtype=np.float32)
            if picture.is_grey:
                fill = fill.mean(axis=2, keepdims=True)
            blended = picture.quantize(blend_inside(original, fill, weight.astype(np.float32)))
            write_where(pixels[box.slices][inside], blended, weight > 0)
        if alpha is not None:
            _fill_alpha(alpha[box.slices], grown[box.slices], picture.max_value)

    return picture.replace(pixels=pixels, alpha=alpha).with_operation(f"erase ({label})")


def _prompt_engine(
    picture: Picture,
    grown: np.ndarray,
    prompt: str,
    engine: str,
    model: str,
    steps: int | None,
    seed: int,
    device: str,
) -> PromptFill:
    """The diffusion engine of a prompt, once the prompt passed the refusal lists (checked before the model is
    looked for: a refused prompt is refused whatever is installed)."""
    from retouch.tools.generate.backend import load_model, resolve_model
    from retouch.tools.generate.fill import PromptFill, check_region_prompt, checked_prompt

    if engine != "auto":
        raise InvalidInput(
            f"a prompt is filled by a diffusion model: the {engine} engine cannot take one (leave the engine at "
            "auto, or erase without a prompt)"
        )
    text = checked_prompt(prompt, model, steps, seed)
    check_region_prompt(text, picture, grown, device=device)
    diffusion = load_model(resolve_model(model), device=device)
    return PromptFill(diffusion, text, diffusion.default_steps if steps is None else steps, seed)


def _checked_mask(picture: Picture, mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != (picture.height, picture.width):
        raise InvalidInput(
            f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {picture.width}x{picture.height}"
        )
    mask = mask.astype(bool, copy=False)
    if masks.is_empty(mask):
        raise InvalidInput("the mask is empty: paint or give a box over what to erase")
    return mask


def _covers_all(hole: np.ndarray, grow_px: int) -> str:
    """Why a mask that covers the whole picture is refused: nothing would be left to fill it from."""
    if hole.all():
        return "the mask covers the whole image: nothing is left to fill it from; paint only what to remove"
    return (
        f"grown by {grow_px} pixels, the mask covers the whole image: nothing is left to fill it from; use a "
        "smaller grow or paint less"
    )


def _fill_alpha(alpha: np.ndarray, hole: np.ndarray, max_value: int) -> None:
    """Continue the transparency smoothly into the hole (in place), so an erased object leaves no alpha trace.

    Works on 8-bit levels: OpenCV's float inpainting is unreliable, and invented alpha needs no 16-bit precision.
    """
    import cv2

    level = (alpha.astype(np.float32) * (255.0 / max_value) + 0.5).astype(np.uint8)
    filled = cv2.inpaint(level, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA).astype(np.float32)
    alpha[hole] = (filled[hole] * (max_value / 255.0) + 0.5).astype(alpha.dtype)
