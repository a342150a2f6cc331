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
    """Write the picture to ``path``, in the format its extension names, and return the path.

    picture: pixels HxWx1 or HxWx3, uint8 or uint16, alpha HxW of the same dtype or None. path: the file to
    write (.jpg .png .webp .tif .bmp .gif .heic). quality: 1-100 for JPEG, WebP and HEIC (default: the format's
    own; 100 is lossless WebP). overwrite: replace an existing file (else OutputExists). provenance: with recorded
    operations, mark the picture as edited with AI in its XMP. format: a format name that overrides the extension.
    Returns the path written. Everything the format can hold is kept (see ``encode_image``): ICC profile, EXIF
    with orientation 1, XMP, DPI, alpha, greyscale and 16-bit samples in PNG and TIFF. A picture with transparent
    pixels cannot be saved as JPEG or BMP: that raises InvalidInput instead of silently flattening it. The file
    appears complete or not at all (temporary file, fsync, rename).
    """
    target = Path(path)
    fmt = format_for_path(target, format)
    if not overwrite and target.exists():
        raise output_exists(target)  # before the encoding work
    data = encode_image(picture, fmt.name, quality=quality, provenance=provenance)
    return write_atomically(target, data, overwrite=overwrite)
