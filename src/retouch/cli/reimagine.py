"""`retouch reimagine`: variations of a photo made by a diffusion model. Its outputs always carry the provenance
marks (trainedAlgorithmicMedia: see ``retouch.tools.reimagine``); there is no --no-provenance here."""

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
    report,
)
from retouch.cli.options import flag
from retouch.cli.running import run_tool
from retouch.tools.options.generate import COUNT, MODEL, SEED, STEPS, STRENGTH

if TYPE_CHECKING:
    from retouch.types import Picture, ProgressCallback


def variation_paths(target: Path, count: int) -> list[Path]:
    """Where ``count`` variations go: ``target`` itself for one, else ``<stem>-1<ext>`` .. ``<stem>-K<ext>``."""
    if count == 1:
        return [target]
    return [target.with_name(f"{target.stem}-{index}{target.suffix}") for index in range(1, count + 1)]


def reimagine_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to reimagine.")],
    output: Annotated[Path | None, OutputOption] = None,
    strength: Annotated[float, flag(STRENGTH)] = STRENGTH.default,
    seed: Annotated[int, flag(SEED)] = SEED.default,
    count: Annotated[int, flag(COUNT, "--count", "-n", help=COUNT.help + " With more than one, -o out.png "
                                 "writes out-1.png .. out-K.png.")] = COUNT.default,
    steps: Annotated[int | None, flag(STEPS)] = STEPS.default,
    model: Annotated[str, flag(MODEL)] = MODEL.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
) -> None:
    """Make variations of a photo's content and style with a diffusion model (the optional 'gen' extra and a
    pulled model); each comes back at the photo's size."""
    from retouch.io import load_image, save_image
    from retouch.tools.reimagine import reimagine

    # every name is checked before any work: a run never stops half-written on an existing file
    targets = [
        checked_output(path, overwrite=overwrite)
        for path in variation_paths(output_path(image, output, "reimagined"), count)
    ]
    picture = load_image(image)

    def work(progress: ProgressCallback) -> list[Picture]:
        return reimagine(
            picture, strength=strength, seed=seed, count=count, steps=steps, model=model, device=device,
            progress=progress,
        )

    variations = run_tool(ctx, "reimagine", work)
    written = [
        save_image(variation, target, quality=quality, overwrite=overwrite, provenance=True)
        for variation, target in zip(variations, targets, strict=True)
    ]
    size = f"{picture.width}x{picture.height}"
    report(
        ctx,
        "\n".join(f"wrote {path} ({size}, seed {seed + index})" for index, path in enumerate(written)),
        [
            {"output": str(path), "width": picture.width, "height": picture.height, "seed": seed + index,
             "operations": list(variation.metadata.operations)}
            for index, (path, variation) in enumerate(zip(written, variations, strict=True))
        ],
    )
