"""TIFF: header and metadata from the first IFD, 16-bit pixels with tifffile (OpenCV when a codec is missing),
and a writer of our own for every bit depth, so ICC, XMP, resolution and EXIF (its Exif and GPS IFDs included)
all land in the file, which neither Pillow (no 16-bit colour) nor tifffile (no Exif IFD) can do alone.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import partial
from typing import Any

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags

from retouch.errors import CorruptImage, UnsupportedFormat
from retouch.io.exif import apply_orientation, exif_from_tiff_tags, tiff_tags_from_exif
from retouch.io.formats import FORMATS
from retouch.io.limits import check_compressed, inflated_size
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
TILE_WIDTH, TILE_LENGTH = 322, 323
_YCBCR = 6
# compressions whose strips are checked before decoding: None = uncompressed, else how to inflate them
_SIZED_CODECS: dict[int, str | None] = {1: None, 8: "zlib", 32946: "zlib", 34925: "lzma"}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}  # bytes per value
_SHORT, _LONG = TiffTags.SHORT, TiffTags.LONG


def open_tiff(data: bytes) -> Opened:
    _check_directory(data)
    tags = Image.Exif()
    tags.load(data)  # an EXIF block is a TIFF: this parses the file's first IFD and its Exif/GPS IFDs
    if WIDTH not in tags or HEIGHT not in tags:
        raise CorruptImage("its TIFF directory has no image size")
    if not int(tags[WIDTH]) or not int(tags[HEIGHT]):
        raise CorruptImage(f"its TIFF directory declares an empty {tags[WIDTH]}x{tags[HEIGHT]} image")
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


def _check_directory(data: bytes) -> None:
    """Refuse a first directory that does not fit the file: Pillow would skip an entry whose values lie outside
    it (a BitsPerSample of 2^30 values, say) and read the image with a default in its place."""
    order = "<" if data[:2] == b"II" else ">"
    if len(data) < 8:
        raise CorruptImage("the file is truncated: its TIFF header is incomplete")
    (start,) = struct.unpack_from(order + "I", data, 4)
    if start < 8 or start + 2 > len(data):
        raise CorruptImage(f"its TIFF directory is said to start at byte {start}, outside the file")
    (count,) = struct.unpack_from(order + "H", data, start)
    if start + 2 + 12 * count + 4 > len(data):
        raise CorruptImage("the file is truncated: its TIFF directory is incomplete")
    for index in range(count):
        tag, kind, values, where = struct.unpack_from(order + "HHII", data, start + 2 + 12 * index)
        length = _TYPE_SIZES.get(kind, 0) * values  # unknown types are skipped, as the specification says
        if length > 4 and where + length > len(data):
            raise CorruptImage(
                f"its TIFF directory entry {tag} declares {values} values lying outside the file "
                f"(bytes {where} to {where + length} of {len(data)})"
            )


def _check_segments(data: bytes, tags: Any) -> None:
    """Each strip or tile must hold what its part of the declared image needs: not less (a cut file, which
    libtiff would complain about on stderr) and, once inflated, not more (a decompression bomb, or data that is
    not the image the header declares). Compressed data is inflated a step at a time and never beyond that."""
    tiled = TILE_OFFSETS in tags
    offsets = _tuple(tags.get(TILE_OFFSETS if tiled else STRIP_OFFSETS) or ())
    counts = _tuple(tags.get(TILE_BYTES if tiled else STRIP_BYTES) or ())
    if not offsets or len(offsets) != len(counts):
        raise CorruptImage("its TIFF strips are missing, or their offsets and sizes do not match")
    if any(o + c > len(data) for o, c in zip(offsets, counts, strict=True)):
        raise CorruptImage("the file is truncated: its image data is incomplete")
    compression = int(tags.get(COMPRESSION, 1))
    if compression not in _SIZED_CODECS or int(tags.get(PHOTOMETRIC, 1)) == _YCBCR:
        return  # libtiff decodes these into buffers of the declared size; subsampled YCbCr is laid out apart
    size = (int(tags[WIDTH]), int(tags[HEIGHT]))
    needs = _segment_needs(tags, tiled, size)
    if needs is None or len(needs) != len(offsets):
        raise CorruptImage(f"its TIFF directory lists {len(offsets)} strips or tiles, not what its size needs")
    method = _SIZED_CODECS[compression]
    for offset, count, (least, most) in zip(offsets, counts, needs, strict=True):
        if method is None:
            if count < least:
                raise CorruptImage("the file is truncated: its image data is incomplete")
            continue
        if method == "zlib":  # LZMA's container alone may outweigh a tiny strip: its inflated size is the check
            check_compressed(count, most, size)
        got, ended = inflated_size(data[offset : offset + count], most, size, method)
        if got < least or not ended:
            raise CorruptImage("the file is truncated: its image data is incomplete")


def _segment_needs(tags: Any, tiled: bool, size: tuple[int, int]) -> list[tuple[int, int]] | None:
    """(least, most) bytes of each strip or tile, in file order; None when the layout is impossible."""
    width, height = size
    samples = int(tags.get(SAMPLES, 1))
    bits = _tuple(tags.get(BITS, 1))
    bits = bits * samples if len(bits) == 1 else bits
    if len(bits) != samples or min(bits) < 1:
        return None
    planes = [bits] if int(tags.get(PLANAR, 1)) == 1 else [(b,) for b in bits]
    if tiled:
        tile_width, tile_height = int(tags.get(TILE_WIDTH, 0)), int(tags.get(TILE_LENGTH, 0))
        if not tile_width or not tile_height:
            return None
        count = -(-width // tile_width) * -(-height // tile_height)
        return [(n, n) for plane in planes for n in [tile_height * -(-tile_width * sum(plane) // 8)] * count]
    rows = min(int(tags.get(ROWS_PER_STRIP, height)) or height, height)
    strips = -(-height // rows)
    needs = []
    for plane in planes:
        row_bytes = -(-width * sum(plane) // 8)
        needs += [(min(rows, height - i * rows) * row_bytes, rows * row_bytes) for i in range(strips)]
    return needs


def _decode_with_pillow(data: bytes, tags: Any, icc: bytes | None, orientation_value: int) -> Decoded:
    _check_segments(data, tags)
    return decode_with_pillow(data, "TIFF", icc, orientation_value)


def _decode_deep(data: bytes, tags: Any, orientation_value: int) -> Decoded:
    _check_segments(data, tags)
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
