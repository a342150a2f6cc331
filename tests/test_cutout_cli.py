"""`retouch cutout` and `retouch replace-bg` on files, with a generated network."""

from __future__ import annotations

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from cutout_onnx import offline_home_with_fake
from cutout_scenes import scene
from retouch.cli.cutout import register
from retouch.errors import WeightsMissing


@pytest.fixture
def app():
    application = typer.Typer()
    register(application)
    return application


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray((scene().image * 255 + 0.5).astype(np.uint8)).save(path, quality=95)
    return path


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    offline_home_with_fake("u2net", tmp_path, monkeypatch)


def run(app, *args: str):
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def test_cutout_writes_rgba_png_and_webp(app, photo, fake_model, tmp_path) -> None:
    run(app, "cutout", str(photo), "-o", str(tmp_path / "out.png"))
    with Image.open(tmp_path / "out.png") as out:
        assert out.mode == "RGBA" and out.size == (256, 192)
        alpha = np.asarray(out.getchannel("A"))
    assert alpha[0, 0] < 10 and alpha[105, 128] > 245
    run(app, "cutout", str(photo), "-o", str(tmp_path / "out.webp"))
    with Image.open(tmp_path / "out.webp") as out:
        assert out.mode == "RGBA"


def test_default_output_of_a_jpeg_is_a_png_beside_it(app, photo, fake_model) -> None:
    run(app, "cutout", str(photo))
    assert (photo.parent / "photo_cutout.png").is_file()


def test_mask_only_crop_with_and_without_margin_and_colour(app, photo, fake_model, tmp_path) -> None:
    run(app, "cutout", str(photo), "--mask-only", "-o", str(tmp_path / "mask.png"))
    with Image.open(tmp_path / "mask.png") as mask:
        assert mask.mode == "L"
    run(app, "cutout", str(photo), "--crop", "-o", str(tmp_path / "tight.png"))
    run(app, "cutout", str(photo), "--crop-margin", "12", "-o", str(tmp_path / "loose.png"))
    with Image.open(tmp_path / "tight.png") as tight, Image.open(tmp_path / "loose.png") as loose:
        assert tight.width < 256 and loose.width == min(256, tight.width + 24)
    run(app, "cutout", str(photo), "--bg-color", "#ff00ff", "-o", str(tmp_path / "flat.jpg"))
    with Image.open(tmp_path / "flat.jpg") as flat:
        assert flat.mode == "RGB" and np.abs(np.asarray(flat)[2, 2].astype(int) - [255, 0, 255]).max() < 12


def test_replace_bg_with_colour_blur_image_and_transparency(app, photo, fake_model, tmp_path) -> None:
    run(app, "replace-bg", str(photo), "--with", "white", "-o", str(tmp_path / "white.jpg"))
    run(app, "replace-bg", str(photo), "--with", "blur", "--no-harmonize", "-o", str(tmp_path / "blur.jpg"))
    Image.new("RGB", (64, 32), (250, 200, 0)).save(tmp_path / "bg.png")
    run(app, "replace-bg", str(photo), "--with", str(tmp_path / "bg.png"), "--fit", "fit", "--shadow", "-o", str(tmp_path / "img.png"))
    run(app, "replace-bg", str(photo), "--with", "transparent")
    with Image.open(tmp_path / "white.jpg") as white:
        assert np.asarray(white)[2, 2].min() > 240
    with Image.open(photo.parent / "photo_newbg.png") as clear:
        assert clear.mode == "RGBA"


def test_no_model_is_one_clear_error(app, photo, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["cutout", str(photo)])
    assert isinstance(result.exception, WeightsMissing)
    assert "retouch models pull" in str(result.exception)
