"""`retouch info` (what an image file holds) and `retouch convert` (re-encode it, keeping its metadata)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from retouch.cli.common import checked_output, report, state

if TYPE_CHECKING:
    from retouch.io import ImageHeader
    from retouch.types import Picture


def register(app: typer.Typer) -> None:
    """Add `info` and `convert` to the root command."""
    app.command("info")(info)
    app.command("convert")(convert)


def info(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The image file to describe.", show_default=False)],
    json_output: Annotated[bool, typer.Option("--json", help="Print the facts as JSON.")] = False,
) -> None:
    """Describe an image: size, colour mode, bit depth, alpha, colour profile, EXIF, orientation, XMP, provenance,
    and its Content Credentials (C2PA manifest), validated."""
    from retouch.io import load_image, probe

    if json_output:
        root = ctx.find_root()
        root.obj = dataclasses.replace(state(ctx), json=True)
    header = probe(image)
    picture = load_image(image)  # decodes everything: a damaged file fails here, not later in an edit
    facts = describe(image, header, picture)
    facts["content_credentials"] = _credentials(image)
    report(ctx, _human(facts), facts)


def convert(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The image to convert.", show_default=False)],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Where to write; the extension picks the format.", show_default=False),
    ],
    quality: Annotated[
        int | None,
        typer.Option("--quality", min=1, max=100, help="JPEG/WebP/HEIC quality (100 = lossless for WebP/HEIC)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")] = False,
) -> None:
    """Re-encode an image in another format, keeping its ICC profile, EXIF, XMP, DPI, alpha and bit depth
    where the new format can hold them. Nothing is edited, so no AI provenance is added."""
    from retouch.io import format_for_path, load_image, save_image

    fmt = format_for_path(output)
    checked_output(output, overwrite=overwrite)  # before the decoding work
    picture = load_image(image)
    written = save_image(picture, output, quality=quality, overwrite=overwrite, provenance=False)
    size = written.stat().st_size
    report(
        ctx,
        f"wrote {written} ({fmt.label}, {picture.width}x{picture.height}, {_kib(size)})",
        {"input": str(image), "output": str(written), "format": fmt.label, "width": picture.width,
         "height": picture.height, "bit_depth": picture.bit_depth, "bytes": size},
    )  # fmt: skip


def describe(path: Path, header: ImageHeader, picture: Picture) -> dict[str, Any]:
    """The facts `retouch info` prints, as plain JSON-ready values."""
    from retouch.io import read_provenance
    from retouch.io.exif import ORIENTATION_NAMES

    meta = picture.metadata
    provenance = read_provenance(meta.xmp)
    return {
        "file": str(path),
        "format": header.format.label,
        "width": picture.width,
        "height": picture.height,
        "mode": header.mode,
        "channels": "grey" if picture.is_grey else "RGB",
        "bit_depth": header.bit_depth,
        "loads_as": str(picture.pixels.dtype),
        "alpha": picture.has_alpha,
        "frames": header.frames,
        "icc_profile": _icc_description(meta.icc_profile) if meta.icc_profile else None,
        "exif": meta.exif is not None,
        "orientation": header.orientation,
        "orientation_applied": ORIENTATION_NAMES[header.orientation] if header.orientation != 1 else None,
        "dpi": list(meta.dpi) if meta.dpi else None,
        "xmp": meta.xmp is not None,
        "provenance": dataclasses.asdict(provenance) if provenance else None,
    }


def _credentials(path: Path) -> dict[str, Any] | None:
    """The file's Content Credentials as JSON-ready values (see retouch.io.credentials_read), or None."""
    from retouch.io.credentials_read import read_credentials

    found = read_credentials(path.read_bytes())  # load_image has read it within the size limit already
    if found is None:
        return None
    return {**dataclasses.asdict(found), "untrusted_only": found.untrusted_only}


def _credential_lines(found: dict[str, Any] | None) -> list[str]:
    if found is None:
        return ["  Content Credentials: none"]
    verdict = found["state"].lower()
    if found["state"] == "Valid" and found["failures"] and found["untrusted_only"]:
        verdict += " (signer not on a trust list)"
    lines = [f"  Content Credentials: {verdict}, made with {found['claim_generator'] or 'unnamed software'}"]
    if found["signer"]:
        lines.append(f"    signed by {found['signer']}" + (f", {found['algorithm']}" if found["algorithm"] else ""))
    for action in found["actions"]:
        text = action["action"] + (f": {action['description']}" if action["description"] else "")
        if action["digital_source_type"]:
            text += f" [{action['digital_source_type']}]"
        lines.append(f"    action {text}")
    for ingredient in found["ingredients"]:
        kind = ", ".join(filter(None, (ingredient["relationship"], ingredient["format"])))
        own = ", with its own Content Credentials" if ingredient["has_credentials"] else ""
        lines.append(f"    ingredient {ingredient['title'] or 'untitled'} ({kind}{own})")
    lines.extend(f"    failure {failure}" for failure in found["failures"])
    return lines


def _icc_description(icc: bytes) -> str:
    from PIL import ImageCms

    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "unnamed"
    except (ImageCms.PyCMSError, OSError, ValueError):
        return f"unreadable ({len(icc)} bytes)"


def _human(facts: dict[str, Any]) -> str:
    depth = f"{facts['bit_depth']}-bit"
    if facts["loads_as"] == "uint16" and facts["bit_depth"] != 16:
        depth += " (loads as 16-bit)"
    colour = facts["mode"] + ("" if facts["mode"] in ("RGB", "RGBA", "L", "LA") else f", loads as {facts['channels']}")
    frames = f", first of {facts['frames']} frames" if facts["frames"] > 1 else ""
    lines = [
        f"{facts['file']}: {facts['format']}, {facts['width']}x{facts['height']}, {colour}, {depth}, "
        f"{'with' if facts['alpha'] else 'no'} alpha{frames}",
        f"  colour profile: {facts['icc_profile'] or 'none (sRGB assumed)'}",
    ]
    exif = "yes" if facts["exif"] else "no"
    if facts["orientation_applied"]:
        exif += f", orientation {facts['orientation']} applied ({facts['orientation_applied']})"
    lines.append(f"  EXIF: {exif}")
    if facts["dpi"]:
        lines.append(f"  DPI: {facts['dpi'][0]:g}x{facts['dpi'][1]:g}")
    xmp = "yes" if facts["xmp"] else "no"
    provenance = facts["provenance"]
    if provenance:
        source = (provenance["digital_source_type"] or "").rsplit("/", 1)[-1] or "unknown source"
        edits = ", ".join(provenance["operations"])
        xmp += f"; provenance: {source}" + (
            f", edited with {provenance['creator_tool']}" if provenance["creator_tool"] else ""
        )
        xmp += f" ({edits})" if edits else ""
    lines.append(f"  XMP: {xmp}")
    lines.extend(_credential_lines(facts.get("content_credentials")))
    return "\n".join(lines)


def _kib(size: int) -> str:
    return f"{size / 1024:.0f} KiB" if size >= 1024 else f"{size} bytes"
