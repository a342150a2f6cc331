"""PNG: metadata chunks read and written by Retouch itself, pixels of every bit depth and colour type.

Reading parses the chunks directly (metadata after IDAT included); 8-bit pixels are decoded by Pillow, 16-bit
ones by OpenCV (Pillow cannot hold 16-bit colour). Writing encodes the samples here (adaptive row filters, as
libpng chooses them, then zlib) so grey, grey+alpha, RGB and RGBA all keep their 8 or 16 bits, and writes
iCCP, pHYs, eXIf and the XMP iTXt chunk before the image data.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import partial

import numpy as np

from retouch.errors import CorruptImage
from retouch.io.exif import apply_orientation, orientation, strip_prefix
from retouch.io.formats import FORMATS, METRES_PER_INCH, dpi_from_ppm
from retouch.io.limits import BoundedInflater, check_compressed
from retouch.io.modes import split_alpha
from retouch.io.opened import Decoded, ImageHeader, Opened
from retouch.io.pillow_codec import decode_with_pillow

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
COMPRESS_LEVEL = 6
_MAX_INFLATED = 64 << 20  # a metadata chunk may not expand beyond this (zip-bomb guard)
_IDAT_SIZE = 1 << 20
_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}  # the specification's table
_CRITICAL = (b"IHDR", b"PLTE", b"IDAT", b"IEND")
# Adam7's passes: first column, first row, column step, row step
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each complete chunk, up to IEND or where the data is cut."""
    for kind, body, _ in _chunks_with_crc(data):
        yield kind, body


def _chunks_with_crc(data: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    pos = len(SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if pos + 12 + length > len(data):
            return
        yield kind, data[pos + 8 : pos + 8 + length], struct.unpack_from(">I", data, pos + 8 + length)[0]
        if kind == b"IEND":
            return
        pos += 12 + length


def open_png(data: bytes) -> Opened:
    found = list(_chunks_with_crc(data))
    if not found or found[0][0] != b"IHDR" or len(found[0][1]) != 13:
        raise CorruptImage("its PNG header (IHDR) is missing or damaged")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", found[0][1])
    if depth not in _DEPTHS.get(colour, ()) or interlace > 1:
        raise CorruptImage(f"its PNG header declares an impossible colour type {colour} / bit depth {depth}")
    if not width or not height:
        raise CorruptImage(f"its PNG header declares an empty {width}x{height} image")
    for kind, body, crc in found:
        if kind in _CRITICAL and zlib.crc32(kind + body) != crc:  # Pillow does not check IDAT's
            raise CorruptImage(f"its {kind.decode('latin-1')} chunk is damaged (its checksum does not match)")
    raw_bytes = _raw_size(width, height, depth * _CHANNELS[colour], interlace)
    # before anything is inflated: deflate cannot make the image data longer than this for the declared size
    check_compressed(sum(len(body) for kind, body, _ in found if kind == b"IDAT"), raw_bytes, (width, height))
    icc = exif = xmp = None
    dpi = None
    frames = 1
    for kind, body, crc in found[1:]:
        if zlib.crc32(kind + body) != crc:
            continue  # a damaged ancillary chunk is ignored, as the PNG specification allows
        if kind == b"iCCP" and icc is None:
            icc = _inflate(body.partition(b"\0")[2][1:]) or None
        elif kind == b"eXIf" and exif is None:
            exif = strip_prefix(body) or None
        elif kind == b"pHYs" and len(body) == 9:
            x, y, unit = struct.unpack(">IIB", body)
            if unit == 1 and x and y:
                dpi = (dpi_from_ppm(x), dpi_from_ppm(y))
        elif kind in (b"iTXt", b"tEXt", b"zTXt") and xmp is None:
            xmp = _text_xmp(kind, body)
        elif kind == b"acTL" and len(body) == 8:
            frames = struct.unpack(">II", body)[0] or 1
    header = ImageHeader(
        format=FORMATS["PNG"],
        width=width,
        height=height,
        mode="1" if (colour, depth) == (0, 1) else _MODES[colour],
        bit_depth=depth,
        orientation=orientation(exif),
        frames=frames,
    )
    if depth == 16:
        stride = None if interlace else 1 + width * _CHANNELS[colour] * 2
        decode = partial(_decode_deep, data, colour, header.orientation, raw_bytes, stride, (width, height))
    else:
        decode = partial(decode_with_pillow, data, "PNG", icc, header.orientation)
    return Opened(header=header, decode=decode, icc_profile=icc, exif=exif, xmp=xmp, dpi=dpi)


def _raw_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    """The bytes of filtered rows the declared image needs: a filter byte and the samples of each row, for each
    of Adam7's seven passes when interlaced."""
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (1 + -(-columns * bits_per_pixel // 8))
    return total


def _inflate(blob: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(blob, _MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise CorruptImage(f"a PNG metadata chunk inflates beyond {_MAX_INFLATED >> 20} MiB")
    return out


def _text_xmp(kind: bytes, body: bytes) -> bytes | None:
    keyword, _, rest = body.partition(b"\0")
    if keyword != XMP_KEYWORD or not rest:
        return None
    if kind == b"tEXt":
        return rest
    if kind == b"zTXt":
        return _inflate(rest[1:])
    compressed = rest[0] == 1  # iTXt: flag, method, language\0, translated keyword\0, text
    text = rest[2:].split(b"\0", 2)[-1]
    return _inflate(text) if compressed else text


def _check_image_data(data: bytes, expected: int, stride: int | None, size: tuple[int, int]) -> None:
    """Find damage before OpenCV does: libpng would report it on stderr, beside our one-line error. The data is
    inflated a step at a time and never beyond what the declared size needs."""
    inflater = BoundedInflater(expected, size)
    ended = False
    for kind, body in chunks(data):
        if kind == b"IDAT":
            for rows in inflater.feed(body):
                done = inflater.total - len(rows)
                if stride and np.any(np.frombuffer(rows, np.uint8)[(-done) % stride :: stride] > 4):
                    raise CorruptImage("its image data is damaged (an impossible row filter)")
        ended = kind == b"IEND"
    if not ended or not inflater.ended or inflater.total != expected:
        raise CorruptImage("the file is truncated: its image data is incomplete")


def _decode_deep(
    data: bytes, colour: int, orientation_value: int, expected: int, stride: int | None, size: tuple[int, int]
) -> Decoded:
    import cv2

    _check_image_data(data, expected, stride, size)
    samples = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if samples is None or samples.dtype != np.uint16:
        raise CorruptImage("its 16-bit PNG data cannot be decoded")
    if samples.ndim == 3:
        samples = samples[:, :, [2, 1, 0, 3][: samples.shape[2]]]  # OpenCV's BGR(A) to RGB(A)
        if colour in (0, 4):  # grey(+alpha) that OpenCV expanded to colour: the three channels are equal
            samples = samples[:, :, [0, 3]] if samples.shape[2] == 4 else samples[:, :, 0]
    pixels, alpha = split_alpha(samples)
    return apply_orientation(pixels, orientation_value), None if alpha is None else apply_orientation(
        alpha, orientation_value
    )


def encode_png(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None,
    level: int = COMPRESS_LEVEL,
) -> bytes:
    samples = pixels if alpha is None else np.dstack([pixels, alpha])
    height, width, channels = samples.shape
    depth = 8 * samples.dtype.itemsize
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    out = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))]
    if icc_profile:
        out.append(_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc_profile)))
    if dpi:
        x, y = (max(1, round(d / METRES_PER_INCH)) for d in dpi)
        out.append(_chunk(b"pHYs", struct.pack(">IIB", x, y, 1)))
    if exif:
        out.append(_chunk(b"eXIf", exif))
    if xmp:
        # iTXt: keyword, uncompressed, method 0, no language, no translated keyword, UTF-8 text
        out.append(_chunk(b"iTXt", XMP_KEYWORD + b"\0\0\0\0\0" + xmp))
    stream = _compressed_rows(samples, level)
    out.extend(_chunk(b"IDAT", stream[i : i + _IDAT_SIZE]) for i in range(0, max(len(stream), 1), _IDAT_SIZE))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _compressed_rows(samples: np.ndarray, level: int) -> bytes:
    """Filter each row with the PNG filter that minimises the sum of absolute differences, and deflate."""
    height = samples.shape[0]
    rows = np.ascontiguousarray(samples, samples.dtype.newbyteorder(">")).reshape(height, -1).view(np.uint8)
    bpp = samples.shape[2] * samples.dtype.itemsize  # bytes per pixel: filters look this far to the left
    band = max(1, (1 << 20) // max(rows.shape[1], 1))  # 1 MiB of rows: the filters and their costs take 40x that
    deflate = zlib.compressobj(level)
    parts = []
    previous = np.zeros(rows.shape[1], np.uint8)
    for top in range(0, height, band):
        current = rows[top : top + band]
        above = np.vstack([previous[None], current[:-1]])
        parts.append(deflate.compress(_filter(current, above, bpp).tobytes()))
        previous = current[-1]
    parts.append(deflate.flush())
    return b"".join(parts)


def _filter(raw: np.ndarray, above: np.ndarray, bpp: int) -> np.ndarray:
    left = np.zeros_like(raw)
    left[:, bpp:] = raw[:, :-bpp]
    upper_left = np.zeros_like(raw)
    upper_left[:, bpp:] = above[:, :-bpp]
    mean = ((left.astype(np.uint16) + above) >> 1).astype(np.uint8)
    candidates = np.stack([raw, raw - left, raw - above, raw - mean, raw - _paeth(left, above, upper_left)])
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5 filters, rows)
    choice = cost.argmin(axis=0)
    out = np.empty((raw.shape[0], raw.shape[1] + 1), np.uint8)
    out[:, 0] = choice
    out[:, 1:] = candidates[choice, np.arange(raw.shape[0])]
    return out


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a16, b16, c16 = (x.astype(np.int16) for x in (a, b, c))
    p = a16 + b16 - c16
    pa, pb, pc = np.abs(p - a16), np.abs(p - b16), np.abs(p - c16)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
