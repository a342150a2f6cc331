"""save_image: encode a Picture for its file extension and write it atomically."""

from __future__ import annotations

import os
from pathlib import Path

from retouch.io.atomic import output_exists, write_atomically
from retouch.io.encode import encode_image
from retouch.io.formats import format_for_path
from retouch.types import Picture


def save_image(
    picture: Picture,
    path: str | os.PathLike[str],
    *,
    quality: int | None = None,
    overwrite: bool = False,
    provenance: bool = True,
    format: str | None = None,
) -> Path:
    """Write the picture to `path`, in the format its extension names (.jpg .png .webp .tif .bmp .gif .heic)
    unless `format` is given, and return the path.

    Everything the format can hold is kept (see ``encode_image``): ICC profile, EXIF with orientation 1, XMP,
    DPI, alpha, greyscale and 16-bit samples in PNG and TIFF. A picture with transparent pixels cannot be saved
    as JPEG or BMP: that raises InvalidInput instead of silently flattening it. With ``provenance`` and recorded
    operations the XMP marks the picture as edited with AI.

    The file appears complete or not at all (temporary file, fsync, rename); an existing file is replaced only
    with ``overwrite=True``, otherwise OutputExists is raised.
    """
    target = Path(path)
    fmt = format_for_path(target, format)
    if not overwrite and target.exists():
        raise output_exists(target)  # before the encoding work
    data = encode_image(picture, fmt.name, quality=quality, provenance=provenance)
    return write_atomically(target, data, overwrite=overwrite)
