"""`retouch restore`: restore faces and old photos (scratches, dust, noise, colour cast, size)."""

from __future__ import annotations

import sys
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
from retouch.tools.options.restore import (
    COLOUR,
    DENOISE,
    DETECTOR,
    FACE_MODEL,
    FACE_MODEL_OPTION,
    SCRATCHES,
    SENSITIVITY,
    STRENGTH,
    UPSCALE,
)

if TYPE_CHECKING:
    from retouch.types import Picture, ProgressCallback

FACES_HELP = (
    f"Restore faces (needs the face model: retouch models pull {FACE_MODEL}). Default: restore them when the model "
    "is installed, else warn and restore the rest. --faces makes a missing model an error; --no-faces skips faces."
)
STRENGTH_HELP = STRENGTH.help + " 'a,b,...' gives one per face, faces counted left to right."


def restore_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to restore.")],
    output: Annotated[Path | None, OutputOption] = None,
    faces: Annotated[bool | None, typer.Option("--faces/--no-faces", help=FACES_HELP, show_default=False)] = None,
    strength: Annotated[str, typer.Option("--strength", "-s", help=STRENGTH_HELP)] = f"{STRENGTH.default:g}",
    scratches: Annotated[bool, flag(SCRATCHES)] = SCRATCHES.default,
    sensitivity: Annotated[float, flag(SENSITIVITY)] = SENSITIVITY.default,
    denoise: Annotated[float, flag(DENOISE)] = DENOISE.default,
    colour: Annotated[float, flag(COLOUR, "--colour", "--color")] = COLOUR.default,
    upscale: Annotated[int, flag(UPSCALE)] = UPSCALE.default,
    detector: Annotated[str, flag(DETECTOR)] = DETECTOR.default,
    face_model: Annotated[str, flag(FACE_MODEL_OPTION)] = FACE_MODEL_OPTION.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Restore an old or damaged photo: faces, scratches and dust, noise, colour cast, and optionally its size."""
    from retouch.io import load_image
    from retouch.tools import estimate
    from retouch.tools.restore import WARNING_PREFIX, restore

    strengths = parse_strengths(strength)
    target = checked_output(output_path(image, output, "restored"), overwrite=overwrite)
    picture = load_image(image)
    warnings: list[str] = []
    options = {"faces": faces, "scratches": scratches, "denoise": denoise, "colour": colour, "upscale": upscale}
    plan = estimate.try_for_tool("restore", picture.size, options, device=device)

    def work(bar: ProgressCallback) -> Picture:
        def progress(stage: str, done: int, total: int) -> None:
            if stage.startswith(WARNING_PREFIX):
                warnings.append(stage.removeprefix(WARNING_PREFIX))
                if not state(ctx).quiet and not state(ctx).json:
                    sys.stderr.write(f"retouch: {stage}\n")
                return
            bar(stage, done, total)

        return restore(
            picture,
            faces=faces,
            strength=strengths,
            scratches=scratches,
            scratch_sensitivity=sensitivity,
            denoise=denoise,
            colour=colour,
            upscale=upscale,
            face_model=face_model,
            detector=detector,
            device=device,
            progress=progress,
        )

    result = run_tool(ctx, "restore", work, plan)
    write_result(
        ctx,
        result,
        target,
        quality=quality,
        overwrite=overwrite,
        provenance=not no_provenance,
        extra={"warnings": warnings},
    )


def parse_strengths(text: str) -> float | list[float]:
    """'0.8' -> 0.8; '1,0.5' -> [1.0, 0.5]; anything else is an InvalidInput."""
    from retouch.errors import InvalidInput

    parts = [part.strip() for part in text.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise InvalidInput(
            f"--strength takes a number in 0..1 or a comma-separated list of them, got {text!r}"
        ) from None
    for value in values:
        STRENGTH.check(value)  # before any work, with the tool's own rule
    return values[0] if len(values) == 1 else values
