"""load_image and probe: read any supported file into a Picture, upright, with its metadata, or fail clearly."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from retouch.errors import CorruptImage, InvalidInput, RetouchError, TooLarge, UnsupportedFormat
from retouch.io.exif import reset_orientation
from retouch.io.formats import READABLE, ImageFormat, sniff
from retouch.io.limits import check_pixels, pixel_limit
from retouch.io.modes import profile_matches
from retouch.io.opened import ImageHeader, Opened
from retouch.types import Metadata, Picture

Source = str | os.PathLike[str] | bytes
T = TypeVar("T")


def load_image(source: Source, *, max_pixels: int | None = None) -> Picture:
    """Decode an image file (or its bytes) into a Picture.

    source: a path or the file's bytes: JPEG, PNG, WebP, TIFF, BMP, GIF (first frame) or HEIC/HEIF.
    max_pixels: bound on width x height, checked on the header before anything is decoded (default:
    $RETOUCH_MAX_PIXELS, else 150 megapixels; 0 = no limit).
    Returns a Picture, upright (the EXIF orientation is applied and reset to 1 in ``metadata.exif``): pixels HxWx1
    (grey) or HxWx3 (RGB), uint8, or uint16 for 16-bit PNG and TIFF and 10/12-bit HEIC; alpha HxW of the same
    dtype, or None. Palette images become RGB(A) (grey when the palette is), 1-bit becomes grey, CMYK becomes
    RGB through its ICC profile. ICC profile, EXIF, XMP and DPI are kept in ``metadata``.
    Raises InvalidInput (missing or unreadable file), UnsupportedFormat (not an image Retouch reads),
    CorruptImage (truncated or damaged) or TooLarge.
    """
    limit = pixel_limit(max_pixels)
    data, name = _read(source)
    opened = _open(data, name)
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
    return Picture(pixels=np.ascontiguousarray(pixels), alpha=contiguous_alpha, metadata=metadata)


def probe(source: Source) -> ImageHeader:
    """What the file's header says (format, stored size, colour mode, bit depth, orientation), decoding nothing."""
    data, name = _read(source)
    return _open(data, name).header


def _read(source: Source) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the image data"
    try:
        path = Path(os.fspath(source))
    except TypeError:
        raise InvalidInput(f"expected a file path or the image's bytes, got {type(source).__name__}") from None
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not an image file") from None
    except PermissionError:
        raise InvalidInput(f"{path}: permission denied") from None
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror or error})") from None


def _open(data: bytes, name: str) -> Opened:
    if not data:
        raise CorruptImage(f"{name} is empty (0 bytes)")
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedFormat(f"{name} is not an image Retouch can read (it reads {READABLE})")
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
