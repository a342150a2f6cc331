"""Pillow's colour modes to Retouch's pixel contract: 8-bit grey or RGB samples, alpha apart.

Palette images become RGB(A), or grey(+alpha) when every colour they use is grey; 1-bit becomes grey; CMYK
becomes RGB through its ICC profile when it has one (the CMYK profile no longer applies and is dropped).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from retouch.errors import UnsupportedFormat
from retouch.io.opened import Decoded


def pillow_arrays(image: Image.Image, icc_profile: bytes | None) -> Decoded:
    """The samples of a loaded Pillow image as (pixels HxWxC, alpha HxW or None), uint8, as stored."""
    mode = image.mode
    if mode == "CMYK":
        image = cmyk_to_rgb(image, icc_profile)
    elif mode in ("P", "PA"):
        return _palette_arrays(image)
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("La", "RGBa"):  # premultiplied alpha
        image = image.convert(mode.replace("a", "A"))
    elif mode in ("RGBX", "YCbCr"):
        image = image.convert("RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise UnsupportedFormat(
            f"its colour mode {mode} (e.g. 32-bit or floating-point samples, Lab) is not supported; "
            "Retouch reads 8- and 16-bit grey and RGB images"
        )
    if image.mode in ("L", "RGB"):
        return _samples(image), None
    return split_alpha(np.asarray(image))


def profile_matches(icc_profile: bytes | None, channels: int) -> bool:
    """Whether an ICC profile describes samples with this many colour channels (GRAY: 1, RGB: 3).

    A CMYK profile after conversion to RGB, or a colour profile on grey samples, would mislead every reader.
    """
    space = icc_profile[16:20] if icc_profile and len(icc_profile) >= 128 else None
    return space == (b"GRAY" if channels == 1 else b"RGB ")


def cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert CMYK to sRGB through the embedded profile, or with Pillow's plain formula when there is none."""
    if icc_profile:
        from PIL import ImageCms

        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image,
                source,
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                outputMode="RGB",
                flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a damaged or non-CMYK profile: the plain conversion below is the best left
    return image.convert("RGB")


def _palette_arrays(image: Image.Image) -> Decoded:
    """The palette decided first, from the indices alone, so the pixels are expanded once, to grey when every
    colour used is grey (a grey GIF costs one byte a pixel, not three)."""
    transparent = image.mode == "PA" or image.has_transparency_data
    indices = image if image.mode == "P" else image.getchannel("P")
    used = np.flatnonzero(indices.histogram())  # Pillow counts in place; NumPy would widen to 8 bytes a pixel
    palette = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
    colours = palette[used[used < len(palette)]]
    grey = bool(np.all(colours == colours[:, :1]))
    mode = ("LA" if transparent else "L") if grey else ("RGBA" if transparent else "RGB")
    expanded = image.convert(mode)  # P to L takes each grey entry's value exactly (equal weights sum to one)
    if transparent:
        return split_alpha(np.asarray(expanded))
    return _samples(expanded), None


def _samples(image: Image.Image) -> np.ndarray:
    """An L or RGB image's samples as a new, writable HxWx1 or HxWx3 uint8 array, written in one pass.

    ``np.asarray(image)`` goes through ``image.tobytes()``, which joins 64 KB pieces into one bytes object that
    numpy can only read, so a writable array costs two more passes over the pixels: 60 ms against 20 ms for a
    12 MP photo. Here Pillow's raw encoder writes its pieces straight into the array. The encoder is Pillow's
    own, reached through ``Image._getencoder``; if a Pillow release changes that, the slow path takes over.
    """
    image.load()
    width, height = image.size
    channels = 3 if image.mode == "RGB" else 1
    out = np.empty((height, width, channels), dtype=np.uint8)
    flat = out.reshape(-1)
    try:
        encoder = Image._getencoder(image.mode, "raw", image.mode, ())
        encoder.setimage(image.im, (0, 0, width, height))
        try:
            filled = 0
            while True:
                _, status, data = encoder.encode(max(65536, width * 4))
                flat[filled : filled + len(data)] = np.frombuffer(data, dtype=np.uint8)
                filled += len(data)
                if status:
                    break
        finally:
            encoder.cleanup()
        if status < 0 or filled != flat.size:
            raise ValueError(f"raw encoder status {status}, {filled} of {flat.size} bytes")
    except (AttributeError, TypeError, ValueError):  # a Pillow whose private encoder API differs
        out[...] = np.asarray(image).reshape(out.shape)
    return out


def split_alpha(samples: np.ndarray) -> Decoded:
    """HxW or HxWxC samples (alpha last when C is 2 or 4) to (pixels HxWx1|3, alpha HxW or None)."""
    if samples.ndim == 2:
        return samples[:, :, None].copy(), None
    channels = samples.shape[2]
    if channels in (2, 4):
        return samples[:, :, :-1].copy(), samples[:, :, -1].copy()
    return samples.copy(), None
