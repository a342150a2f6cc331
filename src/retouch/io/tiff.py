"""TIFF: header and metadata from the first IFD, 16-bit pixels with tifffile (OpenCV when a codec is missing),
and a writer of our own for every bit depth, so ICC, XMP, resolution and EXIF (its Exif and GPS IFDs included)
all land in the file, which neither Pillow (no 16-bit colour) nor tifffile (no Exif IFD) can do alone.
"""

from __future__ import annotations

import io
import zlib
from functools import partial
from typing import Any

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags

from retouch.errors import CorruptImage, UnsupportedFormat
from retouch.io.exif import apply_orientation, exif_from_tiff_tags, tiff_tags_from_exif
from retouch.io.formats import FORMATS
from retouch.io.modes import split_alpha
from retouch.io.opened import Decoded, ImageHeader, Opened
from retouch.io.pillow_codec import decode_with_pillow

# baseline TIFF tag numbers
WIDTH, HEIGHT, BITS, COMPRESSION, PHOTOMETRIC = 256, 257, 258, 259, 262
STRIP_OFFSETS, ORIENTATION, SAMPLES, ROWS_PER_STRIP, STRIP_BYTES = 273, 274, 277, 278, 279
X_RESOLUTION, Y_RESOLUTION, PLANAR, RESOLUTION_UNIT, PREDICTOR = 282, 283, 284, 296, 317
TILE_OFFSETS, TILE_BYTES, EXTRA_SAMPLES, SAMPLE_FORMAT, XMP, ICC = 324, 325, 338, 339, 700, 34675
_MODES = {0: "L", 1: "L", 2: "RGB", 3: "P", 4: "1", 5: "CMYK", 6: "YCbCr", 8: "LAB"}
_DEFLATE, _HORIZONTAL_DIFFERENCING, _UNASSOCIATED_ALPHA, _ASSOCIATED_ALPHA = 8, 2, 2, 1
_STRIP_BYTES = 256 << 10
_SHORT, _LONG = TiffTags.SHORT, TiffTags.LONG


def open_tiff(data: bytes) -> Opened:
    tags = Image.Exif()
    tags.load(data)  # an EXIF block is a TIFF: this parses the file's first IFD and its Exif/GPS IFDs
    if WIDTH not in tags or HEIGHT not in tags:
        raise CorruptImage("its TIFF directory has no image size")
    bits = _tuple(tags.get(BITS, 1))
    samples = int(tags.get(SAMPLES, 1))
    photometric = int(tags.get(PHOTOMETRIC, 1))
    mode = _MODES.get(photometric, f"photometric {photometric}")
    if mode in ("L", "RGB") and samples > (1 if mode == "L" else 3):
        mode += "A"
    header = ImageHeader(
        format=FORMATS["TIFF"],
        width=int(tags[WIDTH]),
        height=int(tags[HEIGHT]),
        mode="1" if mode == "L" and max(bits) == 1 else mode,
        bit_depth=max(bits),
        orientation=_orientation(tags),
    )
    icc = _bytes(tags.get(ICC))
    if max(bits) > 8:
        decode = partial(_decode_deep, data, tags, header.orientation)
    else:
        decode = partial(_decode_with_pillow, data, tags, icc, header.orientation)
    return Opened(
        header=header,
        decode=decode,
        icc_profile=icc,
        exif=exif_from_tiff_tags(tags),
        xmp=_bytes(tags.get(XMP)),
        dpi=_dpi(tags),
    )


def _tuple(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, tuple) else (int(value),)


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, tuple):  # some writers store bytes as a list of numbers
        value = bytes(value)
    return bytes(value) if value else None


def _orientation(tags: Any) -> int:
    value = tags.get(ORIENTATION, 1)
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def _dpi(tags: Any) -> tuple[float, float] | None:
    unit = tags.get(RESOLUTION_UNIT, 2)
    x, y = tags.get(X_RESOLUTION), tags.get(Y_RESOLUTION)
    if x is None or y is None or unit not in (2, 3) or not float(x) > 0 or not float(y) > 0:
        return None
    scale = 2.54 if unit == 3 else 1.0  # unit 3: per centimetre
    return float(x) * scale, float(y) * scale


def _check_complete(data: bytes, tags: Any) -> None:
    """A cut file is reported here, before libtiff can print its own complaint on stderr."""
    offsets = tags.get(STRIP_OFFSETS) or tags.get(TILE_OFFSETS) or ()
    counts = tags.get(STRIP_BYTES) or tags.get(TILE_BYTES) or ()
    if any(o + c > len(data) for o, c in zip(_tuple(offsets), _tuple(counts), strict=False)):
        raise CorruptImage("the file is truncated: its image data is incomplete")


def _decode_with_pillow(data: bytes, tags: Any, icc: bytes | None, orientation_value: int) -> Decoded:
    _check_complete(data, tags)
    return decode_with_pillow(data, "TIFF", icc, orientation_value)


def _decode_deep(data: bytes, tags: Any, orientation_value: int) -> Decoded:
    _check_complete(data, tags)
    bits = _tuple(tags.get(BITS, 1))
    photometric = int(tags.get(PHOTOMETRIC, 1))
    samples = int(tags.get(SAMPLES, 1))
    if set(bits) != {16} or photometric not in (1, 2) or set(_tuple(tags.get(SAMPLE_FORMAT, 1))) != {1}:
        raise UnsupportedFormat(
            f"its {'/'.join(map(str, bits))}-bit {_MODES.get(photometric, photometric)} TIFF samples are not "
            "supported; Retouch reads 16-bit TIFF as unsigned grey or RGB, with or without alpha"
        )
    colours = 1 if photometric == 1 else 3
    try:
        stored = apply_orientation(_tifffile_samples(data), orientation_value)
    except _MissingCodec as missing:
        if samples not in (1, 3, 4):
            raise UnsupportedFormat(f"{missing}; install it with: pip install imagecodecs") from None
        stored = _opencv_samples(data)  # OpenCV applies the TIFF orientation itself
    pixels, alpha = split_alpha(stored[:, :, : colours + 1] if samples > colours else stored[:, :, :colours])
    extra = _tuple(tags.get(EXTRA_SAMPLES, 0))[0]
    if alpha is not None and extra == _ASSOCIATED_ALPHA:
        pixels = _unpremultiply(pixels, alpha)
    return pixels, alpha


class _MissingCodec(Exception):
    pass


def _tifffile_samples(data: bytes) -> np.ndarray:
    """The first page as HxWxS, whatever its planar layout."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages.first
        try:
            array = page.asarray()
        except (KeyError, ValueError) as error:
            if "imagecodecs" in str(error):
                raise _MissingCodec(f"its compression needs the imagecodecs package ({error})") from error
            raise
        axes = page.axes
    if "S" not in axes:
        array, axes = array[..., None], axes + "S"
    return np.moveaxis(array, [axes.index("Y"), axes.index("X"), axes.index("S")], [0, 1, 2])


def _opencv_samples(data: bytes) -> np.ndarray:
    import cv2

    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype != np.uint16:
        raise CorruptImage("its 16-bit TIFF data cannot be decoded")
    if array.ndim == 2:
        return array[:, :, None]
    return array[:, :, [2, 1, 0, 3][: array.shape[2]]]  # BGR(A) to RGB(A)


def _unpremultiply(pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float64)[:, :, None]
    straight = np.where(a > 0, pixels * 65535.0 / np.maximum(a, 1.0), 0.0)
    return np.clip(np.rint(straight), 0, 65535).astype(np.uint16)


def encode_tiff(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None,
) -> bytes:
    """A little-endian TIFF: deflate with horizontal differencing, one IFD, strips after it."""
    samples = pixels if alpha is None else np.dstack([pixels, alpha])
    samples = np.ascontiguousarray(samples, samples.dtype.newbyteorder("<"))
    height, width, count = samples.shape
    differences = samples.copy()
    differences[:, 1:] -= samples[:, :-1]  # unsigned arithmetic wraps, as the predictor specifies
    rows = max(1, _STRIP_BYTES // (width * count * samples.dtype.itemsize))
    strips = [zlib.compress(differences[top : top + rows].tobytes(), 6) for top in range(0, height, rows)]
    offsets = np.cumsum([0] + [len(s) for s in strips[:-1]]).tolist()  # relative: Pillow adds where data starts

    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        for tag, value in tiff_tags_from_exif(exif).items():
            ifd[tag] = value
    _set(ifd, WIDTH, width, _LONG)
    _set(ifd, HEIGHT, height, _LONG)
    _set(ifd, BITS, (8 * samples.dtype.itemsize,) * count, _SHORT)
    _set(ifd, COMPRESSION, _DEFLATE, _SHORT)
    _set(ifd, PHOTOMETRIC, 1 if pixels.shape[2] == 1 else 2, _SHORT)
    _set(ifd, STRIP_OFFSETS, tuple(offsets), _LONG)
    _set(ifd, SAMPLES, count, _SHORT)
    _set(ifd, ROWS_PER_STRIP, rows, _LONG)
    _set(ifd, STRIP_BYTES, tuple(len(s) for s in strips), _LONG)
    _set(ifd, PLANAR, 1, _SHORT)
    _set(ifd, PREDICTOR, _HORIZONTAL_DIFFERENCING, _SHORT)
    _set(ifd, SAMPLE_FORMAT, (1,) * count, _SHORT)
    if alpha is not None:
        _set(ifd, EXTRA_SAMPLES, (_UNASSOCIATED_ALPHA,), _SHORT)
    if dpi:
        ifd[X_RESOLUTION] = TiffImagePlugin.IFDRational(dpi[0])
        ifd[Y_RESOLUTION] = TiffImagePlugin.IFDRational(dpi[1])
        _set(ifd, RESOLUTION_UNIT, 2, _SHORT)
    if icc_profile:
        _set(ifd, ICC, icc_profile, TiffTags.UNDEFINED)
    if xmp:
        _set(ifd, XMP, xmp, TiffTags.BYTE)
    out = io.BytesIO()
    ifd.save(out)  # header, directory and the values it points to; strip offsets are shifted past them
    for strip in strips:
        out.write(strip)
    return out.getvalue()


def _set(ifd: TiffImagePlugin.ImageFileDirectory_v2, tag: int, value: Any, kind: int) -> None:
    ifd.tagtype[tag] = kind
    ifd[tag] = value
