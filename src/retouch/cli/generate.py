"""`retouch generate` (text to image) and `retouch uncrop` (extend a photo): the generative commands. Their
outputs always carry the provenance marks: there is no --no-provenance here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from retouch.cli.common import (
    DeviceOption,
    OutputOption,
    OverwriteOption,
    QualityOption,
    checked_output,
    output_path,
    state,
    write_result,
)
from retouch.cli.options import flag
from retouch.cli.running import run_tool
from retouch.tools.options.generate import MODEL, SEED, STEPS, UNCROP_ENGINE

if TYPE_CHECKING:
    from retouch.types import Picture, ProgressCallback

_PATCH_NOTE = "uncrop: the built-in patch engine extended the photo's own textures; a diffusion model gives more: {}"


def generate_command(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What the picture shows.")],
    output: Annotated[Path, OutputOption],
    size: Annotated[str, typer.Option("--size", help="WIDTHxHEIGHT, multiples of 8 (models are trained at 512x512).")]
    = "512x512",
    seed: Annotated[int, flag(SEED)] = SEED.default,
    steps: Annotated[int | None, flag(STEPS)] = STEPS.default,
    model: Annotated[str, flag(MODEL)] = MODEL.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
) -> None:
    """Make a picture from a text prompt with a diffusion model (the optional 'gen' extra and a pulled model)."""
    from retouch.tools.generate import generate, parse_size
    from retouch.tools.generate.refusals import check_prompt

    width, height = parse_size(size)
    check_prompt(prompt)  # refused before the output is even checked
    target = checked_output(output, overwrite=overwrite)

    def work(progress: ProgressCallback) -> Picture:
        return generate(
            prompt, size=(width, height), seed=seed, steps=steps, model=model, device=device, progress=progress
        )

    result = run_tool(ctx, "generate", work)
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=True, show_size=True)


def uncrop_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to extend.")],
    output: Annotated[Path | None, OutputOption] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="The new frame: an aspect ratio (16:9) or a size (WIDTHxHEIGHT).")
    ] = None,
    left: Annotated[int, typer.Option("--left", help="Pixels to add on the left.")] = 0,
    right: Annotated[int, typer.Option("--right", help="Pixels to add on the right.")] = 0,
    top: Annotated[int, typer.Option("--top", help="Pixels to add at the top.")] = 0,
    bottom: Annotated[int, typer.Option("--bottom", help="Pixels to add at the bottom.")] = 0,
    engine: Annotated[str, flag(UNCROP_ENGINE, "--engine", "-e")] = UNCROP_ENGINE.default,
    prompt: Annotated[str | None, typer.Option("--prompt", help="What the new border shows (a model only).")] = None,
    model: Annotated[str, flag(MODEL)] = MODEL.default,
    steps: Annotated[int | None, flag(STEPS)] = STEPS.default,
    seed: Annotated[int, flag(SEED)] = SEED.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
) -> None:
    """Extend a photo beyond its frame; its own pixels stay exactly as they were."""
    from retouch.io import load_image
    from retouch.tools.generate.refusals import check_prompt
    from retouch.tools.uncrop import missing_for_model, uncrop

    if prompt is not None:
        check_prompt(prompt)
    target = checked_output(output_path(image, output, "uncropped"), overwrite=overwrite)
    picture = load_image(image)

    def work(progress: ProgressCallback) -> Picture:
        return uncrop(
            picture, to=to, left=left, right=right, top=top, bottom=bottom, engine=engine, prompt=prompt,
            model=model, steps=steps, seed=seed, device=device,
            progress=progress,
        )

    result = run_tool(ctx, "uncrop", work)
    st = state(ctx)
    missing = missing_for_model() if engine == "auto" else None
    if missing is not None and not (st.quiet or st.json):
        typer.echo(_PATCH_NOTE.format(missing), err=True)
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=True, show_size=True)
