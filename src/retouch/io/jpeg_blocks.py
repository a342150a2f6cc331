"""A JPEG's quantised DCT blocks: read them, re-encode some from pixels, write them back.

Reading and writing the blocks is lossless entropy (Huffman) decoding and coding, done by libjpeg-turbo 2.1
through the ``jpeglib`` package: a maintained wheel with libjpeg builds inside, measured to carry every block
through unchanged, so the blocks it writes decode through Pillow's libjpeg-turbo exactly as the original file's
did (tests/test_io_jpeg_lossless.py). Its low-level binding is used, with our own files, rather than its
``read_dct``: that one decodes the file twice and leaves copies in the temporary folder when libjpeg fails.
jpeglib keeps state in globals and libjpeg prints its warnings to the process's stderr, so every call holds one
lock and runs with stderr captured: a warning means damaged data, whose blocks are not kept.

Re-encoding a block is what a JPEG encoder does: RGB to YCbCr (JFIF), chroma averaged down to the component's
sampling, the 8x8 DCT, and division by the file's own quantisation table.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retouch.io.jpeg_stream import Frame, NotPlainJpeg

_LIBJPEG = "turbo210"
_COLOUR_SPACE = {"grey": 1, "ycbcr": 3}  # libjpeg's J_COLOR_SPACE values
_LOCK = threading.Lock()


@dataclass
class Blocks:
    """The quantised DCT coefficients of each component, int16 (block rows, block columns, 8, 8) in natural
    order, and the quantisation tables (slot, 8, 8)."""

    frame: Frame
    components: list[np.ndarray]
    tables: np.ndarray


def read_blocks(frame: Frame, coding: bytes) -> Blocks:
    """The coefficients of a metadata-free JPEG stream (see ``jpeg_stream.parse``); NotPlainJpeg when libjpeg
    fails or warns."""
    components = [np.zeros((*_block_grid(frame, i), 8, 8), np.int16) for i in range(len(frame.components))]
    tables = ((ctypes.c_ushort * 64) * 4)()
    slots = (ctypes.c_short * 4)()
    views = [np.ctypeslib.as_ctypes(c.reshape(c.shape[0], c.shape[1], 64)) for c in components]
    with _libjpeg() as (lib, source):
        source.write_bytes(coding)
        planes = views + [None] * (4 - len(views))
        lib.read_jpeg_dct(str(source).encode(), *planes, tables, slots)
    read = np.ctypeslib.as_array(tables).reshape(4, 8, 8).astype(np.uint16)
    if any(slots[i] != c.table for i, c in enumerate(frame.components)) or not read[slots[0]].all():
        raise NotPlainJpeg("libjpeg read other quantisation tables than the frame names")
    return Blocks(frame, components, read)


def write_blocks(blocks: Blocks) -> bytes:
    """A baseline JPEG (SOI to EOI, with libjpeg's own JFIF header) holding exactly these coefficients, its
    Huffman tables optimised for them."""
    from jpeglib._bind import CJpegLib

    frame = blocks.frame
    count = len(frame.components)
    planes = [
        np.ctypeslib.as_ctypes(np.ascontiguousarray(c).reshape(c.shape[0], c.shape[1], 64)) for c in blocks.components
    ]
    grid = [n for c in blocks.components for n in c.shape[:2]]
    sampling = [n for c in frame.components for n in (c.v, c.h)]
    slots = [c.table for c in frame.components] + [-1] * (4 - count)
    with _libjpeg() as (lib, target):
        lib.write_jpeg_dct(
            None,
            str(target).encode(),
            *(planes + [None] * (4 - count)),
            (ctypes.c_int * 2)(frame.height, frame.width),
            (ctypes.c_int * 6)(*grid, *[0] * (6 - len(grid))),
            (ctypes.c_int * 6)(*sampling, *[0] * (6 - len(sampling))),
            _COLOUR_SPACE[frame.colour],
            count,
            np.ctypeslib.as_ctypes(blocks.tables.reshape(4, 64).astype(np.uint16)),
            -1,  # quality: use the tables given
            (ctypes.c_short * 4)(*slots),
            0,  # no markers: Retouch writes the metadata itself
            None,
            None,
            None,
            *CJpegLib.flags_to_mask(["+OPTIMIZE_CODING"]),
        )
        return target.read_bytes()


def reencode(blocks: Blocks, pixels: np.ndarray, touched: np.ndarray) -> None:
    """Replace, in place, the blocks of every touched MCU by the DCT of ``pixels`` (HxWxC uint8, the frame's
    size, RGB or grey) quantised with the file's tables. ``touched``: bool (MCU rows, MCU columns)."""
    frame = blocks.frame
    mcu_w, mcu_h = frame.mcu_size
    rows, cols = np.nonzero(touched)
    if rows.size == 0:
        return
    # Only the band of MCU rows and columns that holds touched MCUs is cut out and padded (a 12 MP photo's full
    # padding alone cost 20 ms), as libjpeg fills a partial MCU: the last pixel row and column repeated.
    top, left = rows.min(), cols.min()
    bottom, right = rows.max() + 1, cols.max() + 1
    band = pixels[top * mcu_h : bottom * mcu_h, left * mcu_w : right * mcu_w]
    padded = np.pad(
        band,
        ((0, (bottom - top) * mcu_h - band.shape[0]), (0, (right - left) * mcu_w - band.shape[1]), (0, 0)),
        mode="edge",
    )
    tiles = padded.reshape(bottom - top, mcu_h, right - left, mcu_w, -1)[rows - top, :, cols - left]
    planes = _ycbcr(tiles.astype(np.float32)) if frame.colour == "ycbcr" else tiles.astype(np.float32)
    for index, component in enumerate(frame.components):
        fy, fx = mcu_h // (8 * component.v), mcu_w // (8 * component.h)
        plane = planes[..., index]
        plane = plane.reshape(len(rows), mcu_h // fy, fy, mcu_w // fx, fx).mean(axis=(2, 4))
        cells = plane.reshape(len(rows), component.v, 8, component.h, 8).transpose(0, 1, 3, 2, 4)
        coefficients = _DCT @ (cells - 128.0) @ _DCT.T  # batched matrix products: 10x einsum's speed here
        table = blocks.tables[component.table].astype(np.float32)
        quantised = np.clip(np.rint(coefficients / table), -32768, 32767).astype(np.int16)
        target = blocks.components[index]
        for a in range(component.v):
            for b in range(component.h):
                block_rows, block_cols = rows * component.v + a, cols * component.h + b
                inside = (block_rows < target.shape[0]) & (block_cols < target.shape[1])  # not a padding block
                target[block_rows[inside], block_cols[inside]] = quantised[inside, a, b]


def _dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II: JPEG's forward DCT is D @ block @ D.T."""
    u, x = np.mgrid[0:8, 0:8]
    matrix = np.cos((2 * x + 1) * u * np.pi / 16) * np.where(u == 0, np.sqrt(1 / 8), 0.5)
    return matrix.astype(np.float32)


_DCT = _dct_matrix()


def _ycbcr(rgb: np.ndarray) -> np.ndarray:
    """JFIF's full-range RGB to YCbCr, as libjpeg converts."""
    matrix = np.array(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32
    )
    return rgb @ matrix.T + np.array([0.0, 128.0, 128.0], np.float32)


def _block_grid(frame: Frame, index: int) -> tuple[int, int]:
    """(rows, columns) of 8x8 blocks libjpeg stores for a component: its samples rounded up to blocks."""
    component = frame.components[index]
    max_h = max(c.h for c in frame.components)
    max_v = max(c.v for c in frame.components)
    samples_w = -(-frame.width * component.h // max_h)
    samples_h = -(-frame.height * component.v // max_v)
    return -(-samples_h // 8), -(-samples_w // 8)


@contextmanager
def _libjpeg() -> Iterator[tuple[_Checked, Path]]:
    """jpeglib's binding to libjpeg-turbo and a scratch file for it, one caller at a time, stderr captured:
    NotPlainJpeg when libjpeg fails or prints a warning. (Another thread's stderr output during the call, a
    fraction of a second, goes with it.)"""
    import jpeglib
    from jpeglib._bind import CJpegLib

    with _LOCK, _scratch_file() as scratch, tempfile.TemporaryFile() as sink:
        jpeglib.version.set(_LIBJPEG)
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield _Checked(CJpegLib.get()), scratch
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        said = sink.read(300).decode("utf-8", "replace").strip()
        if said:
            raise NotPlainJpeg(f"libjpeg: {said.splitlines()[0]}")


@contextmanager
def _scratch_file() -> Iterator[Path]:
    """A path libjpeg can open: an anonymous in-memory file where the system has them (Linux), so nothing is
    left behind even when the process is killed; else a file in a private temporary folder."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        descriptor = os.memfd_create("retouch-jpeg")
        try:
            yield Path(f"/proc/self/fd/{descriptor}")
        finally:
            os.close(descriptor)
    else:
        with tempfile.TemporaryDirectory(prefix="retouch-jpeg-") as folder:
            yield Path(folder) / "blocks.jpg"


class _Checked:
    """The C library's functions, returning 0 on failure, raising NotPlainJpeg instead."""

    def __init__(self, lib: object) -> None:
        self._lib = lib

    def __getattr__(self, name: str) -> object:
        function = getattr(self._lib, name)

        def call(*args: object) -> None:
            if function(*args) == 0:
                raise NotPlainJpeg(f"libjpeg could not {name.split('_')[0]} the blocks")

        return call
