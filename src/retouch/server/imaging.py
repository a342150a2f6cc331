"""Bytes in and out: decoding uploads under the server's limits, previews for the page, downloads for the user."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
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
log = logging.getLogger("retouch.server")


def decode(data: bytes, max_pixels: int, filename: str = "") -> Picture:
    """An uploaded file to a Picture; typed errors (corrupt, unsupported, too large) become 4xx answers whose
    message names the file as the user called it."""
    from retouch.io import load_image

    name = f"'{PurePath(filename).name}'" if filename else "the uploaded file"
    if not data:
        raise InvalidInput(f"{name} is empty")
    try:
        with server_limit():
            return load_image(data, max_pixels=max_pixels)
    except InvalidInput as error:
        message = str(error)
        if filename and message.startswith(BYTES_SOURCE):
            raise type(error)(name + message[len(BYTES_SOURCE) :]) from None
        raise


SERVER_RAISE = "raise this server's limit with retouch serve --max-megapixels"


@contextmanager
def server_limit() -> Iterator[None]:
    """A TooLarge raised inside names the server's --max-megapixels, not the library's settings, as the way
    to raise the limit (masks, background images and outputs are held to the same limit as uploads)."""
    from retouch.io.limits import RAISE

    try:
        yield
    except TooLarge as error:
        raise TooLarge(str(error).replace(RAISE, SERVER_RAISE)) from None


def decode_mask(data: bytes, size: tuple[int, int], max_pixels: int) -> np.ndarray:
    """A mask image of any size, scaled to ``size``, decoded under the server's pixel limit."""
    from retouch.masks import load_mask

    with server_limit():
        return load_mask(data, size, resize=True, max_pixels=max_pixels)


def encode(picture: Picture, quality: int | None = None, provenance: bool = True) -> tuple[bytes, str]:
    """The picture in its original format, with its metadata and (with ``provenance``) the AI-edited provenance
    XMP; the Content Credentials are added by ``ServerCredentials.attach``.

    A picture whose own EXIF or XMP cannot be written (too long for the format, say) is encoded without them,
    with the provenance alone and a warning in the server log, rather than refused: otherwise a document holding
    such metadata could never be downloaded again."""
    from retouch.io import encode_image

    fmt = picture.metadata.source_format or "PNG"
    try:
        return encode_image(picture, fmt, quality=quality, provenance=provenance), fmt
    except TooLarge:
        raise
    except InvalidInput as error:
        meta = picture.metadata
        if meta.exif is None and meta.xmp is None:
            raise
        log.warning("the picture's EXIF and XMP metadata were left out of a download: %s", error)
        bare = dataclasses.replace(picture, metadata=dataclasses.replace(meta, exif=None, xmp=None))
        return encode_image(bare, fmt, quality=quality, provenance=provenance), fmt


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


def png_data_url(pixels: np.ndarray) -> str:
    """HxW or HxWx3 uint8 pixels as a PNG data URL, compressed lightly (the page decodes it at once): the masks
    and maps that jobs hand to the page."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
