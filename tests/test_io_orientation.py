"""EXIF orientation: all eight values turn the pixels upright on load, and saved files say orientation 1."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pillow_heif
import pytest
import tifffile
from imagegen import blocky_rgb, encode_with_pillow, exif_bytes, exif_fields, stored_for_orientation, upright_rgb
from PIL import Image, ImageOps

from retouch.io import encode_image, load_image, probe
from retouch.io.exif import apply_orientation, orientation, reset_orientation

ORIENTATIONS = range(1, 9)


@pytest.mark.parametrize("value", ORIENTATIONS)
def test_png_with_orientation_loads_upright_and_resaves_as_orientation_1(value: int, tmp_path) -> None:
    upright = upright_rgb()
    stored = stored_for_orientation(upright, value)
    data = encode_with_pillow(stored, "PNG", exif=exif_bytes(orientation=value))
    assert probe(data).orientation == value

    picture = load_image(data)
    assert np.array_equal(picture.pixels, upright)
    assert exif_fields(picture.metadata.exif)["orientation"] == 1
    assert exif_fields(picture.metadata.exif)["make"] == "Canon"  # the rest of the EXIF is untouched

    from retouch.io import save_image

    for suffix in (".png", ".jpg", ".tif", ".webp"):
        saved = save_image(picture, tmp_path / f"{value}{suffix}", quality=100)
        with Image.open(saved) as reopened:
            assert reopened.getexif().get(274) == 1
            assert reopened.size == (upright.shape[1], upright.shape[0])


@pytest.mark.parametrize("value", ORIENTATIONS)
def test_jpeg_with_orientation_loads_upright(value: int) -> None:
    upright = blocky_rgb()
    stored = stored_for_orientation(upright, value)
    exif = b"Exif\0\0" + exif_bytes(orientation=value)  # JPEG's APP1 marker
    data = encode_with_pillow(stored, "JPEG", quality=95, subsampling=0, exif=exif)
    picture = load_image(data)
    assert picture.pixels.shape == upright.shape
    assert np.abs(picture.pixels.astype(int) - upright).mean() < 2
    # Pillow's own exif_transpose, an independent implementation, agrees pixel for pixel
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert np.array_equal(picture.pixels, reference)


@pytest.mark.parametrize("value", ORIENTATIONS)
def test_tiff_orientation_tag_is_applied_for_8_and_16_bit(value: int) -> None:
    upright8 = upright_rgb()
    stored8 = stored_for_orientation(upright8, value)
    pillow_tiff = encode_with_pillow(stored8, "TIFF", tiffinfo={274: value})
    assert np.array_equal(load_image(pillow_tiff).pixels, upright8)

    upright16 = upright_rgb(dtype=np.uint16)
    stored16 = stored_for_orientation(upright16, value)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, stored16, photometric="rgb", extratags=[(274, "H", 1, value, True)])
    picture = load_image(buffer.getvalue())
    assert picture.pixels.dtype == np.uint16
    assert np.array_equal(picture.pixels, upright16)

    # LZW: decoded by OpenCV, which applies the tag itself; it must not be applied twice
    lzw = encode_with_pillow(stored16[:, :, :1], "TIFF", compression="tiff_lzw", tiffinfo={274: value})
    assert np.array_equal(load_image(lzw).pixels, upright16[:, :, :1])


@pytest.mark.parametrize("value", ORIENTATIONS)
def test_16bit_png_orientation(value: int) -> None:
    upright = upright_rgb(dtype=np.uint16)
    stored = stored_for_orientation(upright, value)
    from retouch.io.png import encode_png

    data = encode_png(stored, None, icc_profile=None, exif=exif_bytes(orientation=value), xmp=None, dpi=None)
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED).shape[:2] == stored.shape[:2]
    assert np.array_equal(load_image(data).pixels, upright)


@pytest.mark.parametrize("value", [3, 6, 8])
def test_webp_and_heic_orientation(value: int) -> None:
    upright = upright_rgb()
    stored = stored_for_orientation(upright, value)
    webp = encode_with_pillow(stored, "WEBP", lossless=True, exif=exif_bytes(orientation=value))
    assert np.array_equal(load_image(webp).pixels, upright)

    heif = pillow_heif.from_bytes(mode="RGB", size=(stored.shape[1], stored.shape[0]), data=stored.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1, chroma=444, matrix_coefficients=0, exif=b"Exif\0\0" + exif_bytes(orientation=value))
    picture = load_image(buffer.getvalue())
    assert probe(buffer.getvalue()).orientation == value
    assert np.array_equal(picture.pixels, upright)
    assert exif_fields(picture.metadata.exif)["orientation"] == 1


def test_saved_exif_says_orientation_1_even_for_a_hand_built_picture() -> None:
    from retouch.types import Metadata, Picture

    picture = Picture(upright_rgb(), metadata=Metadata(exif=exif_bytes(orientation=6)))
    data = encode_image(picture, "jpeg")
    assert orientation(load_image(data).metadata.exif) == 1
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.getexif().get(274) == 1
        assert reopened.size == (5, 3)


def test_reset_orientation_changes_only_that_value() -> None:
    for value in ORIENTATIONS:
        raw = exif_bytes(orientation=value)
        reset = reset_orientation(raw)
        assert len(reset) == len(raw)
        assert orientation(reset) == 1
        assert sum(a != b for a, b in zip(raw, reset, strict=True)) == (0 if value == 1 else 1)
    # little-endian EXIF (Pillow writes big-endian), with orientation 8
    little_endian = b"II*\0" + struct.pack("<IHHHIHHI", 8, 1, 274, 3, 1, 8, 0, 0)
    assert orientation(little_endian) == 8
    assert orientation(reset_orientation(little_endian)) == 1
    assert orientation(None) == 1 and orientation(b"garbage") == 1 and reset_orientation(b"garbage") == b"garbage"


def test_apply_orientation_matches_pillow_for_every_value() -> None:
    stored = upright_rgb(4, 6)
    for value in ORIENTATIONS:
        image = Image.fromarray(stored)
        exif = image.getexif()
        exif[274] = value
        image.info["exif"] = exif.tobytes()
        expected = np.asarray(ImageOps.exif_transpose(image))
        assert np.array_equal(apply_orientation(stored, value), expected), value
