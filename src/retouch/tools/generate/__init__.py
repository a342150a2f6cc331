"""Text to image on the optional diffusion backend (``retouch.tools.generate.backend``).

validate (size, steps, seed) > refuse what Retouch does not make (``refusals``) > resolve the model (the extra,
then an installed row) > run the few-step sampler > a Picture recorded as generated, so its provenance says
trainedAlgorithmicMedia.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.io.xmp import GENERATED_PREFIX
from retouch.tools.generate.refusals import check_prompt
from retouch.tools.options import check_options
from retouch.tools.options.generate import MAX_SIDE, MIN_SIDE, SEED, STEPS
from retouch.types import Picture, ProgressCallback, no_progress

__all__ = ["generate", "parse_size"]


def parse_size(text: str) -> tuple[int, int]:
    """ "768x512" -> (768, 512); InvalidInput otherwise."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise InvalidInput(f"a size is WIDTHxHEIGHT in pixels, e.g. 512x512; got {text!r}")
    return int(parts[0]), int(parts[1])


def generate(
    prompt: str,
    *,
    size: tuple[int, int] = (512, 512),
    seed: int = 0,
    steps: int | None = None,
    model: str = "auto",
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Picture:
    """A new picture of what ``prompt`` describes.

    size: (width, height), each a multiple of 8 from 64 to 2048 (models are trained at 512: far from it they
    repeat or lose the subject). seed: equal prompt, size, steps, seed and model give equal pixels on one machine.
    steps: 1 to 50 denoising steps (default: the model's). model: a generative model's name, or "auto" (the first
    installed). device: "auto", "cpu" or "cuda". progress: called as ("generate", step, steps) before the first step
    and after each; it may raise to stop the work between steps (nothing is returned).
    Returns an 8-bit RGB Picture with the operation "generate (model=NAME, steps=N, seed=S)" recorded.
    Raises PromptRefused (an InvalidInput) for a prompt Retouch does not make, InvalidInput for a bad size, steps
    or seed, BackendUnavailable without the ``gen`` extra (it names the pip command), WeightsMissing without an
    installed model (it names the pull command), UnsafeOutput when the model's safety checker flags the result.
    """
    from retouch.tools.generate.backend import load_model, resolve_model

    check_options(((SEED, seed), (STEPS, steps)))
    width, height = _checked_size(size)
    if not prompt or not prompt.strip():
        raise InvalidInput("give a prompt: what the picture should show")
    check_prompt(prompt)
    diffusion = load_model(resolve_model(model), device=device)
    count = diffusion.default_steps if steps is None else steps
    rgb = diffusion.text_to_image(prompt, width=width, height=height, steps=count, seed=seed, progress=progress)
    picture = Picture(pixels=(np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))
    return picture.with_operation(f"{GENERATED_PREFIX} (model={diffusion.name}, steps={count}, seed={seed})")


def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    for name, side in (("width", width), ("height", height)):
        if not MIN_SIDE <= side <= MAX_SIDE or side % 8:
            raise InvalidInput(f"{name} must be a multiple of 8 from {MIN_SIDE} to {MAX_SIDE}, got {side}")
    return width, height
