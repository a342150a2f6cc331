"""`retouch relight`: add coloured lights to a photo, its subject inflated into a 3D shape."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from retouch.tools.options.relight import AMBIENT, DETAIL, FACES, MODEL, NO_MODEL, SHADOWS, SPEC_HELP

if TYPE_CHECKING:
    from retouch.types import Picture, ProgressCallback


def _checked_lights(specs: list[str] | None) -> list[str] | None:
    """Bad specs fail as the command line is read, before any file is opened."""
    from retouch.tools.relight.lights import parse_lights

    parse_lights(specs or [])
    return specs


def relight_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The photo to relight.")],
    light: Annotated[
        list[str] | None,
        typer.Option("--light", "-l", help=SPEC_HELP + " Repeat for more lights.", callback=_checked_lights),
    ] = None,
    ambient: Annotated[float, flag(AMBIENT)] = AMBIENT.default,
    output: Annotated[Path | None, OutputOption] = None,
    export_normals: Annotated[
        Path | None, typer.Option("--export-normals", help="Also write the normal map (R = x, G = y up, B = z) here.")
    ] = None,
    matte: Annotated[
        Path | None,
        typer.Option("--matte", help="The subject's matte (white = subject, or an image's alpha); default: found."),
    ] = None,
    click: Annotated[list[str] | None, ClickOption] = None,
    unclick: Annotated[list[str] | None, UnclickOption] = None,
    model: Annotated[str, flag(MODEL)] = MODEL.default,
    depth_model: Annotated[
        Path | None,
        typer.Option(
            "--depth-model",
            help="A Depth-Anything-V2 ONNX file (onnx-community/depth-anything-v2-small, onnx/model.onnx) whose "
            "depth replaces the inflated subject.",
        ),
    ] = None,
    detail: Annotated[float, flag(DETAIL)] = DETAIL.default,
    no_shadows: Annotated[bool, flag(SHADOWS, "--no-shadows", help="Cast no shadows.")] = not SHADOWS.default,
    no_faces: Annotated[bool, flag(FACES, "--no-faces", help="Give faces no relief of their own.")] = not FACES.default,
    device: Annotated[str, DeviceOption] = "auto",
    quality: Annotated[int | None, QualityOption] = None,
    overwrite: Annotated[bool, OverwriteOption] = False,
    no_provenance: Annotated[bool, NoProvenanceOption] = False,
) -> None:
    """Relight a photo: add point, directional and spot lights with colour, and rim lights that follow the
    subject's silhouette. The subject comes from --matte, the object --click selects, the image's alpha or a
    cutout model; without one the photo is lit as a flat plane with its own detail. --ambient 1 with no --light
    returns the photo unchanged."""
    from retouch.errors import InvalidInput
    from retouch.io import load_image, save_image
    from retouch.masks import load_matte
    from retouch.tools import estimate
    from retouch.tools.relight import normal_map, relight, relight_geometry

    clicks = parse_clicks(click, unclick)
    if clicks and matte is not None:
        raise InvalidInput("give the subject either as --matte or by --click, not both")
    target = checked_output(output_path(image, output, "relit"), overwrite=overwrite)
    if export_normals is not None:
        checked_output(export_normals, overwrite=overwrite)
    picture = load_image(image)
    subject = load_matte(matte) if matte is not None else None
    if clicks:
        from retouch.tools.select import select

        subject = select(picture, clicks, model=None if model == NO_MODEL else model, device=device)
    written: dict[str, Any] = {}

    def work(progress: ProgressCallback) -> Picture:
        geometry = relight_geometry(
            picture,
            matte=subject,
            model=model,
            faces=not no_faces,
            detail=detail,
            depth_model=depth_model,
            device=device,
            progress=progress,
        )
        result = relight(picture, light, ambient=ambient, geometry=geometry, shadows=not no_shadows, progress=progress)
        if export_normals is not None:
            normals = save_image(normal_map(geometry), export_normals, overwrite=overwrite, provenance=False)
            written["normals"] = str(normals)
        return result

    options = {"model": NO_MODEL if subject is not None else model, "lights": light}
    plan = estimate.try_for_tool("relight", picture.size, options, device=device)
    result = run_tool(ctx, "relight", work, plan)
    write_result(ctx, result, target, quality=quality, overwrite=overwrite, provenance=not no_provenance, extra=written)

