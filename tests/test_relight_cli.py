"""`retouch relight` through the installed executable: its outputs, and one line with exit code 2 on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from relight_scenes import sphere

RETOUCH = str(Path(sys.executable).with_name("retouch"))


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """photo.png (a grey disc on a darker ground), matte.png (the disc), small.png (a matte of another size)."""
    folder = tmp_path_factory.mktemp("relight")
    shape = sphere(120, 80, 30)
    photo = np.where(shape.matte[..., None] > 0.5, 150, 90).astype(np.uint8).repeat(3, axis=2)
    Image.fromarray(photo).save(folder / "photo.png")
    Image.fromarray((shape.matte * 255).astype(np.uint8)).save(folder / "matte.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(folder / "small.png")
    grey = (shape.matte * 255).astype(np.uint8)  # the same matte as an editor may save it: RGBA, alpha opaque
    Image.fromarray(np.dstack([grey, grey, grey, np.full_like(grey, 255)])).save(folder / "matte_rgba.png")
    (folder / "home").mkdir()
    return folder


def retouch(place: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETOUCH_HOME": str(place / "home"), "RETOUCH_OFFLINE": "1"}
    command = [RETOUCH, *args]
    return subprocess.run(command, cwd=place, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_relight_writes_the_photo_and_the_normal_map(place: Path) -> None:
    done = retouch(
        place,
        "relight",
        "photo.png",
        "--matte",
        "matte.png",
        "--light",
        "dir:azimuth=0,elevation=50,color=#ff8000,intensity=2,rim",
        "-l",
        "point:x=0.2,y=0.2,z=0.3",
        "--ambient",
        "0.7",
        "--export-normals",
        "normals.png",
        "-o",
        "out.png",
    )
    assert done.returncode == 0, done.stderr
    photo = np.asarray(Image.open(place / "photo.png"))
    out = np.asarray(Image.open(place / "out.png"))
    normals = np.asarray(Image.open(place / "normals.png"))
    assert out.shape == photo.shape and normals.shape == photo.shape
    assert out[40, 89, 0] > out[40, 89, 2] and out[40, 89, 0] > photo[40, 89, 0]  # orange rim at the disc's right
    assert normals[40, 89, 0] > 200 and normals[5, 5].tolist() == [128, 128, 255]  # edge faces right; far plane


def test_ambient_one_without_lights_returns_the_photo(place: Path) -> None:
    done = retouch(place, "relight", "photo.png", "--model", "none", "--ambient", "1", "-o", "same.png")
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.asarray(Image.open(place / "same.png")), np.asarray(Image.open(place / "photo.png")))


def test_without_a_cutout_model_it_warns_and_names_the_pull_command(place: Path) -> None:
    done = retouch(place, "relight", "photo.png", "--no-faces", "-l", "dir:", "-o", "flat.png")
    assert done.returncode == 0, done.stderr
    assert "retouch: warning:" in done.stderr and "retouch models pull" in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["-l", "lamp:x=1"], "start with one of point:, dir:, spot:"),
        (["-l", "point:x=nope"], "x must be a number"),
        (["-l", "dir:elevation=120"], "elevation must be between 0 and 90"),
        (["--ambient", "-0.5"], "--ambient must be between 0 and 4"),
        (["--ambient", "lots"], "--ambient"),
        (["--detail", "nan"], "--detail must be a finite number"),
        (["--matte", "small.png"], "the matte must be 120x80"),
        (["--model", "big-lama"], "not a cutout model"),
        (["--depth-model", "nowhere.onnx"], "depth model 'nowhere.onnx': no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(place: Path, args: list[str], message: str) -> None:
    done = retouch(place, "relight", "photo.png", *args, "-o", "bad.png")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("retouch: error: ") and message in lines[0], lines[0]
    assert not (place / "bad.png").exists()


def test_a_missing_file_is_one_line_and_exit_code_2(place: Path) -> None:
    done = retouch(place, "relight", "nowhere.png", "-l", "dir:", "-o", "bad.png")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "nowhere.png" in lines[0], done.stderr


def test_a_matte_saved_with_an_opaque_alpha_is_read_by_its_grey(place: Path) -> None:
    """Its opaque alpha used to be taken as the matte: the whole frame the subject, lit as a flat plane."""
    rim = "dir:azimuth=0,elevation=50,color=#ff8000,intensity=2,rim"
    grey = retouch(place, "relight", "photo.png", "--matte", "matte.png", "-l", rim, "-o", "grey.png")
    rgba = retouch(place, "relight", "photo.png", "--matte", "matte_rgba.png", "-l", rim, "-o", "rgba.png")
    assert grey.returncode == 0 and rgba.returncode == 0, grey.stderr + rgba.stderr
    assert np.array_equal(np.asarray(Image.open(place / "grey.png")), np.asarray(Image.open(place / "rgba.png")))
