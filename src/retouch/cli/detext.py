"""`retouch detext`: find the text in a photo and erase it, or write its mask."""

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
    state,
    write_result,
)
from retouch.cli.options import flag
from retouch.cli.running import run_tool
from retouch.tools.options.detext import ENGINE, GROW, KEEP, SEED

if TYPE_CHECKING:
    from retouch.tools.detext import FoundText
    from retouch.types import ProgressCallback


def detext_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to remove text from.")],
    output: Annotated[Path | None, OutputOption] = None,
    box: Annotated[
        list[str] | None, typer.Option("--box", "-b", help="Look for text only inside x,y,w,h. Repeatable.")
    ] = None,
    keep: Annotated[str | None, flag(KEEP)] = KEEP.default,
    grow: Annotated[int | None, flag(GROW)] = GROW.default,
    mask_only: Annotated[
        bool,
        typer.Option("--mask-only", help="Write the text mask (white = erase) instead, to correct and give to erase."),
    ] = False,
    engine: Annotated[str, flag(ENGINE, "--engine", "-e")] = ENGINE.default,
    device: Annotated[str, DeviceOption] = "auto",
    seed: Annotated[int, flag(SEED)] = SEED.default,
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Find every line of text and erase its letters (with outlines and shadows); --keep spares matching text."""
    import numpy as np

    from retouch import masks
    from retouch.io import load_image
    from retouch.tools.detext import erase_found, find_text
    from retouch.types import Picture

    boxes = [masks.parse_box(text) for text in box or []]
    ENGINE.check(engine)
    default = image.with_name(f"{image.stem}_text-mask.png") if mask_only else output_path(image, None, "detexted")
    target = checked_output(output or default, overwrite=overwrite)
    picture = load_image(image)

    def work(progress: ProgressCallback) -> tuple[FoundText, Picture]:
        found = find_text(picture, boxes=boxes, keep=keep, grow=grow, device=device, progress=progress)
        if mask_only:
            return found, Picture(found.mask.astype(np.uint8)[:, :, None] * np.uint8(255))
        return found, erase_found(picture, found, engine=engine, device=device, seed=seed, progress=progress)

    found, result = run_tool(ctx, "detext", work)
    lines = {
        "erased": [{"box": list(line.box), "text": line.text} for line in found.erased],
        "kept": [{"box": list(line.box), "text": line.text} for line in found.kept],
    }
    st = state(ctx)
    if not (st.quiet or st.json):
        count = len(found.erased) + len(found.kept)
        said = f"{count} line{'s' if count != 1 else ''} of text found"
        said += f", {len(found.kept)} kept" if found.kept else ""
        typer.echo(said if found.erased else "no text found: the output is the input unchanged", err=True)
    write_result(
        ctx,
        result,
        target,
        quality=quality,
        overwrite=overwrite,
        provenance=not (no_provenance or mask_only),
        extra=lines,
    )
