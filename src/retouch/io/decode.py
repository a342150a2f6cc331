"""load_image and probe: read any supported file into a Picture, upright, with its metadata, or fail clearly."""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from retouch.errors import CorruptImage, InvalidInput, RetouchError, TooLarge, UnsupportedFormat
from retouch.io.exif import reset_orientation
from retouch.io.formats import READABLE, ImageFormat, sniff
from retouch.io.limits import HINT, check_pixels, pixel_limit, read_limit
from retouch.io.modes import profile_matches
from retouch.io.opened import ImageHeader, Opened
from retouch.io.pillow_codec import webp_canvas
from retouch.types import Metadata, Picture

Source = str | os.PathLike[str] | bytes
BYTES_SOURCE = "the image data"  # how errors name a file given as bytes
T = TypeVar("T")


def load_image(source: Source, *, max_pixels: int | None = None) -> Picture:
    """Decode an image file (or its bytes) into a Picture.

    source: a path or the file's bytes: JPEG, PNG, WebP, TIFF, BMP, GIF (first frame) or HEIC/HEIF.
    max_pixels: bound on width x height, checked on the header before anything is decoded (default:
    $RETOUCH_MAX_PIXELS, else 150 megapixels; 0 = no limit).
    Returns a Picture, upright (the EXIF orientation is applied and reset to 1 in ``metadata.exif``): pixels HxWx1
    (grey) or HxWx3 (RGB), uint8, or uint16 for 16-bit PNG and TIFF and 10/12-bit HEIC; alpha HxW of the same
    dtype, or None. Palette images become RGB(A) (grey when the palette is), 1-bit becomes grey, CMYK becomes
    RGB through its ICC profile. ICC profile, EXIF, XMP and DPI are kept in ``metadata``; a path is kept as
    ``source_file``, the parent ingredient of the Content Credentials a save writes.
    Raises InvalidInput (missing or unreadable file), UnsupportedFormat (not an image Retouch reads),
    CorruptImage (truncated or damaged) or TooLarge.
    """
    limit = pixel_limit(max_pixels)
    data, name = _read(source, read_limit(limit))
    opened = _open(data, name, limit)
    header = opened.header
    check_pixels(header.width, header.height, limit, name)
    pixels, alpha = _guarded(opened.decode, name, header.format)
    metadata = Metadata(
        icc_profile=opened.icc_profile if profile_matches(opened.icc_profile, pixels.shape[2]) else None,
        exif=reset_orientation(opened.exif),
        xmp=opened.xmp,
        dpi=opened.dpi,
        source_format=header.format.name,
    )
    # C order: flipped or turned views would surprise consumers such as torch.from_numpy
    contiguous_alpha = None if alpha is None else np.ascontiguousarray(alpha)
    source_jpeg = data if header.format.name == "JPEG" else None  # lets a JPEG save keep untouched blocks
    source_file = None if isinstance(source, (bytes, bytearray, memoryview)) else Path(os.fspath(source)).absolute()
    return Picture(
        pixels=np.ascontiguousarray(pixels),
        alpha=contiguous_alpha,
        metadata=metadata,
        source_jpeg=source_jpeg,
        source_file=source_file,
    )


def probe(source: Source) -> ImageHeader:
    """What the file's header says (format, stored size, colour mode, bit depth, orientation), decoding nothing.

    A WebP over the pixel limit raises TooLarge: its reader takes memory for the whole canvas to open it."""
    limit = pixel_limit()
    data, name = _read(source, read_limit(limit))
    return _open(data, name, limit).header


def _read(source: Source, most: int | None) -> tuple[bytes, str]:
    """The file's bytes and how to name it; a path must be a regular file of at most ``most`` bytes (a FIFO
    would block the read, /dev/zero would never end it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), BYTES_SOURCE
    try:
        path = Path(os.fspath(source))
    except TypeError:
        raise InvalidInput(f"expected a file path or the image's bytes, got {type(source).__name__}") from None
    try:
        with open(path, "rb", opener=_open_without_blocking) as file:
            facts = os.fstat(file.fileno())
            if stat.S_ISDIR(facts.st_mode):
                raise InvalidInput(f"{path} is a folder, not an image file")
            if not stat.S_ISREG(facts.st_mode):
                raise InvalidInput(f"{path} is not a regular file (a device, pipe or socket); give an image file")
            if most is not None and facts.st_size > most:
                raise _too_long(path, facts.st_size, most)
            data = file.read(-1 if most is None else most + 1)  # the file may grow while it is read
            if most is not None and len(data) > most:
                raise _too_long(path, len(data), most)
            return data, str(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not an image file") from None
    except PermissionError:
        raise InvalidInput(f"{path}: permission denied") from None
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror or error})") from None


def _too_long(path: Path, size: int, most: int) -> TooLarge:
    return TooLarge(
        f"{path} is {size / 1e6:.0f} MB, more than any image within the pixel limit takes ({most / 1e6:.0f} MB); "
        f"{HINT}"
    )


def _open_without_blocking(path: str, flags: int) -> int:
    """Open for reading without waiting for a writer, as opening a FIFO otherwise would."""
    return os.open(path, flags | os.O_NONBLOCK)


def _open(data: bytes, name: str, limit: int | None) -> Opened:
    if not data:
        raise CorruptImage(f"{name} is empty (0 bytes)")
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedFormat(f"{name} is not an image Retouch can read (it reads {READABLE})")
    if fmt.name == "WEBP" and (canvas := webp_canvas(data)):  # opening one takes memory for its whole canvas
        check_pixels(*canvas, limit, name)
    return _guarded(lambda: _opener(fmt)(data), name, fmt)


def _opener(fmt: ImageFormat) -> Callable[[bytes], Opened]:
    if fmt.name == "PNG":
        from retouch.io.png import open_png

        return open_png
    if fmt.name == "TIFF":
        from retouch.io.tiff import open_tiff

        return open_tiff
    if fmt.name == "HEIF":
        from retouch.io.heif import open_heif

        return open_heif
    from retouch.io.pillow_codec import open_with_pillow

    return lambda data: open_with_pillow(data, fmt)


def _guarded(step: Callable[[], T], name: str, fmt: ImageFormat) -> T:
    """Run a decoding step; whatever a codec raises becomes one clear error naming the file."""
    try:
        with warnings.catch_warnings():
            # Pillow warns about damage it works around (truncated EXIF, bad tags); the result is what counts
            warnings.simplefilter("ignore", UserWarning)
            return step()
    except RetouchError as error:
        raise type(error)(f"{name}: {error}") from None
    except MemoryError:
        raise TooLarge(f"{name}: not enough memory to decode this {fmt.label} image") from None
    except Exception as error:  # Pillow, OpenCV, tifffile and libheif raise many types: none may escape
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise CorruptImage(f"{name}: this {fmt.label} file is damaged or truncated ({reason})") from error
