"""Reimagine: variations of a photo's content and style, made by a diffusion model from the photo itself.

validate > resolve the model (the extra, then an installed row) > the photo at a working size near the model's
own (its long side the model's native side, the aspect kept, sides multiples of 8) > image to image, once per
seed (seed, seed + 1, ...) > each result scaled back to the photo's size, so a variation replaces the photo in
place (same frame, same size: it carries the model's detail, not more than the working size holds).

Provenance: every pixel of a variation is made by the model (the photo guides it but none of its pixels is
kept), so the output is recorded as trainedAlgorithmicMedia, like a picture made from a prompt, and not as a
composite: see ``retouch.io.xmp.source_type``.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.io.xmp import REIMAGINED_PREFIX
from retouch.tools.options import check_options
from retouch.tools.options.generate import COUNT, MAX_SEED, SEED, STEPS, STRENGTH
from retouch.types import Picture, ProgressCallback, no_progress

__all__ = ["reimagine", "working_size"]


def working_size(width: int, height: int, native: int) -> tuple[int, int]:
    """The size the model works at: the long side ``native``, the aspect kept, each side a multiple of 8 (at
    least 64)."""
    scale = native / max(width, height)
    return max(64, round(width * scale / 8) * 8), max(64, round(height * scale / 8) * 8)


def reimagine(
    picture: Picture,
    *,
    strength: float = STRENGTH.default,
    seed: int = 0,
    count: int = 1,
    steps: int | None = None,
    model: str = "auto",
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> list[Picture]:
    """``count`` variations of ``picture``.

    strength: 0.05 to 1, how far a variation may move from the photo (the noise level its diffusion starts
    from): near 0.05 it stays close, at 1 little but the colours and layout remain. seed: the first variation's
    seed; variation i (from 0) uses seed + i, so equal inputs give equal pixels on one machine and device, and
    ``count=1, seed=s + i`` remakes variation i alone. count: 1 to 8. steps: 1 to 50 denoising steps (default: the
    model's). model: a generative model's name, or "auto" (the first installed). device: "auto", "cpu" or "cuda".
    progress: ("generate", step, steps) over the whole run (steps: the denoising steps of every variation
    together); it may raise to stop the work (nothing is returned).
    Returns the variations, each an 8-bit RGB picture of ``picture``'s size that keeps its alpha (when present)
    and metadata, with the operation "reimagine (model=NAME, strength=S, steps=N, seed=SEED)" recorded.
    Raises InvalidInput for bad options, BackendUnavailable without the ``gen`` extra (it names the pip command),
    WeightsMissing without an installed model (it names the pull command), UnsafeOutput when the model's safety
    checker flags a variation.
    """
    from retouch.tools.generate.backend import image_schedule, load_model, resolve_model

    check_options(((STRENGTH, strength), (COUNT, count), (SEED, seed), (STEPS, steps)))
    if seed + count - 1 > MAX_SEED:
        raise InvalidInput(f"seed + count - 1 must be at most {MAX_SEED} (each variation takes the next seed)")
    diffusion = load_model(resolve_model(model), device=device)
    count_steps = diffusion.default_steps if steps is None else steps
    _, ran = image_schedule(count_steps, strength)  # the steps that run, recorded as such
    work = _working_image(picture, diffusion.native_size)
    variations = []
    for index in range(count):
        made = diffusion.image_to_image(
            work, strength=strength, steps=count_steps, seed=seed + index, progress=_across(progress, index, count)
        )
        operation = (
            f"{REIMAGINED_PREFIX} (model={diffusion.name}, strength={strength:g}, steps={ran}, "
            f"seed={seed + index})"
        )
        variations.append(_at_photo_size(picture, made).with_operation(operation))
    return variations


def _across(progress: ProgressCallback, index: int, count: int) -> ProgressCallback:
    """Variation ``index``'s reports as steps of the whole run (count variations of the same steps each)."""

    def report(stage: str, done: int, total: int) -> None:
        progress(stage, index * total + done, count * total)

    return report


def _working_image(picture: Picture, native: int) -> np.ndarray:
    """The photo as float RGB at the working size (transparent pixels as they are stored: the model sees
    colours only)."""
    import cv2

    rgb = picture.rgb_float()
    size = working_size(picture.width, picture.height, native)
    shrinking = size[0] * size[1] < picture.width * picture.height
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def _at_photo_size(picture: Picture, made: np.ndarray) -> Picture:
    import cv2

    scaled = cv2.resize(made, picture.size, interpolation=cv2.INTER_CUBIC)
    pixels = (np.clip(scaled, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    alpha = None
    if picture.alpha is not None:  # kept, in 8 bits like the pixels
        alpha = picture.alpha if picture.bit_depth == 8 else (picture.alpha_float() * 255 + 0.5).astype(np.uint8)
    return picture.replace(pixels=pixels, alpha=alpha, source_jpeg=None)
