"""Replace background: what users rely on (the blur blurs, the subject stays, an image covers the frame, a colour is
that colour), with a generated network (red over green = subject); and the fast wide blur it is built on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from cutout_onnx import offline_home_with_fake
from cutout_scenes import scene
from retouch.errors import InvalidInput
from retouch.tools.cutout import extract
from retouch.tools.cutout.blur import gaussian_blur, shrink
from retouch.tools.cutout.replace import replace_background
from retouch.types import Picture

MODEL = "birefnet-general-lite"
RETOUCH = str(Path(sys.executable).with_name("retouch"))


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    offline_home_with_fake(MODEL, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def picture() -> Picture:
    return Picture(pixels=(scene().image * 255 + 0.5).astype(np.uint8))


def detail(image: np.ndarray, where: np.ndarray) -> float:
    """Mean squared Laplacian (high-frequency energy) of an HxWx3 float image over ``where``."""
    laplacian = cv2.Laplacian(image, cv2.CV_32F)
    return float((laplacian[where] ** 2).mean())


@pytest.mark.parametrize("blur", [None, 20.0])  # the default (3 px here) and one done on a shrunk copy
def test_blurred_background_loses_its_detail_and_the_subject_stays(fake_model, picture, blur) -> None:
    alpha = extract(picture).alpha
    result = replace_background(picture, "blur", blur=blur, harmonize=False)
    assert result.alpha is None and result.size == picture.size
    clear = cv2.erode((alpha <= 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    clear[:2], clear[-2:], clear[:, :2], clear[:, -2:] = False, False, False, False
    assert detail(result.to_float(), clear) < 0.1 * detail(picture.to_float(), clear)
    opaque = alpha >= 1
    assert opaque.mean() > 0.1
    np.testing.assert_array_equal(result.pixels[opaque], picture.pixels[opaque])


def test_a_colour_is_exactly_that_colour_outside_the_subject(fake_model, picture) -> None:
    alpha = extract(picture).alpha
    outside = alpha <= 0
    assert outside.mean() > 0.2
    result = replace_background(picture, "#1e90ff")  # harmonized: the subject changes, the background must not
    assert result.alpha is None
    assert (result.pixels[outside] == [0x1E, 0x90, 0xFF]).all()
    deep = Picture(pixels=picture.pixels.astype(np.uint16) * 257)
    assert (replace_background(deep, "#1e90ff").pixels[outside] == [0x1E * 257, 0x90 * 257, 0xFF * 257]).all()


def test_a_colour_and_an_image_of_that_colour_give_the_same_picture(fake_model, picture) -> None:
    plain = np.empty((*picture.pixels.shape[:2], 3), np.uint8)
    plain[:] = (0x1E, 0x90, 0xFF)
    for shadow in (False, True):
        colour = replace_background(picture, "#1e90ff", shadow=shadow).pixels.astype(int)
        image = replace_background(picture, Picture(pixels=plain), shadow=shadow).pixels.astype(int)
        assert np.abs(colour - image).max() <= 1


def test_an_image_is_scaled_to_cover_the_frame(fake_model, picture) -> None:
    # 4:1 against the photo's 4:3: filling the frame crops the sides, where a green band marks the left edge.
    backdrop = np.zeros((60, 240, 3), np.uint8)
    backdrop[:, :120] = (255, 0, 0)
    backdrop[:, 120:] = (0, 0, 255)
    backdrop[:, :12] = (0, 255, 0)
    alpha = extract(picture).alpha
    outside = alpha <= 0
    result = replace_background(picture, Picture(pixels=backdrop), harmonize=False).pixels.astype(int)
    height, width = alpha.shape
    left, right = outside.copy(), outside.copy()
    left[:, width // 2 - 4 :] = False  # away from the red/blue seam, blurred a little by the enlargement
    right[:, : width // 2 + 4] = False
    assert left.sum() > 100 and right.sum() > 100
    assert np.abs(result[left] - [255, 0, 0]).max() <= 2
    assert np.abs(result[right] - [0, 0, 255]).max() <= 2
    fitted = replace_background(picture, Picture(pixels=backdrop), fit="fit", harmonize=False).pixels
    assert (fitted[height // 2, :2, 1] > 200).all()  # all of it shows: the green band is at the left edge


def test_blur_past_the_long_side_is_an_even_wash_and_absurd_blurs_are_refused(fake_model, picture) -> None:
    washed = replace_background(picture, "blur", blur=2000.0, harmonize=False).to_float()
    alpha = extract(picture).alpha
    assert washed[alpha <= 0].std(axis=0).max() < 0.01
    for bad in (1e6, 0.0, float("nan")):
        with pytest.raises(InvalidInput, match="blur"):
            replace_background(picture, "blur", blur=bad)


def test_the_command_refuses_an_absurd_blur_in_one_line(tmp_path) -> None:
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    command = [RETOUCH, "replace-bg", str(path), "--with", "blur", "--blur", "1e6"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--blur" in lines[0] and "2000" in lines[0], result.stderr


@pytest.mark.parametrize("shape", [(301, 203), (300, 400, 4), (257, 390, 3)])
@pytest.mark.parametrize("sigma", [(3.0, None), (7.0, None), (20.0, None), (60.0, None), (60.0, 15.0)])
def test_wide_blurs_match_opencv_borders_included(shape, sigma) -> None:
    rng = np.random.default_rng(1)
    image = rng.random(shape, dtype=np.float32)
    ramp = np.linspace(0, 1, shape[1], dtype=np.float32)  # a gradient: what mirrored borders get wrong shows
    image = cv2.GaussianBlur(image, (0, 0), 1.0) + (ramp if image.ndim == 2 else ramp[:, None])
    sx, sy = sigma
    expected = cv2.GaussianBlur(image, (0, 0), sx, sigmaY=sy or 0)
    fast = gaussian_blur(image, sx, sy)
    assert fast.shape == expected.shape
    assert np.abs(fast - expected).max() < 0.5 / 255
    if sx >= 20:
        assert shrink(image, sx, sy).levels >= 2  # the wide blurs are done on a shrunk copy


def test_a_blur_wider_than_the_image_is_its_even_wash() -> None:
    rng = np.random.default_rng(2)
    image = rng.random((192, 256, 3), dtype=np.float32)
    expected = cv2.GaussianBlur(image, (0, 0), 300.0)
    assert np.abs(gaussian_blur(image, 300.0) - expected).max() < 4 / 255
