"""Replace background: the cut-out subject on a colour, on another photo, on a blurred copy of its own
background (portrait mode), or on transparency; harmonized to the new background and optionally grounded by a
soft contact shadow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from retouch.errors import InvalidInput
from retouch.ops.composite import over
from retouch.tools.cutout.extract import extract, on_transparency
from retouch.tools.options.cutout import FITS
from retouch.types import Picture, ProgressCallback, no_progress

Background = str | os.PathLike[str] | Picture


def default_blur(width: int, height: int) -> float:
    """The portrait-mode blur (Gaussian sigma, pixels): about 1.2 % of the long side."""
    return max(2.0, 0.012 * max(width, height))


def replace_background(
    picture: Picture,
    background: Background = "white",
    *,
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

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. background: a colour ("white", "#1e90ff", "30,144,255"), "blur" (the photo's own background, blurred by
    ``blur`` pixels of Gaussian sigma; default ``default_blur``), "transparent", a Picture, or the path of an image
    file. fit: how a background image covers the frame, "fill" (cover, cropping the excess) or "fit" (all of it
    visible, the margins filled with a blurred cover). harmonize: adjust the subject's colour and exposure to the
    new background and let its light wrap around the edges. shadow: add a soft contact shadow under the subject.
    model, refine, device, progress: as for ``cutout``.
    Returns a new Picture of the same size, bit depth and channels, without alpha unless the background is
    (partly) transparent (then HxW alpha, same dtype); "replace background" is recorded for the provenance XMP.
    """
    if fit not in FITS:
        raise InvalidInput(f"unknown fit {fit!r}; choose one of: {', '.join(FITS)}")
    if blur is not None and not (np.isfinite(blur) and blur > 0):
        raise InvalidInput(f"blur must be a positive number of pixels, got {blur!r}")
    kind, value = _classify(background)
    found = extract(picture, model=model, refine=refine, device=device, progress=progress)
    if kind == "transparent":
        return on_transparency(picture, found).with_operation(f"replace background (model={found.model}, transparent)")
    progress("compose", 0, 1)
    rgb = picture.rgb_float()
    size = picture.size
    if kind == "blur":
        sigma = blur if blur is not None else default_blur(*size)
        layer, cover = blurred_background(rgb, found.alpha, sigma), np.ones(rgb.shape[:2], np.float32)
    elif kind == "colour":
        r, g, b, a = value
        layer = np.empty_like(rgb)
        layer[:] = (r, g, b)
        cover = np.full(rgb.shape[:2], a, dtype=np.float32)
    else:
        layer, cover = fitted_image(value, size, fit)
    alpha, out = composite(found.foreground, found.alpha, layer, cover, harmonize=harmonize, shadow=shadow)
    progress("compose", 1, 1)
    result = picture.with_float(out, alpha=None if np.all(alpha >= 1.0) else alpha)
    label = kind if kind != "image" else f"image, {fit}"
    return result.with_operation(f"replace background (model={found.model}, {label})")


def composite(
    foreground: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray,
    cover: np.ndarray,
    *,
    harmonize: bool = True,
    shadow: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The subject (``foreground`` colours, ``alpha``) over ``background`` whose own opacity is ``cover``.

    Returns (alpha, colours) of the result, float32; colours are not premultiplied.
    """
    from retouch.tools.cutout.harmonize import harmonize as harmonized
    from retouch.tools.cutout.shadow import contact_shadow

    subject = harmonized(foreground, alpha, background) if harmonize else foreground
    if shadow:
        background = background * (1.0 - contact_shadow(alpha))[:, :, None]
    out_alpha, colours = over(subject, alpha, background, cover)
    return out_alpha.astype(np.float32), np.clip(colours, 0.0, 1.0).astype(np.float32)


def blurred_background(rgb: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """The photo blurred with the subject left out (normalized convolution), so it casts no glow around itself."""
    import cv2

    weight = (1.0 - alpha).astype(np.float32)
    blurred = cv2.GaussianBlur(rgb * weight[:, :, None], (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    result = blurred / np.maximum(norm, 1e-3)[:, :, None]
    thin = norm < 0.05  # deep inside a large subject: borrow from a much wider neighbourhood
    if np.any(thin):
        wide = 4 * sigma
        far = cv2.GaussianBlur(rgb * weight[:, :, None], (0, 0), wide)
        far_norm = cv2.GaussianBlur(weight, (0, 0), wide)
        fallback = far / np.maximum(far_norm, 1e-6)[:, :, None]
        fallback[far_norm < 1e-6] = rgb.reshape(-1, 3).mean(axis=0)
        result[thin] = fallback[thin]
    return np.clip(result, 0.0, 1.0).astype(np.float32)


def fitted_image(image: Picture, size: tuple[int, int], fit: str) -> tuple[np.ndarray, np.ndarray]:
    """A background picture brought to ``size``: colours (HxWx3) and opacity (HxW)."""
    import cv2

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
    layer = cv2.GaussianBlur(filled, (0, 0), max(2.0, 0.02 * max(width, height)))  # the margins: a soft echo
    alpha_layer = filled_alpha.copy()
    ih, iw = inner.shape[:2]
    top, left = (height - ih) // 2, (width - iw) // 2
    layer[top : top + ih, left : left + iw] = inner
    alpha_layer[top : top + ih, left : left + iw] = inner_alpha
    return layer, alpha_layer


def _scaled_centre(
    rgb: np.ndarray, alpha: np.ndarray | None, scale: float, crop_to: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    src_h, src_w = rgb.shape[:2]
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    if crop_to is not None:
        new_w, new_h = max(new_w, crop_to[0]), max(new_h, crop_to[1])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = np.clip(cv2.resize(rgb, (new_w, new_h), interpolation=interpolation), 0.0, 1.0)
    opacity = (
        np.ones((new_h, new_w), np.float32)
        if alpha is None
        else np.clip(cv2.resize(alpha, (new_w, new_h), interpolation=interpolation), 0.0, 1.0)
    )
    if crop_to is None:
        return scaled.astype(np.float32), opacity.astype(np.float32)
    width, height = crop_to
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return (
        scaled[top : top + height, left : left + width].astype(np.float32),
        opacity[top : top + height, left : left + width].astype(np.float32),
    )


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
