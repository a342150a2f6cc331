"""`retouch erase`: remove what a mask or a box covers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retouch.cli.clicks import ClickOption, UnclickOption, parse_clicks
from retouch.cli.common import (
    DeviceOption,
    NoProvenanceOption,
    OutputOption,
    OverwriteOption,
    QualityOption,
    checked_output,
    output_path,
    write_result,
)
from retouch.cli.options import flag
from retouch.cli.running import run_tool
from retouch.tools.options.erase import ENGINE, FEATHER, GROW, PROMPT, SEED, STRATEGY
from retouch.tools.options.generate import MODEL, STEPS

WITH_PROMPT = "With --prompt, the diffusion model's option. "


def erase_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to clean up.")],
    mask: Annotated[
        list[Path] | None,
        typer.Option("--mask", "-m", help="Mask image: white or opaque = erase. Repeat to combine masks."),
    ] = None,
    box: Annotated[
        list[str] | None, typer.Option("--box", "-b", help="A rectangle to erase, as x,y,w,h. Repeatable.")
    ] = None,
    click: Annotated[list[str] | None, ClickOption] = None,
    unclick: Annotated[list[str] | None, UnclickOption] = None,
    output: Annotated[Path | None, OutputOption] = None,
    engine: Annotated[str, flag(ENGINE, "--engine", "-e")] = ENGINE.default,
    grow: Annotated[int | None, flag(GROW)] = GROW.default,
    feather: Annotated[float | None, flag(FEATHER)] = FEATHER.default,
    strategy: Annotated[str, flag(STRATEGY)] = STRATEGY.default,
    device: Annotated[str, DeviceOption] = "auto",
    seed: Annotated[int, flag(SEED, help="Seed of the patch engine's random search, or of the model with --prompt.")]
    = SEED.default,
    prompt: Annotated[str | None, flag(PROMPT)] = PROMPT.default,
    model: Annotated[str, flag(MODEL, help=WITH_PROMPT + MODEL.help)] = MODEL.default,
    steps: Annotated[int | None, flag(STEPS, help=WITH_PROMPT + STEPS.help)] = STEPS.default,
    resize_mask: Annotated[
        bool, typer.Option("--resize-mask", help="Scale a mask of another size to the image.")
    ] = False,
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Erase what the mask or boxes cover, filling it with what plausibly lies behind (or, with --prompt, with
    what the prompt describes)."""
    from retouch import masks
    from retouch.errors import InvalidInput
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.erase import erase

    clicks = parse_clicks(click, unclick)
    if not mask and not box and not clicks:
        raise InvalidInput("nothing to erase: give --mask FILE, --box x,y,w,h or --click x,y")
    boxes = [masks.parse_box(text) for text in box or []]
    if prompt is not None:
        from retouch.tools.generate.refusals import check_prompt

        if no_provenance:
            raise InvalidInput("a generative fill always carries its provenance marks: drop --no-provenance")
        check_prompt(prompt)  # refused before the output is even checked
    target = checked_output(output_path(image, output, "erased"), overwrite=overwrite)
    picture = load_image(image)
    parts = [masks.load_mask(path, picture.size, resize=resize_mask) for path in mask or []]
    if boxes:
        parts.append(masks.mask_from_boxes(boxes, picture.size))
    if clicks:
        from retouch.tools.select import select

        parts.append(select(picture, clicks, device=device))
    hole = masks.combine(parts)
    options = {"engine": engine, "grow": grow, "strategy": strategy, "prompt": prompt}
    plan = estimate.try_for_tool("erase", picture.size, options, mask=hole, device=device)
    result = run_tool(
        ctx,
        "erase",
        lambda progress: erase(
            picture,
            hole,
            engine=engine,
            grow=grow,
            feather=feather,
            strategy=strategy,
            device=device,
            seed=seed,
            prompt=prompt,
            model=model,
            steps=steps,
            progress=progress,
        ),
        plan,
    )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)
