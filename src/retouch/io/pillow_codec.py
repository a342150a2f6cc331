"""JPEG, WebP, BMP and GIF through Pillow, and Pillow's decoding of 8-bit PNG and TIFF pixels."""

from __future__ import annotations

import io
from functools import partial

import numpy as np
from PIL import Image

from retouch.io.exif import ORIENTATION, apply_orientation, orientation, strip_prefix, with_prefix
from retouch.io.formats import METRES_PER_INCH, ImageFormat, dpi_from_ppm
from retouch.io.modes import pillow_arrays
from retouch.io.opened import Decoded, ImageHeader, Opened

JPEG_QUALITY = 95
WEBP_QUALITY = 90


def pillow_open(data: bytes, name: str) -> Image.Image:
    """Parse the header only; Pillow decodes nothing until load()."""
    # Retouch checks the pixel count itself (limits.py), with a limit the caller controls, before decoding;
    # Pillow's fixed process-wide guard would otherwise refuse or warn about images the caller allowed.
    Image.MAX_IMAGE_PIXELS = None
    return Image.open(io.BytesIO(data), formats=[name, "MPO"] if name == "JPEG" else [name])


def webp_canvas(data: bytes) -> tuple[int, int] | None:
    """The (width, height) a WebP file declares in its first chunk, or None when that chunk is not one of the
    three image headers. Pillow's WebP reader allocates the whole canvas as it opens a file, before the size
    could be checked: this reads it first."""
    if len(data) < 30:
        return None
    kind = data[12:16]
    if kind == b"VP8X":  # extended: the canvas, 24 bits each, stored minus one
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8L" and data[20] == 0x2F:  # lossless: 14 bits each after the signature, minus one
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy: 14 bits each after the start code
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    return None


def open_with_pillow(data: bytes, fmt: ImageFormat) -> Opened:
    image = pillow_open(data, fmt.name)
    info = image.info
    exif = strip_prefix(info.get("exif") or b"") or None
    icc = info.get("icc_profile") or None
    dpi = info.get("dpi")
    if dpi and fmt.name == "BMP":  # stored as pixels per metre, which Pillow converts without rounding
        dpi = tuple(dpi_from_ppm(round(d / METRES_PER_INCH)) for d in dpi)
    header = ImageHeader(
        format=fmt,
        width=image.width,
        height=image.height,
        mode=image.mode,
        bit_depth=1 if image.mode == "1" else 8,
        orientation=orientation(exif),
        frames=getattr(image, "n_frames", 1),
    )
    return Opened(
        header=header,
        decode=partial(_decode_opened, image, icc, header.orientation),
        icc_profile=icc,
        exif=exif,
        xmp=info.get("xmp") or None,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi and min(dpi) > 0 else None,
    )


def decode_with_pillow(data: bytes, name: str, icc_profile: bytes | None, orientation_value: int) -> Decoded:
    """Decode the first frame with Pillow and turn it upright."""
    return _decode_opened(pillow_open(data, name), icc_profile, orientation_value)


def _decode_opened(image: Image.Image, icc_profile: bytes | None, orientation_value: int) -> Decoded:
    image.load()
    if image.format == "TIFF" and ORIENTATION not in image.tag_v2:  # type: ignore[attr-defined]
        orientation_value = 1  # Pillow turns TIFFs upright while loading, and then drops the tag
    pixels, alpha = pillow_arrays(image, icc_profile)
    pixels = apply_orientation(pixels, orientation_value)
    return pixels, None if alpha is None else apply_orientation(alpha, orientation_value)


def _image(pixels: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    """8-bit samples to a Pillow image: L, LA, RGB or RGBA."""
    samples = pixels if alpha is None else np.dstack([pixels, alpha])
    if samples.shape[2] == 1:
        samples = samples[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(samples))


def encode_jpeg(
    pixels: np.ndarray,
    *,
    quality: int | None,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None,
) -> bytes:
    quality = JPEG_QUALITY if quality is None else quality
    options: dict[str, object] = {
        "quality": quality,
        "subsampling": 0 if quality >= 90 else 2,  # 4:4:4 keeps colour edges sharp at high quality
        # no optimize=True: its second pass over the coefficients took 0.11 s of a 12 MP save for a file 7% smaller
    }
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = with_prefix(exif)
    if xmp:
        options["xmp"] = xmp
    if dpi:
        options["dpi"] = (round(dpi[0]), round(dpi[1]))
    return _save(_image(pixels, None), "JPEG", options)


def encode_webp(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    quality: int | None,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
) -> bytes:
    quality = WEBP_QUALITY if quality is None else quality
    # quality 100 means lossless; `exact` keeps the colour under fully transparent pixels
    options: dict[str, object] = {"quality": quality, "lossless": quality == 100, "exact": True, "method": 4}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = exif
    if xmp:
        options["xmp"] = xmp
    return _save(_image(pixels, alpha), "WEBP", options)


def encode_bmp(pixels: np.ndarray, *, dpi: tuple[float, float] | None) -> bytes:
    return _save(_image(pixels, None), "BMP", {"dpi": dpi} if dpi else {})


def encode_gif(pixels: np.ndarray, alpha: np.ndarray | None) -> bytes:
    """Grey stays 256 exact grey levels; colour is reduced to an adaptive palette with dithering; pixels less
    than half opaque become the one transparent colour GIF has."""
    if alpha is None and pixels.shape[2] == 1:
        return _save(_image(pixels, None), "GIF", {})
    rgb = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels
    colours = 256 if alpha is None else 255
    indexed = Image.fromarray(np.ascontiguousarray(rgb)).quantize(colors=colours, dither=Image.Dither.FLOYDSTEINBERG)
    if alpha is None:
        return _save(indexed, "GIF", {})
    index = np.asarray(indexed).copy()
    index[alpha < 128] = 255
    palette = (indexed.getpalette("RGB") or [])[: 3 * 255]
    palette += [0] * (3 * 256 - len(palette))
    out = Image.frombytes("P", indexed.size, index.tobytes())
    out.putpalette(palette)
    return _save(out, "GIF", {"transparency": 255})


def _save(image: Image.Image, name: str, options: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, name, **options)
    return buffer.getvalue()
