"""A JPEG file's marker segments: what its frame is (size, components, sampling, coding) and the parts a
coefficient reader and writer need, without its metadata.

Only what the lossless JPEG save needs (``retouch.io.jpeg_lossless``): it keeps a file's DCT blocks when the
file is plain 8-bit Huffman-coded YCbCr or greyscale, and leaves everything else to the normal encoder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOI, EOI, SOS, DQT = 0xD8, 0xD9, 0xDA, 0xDB
APP0, APP14, COM = 0xE0, 0xEE, 0xFE
SOF_HUFFMAN = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
# Markers the entropy-coded data of a scan may hold: stuffed zero bytes and restart markers.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Segments a coefficient reader needs; every other one (APPn, COM) is metadata, written anew on save.
_CODING = {0xC4, DQT, 0xDD, *SOF_HUFFMAN, SOS}


class NotPlainJpeg(Exception):
    """The file is not a JPEG whose blocks Retouch can keep (the caller encodes the picture in full instead)."""


@dataclass(frozen=True)
class Component:
    id: int
    h: int  # horizontal sampling factor
    v: int  # vertical sampling factor
    table: int  # quantisation table slot


@dataclass(frozen=True)
class Frame:
    """What a JPEG's start-of-frame and its APP0/APP14 markers say."""

    width: int
    height: int
    coding: str  # "baseline", "extended" or "progressive" (all Huffman-coded)
    components: tuple[Component, ...]
    colour: str  # "grey", "ycbcr" or "rgb": how a decoder such as libjpeg interprets the samples

    @property
    def mcu_size(self) -> tuple[int, int]:
        """(width, height) in pixels of one MCU, the unit a JPEG codes its components in together."""
        return 8 * max(c.h for c in self.components), 8 * max(c.v for c in self.components)


@dataclass(frozen=True)
class Stream:
    frame: Frame
    coding: bytes  # SOI, the quantisation and Huffman tables, the frame, the scans and EOI: no metadata
    tables: dict[int, tuple[int, ...]]  # quantisation table slot -> its 64 values, in the file's zigzag order


def parse(data: bytes) -> Stream:
    """The frame and the metadata-free stream of a JPEG (the first image of an MPO); NotPlainJpeg when the file
    is not an 8-bit Huffman-coded JPEG with 1 or 3 components, or its structure is damaged."""
    if not data.startswith(b"\xff\xd8"):
        raise NotPlainJpeg("no JPEG start marker")
    pos, kept, frame_payload = 2, [b"\xff\xd8"], None
    tables: dict[int, tuple[int, ...]] = {}
    jfif = adobe_transform = None
    while True:
        marker, pos = _next_marker(data, pos)
        if marker == EOI:
            break
        if pos + 2 > len(data):
            raise NotPlainJpeg("truncated segment")
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + length
        if length < 2 or end > len(data):
            raise NotPlainJpeg("segment runs past the end of the file")
        payload = data[pos + 2 : end]
        if marker == APP0 and payload.startswith(b"JFIF\0"):
            jfif = True
        elif marker == APP14 and payload.startswith(b"Adobe") and len(payload) >= 12:
            adobe_transform = payload[11]
        elif marker == DQT:
            _add_tables(payload, tables)
        elif marker in SOF_HUFFMAN:
            if frame_payload is not None:
                raise NotPlainJpeg("more than one frame")
            frame_payload = (marker, payload)
        elif marker not in _CODING and not (0xE0 <= marker <= 0xEF or marker == COM):
            raise NotPlainJpeg(f"marker 0x{marker:02X} (arithmetic, lossless or hierarchical coding)")
        if marker in _CODING:
            kept.append(data[pos - 2 : end])
        pos = end
        if marker == SOS:
            scan_end = _SCAN_END.search(data, pos)
            if scan_end is None:
                raise NotPlainJpeg("scan data without an end")
            kept.append(data[pos : scan_end.start()])
            pos = scan_end.start()
    if frame_payload is None:
        raise NotPlainJpeg("no frame header")
    kept.append(b"\xff\xd9")
    frame = _frame(*frame_payload, jfif=bool(jfif), adobe_transform=adobe_transform)
    if any(c.table not in tables for c in frame.components):
        raise NotPlainJpeg("a component without its quantisation table")
    return Stream(frame, b"".join(kept), tables)


def metadata_segments(data: bytes) -> bytes:
    """The APPn and COM segments at the head of a JPEG (as written, markers included), up to its first table."""
    pos, out = 2, []
    while pos + 4 <= len(data) and data[pos] == 0xFF and (0xE0 <= data[pos + 1] <= 0xEF or data[pos + 1] == COM):
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append(data[pos:end])
        pos = end
    return b"".join(out)


def without_metadata(data: bytes) -> bytes:
    """A JPEG's bytes after SOI and the metadata segments that follow it: its tables, frame and scans."""
    return data[2 + len(metadata_segments(data)) :]


def _add_tables(payload: bytes, tables: dict[int, tuple[int, ...]]) -> None:
    """The tables of one DQT segment. A slot defined twice with other values (legal between scans, and then each
    scan uses the table it was given) is refused: the blocks would not share one table."""
    pos = 0
    while pos < len(payload):
        precision, slot = payload[pos] >> 4, payload[pos] & 15
        size = 64 * (2 if precision else 1)
        values = payload[pos + 1 : pos + 1 + size]
        if precision > 1 or slot > 3 or len(values) != size:
            raise NotPlainJpeg("a malformed quantisation table")
        if precision:
            table = tuple(int.from_bytes(values[i : i + 2], "big") for i in range(0, size, 2))
        else:
            table = tuple(values)
        if tables.setdefault(slot, table) != table:
            raise NotPlainJpeg("a quantisation table redefined")
        pos += 1 + size


def _next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker at ``pos`` (fill bytes 0xFF skipped) and the position after it."""
    if pos >= len(data) or data[pos] != 0xFF:
        raise NotPlainJpeg("bytes between segments")
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise NotPlainJpeg("truncated marker")
    marker = data[pos]
    if marker == SOI or 0xD0 <= marker <= 0xD7 or marker == 0x00:
        raise NotPlainJpeg(f"marker 0x{marker:02X} out of place")
    return marker, pos + 1


def _frame(marker: int, payload: bytes, *, jfif: bool, adobe_transform: int | None) -> Frame:
    if len(payload) < 6:
        raise NotPlainJpeg("short frame header")
    precision, count = payload[0], payload[5]
    height, width = (int.from_bytes(payload[i : i + 2], "big") for i in (1, 3))
    if precision != 8:
        raise NotPlainJpeg(f"{precision}-bit samples")
    if count not in (1, 3) or len(payload) < 6 + 3 * count or not width or not height:
        raise NotPlainJpeg(f"a frame of {count} components, {width}x{height}")
    components = tuple(
        Component(payload[i], payload[i + 1] >> 4, payload[i + 1] & 15, payload[i + 2])
        for i in range(6, 6 + 3 * count, 3)
    )
    max_h, max_v = max(c.h for c in components), max(c.v for c in components)
    for c in components:
        if not (1 <= c.h <= 4 and 1 <= c.v <= 4) or max_h % c.h or max_v % c.v or c.table > 3:
            raise NotPlainJpeg(f"sampling factors {c.h}x{c.v} of {max_h}x{max_v}")
    return Frame(width, height, SOF_HUFFMAN[marker], components, _colour(components, jfif, adobe_transform))


def _colour(components: tuple[Component, ...], jfif: bool, adobe_transform: int | None) -> str:
    """libjpeg's reading of a 3-component file: JFIF means YCbCr; else Adobe's transform flag; else the
    component ids 'R', 'G', 'B' mean RGB; anything else is YCbCr."""
    if len(components) == 1:
        return "grey"
    if jfif:
        return "ycbcr"
    if adobe_transform is not None:
        return "rgb" if adobe_transform == 0 else "ycbcr"
    return "rgb" if tuple(c.id for c in components) == (82, 71, 66) else "ycbcr"
