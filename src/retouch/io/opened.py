"""What reading a file's header yields, before any pixel is decoded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retouch.io.formats import ImageFormat


@dataclass(frozen=True)
class ImageHeader:
    """The facts a file states about itself (``probe``); sizes are as stored, before orientation."""

    format: ImageFormat
    width: int
    height: int
    mode: str  # the colour layout as stored: "RGB", "RGBA", "L", "LA", "P", "1", "CMYK", ...
    bit_depth: int  # bits per stored sample: 1, 8, 10, 12 or 16
    orientation: int  # the EXIF orientation as stored, 1-8
    frames: int = 1  # animations and multi-page files: only the first frame is read


# pixels HxWxC (C = 1 or 3, RGB order) and alpha HxW or None, both upright, uint8 or uint16
Decoded = tuple[np.ndarray, np.ndarray | None]


@dataclass(frozen=True)
class Opened:
    """A parsed header, the metadata found beside it, and how to decode the pixels."""

    header: ImageHeader
    decode: Callable[[], Decoded]
    icc_profile: bytes | None = None
    exif: bytes | None = None  # raw block as stored (orientation not yet reset)
    xmp: bytes | None = None
    dpi: tuple[float, float] | None = None
