"""``retouch.upscale``: sizes and scales, tiled = untiled, alpha, 16-bit, greyscale, progress, errors.

The networks are small random ones written in the official layouts (``test_upscale_weights``), so the checks are
about the tool, not about a particular set of weights (``test_upscale_real`` uses the real ones).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import retouch
from retouch.errors import InvalidInput, TooLarge
from retouch.tools.upscale import upscale
from retouch.models.runtime import cpu_has_bf16
from retouch.types import Metadata, Picture
from test_ncnn import random_rrdbnet, random_srvgg
from test_upscale_weights import home, install_ncnn, install_pth  # noqa: F401  (home is a fixture)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth shapes with some texture, uint8 RGB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([np.sin(x / 9) * 0.3 + 0.5, np.cos(y / 13) * 0.3 + 0.5, (x + y) / (width + height)], axis=2)
    noisy = base + rng.normal(0, 0.03, base.shape)
    return np.clip(noisy * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture
def srvgg(home, monkeypatch) -> torch.nn.Module:
    network = random_srvgg()
    install_pth(monkeypatch, home, "tiny-srvgg", network, key="params")
    return network


@pytest.fixture
def rrdb(home, monkeypatch) -> torch.nn.Module:
    network = random_rrdbnet(blocks=2)
    install_ncnn(monkeypatch, home, "tiny-rrdb", network, fp16=False)
    return network


def direct(network: torch.nn.Module, pixels: np.ndarray) -> np.ndarray:
    """The network on the whole image, the way Real-ESRGAN's inference runs it (no tiles), quantized."""
    x = torch.from_numpy(pixels.astype(np.float32).transpose(2, 0, 1)[None] / 255)
    with torch.inference_mode():
        y = network(x).clamp(0, 1)[0].numpy().transpose(1, 2, 0)
    return (y * 255 + 0.5).astype(np.uint8)


def test_default_scale_is_the_models_and_matches_the_network(srvgg) -> None:
    pixels = photo(37, 51)
    result = upscale(Picture(pixels), model="tiny-srvgg", precision="fp32")
    assert result.pixels.shape == (148, 204, 3) and result.pixels.dtype == np.uint8
    assert np.abs(result.pixels.astype(int) - direct(srvgg, pixels)).max() <= 1
    assert result.metadata.operations == ("upscale (model=tiny-srvgg, scale=4)",)


def test_bfloat16_agrees_with_float32_and_auto_is_one_of_them(srvgg) -> None:
    picture = Picture(photo(37, 51))
    exact = upscale(picture, model="tiny-srvgg", precision="fp32").pixels
    fast = upscale(picture, model="tiny-srvgg", precision="bf16").pixels
    assert psnr(fast, exact) > 45
    auto = upscale(picture, model="tiny-srvgg").pixels
    assert np.array_equal(auto, fast if cpu_has_bf16() else exact)
    with pytest.raises(InvalidInput, match="unknown precision 'fp16'"):
        upscale(picture, model="tiny-srvgg", precision="fp16")


@pytest.mark.parametrize("scale", [1, 2, 2.5, 3, 4, 6.3])
def test_any_scale_gives_the_rounded_size(srvgg, scale: float) -> None:
    result = upscale(Picture(photo(37, 51)), model="tiny-srvgg", scale=scale)
    assert result.pixels.shape == (round(37 * scale), round(51 * scale), 3)


def test_below_the_native_scale_the_network_output_is_area_averaged(srvgg) -> None:
    pixels = photo(40, 48)
    native = direct(srvgg, pixels).astype(np.float32)
    expected = cv2.resize(native, (120, 100), interpolation=cv2.INTER_AREA)
    result = upscale(Picture(pixels), model="tiny-srvgg", scale=2.5, precision="fp32")
    assert np.abs(result.pixels - expected).max() <= 1.5


def test_tiled_and_untiled_agree_above_50_db(rrdb) -> None:
    picture = Picture(photo(150, 118))
    whole = upscale(picture, model="tiny-rrdb", tile=1024, precision="fp32")
    tiled = upscale(picture, model="tiny-rrdb", tile=48, precision="fp32")
    assert psnr(tiled.pixels, whole.pixels) >= 50
    assert np.abs(whole.pixels.astype(int) - direct(rrdb, picture.pixels)).max() <= 1
    fast_whole = upscale(picture, model="tiny-rrdb", tile=1024, precision="bf16")
    assert psnr(upscale(picture, model="tiny-rrdb", tile=48, precision="bf16").pixels, fast_whole.pixels) >= 50


def test_compact_networks_see_their_whole_receptive_field_so_tiles_are_exact(srvgg) -> None:
    picture = Picture(photo(150, 118))
    whole = upscale(picture, model="tiny-srvgg", tile=1024, scale=3).pixels
    tiled = upscale(picture, model="tiny-srvgg", tile=40, scale=3).pixels
    assert np.abs(tiled.astype(int) - whole).max() <= 1


def test_pixel_unshuffle_networks_take_any_size_and_tiling(home, monkeypatch) -> None:
    network = random_rrdbnet(scale=2, blocks=1)
    install_pth(monkeypatch, home, "tiny-x2", network)
    picture = Picture(photo(71, 93))  # odd sides: padded to even for the network, cropped back
    whole = upscale(picture, model="tiny-x2")
    assert whole.pixels.shape == (142, 186, 3)
    assert psnr(upscale(picture, model="tiny-x2", tile=40).pixels, whole.pixels) >= 50
    enlarged = upscale(picture, model="tiny-x2", scale=3)  # beyond the network's scale: bicubic on its output
    assert enlarged.pixels.shape == (213, 279, 3)


def test_rgba_in_gives_rgba_out_with_the_alpha_enlarged(srvgg) -> None:
    pixels = photo(30, 40)
    alpha = np.zeros((30, 40), np.uint8)
    alpha[5:25, 8:30] = 255
    alpha[10:20, 15:20] = 128
    result = upscale(Picture(pixels, alpha=alpha), model="tiny-srvgg", scale=4)
    assert result.alpha is not None and result.alpha.shape == (120, 160)
    expected = cv2.resize(alpha.astype(np.float32) / 255, (160, 120), interpolation=cv2.INTER_CUBIC)
    assert np.abs(result.alpha.astype(np.float32) - np.clip(expected, 0, 1) * 255).max() <= 1
    assert result.alpha[30:90, 36:116].min() > 0 and result.alpha[:10].max() == 0
    np.testing.assert_array_equal(result.pixels, upscale(Picture(pixels), model="tiny-srvgg").pixels)


def test_16_bit_in_gives_16_bit_out(srvgg) -> None:
    eight = photo(32, 32)
    sixteen = eight.astype(np.uint16) * 257 + np.random.default_rng(2).integers(0, 200, eight.shape, dtype=np.uint16)
    result = upscale(Picture(sixteen, alpha=np.full((32, 32), 65535, np.uint16)), model="tiny-srvgg")
    assert result.pixels.dtype == np.uint16 and result.bit_depth == 16
    assert np.count_nonzero(result.pixels % 257) > result.pixels.size // 2  # real 16-bit values, not 8-bit ones
    assert result.alpha is not None and result.alpha.dtype == np.uint16 and (result.alpha == 65535).all()
    as_eight = upscale(Picture(eight), model="tiny-srvgg").pixels.astype(np.float64)
    assert psnr(result.pixels / 257.0, as_eight) > 35


def test_greyscale_stays_greyscale(srvgg) -> None:
    grey = photo(24, 28)[:, :, :1]
    result = upscale(Picture(grey), model="tiny-srvgg", scale=2)
    assert result.pixels.shape == (48, 56, 1)
    colour = upscale(Picture(np.repeat(grey, 3, axis=2)), model="tiny-srvgg", scale=2).pixels.astype(np.float32)
    assert np.abs(result.pixels[:, :, 0] - colour.mean(axis=2)).max() <= 1


def test_progress_reports_every_tile_and_the_input_is_untouched(srvgg) -> None:
    pixels = photo(100, 90)
    copy = pixels.copy()
    calls = []
    upscale(Picture(pixels), model="tiny-srvgg", tile=40, progress=lambda *c: calls.append(c))
    assert {stage for stage, _, _ in calls} == {"upscale"}
    total = calls[0][2]
    done = [done for _, done, _ in calls]
    # every tile reported, in order; a repeat of the last report is a liveness check (a slow tile on a busy machine)
    assert total >= 9 and done == sorted(done) and sorted(set(done)) == list(range(total + 1))
    np.testing.assert_array_equal(pixels, copy)


def test_metadata_travels_with_the_pixels(srvgg) -> None:
    meta = Metadata(icc_profile=b"icc", exif=b"exif", source_format="PNG")
    result = upscale(Picture(photo(20, 20), metadata=meta), model="tiny-srvgg", scale=2)
    assert (result.metadata.icc_profile, result.metadata.exif) == (b"icc", b"exif")


@pytest.mark.parametrize("scale", [0.5, 0, 16.5, float("nan"), float("inf")])
def test_scales_out_of_range_are_refused(scale: float) -> None:
    with pytest.raises(InvalidInput, match="scale must be between 1 and 16"):
        upscale(Picture(photo(8, 8)), scale=scale)


def test_too_small_tiles_and_other_models_are_refused() -> None:
    with pytest.raises(InvalidInput, match="tile must be at least 32"):
        upscale(Picture(photo(8, 8)), tile=8)
    with pytest.raises(InvalidInput, match="not an upscaling model"):
        upscale(Picture(photo(8, 8)), model="big-lama")


def test_an_output_too_large_for_memory_is_refused_before_any_work(srvgg) -> None:
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (12_000, 12_000, 3))  # no memory behind it
    with pytest.raises(TooLarge, match="192000x192000.*use a smaller scale"):
        upscale(Picture(huge), model="tiny-srvgg", scale=16)


def test_upscale_is_public_api() -> None:
    assert retouch.upscale is upscale and "upscale" in retouch.__all__
