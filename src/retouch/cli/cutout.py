"""`retouch cutout` and `retouch replace-bg`: remove the background, or put the subject on a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retouch.cli.common import (
    DeviceOption,
    NoProvenanceOption,
    OverwriteOption,
    QualityOption,
    output_path,
    progress_bar,
    write_result,
)

Model = typer.Option(
    "--model", help="Cutout model (see 'retouch models list'); default: the best installed permissive one."
)
Output = typer.Option("--output", "-o", help="Output file; its extension picks the format (PNG/WebP keep alpha).")


def cutout_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo whose background to remove.")],
    output: Annotated[Path | None, Output] = None,
    model: Annotated[str | None, Model] = None,
    mask_only: Annotated[bool, typer.Option("--mask-only", help="Write the matte alone (white = subject).")] = False,
    crop: Annotated[bool, typer.Option("--crop", help="Crop to the subject's bounding box.")] = False,
    crop_margin: Annotated[
        int | None,
        typer.Option("--crop-margin", min=0, help="Crop to the subject with this margin in pixels (implies --crop)."),
    ] = None,
    bg_color: Annotated[
        str | None, typer.Option("--bg-color", help="Put this colour behind the subject: white, #1e90ff, 30,144,255.")
    ] = None,
    no_refine: Annotated[
        bool, typer.Option("--no-refine", help="Keep the network's own mask, resized (no full-resolution matting).")
    ] = False,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Remove the background: an RGBA image (PNG or WebP), or the matte alone with --mask-only."""
    from retouch.io import load_image
    from retouch.tools.cutout import cutout

    picture = load_image(image)
    target = output if output is not None else output_path(image, None, "mask" if mask_only else "cutout")
    if output is None and not mask_only and bg_color is None:
        target = target.with_suffix(".png")  # the input's own format may have no alpha (JPEG)
    with progress_bar(ctx) as progress:
        result = cutout(
            picture,
            model=model,
            mask_only=mask_only,
            crop=crop_margin if crop_margin is not None else (0 if crop else None),
            background=bg_color,
            refine=not no_refine,
            device=device,
            progress=progress,
        )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)


def replace_bg_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo whose background to replace.")],
    with_: Annotated[
        str,
        typer.Option(
            "--with",
            "-w",
            help="The new background: a colour (white, #1e90ff, 30,144,255), an image file, 'blur' or 'transparent'.",
        ),
    ],
    output: Annotated[Path | None, Output] = None,
    fit: Annotated[
        str, typer.Option("--fit", help="How a background image covers the frame: fill (crop) or fit (all visible).")
    ] = "fill",
    blur: Annotated[
        float | None, typer.Option("--blur", min=0.1, help="With --with blur: Gaussian sigma in pixels.")
    ] = None,
    no_harmonize: Annotated[
        bool, typer.Option("--no-harmonize", help="Do not adjust the subject's colour and light to the background.")
    ] = False,
    shadow: Annotated[bool, typer.Option("--shadow", help="Add a soft contact shadow under the subject.")] = False,
    model: Annotated[str | None, Model] = None,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Replace the background with a colour, an image, a blurred copy of the photo, or transparency."""
    from retouch.io import load_image
    from retouch.tools.cutout.replace import replace_background

    picture = load_image(image)
    target = output_path(image, output, "newbg")
    if output is None and with_.strip().lower() == "transparent":
        target = target.with_suffix(".png")
    with progress_bar(ctx) as progress:
        result = replace_background(
            picture,
            with_,
            fit=fit,
            blur=blur,
            harmonize=not no_harmonize,
            shadow=shadow,
            model=model,
            device=device,
            progress=progress,
        )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)


def register(app: typer.Typer) -> None:
    app.command("cutout")(cutout_command)
    app.command("replace-bg")(replace_bg_command)
