"""Hostile input files, generated at test time (nothing binary is committed): bombs, truncated files of every
format Retouch reads, malformed chunks and directories, absurd EXIF and XMP, and odd paths.

Each ``FileCase`` says what Retouch must do with its file: refuse it (one error line naming the problem) or
accept it (the file is valid, or its damage is in metadata that is dropped). ``write_cases`` writes them all into
a folder; ``ODD_PATHS`` are made by ``make_odd_path``. The bombs are cheap to build: a zlib stream of N zero bytes
is one compressed block of 1 MiB of zeros repeated (each block ends with a full flush, so they are identical).
"""

from __future__ import annotations

import io
import lzma
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

GIB = 1 << 30
MIB = 1 << 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- building blocks -----------------------------------------------------------------------------------------------


def _deflated_zeros(count: int) -> bytes:
    """``count`` zeros as raw deflate blocks ending in a full flush: the same bytes wherever they sit."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflater.compress(bytes(count)) + deflater.flush(zlib.Z_FULL_FLUSH)


_zero_block = cache(_deflated_zeros)


def zlib_zeros(count: int) -> bytes:
    """A zlib stream that inflates to ``count`` zero bytes, built in milliseconds for any count."""
    whole, rest = divmod(count, MIB)
    adler = ((count % 65521) << 16) | 1  # zeros leave the first sum at 1; the second counts the bytes
    body = _zero_block(MIB) * whole + (_deflated_zeros(rest) if rest else b"")
    return b"\x78\xda" + body + b"\x03\x00" + struct.pack(">I", adler)


def png_chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)


def png_file(
    width: int,
    height: int,
    depth: int,
    colour: int,
    data: bytes,
    *,
    before_data: bytes = b"",
    end: bool = True,
    interlace: int = 0,
) -> bytes:
    """A PNG from its parts: IHDR as given, ``before_data`` (whole chunks), one IDAT holding ``data``, IEND."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    body = PNG_SIGNATURE + png_chunk(b"IHDR", header) + before_data + png_chunk(b"IDAT", data)
    return body + (png_chunk(b"IEND", b"") if end else b"")


def png_rows(samples: np.ndarray) -> bytes:
    """Filter type 0 rows of HxWxC samples (big-endian for 16 bits), deflated."""
    height = samples.shape[0]
    rows = np.ascontiguousarray(samples, samples.dtype.newbyteorder(">")).reshape(height, -1).view(np.uint8)
    return zlib.compress(np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes())


_TIFF_TYPES = {"B": 1, "H": 3, "I": 4}  # BYTE, SHORT, LONG


def tiff_file(entries: dict[int, tuple[str, tuple[int, ...]]], strips: list[bytes], *, raw: bytes = b"") -> bytes:
    """A little-endian TIFF with one IFD of ``entries`` (tag: (struct code, values)); StripOffsets (273) and
    StripByteCounts (279) are filled in for ``strips``. ``raw`` entries (12 bytes each) are added as given."""
    entries = dict(entries)
    entries[279] = ("I", tuple(len(s) for s in strips))
    entries[273] = ("I", (0,) * len(strips))  # placeholder: same size as the real offsets
    count = len(entries) + len(raw) // 12
    values_at = 8 + 2 + 12 * count + 4
    directory, values = [], b""
    offsets_slot = None
    for tag in sorted(entries):
        code, items = entries[tag]
        packed = struct.pack(f"<{len(items)}{code}", *items)
        if len(packed) <= 4:
            field = packed.ljust(4, b"\0")
        else:
            if tag == 273:
                offsets_slot = values_at + len(values)
            field = struct.pack("<I", values_at + len(values))
            values += packed + b"\0" * (len(packed) % 2)
        directory.append(struct.pack("<HHI", tag, _TIFF_TYPES[code], len(items)) + field)
    entries_blob = b"".join(directory) + raw
    head = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", count) + entries_blob + b"\0\0\0\0" + values
    starts, position = [], len(head)
    for strip in strips:
        starts.append(position)
        position += len(strip)
    packed_starts = struct.pack(f"<{len(starts)}I", *starts)
    if offsets_slot is None:  # one strip: its offset sits in the entry itself
        slot = head.index(struct.pack("<HHI", 273, 4, 1)) + 8
        head = head[:slot] + packed_starts + head[slot + 4 :]
    else:
        head = head[:offsets_slot] + packed_starts + head[offsets_slot + len(packed_starts) :]
    return head + b"".join(strips)


def tiff_grey(width: int, height: int, bits: int, compression: int, strip: bytes, **more: tuple) -> bytes:
    """A one-strip grey TIFF."""
    entries = {
        256: ("I", (width,)),
        257: ("I", (height,)),
        258: ("H", (bits,)),
        259: ("H", (compression,)),
        262: ("H", (1,)),
        277: ("H", (1,)),
        278: ("I", (height,)),
    }
    entries.update(more)
    return tiff_file(entries, [strip])


def pillow_file(array: np.ndarray, fmt: str, **options: object) -> bytes:
    """Encoded by Pillow, not by Retouch."""
    samples = array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(samples)).save(buffer, fmt, **options)
    return buffer.getvalue()


def picture(height: int = 24, width: int = 32, channels: int = 3, dtype: type = np.uint8) -> np.ndarray:
    """A small picture with some structure."""
    rng = np.random.default_rng(13)
    top = 255 if dtype == np.uint8 else 65535
    return rng.integers(0, top, (height, width, channels), dtype=np.int64).astype(dtype)


def heif_file() -> bytes:
    from retouch.io.heif import encode_heif

    return encode_heif(picture(), None, quality=90, icc_profile=None, exif=None, xmp=None)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _replace_at(data: bytes, marker: bytes, skip: int, value: bytes) -> bytes:
    at = data.index(marker) + len(marker) + skip
    return data[:at] + value + data[at + len(value) :]


def jpeg_declaring(width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) declares another size."""
    return _replace_at(pillow_file(picture(), "JPEG"), b"\xff\xc0", 3, struct.pack(">HH", height, width))


def gif_declaring(width: int, height: int) -> bytes:
    data = pillow_file(picture(channels=1), "GIF")
    return data[:6] + struct.pack("<HH", width, height) + data[10:]


def bmp_declaring(width: int, height: int) -> bytes:
    data = pillow_file(picture(), "BMP")
    return data[:18] + struct.pack("<ii", width, height) + data[26:]


def webp_declaring(width: int, height: int) -> bytes:
    """A lossless WebP whose VP8L header declares another size (14 bits each, stored minus one)."""
    data = pillow_file(picture(), "WEBP", lossless=True)
    at = data.index(b"VP8L") + 9  # chunk size (4) and the signature byte 0x2f
    (bits,) = struct.unpack_from("<I", data, at)
    bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
    return data[:at] + struct.pack("<I", bits) + data[at + 4 :]


def heif_declaring(width: int, height: int) -> bytes:
    """A HEIC whose image spatial extents (ispe) and clean aperture (clap, the crop) declare another size."""
    data = _replace_at(heif_file(), b"ispe", 4, struct.pack(">II", width, height))
    return _replace_at(data, b"clap", 0, struct.pack(">IIII", width, 1, height, 1))


def jpeg_with_exif(exif: bytes) -> bytes:
    return pillow_file(picture(), "JPEG", exif=b"Exif\0\0" + exif)


def exif_huge_count() -> bytes:
    """IFD0 with Make (ASCII) declaring 2^30 characters at an offset far beyond the block."""
    entry = struct.pack("<HHII", 271, 2, 1 << 30, 0x7FFFFFF0)
    return b"II*\0" + struct.pack("<IH", 8, 1) + entry + b"\0\0\0\0"


def exif_offset_outside() -> bytes:
    """The first IFD said to start 2 GB into a 14-byte block."""
    return b"II*\0" + struct.pack("<I", 0x7FFFFFF0) + b"\0" * 6


def exif_loop() -> bytes:
    """IFD0 whose next-IFD pointer and whose Exif IFD pointer (34665) both point back at IFD0."""
    entries = struct.pack("<HHII", 274, 3, 1, 1) + struct.pack("<HHII", 34665, 4, 1, 8)
    return b"II*\0" + struct.pack("<IH", 8, 2) + entries + struct.pack("<I", 8)


def xmp_packet(body: bytes, prolog: bytes = b"") -> bytes:
    return (
        prolog + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-'
        b'ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' + body
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )  # fmt: skip


def xmp_deep(levels: int = 200_000) -> bytes:
    """Elements nested ``levels`` deep."""
    return xmp_packet(b"<dc:a>" * levels + b"x" + b"</dc:a>" * levels)


def xmp_laughs() -> bytes:
    """The billion laughs: ten entities each ten times the one before, 10^9 'lol's if expanded."""
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b"<!ENTITY lol%d \"%s\">" % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)
    ]
    prolog = b"<?xml version=\"1.0\"?><!DOCTYPE x:xmpmeta [" + b"".join(entities) + b"]>"
    return xmp_packet(b"<dc:title>&lol9;</dc:title>", prolog)


def png_with_xmp(xmp: bytes) -> bytes:
    chunk = png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp)
    return png_file(32, 24, 8, 2, png_rows(picture()), before_data=chunk)


# --- the cases -----------------------------------------------------------------------------------------------------

Outcome = Literal["refused", "accepted"]


@dataclass(frozen=True)
class FileCase:
    """One hostile file and the contract for it."""

    name: str  # also the file name, with the extension
    build: Callable[[], bytes]
    outcome: Outcome
    says: str = ""  # a fragment of the error line (refused) or of the warning (accepted with a warning)
    bomb: bool = False  # a decompression or pixel bomb: run under the memory budget
    status: int = 400  # the server's answer for a refused file
    decoded: tuple[int, int] = (1, 1)  # (pixels, bytes per pixel) a reader may decode: the memory budget's P and B

    @property
    def id(self) -> str:
        return self.name


def _png8(width: int = 32, height: int = 24) -> bytes:
    return png_file(width, height, 8, 2, png_rows(picture(height, width)))


def _png16() -> bytes:
    return png_file(32, 24, 16, 2, png_rows(picture(dtype=np.uint16)))


def _tiff16() -> bytes:
    samples = picture(channels=1, dtype=np.uint16)
    return tiff_grey(32, 24, 16, 8, zlib.compress(samples.astype("<u2").tobytes()))


def _tiff8() -> bytes:
    return tiff_grey(32, 24, 8, 8, zlib.compress(picture(channels=1).tobytes()))


def _bad_crc(data: bytes, kind: bytes) -> bytes:
    at = data.index(kind)
    length = struct.unpack_from(">I", data, at - 4)[0]
    crc_at = at + 4 + length
    return data[:crc_at] + bytes(b ^ 0xFF for b in data[crc_at : crc_at + 4]) + data[crc_at + 4 :]


def _png_ihdr_larger_than_data() -> bytes:
    return png_file(64, 48, 8, 2, png_rows(picture()))  # rows for 32x24 only


def _tiff_bits_count_outside() -> bytes:
    """BitsPerSample with 2^30 values at an offset past the end: Pillow skips such a tag (then 1-bit)."""
    raw = struct.pack("<HHII", 258, 3, 1 << 30, 0x7FFFFF00)
    entries = {256: ("I", (16,)), 257: ("I", (16,)), 259: ("H", (1,)), 262: ("H", (1,)), 278: ("I", (16,))}
    return tiff_file(entries, [bytes(32)], raw=raw)


def _tiff_strip_outside() -> bytes:
    data = _tiff8()
    return data[: len(data) - 100]


def _tiff_ifd_loop() -> bytes:
    """A valid one-page TIFF whose next-IFD pointer points back at its own IFD."""
    data = _tiff8()
    (count,) = struct.unpack_from("<H", data, 8)
    at = 8 + 2 + 12 * count
    return data[:at] + struct.pack("<I", 8) + data[at + 4 :]


def _lzma_zeros(count: int) -> bytes:
    return lzma.compress(bytes(count), format=lzma.FORMAT_ALONE, preset=0)


FILE_CASES: tuple[FileCase, ...] = (
    # bombs: a header over the pixel limit, or a tiny header before a mountain of compressed zeros
    FileCase("mask-20000x20000-zeros.png", lambda: png_file(20000, 20000, 8, 0, zlib_zeros(20000 * 20001)),
             "refused", "20000x20000", bomb=True, status=413),
    FileCase("png16-1x1-1gib.png", lambda: png_file(1, 1, 16, 2, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    FileCase("png8-1x1-1gib.png", lambda: png_file(1, 1, 8, 2, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    FileCase("png16-2048x2048-1gib.png", lambda: png_file(2048, 2048, 16, 0, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    # 8-bit PNGs go to Pillow, which inflates only the rows it needs (bounded) and ignores the rest
    FileCase("png8-2048x2048-1gib.png", lambda: png_file(2048, 2048, 8, 0, zlib_zeros(GIB)),
             "accepted", bomb=True, decoded=(2048 * 2048, 1)),
    FileCase("png16-interlaced-1x1-1gib.png", lambda: png_file(1, 1, 16, 0, zlib_zeros(GIB), interlace=1),
             "refused", "holds more than", bomb=True),
    FileCase("tiff16-1x1-1gib.tif", lambda: tiff_grey(1, 1, 16, 8, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    FileCase("tiff8-1x1-1gib.tif", lambda: tiff_grey(1, 1, 8, 8, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    FileCase("tiff16-2048x2048-1gib.tif", lambda: tiff_grey(2048, 2048, 16, 8, zlib_zeros(GIB)),
             "refused", "holds more than", bomb=True),
    FileCase("tiff16-lzma-1x1-256mib.tif", lambda: tiff_grey(1, 1, 16, 34925, _lzma_zeros(256 * MIB)),
             "refused", "holds more than", bomb=True),
    FileCase("tiff-bits-count-2e30.tif", _tiff_bits_count_outside, "refused", "outside the file", bomb=True),
    FileCase("jpeg-65500x65500.jpg", lambda: jpeg_declaring(65500, 65500), "refused", "65500x65500",
             bomb=True, status=413),
    FileCase("gif-65535x65535.gif", lambda: gif_declaring(65535, 65535), "refused", "65535x65535",
             bomb=True, status=413),
    FileCase("bmp-100000x100000.bmp", lambda: bmp_declaring(100000, 100000), "refused", "100000x100000",
             bomb=True, status=413),
    FileCase("webp-16384x16384.webp", lambda: webp_declaring(16384, 16384), "refused", "16384x16384",
             bomb=True, status=413),
    FileCase("heif-30000x30000.heic", lambda: heif_declaring(30000, 30000), "refused", "30000x30000",
             bomb=True, status=413),
    # truncated files of every format
    FileCase("cut.jpg", lambda: half(pillow_file(picture(), "JPEG")), "refused", "damaged or truncated"),
    FileCase("cut.png", lambda: half(_png8()), "refused", "damaged or truncated"),
    FileCase("cut16.png", lambda: half(_png16()), "refused", "truncated"),
    FileCase("cut.tif", lambda: half(_tiff8()), "refused", "truncated"),
    FileCase("cut16.tif", lambda: half(_tiff16()), "refused", "truncated"),
    FileCase("cut.webp", lambda: half(pillow_file(picture(), "WEBP")), "refused", "damaged or truncated"),
    FileCase("cut.bmp", lambda: half(pillow_file(picture(), "BMP")), "refused", "damaged or truncated"),
    FileCase("cut.gif", lambda: half(pillow_file(picture(channels=1), "GIF")), "refused", "damaged or truncated"),
    FileCase("cut.heic", lambda: half(heif_file()), "refused", "damaged or truncated"),
    FileCase("header-only.png", lambda: _png8()[:33], "refused", "truncated"),
    FileCase("empty.jpg", lambda: b"", "refused", "empty"),
    # malformed chunks and directories
    FileCase("bad-crc-idat.png", lambda: _bad_crc(_png8(), b"IDAT"), "refused", "damaged"),
    FileCase("bad-crc-ihdr.png", lambda: _bad_crc(_png8(), b"IHDR"), "refused", "damaged"),
    FileCase("bad-crc-idat16.png", lambda: _bad_crc(_png16(), b"IDAT"), "refused", "checksum"),
    FileCase("ihdr-larger-than-data.png", _png_ihdr_larger_than_data, "refused", "truncated"),
    FileCase("ihdr-zero-width.png", lambda: png_file(0, 24, 8, 2, png_rows(picture())), "refused", "empty 0x24"),
    FileCase("ihdr-bit-depth-3.png", lambda: png_file(32, 24, 3, 2, png_rows(picture())), "refused", "impossible"),
    FileCase("no-iend.png", lambda: png_file(32, 24, 8, 2, png_rows(picture()), end=False), "accepted"),
    FileCase("no-iend16.png", lambda: png_file(32, 24, 16, 2, png_rows(picture(dtype=np.uint16)), end=False),
             "refused", "truncated"),
    FileCase("tiff-strip-outside.tif", _tiff_strip_outside, "refused", "truncated"),
    FileCase("tiff-ifd-loop.tif", _tiff_ifd_loop, "accepted"),
    # absurd metadata: the photo is valid, what cannot be read is dropped
    FileCase("exif-huge-count.jpg", lambda: jpeg_with_exif(exif_huge_count()), "accepted"),
    FileCase("exif-offset-outside.jpg", lambda: jpeg_with_exif(exif_offset_outside()), "accepted"),
    FileCase("exif-loop.jpg", lambda: jpeg_with_exif(exif_loop()), "accepted"),
    FileCase("xmp-200k-deep.png", lambda: png_with_xmp(xmp_deep()), "accepted", "XMP"),
    FileCase("xmp-billion-laughs.png", lambda: png_with_xmp(xmp_laughs()), "accepted", "XMP"),
)  # fmt: skip

BOMBS = tuple(case for case in FILE_CASES if case.bomb)
XMP_CASES = ("xmp-200k-deep.png", "xmp-billion-laughs.png")


def write_case(case: FileCase, folder: Path) -> Path:
    path = folder / case.name
    path.write_bytes(case.build())
    return path


def write_cases(folder: Path) -> dict[str, Path]:
    """Every file case written into ``folder``, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {case.name: write_case(case, folder) for case in FILE_CASES}


# --- odd paths -----------------------------------------------------------------------------------------------------

ODD_PATHS: dict[str, Outcome] = {
    "unicode": "accepted",  # фото ✓.png
    "spaces": "accepted",
    "leading-dash": "accepted",  # passed after '--'
    "symlink-to-dev-zero": "refused",
    "fifo": "refused",
    "directory": "refused",
    "nonexistent": "refused",
}


def make_odd_path(kind: str, folder: Path) -> Path:
    """The path of one odd-path case, made in ``folder`` (a valid small PNG where the path holds a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {"unicode": "фото ✓.png", "spaces": "my holiday photo.png", "leading-dash": "-photo.png"}
    if kind in names:
        path = folder / names[kind]
        path.write_bytes(_png8())
    elif kind == "symlink-to-dev-zero":
        path = folder / "zero.png"
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        path = folder / "pipe.png"
        os.mkfifo(path)
    elif kind == "directory":
        path = folder / "folder.png"
        path.mkdir()
    elif kind == "nonexistent":
        path = folder / "missing.png"
    else:
        raise KeyError(kind)
    return path


def valid_photo(folder: Path, width: int = 32, height: int = 24) -> Path:
    """A plain 8-bit RGB PNG to erase on or to use with a hostile mask."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "photo.png"
    path.write_bytes(_png8(width, height))
    return path
