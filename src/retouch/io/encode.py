"""encode_image: a Picture to the bytes of one file format, keeping all the format can hold."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from retouch.errors import InvalidInput, RetouchError, RetouchWarning, TooLarge
from retouch.io.exif import reset_orientation, strip_prefix
from retouch.io.formats import ImageFormat, format_named
from retouch.io.modes import profile_matches
from retouch.types import Metadata, Picture


def encode_image(picture: Picture, format: str, *, quality: int | None = None, provenance: bool = True) -> bytes:
    """The picture encoded as `format` ("jpeg", "png", "webp", "tiff", "bmp", "gif", "heic"; an extension works).

    Kept where the format can hold it: ICC profile, EXIF (orientation 1: the pixels are upright), XMP, DPI,
    alpha, greyscale, 16-bit samples (PNG and TIFF exactly; HEIC as 10-bit). Formats limited to 8 bits get the
    16-bit samples rounded to 8; WebP stores grey as RGB; HEIC stores grey with alpha as RGBA; BMP and GIF carry
    no ICC, EXIF or XMP (a RetouchWarning says so when the picture has XMP or provenance to record); GIF reduces
    colour to a 256-colour palette with one transparent colour.

    A picture decoded from a JPEG file (``picture.source_jpeg``) and saved as JPEG without a ``quality`` keeps
    that file's DCT blocks wherever its pixels are unchanged, and re-encodes only the MCUs (8x8 or 16x16 pixels)
    an edit touched, with the file's quantisation tables, chroma sampling and EXIF orientation (see
    retouch.io.jpeg_lossless): a pixel more than one MCU away from every change decodes exactly as before, however
    many times the photo is edited and saved. Files whose blocks cannot be kept are encoded in full.

    Transparency is never dropped silently: for JPEG and BMP, which cannot store it, a picture with transparent
    pixels raises InvalidInput (use PNG, WebP, TIFF or HEIC, or flatten it first); a fully opaque alpha is dropped.

    ``quality`` (1-100) applies to JPEG (default 95, 4:4:4 chroma from 90 up; an edited JPEG keeps its own
    quality as above), WebP (default 90; 100 is lossless) and HEIC (default 90; 100 is lossless); lossless formats
    ignore it. With ``provenance`` and operations recorded in ``picture.metadata.operations``, the XMP is marked
    as edited with AI (see retouch.io.xmp); an XMP packet that cannot be read is left out, with a RetouchWarning.
    """
    fmt = format_named(format)
    encoded = encode_parts(picture, fmt, quality=quality, provenance=provenance)
    if encoded.xmp_left_out is not None:
        warnings.warn(xmp_left_out_message(fmt, picture, provenance), RetouchWarning, stacklevel=2)
    return encoded.data


@dataclass(frozen=True)
class Encoded:
    data: bytes
    xmp_left_out: bytes | None  # the XMP packet the format cannot hold (what a sidecar file would carry)


def encode_parts(picture: Picture, fmt: ImageFormat, *, quality: int | None, provenance: bool) -> Encoded:
    """``encode_image``'s work, without its warning: the file's bytes and the XMP packet left out of them."""
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100):
        raise InvalidInput(f"quality must be a whole number from 1 to 100, got {quality!r}")
    pixels, alpha = _fit(picture, fmt)
    meta = picture.metadata
    packet = _xmp_packet(meta, provenance)
    carried = _carried(fmt, meta, pixels, packet)
    try:
        data = None
        if fmt.name == "JPEG" and quality is None and picture.source_jpeg is not None:
            from retouch.io.jpeg_lossless import encode_keeping_blocks

            data = encode_keeping_blocks(
                picture.source_jpeg,
                pixels,
                icc_profile=carried.icc_profile,
                exif=carried.exif,
                xmp=carried.xmp,
                dpi=carried.dpi,
            )
        if data is None:
            data = _write(fmt, pixels, alpha, quality, carried)
    except RetouchError:
        raise
    except MemoryError:
        raise TooLarge(f"not enough memory to encode this {picture.width}x{picture.height} picture") from None
    except Exception as error:  # a codec refusing the data (e.g. EXIF too long for JPEG): one clear error
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise InvalidInput(f"cannot encode this picture as {fmt.label}: {reason}") from error
    return Encoded(data, packet if packet and not fmt.xmp else None)


def xmp_left_out_message(fmt: ImageFormat, picture: Picture, provenance: bool, sidecar: str | None = None) -> str:
    """What a format without XMP lost, for the warning; ``sidecar``: the file that carries it instead."""
    marked = provenance and bool(picture.metadata.operations)
    what = "the AI-edit provenance" if marked else "the picture's XMP metadata"
    if marked and picture.metadata.xmp:
        what += " and the picture's own XMP metadata"
    where = f"written to the XMP sidecar file {sidecar} instead" if sidecar else "not in the file"
    return f"{fmt.label} cannot hold XMP metadata: {what} {'are' if ' and ' in what else 'is'} {where}"


def to_8bit(samples: np.ndarray) -> np.ndarray:
    """16-bit samples rounded to the nearest 8-bit value (v / 257); 8-bit samples unchanged."""
    if samples.dtype == np.uint8:
        return samples
    return ((samples.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _fit(picture: Picture, fmt: ImageFormat) -> tuple[np.ndarray, np.ndarray | None]:
    pixels, alpha = picture.pixels, picture.alpha
    if alpha is not None and not fmt.alpha:
        if not np.all(alpha == picture.max_value):
            raise InvalidInput(
                f"{fmt.label} cannot store transparency and this picture has transparent pixels; save it as "
                ".png, .webp, .tif or .heic to keep them, or flatten it onto a background first"
            )
        alpha = None
    if pixels.dtype == np.uint16 and not fmt.deep:
        pixels, alpha = to_8bit(pixels), None if alpha is None else to_8bit(alpha)
    if pixels.shape[2] == 1 and (not fmt.grey or (alpha is not None and fmt.name == "HEIF")):
        pixels = np.repeat(pixels, 3, axis=2)  # HEIF has grey, but no grey+alpha layout
    return pixels, alpha


@dataclass(frozen=True)
class _Carried:
    """The metadata a format receives: None for what it cannot hold."""

    icc_profile: bytes | None
    exif: bytes | None
    xmp: bytes | None
    dpi: tuple[float, float] | None


def _xmp_packet(meta: Metadata, provenance: bool) -> bytes | None:
    """The XMP to write: the picture's packet, with the AI-edit provenance merged in when asked and recorded."""
    if provenance and meta.operations:
        from retouch._version import __version__
        from retouch.io.xmp import add_provenance

        return add_provenance(meta.xmp, meta.operations, f"Retouch {__version__}")
    return meta.xmp


def _carried(fmt: ImageFormat, meta: Metadata, pixels: np.ndarray, xmp: bytes | None) -> _Carried:
    return _Carried(
        icc_profile=meta.icc_profile if fmt.icc and profile_matches(meta.icc_profile, pixels.shape[2]) else None,
        # Callers building Metadata by hand may pass JPEG-style EXIF with its "Exif\0\0" marker: store it bare.
        exif=reset_orientation(strip_prefix(meta.exif)) if fmt.exif and meta.exif else None,
        xmp=xmp if fmt.xmp else None,
        dpi=meta.dpi if fmt.dpi else None,
    )


def _write(fmt: ImageFormat, pixels: np.ndarray, alpha: np.ndarray | None, quality: int | None, m: _Carried) -> bytes:
    if fmt.name == "PNG":
        from retouch.io.png import encode_png

        return encode_png(pixels, alpha, icc_profile=m.icc_profile, exif=m.exif, xmp=m.xmp, dpi=m.dpi)
    if fmt.name == "TIFF":
        from retouch.io.tiff import encode_tiff

        return encode_tiff(pixels, alpha, icc_profile=m.icc_profile, exif=m.exif, xmp=m.xmp, dpi=m.dpi)
    if fmt.name == "HEIF":
        from retouch.io.heif import encode_heif

        return encode_heif(pixels, alpha, quality=quality, icc_profile=m.icc_profile, exif=m.exif, xmp=m.xmp)
    from retouch.io import pillow_codec

    if fmt.name == "JPEG":
        return pillow_codec.encode_jpeg(
            pixels, quality=quality, icc_profile=m.icc_profile, exif=m.exif, xmp=m.xmp, dpi=m.dpi
        )
    if fmt.name == "WEBP":
        return pillow_codec.encode_webp(
            pixels, alpha, quality=quality, icc_profile=m.icc_profile, exif=m.exif, xmp=m.xmp
        )
    if fmt.name == "BMP":
        return pillow_codec.encode_bmp(pixels, dpi=m.dpi)
    return pillow_codec.encode_gif(pixels, alpha)
