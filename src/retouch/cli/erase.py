"""`retouch erase`: remove what a mask or a box covers."""

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

Engine = typer.Option("--engine", "-e", help="auto (best installed network, else patch), patch, lama or migan.")


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
    output: Annotated[Path | None, OutputOption] = None,
    engine: Annotated[str, Engine] = "auto",
    grow: Annotated[
        int | None, typer.Option("--grow", min=0, help="Pixels to grow the mask by (default: a few, by size).")
    ] = None,
    feather: Annotated[
        float | None, typer.Option("--feather", min=0, help="Soft edge width inside the grown mask, pixels.")
    ] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="HD strategy: auto, whole, resize or crop.")] = "auto",
    device: Annotated[str, DeviceOption] = "auto",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the patch engine's random search.")] = 0,
    resize_mask: Annotated[
        bool, typer.Option("--resize-mask", help="Scale a mask of another size to the image.")
    ] = False,
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Erase what the mask or boxes cover, filling it with what plausibly lies behind."""
    from retouch import masks
    from retouch.errors import InvalidInput
    from retouch.io import load_image
    from retouch.tools.erase import erase

    if not mask and not box:
        raise InvalidInput("nothing to erase: give --mask FILE or --box x,y,w,h")
    picture = load_image(image)
    parts = [masks.load_mask(path, picture.size, resize=resize_mask) for path in mask or []]
    if box:
        parts.append(masks.mask_from_boxes([masks.parse_box(text) for text in box], picture.size))
    target = output_path(image, output, "erased")
    with progress_bar(ctx) as progress:
        result = erase(
            picture,
            masks.combine(parts),
            engine=engine,
            grow=grow,
            feather=feather,
            strategy=strategy,
            device=device,
            seed=seed,
            progress=progress,
        )
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance)
