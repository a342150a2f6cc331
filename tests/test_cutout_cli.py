"""`retouch cutout` and `retouch replace-bg` on files, through the installed `retouch` executable, with a generated
network installed in a fresh $RETOUCH_HOME as a pull leaves it (u2netp's file, padded to the registry's size)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_onnx import write_fake_network
from cutout_scenes import scene
from registry_sized import cache_path, pad_onnx

RETOUCH = str(Path(sys.executable).with_name("retouch"))
MODEL = "u2netp"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray((scene().image * 255 + 0.5).astype(np.uint8)).save(path, quality=95)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An offline $RETOUCH_HOME for the commands this test runs (they inherit the environment)."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    return tmp_path / "home"


@pytest.fixture
def fake_model(home) -> None:
    path, size = cache_path(MODEL)
    write_fake_network(MODEL, path)
    pad_onnx(path, size)


def retouch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = retouch(*args)
    assert result.returncode == 0, result.stderr
    return result


def refused(*args: str) -> str:
    """The command fails as every command must: exit code 2 and exactly one line on stderr; returns the line."""
    result = retouch(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    return lines[0]


def test_cutout_writes_rgba_png_and_webp(photo, fake_model, tmp_path) -> None:
    run("cutout", str(photo), "-o", str(tmp_path / "out.png"))
    with Image.open(tmp_path / "out.png") as out:
        assert out.mode == "RGBA" and out.size == (256, 192)
        alpha = np.asarray(out.getchannel("A"))
    assert alpha[0, 0] < 3 and alpha[105, 128] > 252  # measured 0 and 255
    run("cutout", str(photo), "-o", str(tmp_path / "out.webp"))
    with Image.open(tmp_path / "out.webp") as out:
        assert out.mode == "RGBA"


def test_default_output_of_a_jpeg_is_a_png_beside_it(photo, fake_model) -> None:
    run("cutout", str(photo))
    assert (photo.parent / "photo_cutout.png").is_file()


def test_mask_only_crop_with_and_without_margin_and_colour(photo, fake_model, tmp_path) -> None:
    run("cutout", str(photo), "--mask-only", "-o", str(tmp_path / "mask.png"))
    with Image.open(tmp_path / "mask.png") as mask:
        assert mask.mode == "L"
    run("cutout", str(photo), "--crop", "-o", str(tmp_path / "tight.png"))
    run("cutout", str(photo), "--crop-margin", "12", "-o", str(tmp_path / "loose.png"))
    with Image.open(tmp_path / "tight.png") as tight, Image.open(tmp_path / "loose.png") as loose:
        assert tight.width < 256 and loose.width == min(256, tight.width + 24)
    run("cutout", str(photo), "--bg-color", "#ff00ff", "-o", str(tmp_path / "flat.jpg"))
    with Image.open(tmp_path / "flat.jpg") as flat:
        assert flat.mode == "RGB" and np.abs(np.asarray(flat)[2, 2].astype(int) - [255, 0, 255]).max() < 12


def test_replace_bg_with_colour_blur_image_and_transparency(photo, fake_model, tmp_path) -> None:
    run("replace-bg", str(photo), "--with", "white", "-o", str(tmp_path / "white.jpg"))
    run("replace-bg", str(photo), "--with", "blur", "--no-harmonize", "-o", str(tmp_path / "blur.jpg"))
    Image.new("RGB", (64, 32), (250, 200, 0)).save(tmp_path / "bg.png")
    backdrop = ("--with", str(tmp_path / "bg.png"), "--fit", "fit", "--shadow")
    run("replace-bg", str(photo), *backdrop, "-o", str(tmp_path / "img.png"))
    run("replace-bg", str(photo), "--with", "transparent")
    with Image.open(tmp_path / "white.jpg") as white:
        assert np.asarray(white)[2, 2].min() > 240
    with Image.open(photo.parent / "photo_newbg.png") as clear:
        assert clear.mode == "RGBA"


def test_no_model_is_one_clear_error_and_exit_2(photo, home) -> None:
    for command in ("cutout", "replace-bg"):
        extra = ("--with", "white") if command == "replace-bg" else ()
        assert "retouch models pull" in refused(command, str(photo), *extra)


def test_bad_inputs_and_options_are_one_line_and_exit_2(photo, fake_model, tmp_path) -> None:
    missing = str(tmp_path / "nope.jpg")
    assert "nope.jpg" in refused("cutout", missing)
    assert "nope.jpg" in refused("replace-bg", missing, "--with", "white")
    refused("cutout", str(photo), "--bg-color", "not-a-colour", "-o", str(tmp_path / "a.png"))
    refused("cutout", str(photo), "--model", "no-such-model", "-o", str(tmp_path / "b.png"))
    refused("replace-bg", str(photo), "--with", str(tmp_path / "no-such-background.png"))
    refused("replace-bg", str(photo), "--with", "white", "--fit", "stretch")
    run("cutout", str(photo), "-o", str(tmp_path / "once.png"))
    assert "--overwrite" in refused("cutout", str(photo), "-o", str(tmp_path / "once.png"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == ["once.png"]  # nothing else written
