"""load_image: every supported format, colour mode and bit depth, written by other programs than Retouch."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pillow_heif
import pytest
import tifffile
from imagegen import (
    blocky_rgb,
    cmyk_profile_mapping_everything_to,
    encode_with_pillow,
    srgb_profile,
    upright_rgb,
)
from PIL import Image

from retouch.io import load_image, probe

RNG = np.random.default_rng(3)


def _heic(array: np.ndarray, **options: object) -> bytes:
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[array.shape[2]]
    data = np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1 else array)
    heif = pillow_heif.from_bytes(mode=mode, size=(array.shape[1], array.shape[0]), data=data.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1, chroma=444, matrix_coefficients=0, **options)  # lossless
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "encode", "exact"),
    [
        ("PNG", lambda a: encode_with_pillow(a, "PNG"), True),
        ("TIFF", lambda a: encode_with_pillow(a, "TIFF", compression="tiff_lzw"), True),
        ("BMP", lambda a: encode_with_pillow(a, "BMP"), True),
        ("WEBP", lambda a: encode_with_pillow(a, "WEBP", lossless=True), True),
        ("HEIF", _heic, True),
        ("JPEG", lambda a: encode_with_pillow(a, "JPEG", quality=95, subsampling=0), False),
        ("GIF", lambda a: encode_with_pillow(a, "GIF"), True),  # under 256 colours: the palette is exact
    ],
)
def test_each_format_loads_as_rgb_uint8(fmt: str, encode, exact: bool) -> None:
    rgb = blocky_rgb()
    picture = load_image(encode(rgb))
    assert picture.pixels.dtype == np.uint8 and picture.pixels.shape == rgb.shape
    assert picture.alpha is None
    assert picture.metadata.source_format == fmt
    error = np.abs(picture.pixels.astype(int) - rgb).max()
    assert error == 0 if exact else error <= 3


def test_path_and_bytes_give_the_same_picture(tmp_path) -> None:
    data = encode_with_pillow(upright_rgb(), "PNG")
    path = tmp_path / "a.png"
    path.write_bytes(data)
    for source in (path, str(path), data):
        assert np.array_equal(load_image(source).pixels, upright_rgb())


def test_gif_loads_its_first_frame() -> None:
    frames = [Image.new("RGB", (6, 4), colour) for colour in ((200, 10, 10), (10, 200, 10), (10, 10, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    picture = load_image(buffer.getvalue())
    assert probe(buffer.getvalue()).frames == 3
    assert picture.pixels.shape == (4, 6, 3)
    assert (picture.pixels == (200, 10, 10)).all()


def test_palette_becomes_rgb_and_transparency_becomes_alpha() -> None:
    rgb = blocky_rgb()
    indexed = Image.fromarray(rgb).quantize(64)
    opaque = load_image(_png(indexed))
    assert opaque.pixels.shape == rgb.shape and opaque.alpha is None
    assert np.array_equal(opaque.pixels, np.asarray(indexed.convert("RGB")))

    indexed.info["transparency"] = int(np.asarray(indexed)[0, 0])
    buffer = io.BytesIO()
    indexed.save(buffer, "PNG", transparency=indexed.info["transparency"])
    transparent = load_image(buffer.getvalue())
    assert transparent.alpha is not None and transparent.alpha[0, 0] == 0 and transparent.alpha.max() == 255


def test_grey_palette_stays_grey() -> None:
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    picture = load_image(encode_with_pillow(grey[:, :, None], "GIF"))  # GIF stores grey as a palette
    assert picture.pixels.shape == (6, 8, 1)
    assert np.array_equal(picture.pixels[:, :, 0], grey)


def test_one_bit_becomes_grey() -> None:
    bits = np.zeros((5, 9), bool)
    bits[1:3, 2:7] = True
    image = Image.fromarray(bits)
    assert image.mode == "1"
    picture = load_image(_png(image))
    assert picture.pixels.shape == (5, 9, 1) and picture.pixels.dtype == np.uint8
    assert np.array_equal(picture.pixels[:, :, 0], np.where(bits, 255, 0))


def test_grey_alpha_png_is_one_channel_plus_alpha() -> None:
    la = np.dstack([np.full((4, 5), 90, np.uint8), np.arange(20, dtype=np.uint8).reshape(4, 5) * 12])
    picture = load_image(encode_with_pillow(la, "PNG"))
    assert picture.pixels.shape == (4, 5, 1)
    assert np.array_equal(picture.alpha, la[:, :, 1])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_greyscale_stays_one_channel(fmt: str) -> None:
    grey = np.repeat(np.arange(0, 256, 16, dtype=np.uint8)[None], 16, axis=0)[:, :, None]
    picture = load_image(encode_with_pillow(grey, fmt, **({"quality": 100} if fmt == "JPEG" else {})))
    assert picture.pixels.shape == (16, 16, 1)
    assert np.abs(picture.pixels.astype(int) - grey).max() <= (2 if fmt == "JPEG" else 0)


def test_cmyk_converts_through_its_profile_and_drops_it() -> None:
    cmyk = Image.new("CMYK", (8, 8), (100, 50, 20, 10))
    plain = np.asarray(cmyk.convert("RGB"))[0, 0]  # what the profile-less formula gives: a light blue
    red_profile = cmyk_profile_mapping_everything_to((54.3, 80.8, 69.9))
    buffer = io.BytesIO()
    cmyk.save(buffer, "JPEG", quality=100, icc_profile=red_profile)
    picture = load_image(buffer.getvalue())
    r, g, b = (int(v) for v in picture.pixels[4, 4])
    assert r > 200 and g < 60 and b < 60, (r, g, b)
    assert picture.metadata.icc_profile is None  # the CMYK profile no longer describes these pixels

    buffer = io.BytesIO()
    cmyk.save(buffer, "TIFF")  # no profile: the plain conversion
    assert np.array_equal(load_image(buffer.getvalue()).pixels[4, 4], plain)


def test_rgb_profile_is_kept_on_load() -> None:
    profile = srgb_profile()
    picture = load_image(encode_with_pillow(upright_rgb(), "PNG", icc_profile=profile))
    assert picture.metadata.icc_profile == profile


# --- 16-bit ------------------------------------------------------------------------------------------------


def _deep(channels: int) -> np.ndarray:
    samples = RNG.integers(0, 65536, (5, 7, channels), dtype=np.uint16)
    samples[0, 0] = 12345
    return samples


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16bit_png_from_opencv_loads_exactly(channels: int) -> None:
    samples = _deep(channels)
    bgr = samples[:, :, [2, 1, 0, 3][:channels]] if channels > 1 else samples[:, :, 0]
    ok, encoded = cv2.imencode(".png", bgr)
    assert ok
    picture = load_image(encoded.tobytes())
    assert picture.pixels.dtype == np.uint16
    colours = 1 if channels == 1 else 3
    assert np.array_equal(picture.pixels, samples[:, :, :colours])
    assert picture.pixels[0, 0, 0] == 12345
    if channels == 4:
        assert np.array_equal(picture.alpha, samples[:, :, 3])


@pytest.mark.parametrize(
    ("channels", "options"),
    [
        (1, {}),
        (3, {"photometric": "rgb"}),
        (3, {"photometric": "rgb", "planarconfig": "separate", "compression": "zlib"}),
        (4, {"photometric": "rgb", "extrasamples": [2]}),
        (2, {"photometric": "minisblack", "extrasamples": [2]}),
    ],
)
def test_16bit_tiff_from_tifffile_loads_exactly(channels: int, options: dict) -> None:
    samples = _deep(channels)
    data = samples[:, :, 0] if channels == 1 else samples
    if options.get("planarconfig") == "separate":
        data = np.moveaxis(samples, 2, 0)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, **options)
    picture = load_image(buffer.getvalue())
    colours = 1 if channels in (1, 2) else 3
    assert picture.pixels.dtype == np.uint16
    assert np.array_equal(picture.pixels, samples[:, :, :colours])
    if channels in (2, 4):
        assert np.array_equal(picture.alpha, samples[:, :, -1])


def test_16bit_lzw_tiff_loads_exactly_without_imagecodecs() -> None:
    samples = _deep(3)
    ok, encoded = cv2.imencode(".tiff", samples[:, :, ::-1])  # OpenCV writes LZW, which tifffile cannot
    assert ok
    grey = encode_with_pillow(samples[:, :, :1], "TIFF", compression="tiff_lzw")
    assert np.array_equal(load_image(encoded.tobytes()).pixels, samples)
    assert np.array_equal(load_image(grey).pixels, samples[:, :, :1])


def test_ten_bit_heic_loads_as_16bit() -> None:
    samples = (RNG.integers(0, 1024, (6, 8, 3), dtype=np.uint16) << 6).astype(np.uint16)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(8, 6), data=samples.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1, chroma=444, matrix_coefficients=0)
    picture = load_image(buffer.getvalue())
    assert probe(buffer.getvalue()).bit_depth == 10
    assert picture.pixels.dtype == np.uint16
    assert np.array_equal(picture.pixels, samples)


def test_probe_reads_the_header_only() -> None:
    samples = _deep(1)
    _, encoded = cv2.imencode(".png", samples[:, :, 0])
    header = probe(encoded.tobytes())
    assert (header.format.name, header.width, header.height, header.mode, header.bit_depth) == ("PNG", 7, 5, "L", 16)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_pillow_samples_are_exact_and_writable_on_both_paths(mode: str, monkeypatch) -> None:
    """Grey and RGB samples are copied out of Pillow by its raw encoder in one pass; if a Pillow release changes
    that private API, the np.asarray path gives the same array."""
    from PIL import Image

    from retouch.io import modes

    samples = np.random.default_rng(5).integers(0, 256, (61, 47, 3 if mode == "RGB" else 1), dtype=np.uint8)
    image = Image.fromarray(samples if mode == "RGB" else samples[:, :, 0], mode)
    fast, alpha = modes.pillow_arrays(image, None)
    assert alpha is None and fast.flags.writeable and np.array_equal(fast, samples)

    original = Image._getencoder

    def changed_api(*args):  # tobytes (used by np.asarray) passes three arguments, the fast path four
        if len(args) == 4:
            raise AttributeError("no such encoder API")
        return original(*args)

    monkeypatch.setattr(Image, "_getencoder", changed_api)
    slow, _ = modes.pillow_arrays(image, None)
    assert slow.flags.writeable and np.array_equal(slow, samples)
