"""Prompt-driven fill and background: what the erase tool's ``prompt`` and replace background's ``prompt`` share.

- ``PromptFill``: an erase engine (``retouch.tools.erase.engines.InpaintEngine``) that makes the hole anew from a
  prompt with a diffusion model. The erase tool hands it each crop around a hole (its HD strategy) at full
  resolution; it scales the crop to a working size near the model's own, inpaints, and scales the result back.
  The erase tool then composites inside the grown mask only, so every other pixel stays the photo's.
- ``background_from_prompt``: a picture made from a prompt at a frame's aspect, near the model's own size.
- ``checked_prompt``: the prompt and the model's options checked, and the plain refusal list, before any model
  is looked for; ``check_region_prompt``: the stricter list when a person is inside the region to be made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.options import check_options
from retouch.tools.options.generate import MAX_PROMPT, MAX_SIDE, MIN_SIDE, MODEL, SEED, STEPS
from retouch.types import Picture, ProgressCallback, no_progress

if TYPE_CHECKING:
    from retouch.tools.generate.backend import DiffusionModel

def working_size(width: int, height: int, native: int) -> tuple[int, int]:
    """(width, height) at the frame's aspect with about ``native``² pixels (what the model was trained on), each
    side a multiple of 8 within the backend's limits: a small crop is enlarged to it, a large one shrunk."""
    scale = native / np.sqrt(width * height)
    return tuple(  # type: ignore[return-value]
        int(np.clip(round(side * scale / 8) * 8, MIN_SIDE, MAX_SIDE)) for side in (width, height)
    )


def checked_text(prompt: str) -> str:
    """The prompt stripped; InvalidInput when it is blank or too long."""
    text = prompt.strip()
    if not text:
        raise InvalidInput("the prompt is empty: describe what to put there")
    if len(text) > MAX_PROMPT:
        raise InvalidInput(f"the prompt is {len(text)} characters long; at most {MAX_PROMPT}")
    return text


def checked_prompt(prompt: str, model: str, steps: int | None, seed: int) -> str:
    """The prompt stripped, once the diffusion model's options (``model``, ``steps``, ``seed``) are in bounds and
    the prompt passed the plain refusal list: a refused prompt is refused whatever is installed."""
    from retouch.tools.generate.refusals import check_prompt

    check_options(((STEPS, steps), (SEED, seed), (MODEL, model)))
    text = checked_text(prompt)
    check_prompt(text)
    return text


def check_region_prompt(prompt: str, picture: Picture, region: np.ndarray, *, device: str = "auto") -> None:
    """Raise PromptRefused when ``prompt`` is refused outright, or by the stricter list when a person's face is
    inside ``region`` (HxW bool). The face detector runs only when the stricter list would refuse the prompt:
    for any other prompt its answer changes nothing."""
    from retouch.tools.generate.people import person_in_region
    from retouch.tools.generate.refusals import check_prompt, refusal_reason

    check_prompt(prompt)
    if refusal_reason(prompt, person_in_region=True) is not None and person_in_region(picture, region, device=device):
        check_prompt(prompt, person_in_region=True)


@dataclass(frozen=True)
class PromptFill:
    """The erase engine of a prompt: any crop size (scaled here to the model's working size and back)."""

    diffusion: DiffusionModel
    prompt: str
    steps: int
    seed: int
    name: str = "model"
    max_side: int | None = None

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
        from retouch.ops.resize import resize, resize_mask

        height, width = mask.shape
        work = working_size(width, height, self.diffusion.native_size)
        made = self.diffusion.inpaint(
            resize(image, work), resize_mask(mask, work), self.prompt, steps=self.steps, seed=self.seed,
            progress=progress,
        )
        return resize(made, (width, height))


def background_from_prompt(
    diffusion: DiffusionModel,
    prompt: str,
    size: tuple[int, int],
    *,
    steps: int,
    seed: int,
    progress: ProgressCallback = no_progress,
) -> Picture:
    """An 8-bit picture of ``prompt`` at the aspect of ``size`` (width, height), made near the model's native
    size: the caller scales it to the frame."""
    work_w, work_h = working_size(*size, diffusion.native_size)
    rgb = diffusion.text_to_image(prompt, width=work_w, height=work_h, steps=steps, seed=seed, progress=progress)
    return Picture(pixels=(np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))
