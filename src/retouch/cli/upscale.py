"""`retouch upscale`: enlarge a photo with a super-resolution network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retouch.cli.common import (
    DeviceOption,
    NoProvenanceOption,
    OutputOption,
    OverwriteOption,
    QualityOption,
    output_path,
    progress_bar,
    write_result,
)


def upscale_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The image to enlarge.")],
    scale: Annotated[
        float | None,
        typer.Option("--scale", "-s", help="Enlargement factor, 1 to 16, e.g. 2, 3, 4 or 2.5 (default: the model's)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Upscaling model (default realesrgan-x4plus; see `retouch models list`)."
        ),
    ] = None,
    output: Annotated[Path | None, OutputOption] = None,
    tile: Annotated[
        int | None, typer.Option("--tile", min=32, help="Tile side in input pixels; smaller uses less memory.")
    ] = None,
    denoise: Annotated[
        float | None,
        typer.Option("--denoise", min=0.0, max=1.0, help="realesr-general-x4v3 only: 0 keeps noise, 1 removes most."),
    ] = None,
    device: Annotated[str, DeviceOption] = "auto",
    precision: Annotated[
        str,
        typer.Option(
            "--precision", help="CPU: auto (bf16 where the CPU has it), fp32 (the reference's results) or bf16."
        ),
    ] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Enlarge an image with a super-resolution network (Real-ESRGAN), any size, tile by tile."""
    from retouch.io import load_image
    from retouch.tools.upscale import DEFAULT_MODEL, upscale

    picture = load_image(image)
    target = output_path(image, output, "upscaled")
    with progress_bar(ctx) as progress:
        result = upscale(
            picture,
            scale=scale,
            model=model or DEFAULT_MODEL,
            tile=tile,
            device=device,
            progress=progress,
            denoise=denoise,
            precision=precision,
        )
    write_result(
        ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance, show_size=True
    )
