"""Saving an edited JPEG as JPEG without generation loss: the blocks the edit did not touch are the original
file's, bit for bit.

A JPEG stores its pixels as quantised DCT blocks, grouped in MCUs (8x8 pixels, or 16x16 with 4:2:0 chroma).
Encoding decoded pixels again quantises every block a second time, and the whole photo drifts a little on every
save. Here each MCU whose pixels are still exactly what the original file decodes to keeps the file's own
coefficients; only the MCUs an edit changed are transformed and quantised again, with the file's quantisation
tables and chroma sampling. So after any number of edits, a pixel more than one MCU away from everything that
was painted decodes exactly as in the original file. (With subsampled chroma a decoder blends chroma across MCU
edges, so the first pixel row or column of an MCU next to a re-encoded one may move by a level or so.)

The file keeps its stored layout and EXIF orientation, its quantisation tables and sampling; the entropy coding
is written anew (baseline, Huffman tables optimised). Metadata is written as for any JPEG (``encode_image``).
Files this cannot keep (CMYK, RGB-coded, arithmetic-coded, 12-bit, damaged), pictures whose size or samples
differ from the file's, and pictures with nothing left of the original are encoded in full instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retouch.io import jpeg_stream
from retouch.io.exif import apply_orientation, orientation, set_orientation, strip_prefix
from retouch.io.jpeg_blocks import read_blocks, reencode, write_blocks
from retouch.io.jpeg_stream import NotPlainJpeg

# apply_orientation(apply_orientation(stored, value), _UNDO[value]) == stored
_UNDO = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def encode_keeping_blocks(
    source: bytes,
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None,
) -> bytes | None:
    """The JPEG of ``pixels`` (upright, HxWxC uint8) that keeps every untouched block of ``source`` (the bytes of
    the JPEG file the picture was decoded from), with this metadata; None when the source's blocks cannot be
    kept (the caller then encodes in full). ``exif`` is written with the source's orientation."""
    try:
        stream = jpeg_stream.parse(source)
    except NotPlainJpeg:
        return None
    frame = stream.frame
    if frame.colour == "rgb" or pixels.dtype != np.uint8 or pixels.shape[2] != len(frame.components):
        return None
    image, turn = _open(source)
    if turn != 1:
        exif = set_orientation(exif, turn) if exif else None
        if exif is None:  # nothing to record the turn in: the pixels must be stored upright
            return None
    stored = np.ascontiguousarray(apply_orientation(pixels, _UNDO[turn]))
    if stored.shape[:2] != (frame.height, frame.width):  # resized or cropped: nothing to keep, nothing to decode
        return None
    original = _decode(image)
    if original is None or stored.shape != original.shape:
        return None
    touched = touched_mcus(stored, original, frame.mcu_size)
    if touched.all():
        return None
    try:
        blocks = read_blocks(frame, stream.coding)
        reencode(blocks, stored, touched)
        body = write_blocks(blocks)
        written = jpeg_stream.parse(body)
    except NotPlainJpeg:
        return None
    if any(written.tables.get(c.table) != stream.tables[c.table] for c in frame.components):
        return None  # libjpeg wrote other tables than the file's: the kept blocks would decode differently
    header = _metadata_segments(len(frame.components), icc_profile=icc_profile, exif=exif, xmp=xmp, dpi=dpi)
    return b"\xff\xd8" + header + jpeg_stream.without_metadata(body)


def touched_mcus(stored: np.ndarray, original: np.ndarray, mcu_size: tuple[int, int]) -> np.ndarray:
    """bool (MCU rows, MCU columns): True where any pixel of the MCU differs from the original decode.

    Rows first, each compared as one flat run of samples (numpy reduces a long contiguous axis quickly, a 3-sample
    one slowly: 0.7 s of a 12 MP save), then columns only within the bands of MCUs whose rows changed."""
    mcu_w, mcu_h = mcu_size
    height, width = original.shape[:2]
    touched = np.zeros((-(-height // mcu_h), -(-width // mcu_w)), bool)
    changed_rows = (stored.reshape(height, -1) != original.reshape(height, -1)).any(axis=1)
    for band in np.flatnonzero(np.add.reduceat(changed_rows, np.arange(0, height, mcu_h))):
        rows = slice(band * mcu_h, (band + 1) * mcu_h)
        columns = np.zeros(touched.shape[1] * mcu_w, bool)
        columns[:width] = (stored[rows] != original[rows]).any(axis=0).any(axis=1)
        touched[band] = columns.reshape(-1, mcu_w).any(axis=1)
    return touched


def _open(source: bytes) -> tuple[Any, int]:
    """The source opened by Pillow (pixels not decoded yet), and its EXIF orientation."""
    from retouch.io.pillow_codec import pillow_open

    image = pillow_open(source, "JPEG")
    return image, orientation(strip_prefix(image.info.get("exif") or b""))


def _decode(image: Any) -> np.ndarray | None:
    """The source's pixels as Pillow decodes them (HxWxC, stored layout); None for modes not kept."""
    image.load()
    if image.mode not in ("L", "RGB"):
        return None
    samples = np.asarray(image)
    return samples[:, :, None] if samples.ndim == 2 else samples


def _metadata_segments(
    channels: int,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None,
) -> bytes:
    """The APPn segments (JFIF with the DPI, EXIF, ICC profile, XMP) that Retouch's full JPEG encoder writes for
    this metadata, taken from its output for a blank block so that both paths write identical headers."""
    from retouch.io.pillow_codec import encode_jpeg

    blank = np.zeros((8, 8, channels), np.uint8)
    tiny = encode_jpeg(blank, quality=None, icc_profile=icc_profile, exif=exif, xmp=xmp, dpi=dpi)
    return jpeg_stream.metadata_segments(tiny)
