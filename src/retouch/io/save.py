"""save_image: encode a Picture for its file extension and write it atomically, with its Content Credentials
embedded, and with an XMP sidecar file when the format cannot hold the AI-edit provenance."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from retouch.errors import RetouchWarning
from retouch.io.atomic import output_exists, write_atomically
from retouch.io.credentials import EMBEDDABLE
from retouch.io.encode import encode_parts, xmp_left_out_message
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
    own; 100 is lossless WebP; a picture loaded from a JPEG and saved as JPEG keeps its file's blocks and
    quality, see ``encode_image``). overwrite: replace an existing file (else OutputExists). provenance: with
    recorded operations, mark the picture as edited with AI in its XMP. format: a format name that overrides the
    extension. Returns the path written. With ``provenance`` and recorded operations a JPEG, PNG, WebP, TIFF,
    HEIC or GIF also gets Content Credentials: a C2PA manifest signed with the user's certificate or Retouch's
    local key (see retouch.io.credentials and retouch.io.signing), embedded before the file is written; a failure
    to sign raises InvalidInput and writes nothing. Everything the format can hold is kept (see
    ``encode_image``): ICC profile, EXIF with orientation 1 (a losslessly saved JPEG keeps its own), XMP, DPI,
    alpha, greyscale and 16-bit samples in PNG and TIFF. A picture with transparent pixels cannot be saved as
    JPEG or BMP: that raises InvalidInput instead of silently flattening it. The file appears complete or not at
    all (temporary file, fsync, rename).

    Formats without XMP (BMP, GIF) get a RetouchWarning when XMP is left out, and with ``provenance`` and
    recorded operations the packet goes to an XMP sidecar file beside the output: the same name with the
    extension ``.xmp`` (``clean.bmp`` -> ``clean.xmp``, as Adobe's applications name sidecars), written
    atomically like the image and refused like it when it exists without ``overwrite``.
    """
    target = Path(path)
    fmt = format_for_path(target, format)
    sidecar = sidecar_path(target) if not fmt.xmp and provenance and picture.metadata.operations else None
    for taken in (target, sidecar):
        if taken is not None and not overwrite and taken.exists():
            raise output_exists(taken)  # before the encoding work
    encoded = encode_parts(picture, fmt, quality=quality, provenance=provenance)
    data = encoded.data
    if provenance and picture.metadata.operations and fmt.name in EMBEDDABLE:
        from retouch.io.credentials import attach_credentials
        from retouch.models.cache import retouch_home

        data = attach_credentials(data, fmt, picture, target.name, retouch_home())  # signed before any write
    existed = target.exists()
    written = write_atomically(target, data, overwrite=overwrite)
    if encoded.xmp_left_out is None:
        return written
    if sidecar is not None:
        try:
            write_atomically(sidecar, encoded.xmp_left_out, overwrite=overwrite)
        except BaseException:
            if not existed:  # no new image without the sidecar that records how it was made
                written.unlink(missing_ok=True)
            raise
    where = str(sidecar) if sidecar is not None else None
    warnings.warn(xmp_left_out_message(fmt, picture, provenance, where), RetouchWarning, stacklevel=2)
    return written


def sidecar_path(image: Path) -> Path:
    """The XMP sidecar file of an image: the same name with the extension .xmp."""
    return image.with_suffix(".xmp")
