"""Lossless JPEG edits: saving an edited JPEG as JPEG keeps the original file's DCT blocks wherever the edit did
not touch them, so pixels more than one MCU away from every change decode exactly as in the original file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin
from scipy import ndimage

import retouch
from imagegen import exif_bytes
from retouch import masks
from retouch.io import encode_image, load_image, save_image
from retouch.io.exif import orientation
from retouch.io.jpeg_stream import parse

# name -> Pillow's JPEG options, MCU size in pixels
LAYOUTS = {
    "4:4:4": ({"quality": 90, "subsampling": 0}, 8),
    "4:2:2": ({"quality": 85, "subsampling": 1}, 16),
    "4:2:0": ({"quality": 80, "subsampling": 2}, 16),
    "grey": ({"quality": 85}, 8),
    "progressive 4:2:0": ({"quality": 75, "subsampling": 2, "progressive": True}, 16),
    "restart markers": ({"quality": 85, "subsampling": 2, "restart_marker_blocks": 3}, 16),
}


def photo(height: int = 203, width: int = 301, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth shapes, edges and grain: a JPEG of it has busy, varied blocks, as a photo's are."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.sin(x / 17.0) * 60 + np.cos(y / 23.0) * 50 + 128 + np.where((x // 40 + y // 30) % 2, 25, -25)
    planes = [base + rng.normal(0, 10, base.shape) + shift for shift in (0, 20, -20)[:channels]]
    return np.clip(np.stack(planes, axis=2), 0, 255).astype(np.uint8)


def jpeg(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def decoded(data: bytes) -> np.ndarray:
    """The stored samples as Pillow decodes them (no orientation applied)."""
    samples = np.asarray(Image.open(io.BytesIO(data)))
    return samples[:, :, None] if samples.ndim == 2 else samples


def far_from(changed: np.ndarray, mcu: int) -> np.ndarray:
    """Pixels more than one MCU (Chebyshev distance) from every changed pixel."""
    return ~ndimage.binary_dilation(changed, structure=np.ones((2 * mcu + 1, 2 * mcu + 1), bool))


def layout(data: bytes) -> tuple[object, int]:
    image = Image.open(io.BytesIO(data))
    return image.quantization, JpegImagePlugin.get_sampling(image)


@pytest.mark.parametrize("name", LAYOUTS)
def test_an_edit_keeps_every_block_it_does_not_touch(name: str) -> None:
    options, mcu = LAYOUTS[name]
    original = jpeg(photo(channels=1 if name == "grey" else 3), **options)
    picture = load_image(original)
    edited = picture.pixels.copy()
    edited[61:90, 118:151] = 40  # not aligned to any block
    painted = np.zeros(edited.shape[:2], bool)
    painted[61:90, 118:151] = True
    out = encode_image(picture.replace(pixels=edited).with_operation("erase"), "jpeg")
    before, after = decoded(original), decoded(out)
    keep = far_from(painted, mcu)
    assert np.array_equal(after[keep], before[keep])
    assert (after != before).any(axis=2)[~keep].any()  # the edit itself is in the file
    assert np.abs(after[painted].astype(int) - 40).mean() < 6  # the painted blocks re-encoded faithfully
    assert layout(out) == layout(original)  # quantisation tables and chroma sampling kept
    assert parse(out).frame.coding == "baseline"
    assert retouch.io.read_provenance(load_image(out).metadata.xmp).operations == ("erase",)


def test_saving_an_unedited_jpeg_as_jpeg_changes_no_pixel() -> None:
    original = jpeg(photo(), quality=70)
    out = encode_image(load_image(original), "jpg")
    assert np.array_equal(decoded(out), decoded(original))
    assert layout(out) == layout(original)
    assert 0.85 < len(out) / len(original) < 1.05  # the same blocks, Huffman tables optimised


def test_fifty_small_erases_leave_every_untouched_region_bit_identical() -> None:
    original = jpeg(photo(256, 384, seed=1), quality=85, subsampling=2)
    rng = np.random.default_rng(7)
    data, changed = original, np.zeros((256, 384), bool)
    for _ in range(50):
        picture = load_image(data)
        x, y = int(rng.integers(0, 384 - 12)), int(rng.integers(0, 256 - 12))
        hole = masks.mask_from_boxes([(x, y, 12, 12)], picture.size)
        result = retouch.erase(picture, hole, engine="patch")
        changed |= (result.pixels != picture.pixels).any(axis=2)
        data = encode_image(result, "jpeg")
    keep = far_from(changed, 16)
    assert keep.mean() > 0.2  # the test means something: much of the photo was never touched
    assert np.array_equal(decoded(data)[keep], decoded(original)[keep])
    assert layout(data) == layout(original)
    # the blocks take about the original's room (the metadata grew: 50 provenance events in the XMP)
    assert len(parse(data).coding) < 1.05 * len(parse(original).coding)


def test_the_erase_command_keeps_what_was_not_painted(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(jpeg(photo(240, 320, seed=2), quality=88, subsampling=2))
    out = tmp_path / "out.jpg"
    command = Path(sys.executable).with_name("retouch")
    run = subprocess.run(
        [str(command), "erase", str(source), "--box", "100,80,40,30", "--grow", "3", "--feather", "0", "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "RETOUCH_OFFLINE": "1"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    box = np.zeros((240, 320), bool)
    box[80 - 3 : 110 + 3, 100 - 3 : 140 + 3] = True  # the box grown by 3
    before, after = decoded(source.read_bytes()), decoded(out.read_bytes())
    keep = far_from(box, 16)
    assert np.array_equal(after[keep], before[keep])
    assert (after[box] != before[box]).any()
    assert layout(out.read_bytes()) == layout(source.read_bytes())


@pytest.mark.parametrize("value", [3, 6, 8])
def test_a_turned_photo_keeps_its_stored_layout_and_orientation(value: int) -> None:
    exif = b"Exif\0\0" + exif_bytes(orientation=value)
    original = jpeg(photo(160, 224), quality=85, subsampling=2, exif=exif)
    picture = load_image(original)  # upright
    edited = picture.pixels.copy()
    edited[10:30, 20:50] = 0
    out = encode_image(picture.replace(pixels=edited), "jpeg")
    assert orientation(load_image(out).metadata.exif) == 1  # Retouch's own view: upright, as always
    assert Image.open(io.BytesIO(out)).getexif()[274] == value  # the file: the tag it had
    upright_before, upright_after = picture.pixels, load_image(out).pixels
    painted = np.zeros(edited.shape[:2], bool)
    painted[10:30, 20:50] = True
    keep = far_from(painted, 16)
    assert np.array_equal(upright_after[keep], upright_before[keep])
    assert np.abs(upright_after[painted].astype(int)).mean() < 6


def test_an_explicit_quality_encodes_in_full() -> None:
    original = jpeg(photo(), quality=80, subsampling=2)
    out = encode_image(load_image(original), "jpeg", quality=95)
    assert layout(out) != layout(original)
    assert Image.open(io.BytesIO(out)).quantization == Image.open(io.BytesIO(jpeg(photo(), quality=95))).quantization


def test_a_resized_picture_takes_the_normal_path() -> None:
    picture = load_image(jpeg(photo(), quality=80))
    smaller = picture.replace(pixels=np.ascontiguousarray(picture.pixels[::2, ::2]))
    out = load_image(encode_image(smaller, "jpeg"))
    assert out.size == smaller.size
    assert np.abs(out.pixels.astype(int) - smaller.pixels).mean() < 3


def test_rgb_coded_and_cmyk_jpegs_fall_back_to_a_full_encode() -> None:
    # Components named 'R', 'G', 'B' and no JFIF marker: libjpeg reads the samples as RGB, not YCbCr
    data = bytearray(jpeg(photo(64, 96), quality=90, subsampling=0))
    jfif = data.index(b"\xff\xe0")
    del data[jfif : jfif + 2 + int.from_bytes(data[jfif + 2 : jfif + 4], "big")]
    sof = data.index(b"\xff\xc0")
    for i, name in enumerate(b"RGB"):
        data[sof + 10 + 3 * i] = name
    for i, name in enumerate(b"RGB"):  # the scan refers to the components by the same ids
        sos = data.index(b"\xff\xda")
        data[sos + 5 + 2 * i] = name
    rgb_coded = bytes(data)
    assert parse(rgb_coded).frame.colour == "rgb"
    picture = load_image(rgb_coded)
    edited = picture.pixels.copy()
    edited[:8, :8] = 0
    out = load_image(encode_image(picture.replace(pixels=edited), "jpeg"))
    assert np.abs(out.pixels.astype(int) - edited).mean() < 3  # right colours: encoded in full

    buffer = io.BytesIO()
    Image.fromarray(photo(64, 96)).convert("CMYK").save(buffer, "JPEG", quality=90)
    cmyk = load_image(buffer.getvalue())
    out = load_image(encode_image(cmyk, "jpeg"))
    assert np.abs(out.pixels.astype(int) - cmyk.pixels).mean() < 3


def test_a_document_on_the_server_keeps_its_source_jpeg(tmp_path: Path) -> None:
    from retouch.server.store import DocumentStore

    original = jpeg(photo(), quality=80)
    store = DocumentStore(root=tmp_path)
    try:
        doc = store.create(load_image(original), "photo.jpg")
        picture, _ = store.picture(doc)
        assert picture.source_jpeg == original
        assert np.array_equal(decoded(encode_image(picture, "jpeg")), decoded(original))
    finally:
        store.close()


def test_save_image_writes_the_lossless_file(tmp_path: Path) -> None:
    original = jpeg(photo(), quality=80)
    target = save_image(load_image(original), tmp_path / "copy.jpeg", provenance=False)
    assert np.array_equal(decoded(target.read_bytes()), decoded(original))
