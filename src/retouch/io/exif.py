"""EXIF: the orientation tag (read, apply to pixels, reset to 1) and moving EXIF in and out of TIFF tags.

EXIF travels as the raw block (a TIFF header and its IFDs). Orientation is patched in place, so every other
byte (maker notes included) stays as the camera wrote it.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

ORIENTATION = 274
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
_PREFIX = b"Exif\x00\x00"

# What each orientation value did to the stored pixels, for people (EXIF 2.3, tag 274).
ORIENTATION_NAMES = {
    1: "upright",
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "mirrored along the main diagonal",
    6: "rotated 90° clockwise",
    7: "mirrored along the anti-diagonal",
    8: "rotated 90° anticlockwise",
}

# IFD0 tags that describe the picture rather than the TIFF's pixel layout: these move between EXIF and TIFF.
# (Resolution travels as Metadata.dpi.)
DESCRIPTIVE_TAGS = (
    269,  # DocumentName
    270,  # ImageDescription
    271,  # Make
    272,  # Model
    274,  # Orientation
    285,  # PageName
    305,  # Software
    306,  # DateTime
    315,  # Artist
    316,  # HostComputer
    318,  # WhitePoint
    319,  # PrimaryChromaticities
    18246,  # Rating
    18249,  # RatingPercent
    33432,  # Copyright
    33723,  # IPTC-NAA
    40091, 40092, 40093, 40094, 40095,  # Windows XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject
)  # fmt: skip
_SUB_IFDS = (EXIF_IFD, GPS_IFD)
_INTEROP_IFD = 0xA005  # inside the Exif IFD: its offset cannot survive re-serialising, and it only matters to DCF


def strip_prefix(raw: bytes) -> bytes:
    """The EXIF block without the b"Exif\\0\\0" marker JPEG puts before it."""
    return raw[len(_PREFIX) :] if raw.startswith(_PREFIX) else raw


def with_prefix(exif: bytes) -> bytes:
    return _PREFIX + exif


def _orientation_field(exif: bytes) -> tuple[int, str, int] | None:
    """(offset, struct format, value) of IFD0's orientation entry, or None (absent or malformed)."""
    order = {b"II": "<", b"MM": ">"}.get(exif[:2])
    if order is None or len(exif) < 8:
        return None
    magic, ifd = struct.unpack_from(order + "HI", exif, 2)
    if magic != 42 or ifd + 2 > len(exif):
        return None
    (count,) = struct.unpack_from(order + "H", exif, ifd)
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(exif):
            return None
        tag, kind, n = struct.unpack_from(order + "HHI", exif, entry)
        if tag == ORIENTATION and n == 1 and kind in (3, 4):  # SHORT as the standard says, LONG from sloppy writers
            fmt = order + ("H" if kind == 3 else "I")
            return entry + 8, fmt, struct.unpack_from(fmt, exif, entry + 8)[0]
    return None


def orientation(exif: bytes | None) -> int:
    """The EXIF orientation, 1-8; 1 when absent, malformed or out of range."""
    field = _orientation_field(exif) if exif else None
    return field[2] if field is not None and 1 <= field[2] <= 8 else 1


def reset_orientation(exif: bytes | None) -> bytes | None:
    """The same EXIF block with orientation set to 1 (the pixels have been turned upright)."""
    field = _orientation_field(exif) if exif else None
    if exif is None or field is None or field[2] == 1:
        return exif
    return set_orientation(exif, 1)


def set_orientation(exif: bytes, value: int) -> bytes | None:
    """The same EXIF block with its orientation entry set to ``value`` (1-8); None when it has no such entry."""
    field = _orientation_field(exif)
    if field is None:
        return None
    patched = bytearray(exif)
    struct.pack_into(field[1], patched, field[0], value)
    return bytes(patched)


def apply_orientation(array: np.ndarray, value: int) -> np.ndarray:
    """Turn stored pixels (HxW or HxWxC) upright for an EXIF orientation value."""
    if value == 2:
        return array[:, ::-1]
    if value == 3:
        return array[::-1, ::-1]
    if value == 4:
        return array[::-1]
    if value == 5:
        return array.swapaxes(0, 1)
    if value == 6:
        return array.swapaxes(0, 1)[:, ::-1]
    if value == 7:
        return array[::-1, ::-1].swapaxes(0, 1)
    if value == 8:
        return array.swapaxes(0, 1)[::-1]
    return array


def exif_from_tiff_tags(tags: Any) -> bytes | None:
    """An EXIF block holding the descriptive IFD0 tags and the Exif/GPS IFDs of a TIFF (a PIL.Image.Exif)."""
    from PIL import Image

    exif = Image.Exif()
    found = False
    for tag in DESCRIPTIVE_TAGS:
        if tag in tags:
            exif[tag] = tags[tag]
            found = True
    for pointer in _SUB_IFDS:
        sub = {k: v for k, v in tags.get_ifd(pointer).items() if k != _INTEROP_IFD}
        if sub:
            exif.get_ifd(pointer).update(sub)
            found = True
    return strip_prefix(exif.tobytes()) if found else None


def tiff_tags_from_exif(exif: bytes) -> dict[int, Any]:
    """The descriptive IFD0 tags (orientation forced to 1) and the Exif/GPS IFDs (as dicts) to write into a TIFF."""
    from PIL import Image

    parsed = Image.Exif()
    parsed.load(exif)
    tags: dict[int, Any] = {tag: parsed[tag] for tag in DESCRIPTIVE_TAGS if tag in parsed}
    if ORIENTATION in tags:
        tags[ORIENTATION] = 1
    for pointer in _SUB_IFDS:
        sub = {k: v for k, v in parsed.get_ifd(pointer).items() if k != _INTEROP_IFD}
        if sub:
            tags[pointer] = sub
    return tags
