"""HEIC/HEIF through pillow-heif, registered with Pillow on first use.

libheif applies the container's rotation and mirroring while decoding and pillow-heif resets the EXIF
orientation to 1, so pixels arrive upright. 10- and 12-bit images load as uint16 (scaled to the full 16-bit
range); uint16 pictures are written as 10-bit HEIC.
"""

from __future__ import annotations

import io
from functools import cache, partial

import numpy as np
from PIL import Image

from retouch.io.exif import strip_prefix, with_prefix
from retouch.io.formats import FORMATS
from retouch.io.modes import pillow_arrays, split_alpha
from retouch.io.opened import Decoded, ImageHeader, Opened
from retouch.io.pillow_codec import pillow_open

QUALITY = 90


@cache
def register() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def open_heif(data: bytes) -> Opened:
    register()
    image = pillow_open(data, "HEIF")
    info = image.info
    depth = int(info.get("bit_depth") or 8)
    original = int(info.get("original_orientation") or 1)
    width, height = image.size
    if original in (5, 6, 7, 8):  # report the stored size; libheif has already turned it
        width, height = height, width
    header = ImageHeader(
        format=FORMATS["HEIF"],
        width=width,
        height=height,
        mode=image.mode,
        bit_depth=depth,
        orientation=original if 1 <= original <= 8 else 1,
        frames=getattr(image, "n_frames", 1),
    )
    icc = info.get("icc_profile") or None
    decode = partial(_decode_deep, data) if depth > 8 else partial(_decode, image, icc)
    return Opened(
        header=header,
        decode=decode,
        icc_profile=icc,
        exif=strip_prefix(info.get("exif") or b"") or None,
        xmp=info.get("xmp") or None,
    )


def _decode(image: Image.Image, icc_profile: bytes | None) -> Decoded:
    image.load()
    return pillow_arrays(image, icc_profile)


def _decode_deep(data: bytes) -> Decoded:
    import pillow_heif

    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    return split_alpha(np.asarray(heif).astype(np.uint16, copy=False))


def encode_heif(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    quality: int | None,
    icc_profile: bytes | None,
    exif: bytes | None,
    xmp: bytes | None,
) -> bytes:
    """Grey, RGB or RGBA samples (8- or 16-bit) as HEIC. Quality 100 is lossless (4:4:4, RGB kept as is);
    below, 4:2:0 as phones write it, for compatibility."""
    import pillow_heif

    if alpha is not None:
        samples, base = np.dstack([pixels, alpha]), "RGBA"
    else:
        samples, base = (pixels[:, :, 0], "L") if pixels.shape[2] == 1 else (pixels, "RGB")
    samples = np.ascontiguousarray(samples)
    mode = base + (";16" if samples.dtype == np.uint16 else "")
    heif = pillow_heif.from_bytes(mode=mode, size=(samples.shape[1], samples.shape[0]), data=samples.tobytes())
    quality = QUALITY if quality is None else quality
    options: dict[str, object] = {"quality": quality}
    if quality == 100:
        options.update(quality=-1, chroma=444, matrix_coefficients=0)
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = with_prefix(exif)
    if xmp:
        options["xmp"] = xmp
    buffer = io.BytesIO()
    heif.save(buffer, **options)
    return buffer.getvalue()
