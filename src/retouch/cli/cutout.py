"""`retouch cutout` and `retouch replace-bg`: remove the background, or put the subject on a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retouch.cli.clicks import ClickOption, UnclickOption, parse_clicks
from retouch.cli.common import (
    DeviceOption,
    NoProvenanceOption,
    OverwriteOption,
    QualityOption,
    checked_output,
    output_path,
    write_result,
)
from retouch.cli.options import flag
from retouch.cli.running import run_tool
from retouch.tools.options.cutout import (
    BG_COLOR,
    BLUR,
    CROP,
    DIFFUSION_MODEL,
    FIT,
    HARMONIZE,
    MARGIN,
    MASK_ONLY,
    MODEL,
    PROMPT,
    PROMPT_SEED,
    REFINE,
    SHADOW,
)
from retouch.tools.options.generate import STEPS

Model = flag(MODEL)
Output = typer.Option("--output", "-o", help="Output file; its extension picks the format (PNG/WebP keep alpha).")


def cutout_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo whose background to remove.")],
    output: Annotated[Path | None, Output] = None,
    model: Annotated[str, Model] = MODEL.default,
    click: Annotated[list[str] | None, ClickOption] = None,
    unclick: Annotated[list[str] | None, UnclickOption] = None,
    mask_only: Annotated[bool, flag(MASK_ONLY)] = MASK_ONLY.default,
    crop: Annotated[bool, flag(CROP)] = CROP.default,
    crop_margin: Annotated[
        int | None,
        flag(MARGIN, "--crop-margin", help="Crop to the subject with this margin in pixels (implies --crop)."),
    ] = None,
    bg_color: Annotated[str | None, flag(BG_COLOR)] = BG_COLOR.default,
    no_refine: Annotated[
        bool, flag(REFINE, "--no-refine", help="Keep the network's own mask, resized (no full-resolution matting).")
    ] = not REFINE.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Remove the background: an RGBA image (PNG or WebP), or the matte alone with --mask-only."""
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.cutout import cutout

    clicks = parse_clicks(click, unclick)
    target = output if output is not None else output_path(image, None, "mask" if mask_only else "cutout")
    if output is None and not mask_only and bg_color is None:
        target = target.with_suffix(".png")  # the input's own format may have no alpha (JPEG)
    checked_output(target, overwrite=overwrite)
    picture = load_image(image)
    subject = None
    if clicks:
        from retouch.tools.select import select

        subject = select(picture, clicks, model=model, device=device)
    plan = estimate.try_for_tool("cutout", picture.size, {"model": model, "refine": not no_refine}, device=device)
    result = run_tool(
        ctx,
        "cutout",
        lambda progress: cutout(
            picture,
            model=model,
            mask_only=mask_only,
            crop=crop_margin if crop_margin is not None else (0 if crop else None),
            background=bg_color,
            refine=not no_refine,
            subject=subject,
            device=device,
            progress=progress,
        ),
        plan,
    )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)


def replace_bg_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo whose background to replace.")],
    with_: Annotated[
        str | None,
        typer.Option(
            "--with",
            "-w",
            help="The new background: a colour (white, #1e90ff, 30,144,255), an image file, 'blur' or 'transparent'.",
        ),
    ] = None,
    prompt: Annotated[
        str | None,
        flag(PROMPT, help="Instead of --with: a background a diffusion model makes from this description."),
    ] = None,
    output: Annotated[Path | None, Output] = None,
    fit: Annotated[str, flag(FIT)] = FIT.default,
    blur: Annotated[float | None, flag(BLUR, help="With --with blur: Gaussian sigma in pixels.")] = BLUR.default,
    no_harmonize: Annotated[
        bool, flag(HARMONIZE, "--no-harmonize", help="Do not adjust the subject's colour and light to the background.")
    ] = not HARMONIZE.default,
    shadow: Annotated[bool, flag(SHADOW)] = SHADOW.default,
    model: Annotated[str, Model] = MODEL.default,
    diffusion_model: Annotated[
        str, flag(DIFFUSION_MODEL, help=DIFFUSION_MODEL.help.replace("With background=prompt", "With --prompt"))
    ] = DIFFUSION_MODEL.default,
    steps: Annotated[int | None, flag(STEPS, help="With --prompt, the diffusion model's option. " + STEPS.help)]
    = STEPS.default,
    seed: Annotated[
        int, flag(PROMPT_SEED, help="With --prompt: the model's seed (the same prompt and seed, the same background).")
    ] = PROMPT_SEED.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Replace the background with a colour, an image, a blurred copy of the photo, transparency, or one made
    from a prompt."""
    from retouch.errors import InvalidInput
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.cutout import replace_background

    if (with_ is None) == (prompt is None):
        raise InvalidInput("give the new background: --with (a colour, an image file, blur, transparent) or --prompt")
    if prompt is not None:
        from retouch.tools.generate.refusals import check_prompt

        if no_provenance:
            raise InvalidInput("a generated background always carries its provenance marks: drop --no-provenance")
        check_prompt(prompt)  # refused before the output is even checked
    target = output_path(image, output, "newbg")
    if output is None and with_ is not None and with_.strip().lower() == "transparent":
        target = target.with_suffix(".png")
    checked_output(target, overwrite=overwrite)
    picture = load_image(image)
    plan = estimate.try_for_tool("replace-bg", picture.size, {"model": model, "prompt": prompt}, device=device)
    result = run_tool(
        ctx,
        "replace-bg",
        lambda progress: replace_background(
            picture,
            with_,
            prompt=prompt,
            diffusion_model=diffusion_model,
            steps=steps,
            seed=seed,
            fit=fit,
            blur=blur,
            harmonize=not no_harmonize,
            shadow=shadow,
            model=model,
            device=device,
            progress=progress,
        ),
        plan,
    )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)


def register(app: typer.Typer) -> None:
    app.command("cutout")(cutout_command)
    app.command("replace-bg")(replace_bg_command)
