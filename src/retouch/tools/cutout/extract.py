"""Extract: segment, refine and free the edge colours of the subject, once for every cutout output.

``cutout`` and ``replace_background`` both start here and differ only in what they put behind the subject.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retouch.tools.interrupt import Heartbeat
from retouch.types import Picture, ProgressCallback, no_progress


@dataclass(frozen=True)
class Extraction:
    """What a cutout found: the matte and the foreground colours (float32, full size) and the network used."""

    alpha: np.ndarray  # HxW in [0, 1]
    foreground: np.ndarray  # HxWx3 RGB in [0, 1]
    coarse: np.ndarray  # the network's own map at full size (bilinear), HxW
    model: str


def extract(
    picture: Picture,
    *,
    model: str | None = None,
    refine: bool = True,
    subject: np.ndarray | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Extraction:
    """Segment, refine and estimate the foreground colours of ``picture``.

    picture: HxWx1 or HxWx3, uint8 or uint16, with or without alpha (pixels already transparent stay so).
    model: a cutout model of the registry; None or "auto" is the best installed permissive one. refine: solve the
    matte at full resolution on the photo (False: the network's map, resized). subject: an HxW bool mask (a
    selection, ``retouch.select``): the subject, instead of what the network finds. device: "auto", "cpu" or
    "cuda". progress: ("segment", done, 1), ("matting", level, levels), ("edge colours", done, 1), repeated while a
    network runs; it may raise to stop the work.
    Returns an ``Extraction`` whose ``alpha`` (HxW) and ``foreground`` (HxWx3 RGB) are float32 in [0, 1].
    """
    from retouch.tools.cutout.foreground import estimate_foreground
    from retouch.tools.cutout.matting import refine_alpha
    from retouch.tools.cutout.networks import load_segmenter
    from retouch.tools.cutout.segment import to_full

    if subject is not None and subject.shape != (picture.height, picture.width):
        from retouch.errors import InvalidInput

        rows, cols = subject.shape[:2]
        raise InvalidInput(f"the subject mask is {cols}x{rows}, the photo {picture.width}x{picture.height}")
    report = Heartbeat(progress)
    segmenter = load_segmenter(model, device)
    rgb = picture.rgb_float()
    report("segment", 0, 1)
    coarse = to_full(segmenter(rgb, report.beat), picture.size)
    report("segment", 1, 1)
    if subject is not None:
        coarse = subject_map(coarse, subject)
    alpha = coarse
    if refine:
        alpha = refine_alpha(rgb, coarse, progress=report)
    existing = picture.alpha_float()
    if existing is not None:  # what was already transparent stays so
        alpha = alpha * existing
    progress("edge colours", 0, 1)
    scale = max(picture.width, picture.height) / 1024
    foreground = estimate_foreground(rgb, alpha, scale=max(scale, 0.5), in_place=True)  # rgb is ours
    progress("edge colours", 1, 1)
    alpha = alpha.astype(np.float32, copy=False)
    return Extraction(alpha=alpha, foreground=foreground, coarse=coarse, model=segmenter.name)


def subject_map(coarse: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """The coarse map of a chosen subject: sure inside it, the network's own soft edge within a band around it
    (where hair and fine edges continue past the selection), nothing beyond."""
    from retouch.masks import grow
    from retouch.tools.cutout.matting import band_radius

    near = grow(subject, 2 * band_radius(coarse.shape[1], coarse.shape[0]))
    return np.maximum(subject.astype(np.float32), np.where(near, coarse, np.float32(0.0)))


def on_transparency(picture: Picture, found: Extraction) -> Picture:
    """The subject on transparency: the foreground colours where it is not fully opaque, the original samples
    where it is, and the matte as alpha, in the picture's bit depth."""
    colours = picture.with_float(found.foreground, alpha=found.alpha)
    opaque = found.alpha >= 1.0
    pixels = np.where(opaque[:, :, None], picture.pixels, colours.pixels)
    return colours.replace(pixels=pixels)
