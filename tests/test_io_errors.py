"""Bad input: missing, empty, wrong-type, truncated, damaged and oversized files fail with one clear typed error."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from imagegen import blocky_rgb, bomb_png, encode_with_pillow, exif_bytes, png_chunk, upright_rgb

from retouch.errors import CorruptImage, InvalidInput, RetouchError, TooLarge, UnsupportedFormat
from retouch.io import encode_image, load_image, probe
from retouch.io.limits import pixel_limit
from retouch.types import Metadata, Picture


def _files() -> dict[str, bytes]:
    """One small valid file per format, written by Retouch, with metadata to parse."""
    picture = Picture(blocky_rgb(), metadata=Metadata(exif=exif_bytes(orientation=6), dpi=(72.0, 72.0)))
    deep = Picture(upright_rgb(16, 16).astype(np.uint16) * 257)
    files = {
        fmt: encode_image(picture, fmt, quality=90) for fmt in ("jpeg", "png", "webp", "tiff", "bmp", "gif", "heic")
    }
    files["png16"] = encode_image(deep, "png")
    files["tiff16"] = encode_image(deep, "tiff")
    return files


def test_missing_file_and_folder_are_invalid_input(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="no such file") as missing:
        load_image(tmp_path / "nope.jpg")
    assert "nope.jpg" in str(missing.value)
    with pytest.raises(InvalidInput, match="folder"):
        load_image(tmp_path)
    with pytest.raises(InvalidInput, match="file path"):
        load_image(12345)  # type: ignore[arg-type]


def test_text_file_named_jpg_is_unsupported_and_named(tmp_path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_text("these are my holiday notes, not a photo\n")
    with pytest.raises(UnsupportedFormat, match="not an image") as error:
        load_image(path)
    assert "holiday.jpg" in str(error.value)


def test_empty_file_is_corrupt(tmp_path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(CorruptImage, match="empty"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "tiff", "gif", "heic", "png16", "tiff16"])
def test_truncated_file_is_corrupt_and_named(fmt: str, tmp_path) -> None:
    data = _files()[fmt]
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptImage) as error:
        load_image(path)
    assert str(path) in str(error.value)


def test_damaged_png_data_is_corrupt(tmp_path) -> None:
    data = bytearray(encode_with_pillow(blocky_rgb(), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 40] = b"\xff" * 30  # scribble over the compressed pixels
    with pytest.raises(CorruptImage, match="damaged"):
        load_image(bytes(data))


def test_no_codec_exception_escapes() -> None:
    """Every cut and every scribble over each format either decodes or raises a RetouchError."""
    rng = np.random.default_rng(5)
    for fmt, data in _files().items():
        variants = [data[:cut] for cut in (8, 16, 30, 64, 100, len(data) // 2, len(data) - 1)]
        for _ in range(8):
            damaged = bytearray(data)
            at = int(rng.integers(8, len(data)))
            damaged[at : at + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
            variants.append(bytes(damaged))
        for variant in variants:
            try:
                load_image(variant)
            except RetouchError:
                pass
            except Exception as error:  # pragma: no cover - the failure this test exists to catch
                pytest.fail(f"{fmt}: {type(error).__name__} escaped: {error}")


def test_pixel_bomb_is_refused_before_decoding() -> None:
    bomb = bomb_png(20000, 20000)
    assert probe(bomb).width == 20000
    with pytest.raises(TooLarge, match=r"20000x20000 \(400\.0 megapixels\).*150\.0 megapixels"):
        load_image(bomb)


# Loads a complete 8000x8000 PNG of zeros (64 MB of pixels in 64 KB) under a 10-megapixel limit in a fresh process
# and prints how far the refusal raised the process's peak memory, in KiB.
_PEAK_CHILD = """
import resource, struct, sys, zlib
from retouch.errors import TooLarge
from retouch.io import load_image
sys.path.insert(0, sys.argv[1])
from imagegen import png_chunk
row = bytes(8001)  # filter byte + 8000 grey samples
packer = zlib.compressobj(9)
data = b"".join(packer.compress(row) for _ in range(8000)) + packer.flush()
bomb = (b"\\x89PNG\\r\\n\\x1a\\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_image(bomb)
except TooLarge:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_complete_pixel_bomb_is_refused_without_decoding_its_pixels() -> None:
    """Behaviour, not time: refusing a bomb whose data really decodes to 64 MB costs no memory to speak of."""
    env = {**os.environ, "RETOUCH_MAX_PIXELS": "10000000"}
    tests = str(Path(__file__).resolve().parent)
    child = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, tests], capture_output=True, text=True, env=env, timeout=300
    )
    assert child.returncode == 0 and child.stdout.strip(), child.stderr
    assert int(child.stdout) < 16 * 1024  # KiB; decoding would take 64 MB (62,500 KiB)


def test_jpeg_bomb_is_refused_from_its_header() -> None:
    data = bytearray(encode_with_pillow(blocky_rgb(), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30000, 30000)  # height, width in the frame header
    with pytest.raises(TooLarge):
        load_image(bytes(data))


def test_pixel_limit_from_argument_and_environment(monkeypatch) -> None:
    data = encode_with_pillow(blocky_rgb(), "PNG")  # 80x48 = 3840 pixels
    with pytest.raises(TooLarge):
        load_image(data, max_pixels=3839)
    assert load_image(data, max_pixels=3840).width == 80
    monkeypatch.setenv("RETOUCH_MAX_PIXELS", "1000")
    with pytest.raises(TooLarge, match="RETOUCH_MAX_PIXELS"):
        load_image(data)
    assert load_image(data, max_pixels=5000).width == 80  # the argument wins
    monkeypatch.setenv("RETOUCH_MAX_PIXELS", "0")  # no limit
    assert pixel_limit() is None and load_image(data).width == 80
    monkeypatch.delenv("RETOUCH_MAX_PIXELS")
    assert pixel_limit() == 150_000_000
    monkeypatch.setenv("RETOUCH_MAX_PIXELS", "lots")
    with pytest.raises(InvalidInput, match="RETOUCH_MAX_PIXELS"):
        load_image(data)
    with pytest.raises(InvalidInput, match="max_pixels"):
        load_image(data, max_pixels=-1)


def test_a_metadata_zip_bomb_is_refused() -> None:
    data = encode_with_pillow(blocky_rgb(), "PNG")
    huge = png_chunk(b"iCCP", b"x\0\0" + _deflated_zeros(80 << 20))
    with pytest.raises(CorruptImage, match="MiB"):
        load_image(data[:33] + huge + data[33:])


def _deflated_zeros(size: int) -> bytes:
    import zlib

    compressor = zlib.compressobj(1)
    block = bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(size >> 20)) + compressor.flush()


def test_unsupported_sample_formats_are_named() -> None:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((4, 4), np.float32))
    with pytest.raises(UnsupportedFormat, match="32-bit"):
        load_image(buffer.getvalue())
