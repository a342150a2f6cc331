"""Bytes in and out: decoding uploads under the server's limits, previews for the page, downloads for the user."""

from __future__ import annotations

import io
import re
from pathlib import PurePath
from urllib.parse import quote

import numpy as np

from retouch.errors import InvalidInput, TooLarge
from retouch.types import Picture

# Previews up to this many pixels are lossless PNG; larger ones (the first view of a big photo) are JPEG at
# quality 95 without chroma subsampling: 30 times faster to encode, and indistinguishable on screen.
PNG_PREVIEW_PIXELS = 2_000_000
_ICC_SPACES = {1: b"GRAY", 3: b"RGB "}
BYTES_SOURCE = "the image data"  # how retouch.io names a file it was given as bytes


def decode(data: bytes, max_pixels: int, filename: str = "") -> Picture:
    """An uploaded file to a Picture; typed errors (corrupt, unsupported, too large) become 4xx answers whose
    message names the file as the user called it."""
    from retouch.io import load_image

    name = f"'{PurePath(filename).name}'" if filename else "the uploaded file"
    if not data:
        raise InvalidInput(f"{name} is empty")
    try:
        return load_image(data, max_pixels=max_pixels)
    except TooLarge:
        from retouch.io import probe

        header = probe(data)
        megapixels = header.width * header.height / 1e6
        raise TooLarge(
            f"{name} is {header.width}x{header.height} ({megapixels:.3g} megapixels), over this server's limit of "
            f"{max_pixels / 1e6:g} megapixels (retouch serve --max-megapixels)"
        ) from None
    except InvalidInput as error:
        message = str(error)
        if filename and message.startswith(BYTES_SOURCE):
            raise type(error)(name + message[len(BYTES_SOURCE) :]) from None
        raise


def encode(picture: Picture, quality: int | None = None) -> tuple[bytes, str]:
    """The picture in its original format, with its metadata and the AI-edited provenance XMP."""
    from retouch.io import encode_image

    fmt = picture.metadata.source_format or "PNG"
    return encode_image(picture, fmt, quality=quality, provenance=True), fmt


def media_type(fmt: str) -> str:
    from retouch.io import format_named

    return format_named(fmt).mime


def download_name(filename: str, fmt: str, suffix: str) -> str:
    """``<stem>-<suffix>.<ext>`` from the uploaded name, reduced to characters safe in any file system."""
    from retouch.io import format_named

    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", PurePath(filename or "image").stem).strip(" ._") or "image"
    return f"{stem[:100]}-{suffix}{format_named(fmt).extensions[0]}"


def attachment(filename: str) -> str:
    """A Content-Disposition value that survives any file name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def preview(
    pixels: np.ndarray, alpha: np.ndarray | None, icc_profile: bytes | None, fmt: str = "auto"
) -> tuple[bytes, str]:
    """An 8-bit PNG or JPEG of some pixels for the page to paint, tagged with the image's own ICC profile so
    the browser shows every preview of a document in the same colours."""
    from PIL import Image

    if fmt == "auto":
        fmt = "png" if alpha is not None or pixels.shape[0] * pixels.shape[1] <= PNG_PREVIEW_PIXELS else "jpeg"
    planes = pixels if alpha is None else np.concatenate([pixels, alpha[:, :, None]], axis=2)
    if planes.dtype == np.uint16:  # 16 bits to 8, rounded: 257 = 65535 / 255
        planes = ((planes.astype(np.uint32) + 128) // 257).astype(np.uint8)
    image = Image.fromarray(planes[:, :, 0] if planes.shape[2] == 1 else planes)
    mode = image.mode
    options: dict[str, object] = {}
    if icc_profile and icc_profile[16:20] == _ICC_SPACES.get(pixels.shape[2]):
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    if fmt == "jpeg" and mode in ("L", "RGB"):
        image.save(out, "JPEG", quality=95, subsampling=0, **options)
        return out.getvalue(), "image/jpeg"
    image.save(out, "PNG", compress_level=1, **options)
    return out.getvalue(), "image/png"
