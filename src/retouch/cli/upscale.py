"""`retouch upscale`: enlarge a photo with a super-resolution network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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
from retouch.tools.options.upscale import DENOISE, MODEL, PRECISION, SCALE, TILE

if TYPE_CHECKING:
    from retouch.types import Picture, ProgressCallback


def upscale_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The image to enlarge.")],
    scale: Annotated[float | None, flag(SCALE, "--scale", "-s")] = SCALE.default,
    model: Annotated[str, flag(MODEL, "--model", "-m")] = MODEL.default,
    output: Annotated[Path | None, OutputOption] = None,
    tile: Annotated[int | None, flag(TILE)] = TILE.default,
    denoise: Annotated[float | None, flag(DENOISE)] = DENOISE.default,
    device: Annotated[str, DeviceOption] = "auto",
    precision: Annotated[str, flag(PRECISION)] = PRECISION.default,
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Enlarge an image with a super-resolution network (Real-ESRGAN), any size, tile by tile. The default model,
    auto, keeps realesrgan-x4plus for outputs up to 4 MP and takes a compact model above that on a CPU; it says
    which on stderr."""
    import sys

    from retouch.cli.common import state
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.upscale import choose_model, upscale

    target = checked_output(output_path(image, output, "upscaled"), overwrite=overwrite)
    picture = load_image(image)
    model, why = choose_model(model, picture.size, scale, device)
    options = {"scale": scale, "model": model, "tile": tile}
    plan = estimate.try_for_tool("upscale", picture.size, options, device=device)

    def work(progress: ProgressCallback) -> Picture:
        noted = False

        def report(stage: str, done: int, total: int) -> None:
            nonlocal noted
            if why and not noted and not state(ctx).quiet:  # once the work starts: a failing run says only why
                sys.stderr.write(f"retouch: {why}\n")
            noted = True
            progress(stage, done, total)

        return upscale(
            picture,
            scale=scale,
            model=model,
            tile=tile,
            device=device,
            progress=report,
            denoise=denoise,
            precision=precision,
        )

    result = run_tool(ctx, "upscale", work, plan)
    write_result(
        ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance, show_size=True
    )
