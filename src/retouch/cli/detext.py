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
    image: Annotated[Path | None, typer.Argument(help="The photo to remove text from.")] = None,
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
    watermark: Annotated[
        Path | None,
        typer.Option(
            "--watermark",
            help="A folder of photos that share one watermark (at least 8, one size): estimate the mark from all of "
            "them and take it off each, recovering the pixels under it; -o names the output folder.",
        ),
    ] = None,
    engine: Annotated[str, flag(ENGINE, "--engine", "-e")] = ENGINE.default,
    device: Annotated[str, DeviceOption] = "auto",
    seed: Annotated[int, flag(SEED)] = SEED.default,
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Find every line of text and erase its letters (with outlines and shadows); --keep spares matching text.
    With --watermark FOLDER, take a mark shared by a folder of photos off each of them."""
    import numpy as np

    from retouch import masks
    from retouch.errors import InvalidInput
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.detext import erase_found, find_text
    from retouch.types import Picture

    ENGINE.check(engine)
    if watermark is not None:
        if image is not None or box or keep or mask_only:
            raise InvalidInput(
                "--watermark FOLDER works on the whole folder: give no IMAGE, --box, --keep or --mask-only"
            )
        if output is None:
            raise InvalidInput("--watermark needs -o OUTDIR, the folder the cleaned photos are written to")
        remove_folder_watermark(ctx, watermark, output, engine, device, seed, quality, overwrite, not no_provenance)
        return
    if image is None:
        raise InvalidInput("give the IMAGE to remove text from (or --watermark FOLDER)")
    boxes = [masks.parse_box(text) for text in box or []]
    default = image.with_name(f"{image.stem}_text-mask.png") if mask_only else output_path(image, None, "detexted")
    target = checked_output(output or default, overwrite=overwrite)
    picture = load_image(image)

    def work(progress: ProgressCallback) -> tuple[FoundText, Picture]:
        found = find_text(picture, boxes=boxes, keep=keep, grow=grow, device=device, progress=progress)
        if mask_only:
            return found, Picture(found.mask.astype(np.uint8)[:, :, None] * np.uint8(255))
        return found, erase_found(picture, found, engine=engine, device=device, seed=seed, progress=progress)

    plan = estimate.try_for_tool("detext", picture.size, {}, device=device) if not mask_only else None
    found, result = run_tool(ctx, "detext", work, plan)
    lines = {
        "erased": [line.as_dict() for line in found.erased],
        "kept": [line.as_dict() for line in found.kept],
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


def remove_folder_watermark(
    ctx: typer.Context,
    folder: Path,
    outdir: Path,
    engine: str,
    device: str,
    seed: int,
    quality: int | None,
    overwrite: bool,
    provenance: bool,
) -> None:
    """``retouch detext --watermark``: every photo of ``folder`` without the mark they share, written under the
    same name in ``outdir`` (made if missing), each output checked before any work."""
    from retouch.errors import InvalidInput
    from retouch.io import load_image
    from retouch.io.formats import is_image_name
    from retouch.tools.detext.watermark import remove_shared_watermark

    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    sources = [path for path in sorted(folder.iterdir()) if is_image_name(path.name) and path.is_file()]
    if outdir.exists() and not outdir.is_dir():
        raise InvalidInput(f"{outdir} is not a folder")
    if outdir.resolve() == folder.resolve():
        raise InvalidInput("-o must be another folder than the photos': nothing is overwritten in place")
    outdir.mkdir(parents=True, exist_ok=True)
    targets = [checked_output(outdir / path.name, overwrite=overwrite) for path in sources]
    pictures = [load_image(path) for path in sources]
    cleaned = run_tool(ctx, "detext", lambda progress: remove_shared_watermark(
        pictures, engine=engine, device=device, seed=seed, progress=progress
    ))
    for result, target in zip(cleaned, targets, strict=True):
        write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=provenance)
