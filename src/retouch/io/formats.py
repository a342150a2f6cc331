"""The image formats Retouch reads and writes: how to recognise them and what each can carry."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retouch.errors import UnsupportedFormat


@dataclass(frozen=True)
class ImageFormat:
    """One file format and what it can store without loss."""

    name: str  # canonical name, Pillow's spelling: "JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "HEIF"
    label: str  # what users call it
    extensions: tuple[str, ...]  # the first one is used when a format needs an extension
    mime: str
    alpha: bool  # stores transparency (GIF: on/off per pixel only)
    grey: bool  # stores one-channel images as such
    deep: bool  # stores more than 8 bits per sample (HEIF: 10 bits)
    icc: bool
    exif: bool
    xmp: bool
    dpi: bool


FORMATS: dict[str, ImageFormat] = {
    f.name: f
    for f in (
        ImageFormat("JPEG", "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif"), "image/jpeg",
                    alpha=False, grey=True, deep=False, icc=True, exif=True, xmp=True, dpi=True),
        ImageFormat("PNG", "PNG", (".png",), "image/png",
                    alpha=True, grey=True, deep=True, icc=True, exif=True, xmp=True, dpi=True),
        ImageFormat("WEBP", "WebP", (".webp",), "image/webp",
                    alpha=True, grey=False, deep=False, icc=True, exif=True, xmp=True, dpi=False),
        ImageFormat("TIFF", "TIFF", (".tif", ".tiff"), "image/tiff",
                    alpha=True, grey=True, deep=True, icc=True, exif=True, xmp=True, dpi=True),
        ImageFormat("BMP", "BMP", (".bmp", ".dib"), "image/bmp",
                    alpha=False, grey=True, deep=False, icc=False, exif=False, xmp=False, dpi=True),
        ImageFormat("GIF", "GIF", (".gif",), "image/gif",
                    alpha=True, grey=True, deep=False, icc=False, exif=False, xmp=False, dpi=False),
        ImageFormat("HEIF", "HEIC", (".heic", ".heif", ".hif"), "image/heic",
                    alpha=True, grey=True, deep=True, icc=True, exif=True, xmp=True, dpi=False),
    )
}  # fmt: skip

_ALIASES = {ext.lstrip("."): f.name for f in FORMATS.values() for ext in f.extensions} | {
    name.lower(): name for name in FORMATS
}

# ISO base media brands that mean HEIF still images (AVIF shares the container but is not HEIF).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}

METRES_PER_INCH = 0.0254
READABLE = "JPEG, PNG, WebP, TIFF, BMP, GIF or HEIC"
WRITABLE_EXTENSIONS = ".jpg, .png, .webp, .tif, .bmp, .gif or .heic"


def dpi_from_ppm(pixels_per_metre: float) -> float:
    """DPI from a pixels-per-metre value (PNG, BMP), recovering the whole DPI a writer converted from."""
    nearest = round(pixels_per_metre * METRES_PER_INCH)
    if nearest and round(nearest / METRES_PER_INCH) == round(pixels_per_metre):
        return float(nearest)
    return pixels_per_metre * METRES_PER_INCH


def format_named(name: str) -> ImageFormat:
    """The format for a name or extension: "jpeg", "JPG", ".tif", "heic", ..."""
    canonical = _ALIASES.get(name.strip().lower().lstrip("."))
    if canonical is None:
        raise UnsupportedFormat(f"unknown image format '{name}'; Retouch writes {WRITABLE_EXTENSIONS}")
    return FORMATS[canonical]


def format_for_path(path: str | os.PathLike[str], override: str | None = None) -> ImageFormat:
    """The output format: `override` when given, else the one the file extension names."""
    if override is not None:
        return format_named(override)
    suffix = Path(path).suffix.lower()
    canonical = _ALIASES.get(suffix.lstrip(".")) if suffix else None
    if canonical is None:
        what = f"the extension '{suffix}'" if suffix else "a file name without an extension"
        raise UnsupportedFormat(
            f"cannot tell the image format of {path} from {what}; use {WRITABLE_EXTENSIONS} (or pass format=)"
        )
    return FORMATS[canonical]


def is_image_name(name: str | os.PathLike[str]) -> bool:
    """True when the file name's extension names a format Retouch reads and writes (folder scans use it)."""
    suffix = Path(name).suffix.lower()
    return bool(suffix) and suffix.lstrip(".") in _ALIASES


def sniff(data: bytes) -> ImageFormat | None:
    """The format the first bytes announce, or None when they match no format Retouch reads."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return FORMATS["JPEG"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FORMATS["PNG"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FORMATS["WEBP"]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FORMATS["TIFF"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FORMATS["GIF"]
    if (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)
    ):
        return FORMATS["BMP"]
    if head[4:8] == b"ftyp" and _is_heif(data):
        return FORMATS["HEIF"]
    return None


def _is_heif(data: bytes) -> bool:
    size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(size, 16), 256)]  # major brand, minor version, compatible brands
    major = bytes(box[:4])
    brands = {major} | {bytes(box[i : i + 4]) for i in range(8, len(box) - 3, 4)}
    return major != b"avif" and bool(brands & _HEIF_BRANDS)
