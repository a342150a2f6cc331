"""save_image / encode_image: what each format keeps, read back by Retouch and by independent decoders."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from imagegen import XMP_DC_PACKET, blocky_rgb, exif_bytes, exif_fields, srgb_profile
from PIL import Image, JpegImagePlugin

from retouch.errors import InvalidInput, UnsupportedFormat
from retouch.io import encode_image, load_image, save_image
from retouch.io.png import chunks
from retouch.types import Metadata, Picture

RNG = np.random.default_rng(11)
METADATA = Metadata(icc_profile=srgb_profile(), exif=exif_bytes(), xmp=XMP_DC_PACKET, dpi=(300.0, 300.0))
ALL = ["jpg", "png", "webp", "tif", "bmp", "gif", "heic"]
WITH_METADATA = ["jpg", "png", "webp", "tif", "heic"]


def _photo() -> Picture:
    return Picture(blocky_rgb(), metadata=METADATA)


def _roundtrip(picture: Picture, suffix: str, tmp_path, **options) -> Picture:
    return load_image(save_image(picture, tmp_path / f"out.{suffix}", **options))


@pytest.mark.parametrize("suffix", WITH_METADATA)
def test_icc_exif_and_xmp_survive(suffix: str, tmp_path) -> None:
    back = _roundtrip(_photo(), suffix, tmp_path, quality=100)
    assert back.metadata.icc_profile == METADATA.icc_profile
    assert exif_fields(back.metadata.exif) == exif_fields(METADATA.exif)
    assert back.metadata.xmp == XMP_DC_PACKET  # no operations recorded: passed through byte for byte


@pytest.mark.parametrize("suffix", ["jpg", "png", "tif", "bmp"])
def test_dpi_survives(suffix: str, tmp_path) -> None:
    picture = Picture(blocky_rgb(), metadata=Metadata(dpi=(300.0, 150.0)))
    back = _roundtrip(picture, suffix, tmp_path)
    assert back.metadata.dpi is not None
    assert back.metadata.dpi == (300.0, 150.0)


def test_exif_survives_a_trip_through_tiff_and_back(tmp_path) -> None:
    """TIFF keeps EXIF as tags of its own (Exif and GPS IFDs included), not as a blob."""
    tiff = _roundtrip(_photo(), "tif", tmp_path)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        tags = tif.pages.first.tags
        assert tags["Make"].value == "Canon"
        assert tags["ExifTag"].value["DateTimeOriginal"] == "2024:05:06 07:08:09"
        assert tags["GPSTag"].value["GPSLatitudeRef"] == "N"
    jpeg = load_image(save_image(tiff, tmp_path / "again.jpg"))
    assert exif_fields(jpeg.metadata.exif) == exif_fields(METADATA.exif)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("with_alpha", [False, True])
@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16bit_stays_16bit_exactly(suffix: str, channels: int, with_alpha: bool, tmp_path) -> None:
    pixels = RNG.integers(0, 65536, (6, 9, channels), dtype=np.uint16)
    pixels[0, 0, 0] = 12345
    alpha = RNG.integers(0, 65536, (6, 9), dtype=np.uint16) if with_alpha else None
    picture = Picture(pixels, alpha, Metadata(icc_profile=srgb_profile() if channels == 3 else None))
    path = save_image(picture, tmp_path / f"deep.{suffix}")
    back = load_image(path)
    assert back.pixels.dtype == np.uint16 and back.pixels.shape == pixels.shape
    assert np.array_equal(back.pixels, pixels) and back.pixels[0, 0, 0] == 12345
    assert (back.alpha is None) if alpha is None else np.array_equal(back.alpha, alpha)
    assert back.metadata.icc_profile == picture.metadata.icc_profile

    # independent decoders agree (OpenCV reads grey+alpha as BGRA, hence the channel handling)
    if suffix == "tif":
        stored = tifffile.imread(path)
    else:
        stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if stored.ndim == 3:
            stored = stored[:, :, [2, 1, 0, 3][: stored.shape[2]]]
            if channels == 1:
                stored = stored[:, :, [0, 3]]
    expected = np.dstack([pixels, alpha]) if alpha is not None else pixels
    assert np.array_equal(stored.reshape(expected.shape), expected)


@pytest.mark.parametrize("suffix", ["jpg", "webp", "bmp", "gif"])
def test_8bit_formats_get_16bit_samples_rounded(suffix: str, tmp_path) -> None:
    levels = np.array([0, 128, 129, 257 * 100 + 128, 257 * 100 + 129, 65535], np.uint16)
    grey = np.repeat(np.repeat(levels, 8)[None], 8, axis=0)[:, :, None]
    back = _roundtrip(Picture(grey), suffix, tmp_path, quality=100)
    assert back.pixels.dtype == np.uint8
    expected = np.repeat(np.repeat(np.array([0, 0, 1, 100, 101, 255]), 8)[None], 8, axis=0)
    tolerance = 1 if suffix == "jpg" else 0
    assert np.abs(back.pixels[:, :, 0].astype(int) - expected).max() <= tolerance


@pytest.mark.parametrize("suffix", ["png", "tif", "jpg", "bmp", "gif", "heic"])
def test_greyscale_stays_greyscale(suffix: str, tmp_path) -> None:
    grey = np.repeat(np.arange(0, 256, 8, dtype=np.uint8)[None], 8, axis=0)[:, :, None]
    back = _roundtrip(Picture(grey), suffix, tmp_path, quality=100)
    assert back.pixels.shape == grey.shape
    assert np.abs(back.pixels.astype(int) - grey).max() <= (1 if suffix in ("jpg", "heic") else 0)


def test_webp_stores_grey_as_rgb(tmp_path) -> None:
    grey = np.full((4, 4, 1), 77, np.uint8)
    back = _roundtrip(Picture(grey), "webp", tmp_path, quality=100)
    assert back.pixels.shape == (4, 4, 3) and (back.pixels == 77).all()


@pytest.mark.parametrize("suffix", ["png", "tif", "webp", "heic"])
def test_alpha_survives(suffix: str, tmp_path) -> None:
    alpha = RNG.integers(0, 256, (48, 80), dtype=np.uint8)
    back = _roundtrip(Picture(blocky_rgb(), alpha), suffix, tmp_path, quality=100)
    assert np.array_equal(back.alpha, alpha)
    assert np.array_equal(back.pixels, blocky_rgb())


def test_gif_keeps_binary_transparency(tmp_path) -> None:
    alpha = np.zeros((48, 80), np.uint8)
    alpha[:, 40:] = 255
    alpha[0, 40] = 200  # more than half opaque: stays opaque
    alpha[0, 0] = 100  # less: transparent
    back = _roundtrip(Picture(blocky_rgb(), alpha), "gif", tmp_path)
    assert np.array_equal(back.alpha, np.where(alpha >= 128, 255, 0))


@pytest.mark.parametrize("suffix", ["jpg", "bmp"])
def test_transparency_is_never_dropped_silently(suffix: str, tmp_path) -> None:
    alpha = np.full((48, 80), 255, np.uint8)
    alpha[10, 10] = 0
    with pytest.raises(InvalidInput, match=r"transparen.*\.png"):
        save_image(Picture(blocky_rgb(), alpha), tmp_path / f"x.{suffix}")
    assert not (tmp_path / f"x.{suffix}").exists()
    opaque = Picture(blocky_rgb(), np.full((48, 80), 255, np.uint8))
    assert load_image(save_image(opaque, tmp_path / f"y.{suffix}")).alpha is None


def test_jpeg_quality_and_subsampling(tmp_path) -> None:
    photo = Picture(np.asarray(Image.radial_gradient("L").resize((160, 128)).convert("RGB")) ^ blocky_rgb(128, 160))
    default = save_image(photo, tmp_path / "default.jpg")
    low = save_image(photo, tmp_path / "low.jpg", quality=40)
    assert low.stat().st_size < default.stat().st_size
    with Image.open(default) as image:
        assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4 at the default quality 95
    with Image.open(low) as image:
        assert JpegImagePlugin.get_sampling(image) == 2  # 4:2:0 below 90
    for bad in (0, 101, 9.5, True):
        with pytest.raises(InvalidInput, match="quality"):
            encode_image(photo, "jpeg", quality=bad)


@pytest.mark.parametrize("suffix", ["webp", "heic"])
def test_quality_100_is_lossless_for_webp_and_heic(suffix: str, tmp_path) -> None:
    noise = RNG.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    assert np.array_equal(_roundtrip(Picture(noise), suffix, tmp_path, quality=100).pixels, noise)
    lossy = _roundtrip(Picture(noise), suffix, tmp_path, quality=50, overwrite=True).pixels
    assert not np.array_equal(lossy, noise)


def test_heic_writes_16bit_as_10bit(tmp_path) -> None:
    pixels = (RNG.integers(0, 1024, (8, 8, 3), dtype=np.uint16) << 6).astype(np.uint16)
    back = _roundtrip(Picture(pixels), "heic", tmp_path, quality=100)
    assert back.pixels.dtype == np.uint16
    assert np.array_equal(back.pixels, pixels)


def test_every_format_round_trips(tmp_path) -> None:
    for suffix in ALL:
        back = _roundtrip(Picture(blocky_rgb()), suffix, tmp_path, quality=100)
        assert back.pixels.shape == (48, 80, 3)
        assert np.abs(back.pixels.astype(int) - blocky_rgb()).max() <= (2 if suffix == "jpg" else 0), suffix


def test_format_comes_from_the_extension_or_the_argument(tmp_path) -> None:
    path = save_image(Picture(blocky_rgb()), tmp_path / "photo.JPEG")
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    forced = save_image(Picture(blocky_rgb()), tmp_path / "photo.dat", format="png")
    assert forced.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("photo.xyz", "photo"):
        with pytest.raises(UnsupportedFormat, match=r"\.png"):
            save_image(Picture(blocky_rgb()), tmp_path / name)


def test_encode_image_gives_the_bytes_save_image_writes(tmp_path) -> None:
    picture = _photo()
    assert encode_image(picture, "png") == save_image(picture, tmp_path / "a.png").read_bytes()
    assert encode_image(picture, ".tif") == save_image(picture, tmp_path / "a.tif").read_bytes()


def _png_filters(data: bytes) -> set[int]:
    stream = zlib.decompress(b"".join(body for kind, body in chunks(data) if kind == b"IDAT"))
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    stride = 1 + width * {0: 1, 2: 3, 4: 2, 6: 4}[colour] * depth // 8
    return {stream[row * stride] for row in range(height)}


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_encoder_writes_valid_files_for_every_colour_type(dtype, channels: int) -> None:
    """Smooth and noisy regions make the encoder use several row filters; libpng and Pillow must agree."""
    height, width = 40, 33
    y, x = np.mgrid[0:height, 0:width]
    smooth = (x * 7 + y * 3) * (257 if dtype == np.uint16 else 1) % (65536 if dtype == np.uint16 else 256)
    samples = np.dstack([smooth + c * 11 for c in range(channels)]).astype(dtype)
    samples[20:] = RNG.integers(0, np.iinfo(dtype).max, samples[20:].shape, dtype=np.uint32).astype(dtype)
    pixels, alpha = (samples[:, :, :-1], samples[:, :, -1]) if channels in (2, 4) else (samples, None)
    from retouch.io.png import encode_png

    data = encode_png(pixels, alpha, icc_profile=None, exif=None, xmp=None, dpi=None)
    assert len(_png_filters(data)) >= 2
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded.ndim == 2:
        decoded = decoded[:, :, None]
    elif channels == 2:
        decoded = decoded[:, :, [0, 3]]
    else:
        decoded = decoded[:, :, [2, 1, 0, 3][:channels]]
    assert np.array_equal(decoded, samples)
    if dtype == np.uint8:
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))).reshape(samples.shape), samples)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_jpeg_style_exif_given_by_hand_is_stored_bare(tmp_path, ext: str) -> None:
    raw = exif_bytes()
    picture = Picture(blocky_rgb(), metadata=Metadata(exif=b"Exif\x00\x00" + raw))
    back = load_image(save_image(picture, tmp_path / f"out{ext}"))
    assert exif_fields(back.metadata.exif) == exif_fields(raw)
    assert not back.metadata.exif.startswith(b"Exif")
