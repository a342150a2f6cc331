"""Cutout: remove the background. A segmentation network finds the subject at its own low resolution; the matte
is then solved at full resolution on the photo itself (``matting``), the edge colours are freed of the old
background (``foreground``), and the result is an RGBA picture, the matte alone, or the subject on a colour.

validate > segment (``segment``, ``networks``) > refine (``matting``) > foreground colours > compose / crop.
Pixels the network and the matting call fully opaque keep their exact values.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.ops.composite import over
from retouch.tools.cutout.extract import Extraction, extract, on_transparency
from retouch.tools.cutout.replace import replace_background
from retouch.types import Picture, ProgressCallback, no_progress

__all__ = ["Extraction", "available_models", "cutout", "extract", "replace_background", "subject_box"]


def cutout(
    picture: Picture,
    *,
    model: str | None = None,
    mask_only: bool = False,
    crop: int | None = None,
    background: str | None = None,
    refine: bool = True,
    subject: np.ndarray | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Picture:
    """Remove the background of ``picture``.

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. model: a cutout model of the
    registry; None or "auto" is the best installed permissive one (WeightsMissing, naming the pull commands, when
    none is). mask_only: return the matte alone, as a greyscale picture (white = subject). crop: cut the result to
    the subject's bounding box plus this margin, in pixels >= 0. background: a colour (name, #rrggbb, #rrggbbaa,
    r,g,b) to put behind the subject instead of transparency. refine: False keeps the network's own map, resized
    (no matting). subject: an HxW bool mask, e.g. from ``retouch.select``, that is the subject to keep instead of
    what the network finds. device: "auto", "cpu" or "cuda". progress: called with (stage, done, total).
    Returns a new Picture in the input's bit depth: HxWx3 (HxWx1 for grey input and for ``mask_only``), with an
    HxW alpha unless ``mask_only`` or an opaque ``background`` was asked for; fully opaque subject pixels keep
    their exact values; "cutout" is recorded for the provenance XMP.
    """
    from retouch.models.runtime import check_device
    from retouch.tools.cutout.colours import parse_colour

    check_device(device)
    if crop is not None and (isinstance(crop, bool) or crop < 0):
        raise InvalidInput(f"crop margin must be a whole number of pixels >= 0, got {crop!r}")
    fill = parse_colour(background) if background is not None else None
    found = extract(picture, model=model, refine=refine, subject=subject, device=device, progress=progress)
    alpha = found.alpha
    if mask_only:
        import dataclasses

        grey = dataclasses.replace(picture.metadata, icc_profile=None)  # an RGB profile does not fit a grey matte
        result = picture.replace(pixels=picture.quantize(alpha)[:, :, None], alpha=None, metadata=grey)
    elif fill is None:
        result = on_transparency(picture, found)
    else:
        result = _flatten(picture, found, fill)
    what = "cutout mask" if mask_only else "cutout"
    result = result.with_operation(f"{what} (model={found.model})")
    return result if crop is None else result.cropped(*subject_box(alpha, crop))


def available_models() -> dict[str, bool]:
    """"auto" and every cutout model, and whether each can run here ("auto": when a permissive one is installed)."""
    from retouch.tools.cutout.networks import cutout_models, installed_models

    installed = set(installed_models())
    models = cutout_models()
    auto = any(spec.permissive and spec.name in installed for spec in models)
    return {"auto": auto, **{spec.name: spec.name in installed for spec in models}}


def subject_box(alpha: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) around every pixel more than 1/255 opaque, grown by ``margin`` within the image.

    An empty matte gives the whole image (there is nothing to crop to).
    """
    visible = alpha > 1.0 / 255.0
    rows = np.flatnonzero(visible.any(axis=1))
    if rows.size == 0:
        return 0, 0, alpha.shape[1], alpha.shape[0]
    cols = np.flatnonzero(visible.any(axis=0))
    h, w = alpha.shape
    x0, y0 = max(int(cols[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    x1, y1 = min(int(cols[-1]) + 1 + margin, w), min(int(rows[-1]) + 1 + margin, h)
    return x0, y0, x1 - x0, y1 - y0


def _flatten(picture: Picture, found: Extraction, fill: tuple[float, float, float, float]) -> Picture:
    colour = np.asarray(fill[:3], dtype=np.float32)
    cover = np.float32(fill[3])
    out_alpha, rgb = over(found.foreground, found.alpha, colour, cover)
    if cover >= 1.0:
        return picture.with_float(rgb, alpha=None)
    return picture.with_float(rgb, alpha=out_alpha)
