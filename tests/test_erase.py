"""The erase tool: untouched pixels outside the grown mask, every layout and bit depth, engines, strategies, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retouch import masks
from retouch.errors import InvalidInput, WeightsMissing
from retouch.tools.erase import default_grow, erase
from retouch.tools.erase.engines import resolve_engine_name
from retouch.types import Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))


def textured(height: int, width: int, channels: int = 3, dtype: type = np.uint8) -> np.ndarray:
    """A smooth gradient with stripes and noise: structure for the fill to continue, detail to keep."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(x / 6.0)[..., None] * np.array([1.0, 0.6, 0.3][:channels]) + 0.1 * y[..., None] / height
    values = np.clip(base + rng.normal(0, 0.03, (height, width, channels)), 0, 1)
    top = np.iinfo(dtype).max
    return (values * top + 0.5).astype(dtype)


def box_mask(height: int, width: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
def test_pixels_outside_the_grown_mask_are_untouched(dtype: type, channels: int) -> None:
    picture = Picture(textured(120, 160, channels, dtype))
    mask = box_mask(120, 160, 40, 70, 50, 90)

    result = erase(picture, mask, engine="patch", grow=4)

    outside = ~masks.grow(mask, 4)
    assert result.pixels.dtype == dtype and result.pixels.shape == picture.pixels.shape
    np.testing.assert_array_equal(result.pixels[outside], picture.pixels[outside])
    changed = np.any(result.pixels != picture.pixels, axis=2)
    assert changed[mask].mean() > 0.5  # the painted area really was replaced
    assert result.metadata.operations == ("erase (engine=patch)",)


def test_fill_continues_the_surroundings() -> None:
    picture = Picture(textured(120, 160))
    mask = box_mask(120, 160, 40, 80, 60, 100)
    result = erase(picture, mask, engine="patch", grow=2)
    # Against the (known) original behind the box, the fill beats painting the box in the image's mean colour.
    truth = picture.pixels[mask].astype(np.float32)
    fill_error = np.abs(result.pixels[mask].astype(np.float32) - truth).mean()
    flat_error = np.abs(picture.pixels.reshape(-1, 3).mean(axis=0) - truth).mean()
    assert fill_error < 0.6 * flat_error


def test_alpha_is_kept_outside_and_continued_inside() -> None:
    rgb = textured(64, 64)
    alpha = np.full((64, 64), 255, dtype=np.uint8)
    alpha[:, :20] = 0
    picture = Picture(rgb, alpha=alpha)
    mask = box_mask(64, 64, 20, 40, 25, 45)
    result = erase(picture, mask, engine="patch", grow=2)
    outside = ~masks.grow(mask, 2)
    np.testing.assert_array_equal(result.alpha[outside], alpha[outside])
    assert result.alpha[mask].min() > 200  # surrounded by opaque pixels: the hole stays opaque


@pytest.mark.parametrize("strategy", ["whole", "resize", "crop"])
def test_every_strategy_changes_only_the_grown_mask(strategy: str) -> None:
    picture = Picture(textured(90, 130))
    mask = box_mask(90, 130, 10, 30, 10, 30) | box_mask(90, 130, 60, 80, 90, 120)
    result = erase(picture, mask, engine="patch", grow=3, strategy=strategy)
    outside = ~masks.grow(mask, 3)
    np.testing.assert_array_equal(result.pixels[outside], picture.pixels[outside])
    assert np.any(result.pixels[mask] != picture.pixels[mask])


def test_bad_masks_and_options_are_clear_errors() -> None:
    picture = Picture(textured(40, 50))
    with pytest.raises(InvalidInput, match="mask is 40x50 but the image is 50x40"):
        erase(picture, np.ones((50, 40), dtype=bool))
    with pytest.raises(InvalidInput, match="empty"):
        erase(picture, np.zeros((40, 50), dtype=bool))
    with pytest.raises(InvalidInput, match="unknown erase engine"):
        erase(picture, box_mask(40, 50, 1, 5, 1, 5), engine="magic")
    with pytest.raises(InvalidInput, match="unknown HD strategy"):
        erase(picture, box_mask(40, 50, 1, 5, 1, 5), engine="patch", strategy="zoom")


def test_auto_uses_patch_without_network_weights_and_networks_say_how_to_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    assert resolve_engine_name("auto") == "patch"
    with pytest.raises(WeightsMissing, match="retouch models pull big-lama"):
        erase(Picture(textured(40, 50)), box_mask(40, 50, 1, 5, 1, 5), engine="lama")


def test_default_grow_scales_with_the_photo() -> None:
    assert default_grow(768, 512) == 3
    assert default_grow(4000, 3000) == 8


def test_cli_erases_a_box_and_keeps_the_rest(tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "photo.png"
    Image.fromarray(textured(100, 140)).save(source)
    out = tmp_path / "clean.png"
    result = subprocess.run(
        [RETOUCH, "erase", str(source), "--box", "40,30,30,20", "--grow", "2", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    before, after = np.asarray(Image.open(source)), np.asarray(Image.open(out))
    outside = ~masks.grow(masks.mask_from_boxes([(40, 30, 30, 20)], (140, 100)), 2)
    np.testing.assert_array_equal(after[outside], before[outside])
    assert np.any(after[30:50, 40:70] != before[30:50, 40:70])

    again = subprocess.run([RETOUCH, "erase", str(source), "--box", "1,1,5,5", "-o", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1  # refuses to overwrite


def test_cli_without_mask_or_box_is_one_line_exit_2(tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "photo.png"
    Image.fromarray(textured(20, 20)).save(source)
    result = subprocess.run([RETOUCH, "erase", str(source)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "retouch: error: nothing to erase: give --mask FILE, --box x,y,w,h or --click x,y"
