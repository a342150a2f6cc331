"""Uncrop: extend a photo beyond its frame; every original pixel stays bit-identical (value-identical at 16 bits).

validate > place the photo on the larger canvas > fill the new border: with a diffusion model (its inpainting
pass at a working resolution near the model's own, scaled back up) or with the built-in patch engine (the erase
tool's, the border as the hole and the photo as the source) > paste the photo back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.options import check_options
from retouch.tools.options.generate import EXTEND, SEED, STEPS, UNCROP_ENGINE
from retouch.types import Picture, ProgressCallback, no_progress

__all__ = ["Border", "border_for", "missing_for_model", "uncrop"]

EDGE_PX = 3  # the photo's outermost pixels the fill does not copy from (a scan's dark line, a JPEG's edge blocks)
SEAM_PX = 8  # a model's fill is blended over this many border pixels next to the photo (never over the photo)
DEFAULT_PROMPT = "a photograph, natural continuation of the scene"


@dataclass(frozen=True)
class Border:
    """Pixels added on each side."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def any(self) -> bool:
        return any((self.left, self.right, self.top, self.bottom))


def border_for(
    width: int,
    height: int,
    *,
    to: str | None = None,
    left: int = 0,
    right: int = 0,
    top: int = 0,
    bottom: int = 0,
) -> Border:
    """The border that extends a ``width`` x ``height`` photo: ``to`` an aspect ratio "16:9" (the short way grown,
    split evenly) or a size "WxH" (at least the photo's, centred), or the pixels per side. Not both."""
    sides = (left, right, top, bottom)
    for name, value in zip(("left", "right", "top", "bottom"), sides, strict=True):
        fault = EXTEND.fault(value)
        if fault is not None:
            raise InvalidInput(f"{name} {fault}")
    if to is None:
        border = Border(*sides)
    elif any(sides):
        raise InvalidInput("give --to or the pixels per side (--left, --right, --top, --bottom), not both")
    else:
        new_w, new_h = _target(width, height, to)
        wide, tall = new_w - width, new_h - height
        border = Border(wide // 2, (wide + 1) // 2, tall // 2, (tall + 1) // 2)
    if not border.any():
        raise InvalidInput("the photo already has that frame: nothing to extend (give a wider ratio or more pixels)")
    return border


def _target(width: int, height: int, to: str) -> tuple[int, int]:
    text = to.strip().lower()
    if ":" in text:
        parts = text.split(":")
        try:
            ratio = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float("nan")
        except (ValueError, ZeroDivisionError):
            ratio = float("nan")
        if not (np.isfinite(ratio) and 0.05 <= ratio <= 20):
            raise InvalidInput(f"an aspect ratio is W:H with both positive, e.g. 16:9; got {to!r}")
        if width / height < ratio:
            return round(height * ratio), height
        return width, round(width / ratio)
    from retouch.tools.generate import parse_size

    new_w, new_h = parse_size(text)
    if new_w < width or new_h < height:
        raise InvalidInput(f"--to {to} is smaller than the photo ({width}x{height}); uncrop only extends")
    return new_w, new_h


def uncrop(
    picture: Picture,
    *,
    to: str | None = None,
    left: int = 0,
    right: int = 0,
    top: int = 0,
    bottom: int = 0,
    engine: str = "auto",
    prompt: str | None = None,
    model: str = "auto",
    steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Picture:
    """``picture`` on a larger canvas, the new border filled.

    to: the new frame, an aspect ratio "16:9" (the short way grown, split evenly) or a size "WxH" (at least the
    picture's, centred); or left, right, top, bottom: the pixels to add on each side (0 to 20000). Not both.

    engine: "model" (a diffusion model: ``model`` by name or "auto", the first installed), "patch" (built in:
    extends the photo's own textures, skies, walls, grass; no weights) or "auto" (a model when the ``gen`` extra
    and a generative model are installed, else patch). prompt: what the border should show, for a model (default:
    a neutral continuation); refused like ``generate``'s. steps, seed: the model's steps (1 to 50) and the seed
    of either engine (equal inputs and seed give equal output). progress: ("patch" | "generate", done, total); it
    may raise to stop the work.
    Returns a new Picture of the larger size, same bit depth and layout, whose pixels at the photo's place equal
    the input's exactly; alpha, when present, is opaque in the border. The operation "uncrop (engine=...)" is
    recorded: a model's fill marks the output compositeWithTrainedAlgorithmicMedia.
    """
    from retouch.models.runtime import check_device

    check_options(((UNCROP_ENGINE, engine), (SEED, seed), (STEPS, steps)))
    check_device(device)
    border = border_for(picture.width, picture.height, to=to, left=left, right=right, top=top, bottom=bottom)
    if prompt is not None:
        from retouch.tools.generate.refusals import check_prompt

        check_prompt(prompt)
    canvas, hole = _canvas(picture, border)
    filler = _engine(engine, model)
    if filler is None:
        from retouch.tools.erase.patch import inpaint_patch

        filled = inpaint_patch(canvas, _without_edge(hole, border, EDGE_PX), seed=seed, progress=progress)
        operation = "uncrop (engine=patch)"
    else:
        filled = _model_fill(filler, canvas, hole, prompt or DEFAULT_PROMPT, steps, seed, device, progress)
        operation = f"uncrop (engine=model, model={filler})"
    return _result(picture, border, filled).with_operation(operation)


def _engine(engine: str, model: str) -> str | None:
    """The diffusion model's name to run, or None for the patch engine."""
    from retouch.tools.generate.backend import extra_installed, resolve_model

    if engine == "patch":
        return None
    if engine == "model":
        return resolve_model(model).name
    if model != "auto":  # a model named with engine auto: the user asked for that one
        return resolve_model(model).name
    if not extra_installed():
        return None
    from retouch.models.weights import is_installed
    from retouch.tools.generate.backend import generative_models

    return next((spec.name for spec in generative_models() if is_installed(spec)), None)


def missing_for_model() -> str | None:
    """What to install for uncrop's "auto" to use a diffusion model, or None when it does (what the CLI tells)."""
    from retouch.tools.generate.backend import INSTALL_EXTRA, extra_installed

    if not extra_installed():
        return INSTALL_EXTRA
    if _engine("auto", "auto") is None:
        return "a generative model (retouch models list --task generate)"
    return None


def _canvas(picture: Picture, border: Border) -> tuple[np.ndarray, np.ndarray]:
    """The photo as float RGB on the larger canvas (the border edge-replicated: a start the engines overwrite),
    and the border as the hole."""
    rgb = picture.rgb_float()
    widths = ((border.top, border.bottom), (border.left, border.right), (0, 0))
    canvas = np.pad(rgb, widths, mode="edge")
    hole = np.ones(canvas.shape[:2], dtype=bool)
    hole[border.top : border.top + picture.height, border.left : border.left + picture.width] = False
    return canvas, hole


def _without_edge(hole: np.ndarray, border: Border, width: int) -> np.ndarray:
    """The hole grown ``width`` pixels into the photo on the sides that are extended: the fill then continues the
    photo's texture rather than its last rows (the photo's own pixels are pasted back afterwards)."""
    grown = hole.copy()
    height, full_width = hole.shape
    bottom, right = height - border.bottom, full_width - border.right
    if border.top:
        grown[border.top : border.top + width] = True
    if border.bottom:
        grown[max(0, bottom - width) : bottom] = True
    if border.left:
        grown[:, border.left : border.left + width] = True
    if border.right:
        grown[:, max(0, right - width) : right] = True
    return grown


def _model_fill(
    name: str,
    canvas: np.ndarray,
    hole: np.ndarray,
    prompt: str,
    steps: int | None,
    seed: int,
    device: str,
    progress: ProgressCallback,
) -> np.ndarray:
    """The canvas with the border made by the model at a working size near its native one (sides multiples of 8),
    scaled back to the canvas, blended into the border over SEAM_PX next to the photo."""
    import cv2

    from retouch.models.registry import get_spec
    from retouch.tools.generate.backend import load_model

    diffusion = load_model(get_spec(name), device=device)
    height, width = hole.shape
    scale = diffusion.native_size / max(width, height)
    work_w, work_h = (max(64, round(side * scale / 8) * 8) for side in (width, height))
    small = cv2.resize(canvas, (work_w, work_h), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.uint8), (work_w, work_h), interpolation=cv2.INTER_NEAREST) > 0
    count = diffusion.default_steps if steps is None else steps
    made = diffusion.inpaint(small, small_hole, prompt, steps=count, seed=seed, progress=progress)
    made = cv2.resize(made, (width, height), interpolation=cv2.INTER_CUBIC)
    # weight 1 from SEAM_PX pixels into the border, rising from 0 at the photo's edge
    distance = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    weight = np.clip(distance / SEAM_PX, 0.0, 1.0)[:, :, None].astype(np.float32)
    return np.clip(canvas * (1 - weight) + made * weight, 0.0, 1.0).astype(np.float32)


def _result(picture: Picture, border: Border, filled: np.ndarray) -> Picture:
    """The filled canvas in the picture's layout and depth, the photo's own samples pasted back exactly."""
    layout = filled.mean(axis=2, keepdims=True) if picture.is_grey else filled
    pixels = picture.quantize(layout)
    inside = (
        slice(border.top, border.top + picture.height),
        slice(border.left, border.left + picture.width),
    )
    pixels[inside] = picture.pixels
    alpha = None
    if picture.alpha is not None:
        alpha = np.full(pixels.shape[:2], picture.max_value, dtype=picture.alpha.dtype)
        alpha[inside] = picture.alpha
    return picture.replace(pixels=pixels, alpha=alpha, source_jpeg=None)
