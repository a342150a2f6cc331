"""Replace background: the cut-out subject on a colour, on another photo, on a blurred copy of its own
background (portrait mode), on a background a diffusion model makes from a prompt, or on transparency; harmonized
to the new background and optionally grounded by a soft contact shadow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retouch.errors import InvalidInput
from retouch.ops.composite import over
from retouch.tools.cutout.extract import extract, on_transparency
from retouch.tools.options.cutout import BLUR_RANGE, FITS
from retouch.types import Picture, ProgressCallback, no_progress

if TYPE_CHECKING:
    from retouch.tools.generate.backend import DiffusionModel

Background = str | os.PathLike[str] | Picture
RATIO_SIGMA = 12.0  # pixels: the portrait blur's normalization is divided where the blur is at least this wide


def default_blur(width: int, height: int) -> float:
    """The portrait-mode blur (Gaussian sigma, pixels): about 1.2 % of the long side."""
    return max(2.0, 0.012 * max(width, height))


def replace_background(
    picture: Picture,
    background: Background | None = None,
    *,
    prompt: str | None = None,
    diffusion_model: str = "auto",
    steps: int | None = None,
    seed: int = 0,
    fit: str = "fill",
    blur: float | None = None,
    harmonize: bool = True,
    shadow: bool = False,
    model: str | None = None,
    refine: bool = True,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Picture:
    """Put the subject of ``picture`` on a new background.

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. background: a colour (default
    "white",
    "#1e90ff", "30,144,255"), "blur" (the photo's own background, blurred by ``blur`` pixels of Gaussian sigma,
    0.1 to 2000; default ``default_blur``; a blur past the long side is the long side's, an even wash),
    "transparent", a Picture, or the path of an image file. prompt (instead of a background): what the new
    background shows, made by a diffusion model (the optional ``gen`` extra and a pulled generative model:
    ``diffusion_model`` by name or "auto", the first installed) at the photo's aspect near the model's own size,
    then scaled to cover the photo like a background image with fit "fill"; ``steps`` (1 to 50, default the
    model's) and ``seed`` are the model's. The prompt is refused like ``generate``'s, and by the stricter list
    when the subject is a person (a face inside the matte). fit: how a background image covers the frame, "fill" (cover, cropping the excess) or "fit" (all of it
    visible, the margins filled with a blurred cover). harmonize: adjust the subject's colour and exposure to the
    new background and let its light wrap around the edges. shadow: add a soft contact shadow under the subject.
    model, refine, device, progress: as for ``cutout``.
    Returns a new Picture of the same size, bit depth and channels, without alpha unless the background is
    (partly) transparent (then HxW alpha, same dtype); "replace background" is recorded for the provenance XMP.
    Raises InvalidInput for a background and a prompt both given, PromptRefused (an InvalidInput) for a refused
    prompt, BackendUnavailable or WeightsMissing (naming the command to run) when no generative model is ready.
    """
    from retouch.models.runtime import check_device

    check_device(device)
    if fit not in FITS:
        raise InvalidInput(f"unknown fit {fit!r}; choose one of: {', '.join(FITS)}")
    if blur is not None and not (np.isfinite(blur) and BLUR_RANGE.low <= blur <= BLUR_RANGE.high):
        raise InvalidInput(
            f"blur must be a Gaussian sigma of {BLUR_RANGE.low:g} to {BLUR_RANGE.high:g} pixels, got {blur!r}"
        )
    made = None  # (the diffusion model, the prompt, its steps) when a prompt makes the background
    if prompt is None and (diffusion_model != "auto" or steps is not None):
        raise InvalidInput("a diffusion model and its steps make a background from a prompt: give the prompt too")
    if prompt is not None:
        if background is not None:
            raise InvalidInput("give a background or a prompt to make one, not both")
        made = _prompt_model(prompt, diffusion_model, steps, seed, device)
        kind, value = "image", None
    else:
        kind, value = _classify("white" if background is None else background)
    found = extract(picture, model=model, refine=refine, device=device, progress=progress)
    label = kind if kind != "image" else f"image, {fit}"
    if made is not None:
        from retouch.tools.generate.fill import background_from_prompt, check_region_prompt

        diffusion, text, count = made
        check_region_prompt(text, picture, found.alpha > 0.5, device=device)  # the subject: the stricter list
        value = background_from_prompt(diffusion, text, picture.size, steps=count, seed=seed, progress=progress)
        fit, label = "fill", f"prompt, diffusion={diffusion.name}, steps={count}, seed={seed}"
    if kind == "transparent":
        return on_transparency(picture, found).with_operation(f"replace background (model={found.model}, transparent)")
    progress("compose", 0, 1)
    size = picture.size
    cover: np.ndarray | None
    if kind == "blur":
        sigma = min(blur if blur is not None else default_blur(*size), float(max(size)))
        layer, cover = blurred_background(picture.rgb_float(), found.alpha, sigma), None
    elif kind == "colour":
        r, g, b, a = value
        layer, cover = np.float32([r, g, b]), None if a >= 1.0 else np.float32(a)
    else:
        layer, cover = fitted_image(value, size, fit)
    alpha, out = composite(found.foreground, found.alpha, layer, cover, harmonize=harmonize, shadow=shadow)
    progress("compose", 1, 1)
    result = picture.with_float(out, alpha=None if alpha is None or np.all(alpha >= 1.0) else alpha)
    return result.with_operation(f"replace background (model={found.model}, {label})")


def _prompt_model(
    prompt: str, model: str, steps: int | None, seed: int, device: str
) -> tuple[DiffusionModel, str, int]:
    """(the loaded diffusion model, the prompt, its step count): the prompt through the plain refusal list and the
    model looked for before the subject is cut out, so a refused prompt or a missing model costs no work."""
    from retouch.tools.generate.backend import load_model, resolve_model
    from retouch.tools.generate.fill import checked_prompt

    text = checked_prompt(prompt, model, steps, seed)
    diffusion = load_model(resolve_model(model), device=device)
    return diffusion, text, diffusion.default_steps if steps is None else steps


def composite(
    foreground: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray,
    cover: np.ndarray | None,
    *,
    harmonize: bool = True,
    shadow: bool = False,
) -> tuple[np.ndarray | None, np.ndarray]:
    """The subject (``foreground`` colours, ``alpha``) over ``background`` whose own opacity is ``cover``.

    background: HxWx3 float32, changed in place, or one colour (3,). cover: HxW or one float32, or None where the
    background is opaque everywhere. Returns (alpha, colours) of the result, float32; alpha is None where the
    result is opaque everywhere; colours are not premultiplied.
    Only the subject's bounding box is harmonized and blended: everywhere else the result is the background.
    """
    from retouch.tools.cutout.harmonize import mix, plain
    from retouch.tools.cutout.shadow import contact_shadow

    box = _bounding_box(alpha)
    subject = None  # the subject's colours within the box
    if box is not None:
        subject = _harmonized(foreground, alpha, background, box) if harmonize else foreground[box]
    if shadow:  # on the background only: the subject was matched to the background's own light
        import cv2

        darkening = cv2.merge([1.0 - contact_shadow(alpha)] * 3)
        if background.ndim == 1:
            background = cv2.multiply(darkening, (*background.tolist(), 0.0))
        else:
            cv2.multiply(background, darkening, dst=background)
    if cover is not None:
        whole = foreground
        if box is not None and harmonize:
            whole = foreground.copy()
            whole[box] = subject
        out_alpha, colours = over(whole, alpha, background, cover)
        return out_alpha.astype(np.float32), np.clip(colours, 0.0, 1.0).astype(np.float32)
    if background.ndim == 1:
        out = plain(background, alpha.shape)
    else:
        out = background
    if box is not None and subject is not None:  # "over" an opaque background, where there is a subject
        region = out[box]
        mix(subject, region, alpha[box], out=region)
    return None, out


def _harmonized(
    foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray, box: tuple[slice, slice]
) -> np.ndarray:
    """The foreground within ``box`` matched to ``background`` (HxWx3 or one colour): colour, then light wrap."""
    from retouch.tools.cutout.harmonize import adjust_colour, colour_gains, light_wrap, wrap_radius

    gains = colour_gains(foreground[box], alpha[box], background)
    radius = wrap_radius(alpha.shape)
    near = _grown(box, radius, alpha.shape)  # the light wrap reads this far around the box
    subject = adjust_colour(foreground[near], gains)
    light_wrap(subject, alpha[near], background if background.ndim == 1 else background[near], radius)
    (rows, columns), (top, left) = box, (near[0].start, near[1].start)
    return subject[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left]


def _bounding_box(alpha: np.ndarray) -> tuple[slice, slice] | None:
    """The rows and columns where ``alpha`` is above zero; None where it is zero everywhere."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(alpha.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def _grown(box: tuple[slice, slice], margin: int, shape: tuple[int, int]) -> tuple[slice, slice]:
    rows, columns = box
    height, width = shape
    return (
        slice(max(rows.start - margin, 0), min(rows.stop + margin, height)),
        slice(max(columns.start - margin, 0), min(columns.stop + margin, width)),
    )


def blurred_background(rgb: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """The photo blurred with the subject left out (normalized convolution), so it casts no glow around itself.

    The blurs are done on shrunk copies (``blur.shrink``), the division by the blurred weight on the way back up,
    at the coarsest level where the blur still spans ``RATIO_SIGMA`` pixels: where the weight is small (inside the
    subject) the ratio changes too fast to be enlarged from further down.
    """
    import cv2

    from retouch.tools.cutout.blur import shrink

    weight = 1.0 - alpha
    clear = shrink(cv2.multiply(rgb, cv2.merge([weight] * 3)), sigma)  # the photo weighted by how clear it is
    total = shrink(weight, sigma)
    del weight
    level = min(clear.levels, int(np.log2(max(sigma / RATIO_SIGMA, 1.0))))  # where to divide

    def normalized(blur: float, floor: float) -> tuple[np.ndarray, np.ndarray]:
        """The clear pixels' colours blurred and their blurred weight, at ``level``."""
        norm = total.enlarge(total.blur(blur), to=level)
        colours = clear.enlarge(clear.blur(blur), to=level)
        return cv2.multiply(colours, cv2.merge([1.0 / np.maximum(norm, floor)] * 3)), norm

    result, norm = normalized(sigma, 1e-3)
    thin = norm < 0.05  # deep inside a large subject: borrow from a much wider neighbourhood
    if np.any(thin):
        fallback, far_norm = normalized(4 * sigma, 1e-6)
        empty = far_norm < 1e-6
        if np.any(empty):
            fallback[empty] = rgb.reshape(-1, 3).mean(axis=0)
        cv2.copyTo(fallback, thin.view(np.uint8), result)
    result = clear.enlarge(result, start=level)
    return np.clip(result, 0.0, 1.0, out=result)


def fitted_image(image: Picture, size: tuple[int, int], fit: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A background picture brought to ``size``: colours (HxWx3) and opacity (HxW; None where it has no alpha)."""
    from retouch.tools.cutout.blur import gaussian_blur

    width, height = size
    rgb = image.rgb_float()
    cover_alpha = image.alpha_float()
    src_h, src_w = rgb.shape[:2]
    fill_scale = max(width / src_w, height / src_h)
    filled, filled_alpha = _scaled_centre(rgb, cover_alpha, fill_scale, (width, height))
    if fit == "fill":
        return filled, filled_alpha
    fit_scale = min(width / src_w, height / src_h)
    inner, inner_alpha = _scaled_centre(rgb, cover_alpha, fit_scale, None)
    layer = gaussian_blur(filled, max(2.0, 0.02 * max(width, height)))  # the margins: a soft echo
    ih, iw = inner.shape[:2]
    top, left = (height - ih) // 2, (width - iw) // 2
    layer[top : top + ih, left : left + iw] = inner
    if filled_alpha is not None and inner_alpha is not None:
        filled_alpha[top : top + ih, left : left + iw] = inner_alpha
    return layer, filled_alpha


def _scaled_centre(
    rgb: np.ndarray, alpha: np.ndarray | None, scale: float, crop_to: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``rgb`` (and ``alpha``) scaled, then cut to ``crop_to`` (width, height) about the centre; new arrays."""
    import cv2

    src_h, src_w = rgb.shape[:2]
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    if crop_to is not None:
        new_w, new_h = max(new_w, crop_to[0]), max(new_h, crop_to[1])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC

    def scaled(values: np.ndarray) -> np.ndarray:
        out = cv2.resize(values, (new_w, new_h), interpolation=interpolation)
        if crop_to is not None:
            width, height = crop_to
            top, left = (new_h - height) // 2, (new_w - width) // 2
            out = out[top : top + height, left : left + width]
        return np.clip(out, 0.0, 1.0)  # cubic overshoots

    return scaled(rgb), None if alpha is None else scaled(alpha)


def _classify(background: Background) -> tuple[str, object]:
    """("colour" | "blur" | "transparent" | "image", value)."""
    from retouch.io import load_image
    from retouch.tools.cutout.colours import parse_colour

    if isinstance(background, Picture):
        return "image", background
    if isinstance(background, os.PathLike):
        return "image", load_image(background)
    text = str(background).strip()
    if text.lower() in ("blur", "transparent"):
        return text.lower(), None
    if Path(text).is_file():
        return "image", load_image(text)
    try:
        return "colour", parse_colour(text)
    except InvalidInput:
        raise InvalidInput(
            f"background {text!r} is neither a colour, 'blur', 'transparent' nor an existing image file"
        ) from None
