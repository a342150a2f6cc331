"""The README's own commands, run as a user runs them: through the installed `retouch` executable (and the Python
snippet through a fresh interpreter), in a folder holding the files they name. The commands are read from the
README itself, so an edit there that breaks them fails here."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from e2e.photos import assert_fill_matches_background, encode, scene
from retouch import masks
from retouch.io import load_image, read_provenance
from retouch.tools.erase import default_grow

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RETOUCH = str(Path(sys.executable).with_name("retouch"))
# A dark disk centred in the README's box (1200,800,400,400), across the horizon between sky and field.
PHOTO = scene(2334, 2000, radius=150)
BOX = masks.mask_from_boxes([(1200, 800, 400, 400)], (2334, 2000))


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def readme_command(start: str) -> list[str]:
    """The first command of the README's bash blocks that starts with ``start``, as arguments, with its
    ``.venv/bin/retouch`` pointing at this environment's executable."""
    for block in readme_blocks("bash"):
        for line in block.splitlines():
            if line.startswith(start):
                words = shlex.split(line)
                return [RETOUCH if word == ".venv/bin/retouch" else word for word in words]
    raise AssertionError(f"the README has no command starting with {start!r}")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the README's photo.jpg; an empty $RETOUCH_HOME, offline: what a fresh setup has."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    (tmp_path / "photo.jpg").write_bytes(encode(PHOTO.pixels, "JPEG", quality=95))
    return tmp_path


# Pixels of a JPEG that share a 16x16 block (a 4:2:0 MCU) with an edited pixel are encoded anew, and the decoder's
# chroma upsampling reaches into the next block: beyond one more block, nothing may change.
JPEG_BLOCK = 16


def assert_erased_only(result: Path, source: Path, hole: np.ndarray) -> None:
    """"Every pixel you did not paint left exactly as it was": outside the grown mask (and, for a JPEG, outside
    the blocks it touches) the pixels decode exactly as the source file's; the dark object inside is gone."""
    before, after = load_image(source).pixels, load_image(result).pixels
    margin = default_grow(PHOTO.pixels.shape[1], PHOTO.pixels.shape[0])
    if result.suffix == ".jpg":
        margin += 2 * JPEG_BLOCK
    keep = ~masks.grow(hole, margin)
    np.testing.assert_array_equal(after[keep], before[keep])
    assert_fill_matches_background(after, PHOTO, PHOTO.object_mask)  # the scene behind the object is back
    provenance = read_provenance(load_image(result).metadata.xmp)
    assert provenance is not None and provenance.operations == ("erase (engine=patch)",)


def test_the_main_job_in_one_command(folder: Path) -> None:
    command = readme_command(".venv/bin/retouch erase")
    assert command[1:] == ["erase", "photo.jpg", "--box", "1200,800,400,400", "-o", "clean.jpg"]
    done = run(command, folder)
    assert done.returncode == 0, done.stderr
    assert_erased_only(folder / "clean.jpg", folder / "photo.jpg", BOX)


def test_erase_with_a_mask_white_or_opaque_and_repeatable(folder: Path) -> None:
    """`--mask mask.png` (white or opaque = erase; repeatable)."""
    assert "`--mask mask.png` (white or opaque = erase; repeatable)" in README
    left = PHOTO.object_mask.copy()
    left[:, PHOTO.center[0] :] = False
    right = PHOTO.object_mask & ~left
    Image.fromarray(left.astype(np.uint8) * 255).save(folder / "mask.png")  # white = erase
    opaque = np.zeros((2000, 2334, 4), np.uint8)
    opaque[..., 3] = right * 255  # black everywhere; opaque = erase
    Image.fromarray(opaque, "RGBA").save(folder / "opaque.png")

    done = run([RETOUCH, "erase", "photo.jpg", "--mask", "mask.png", "--mask", "opaque.png", "-o", "clean.png"], folder)

    assert done.returncode == 0, done.stderr
    assert_erased_only(folder / "clean.png", folder / "photo.jpg", left | right)


def test_the_python_snippet(folder: Path) -> None:
    (snippet,) = [block for block in readme_blocks("python") if "retouch.erase" in block]
    done = run([sys.executable, "-c", snippet], folder)
    assert done.returncode == 0, done.stderr
    assert_erased_only(folder / "clean.jpg", folder / "photo.jpg", BOX)


def test_info_convert_and_models_list(folder: Path) -> None:
    info = run([RETOUCH, "--json", "info", "photo.jpg"], folder)
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert (facts["width"], facts["height"], facts["format"]) == (2334, 2000, "JPEG")
    assert facts["icc_profile"] and facts["exif"]

    converted = run([RETOUCH, "convert", "photo.jpg", "-o", "photo.png"], folder)
    assert converted.returncode == 0, converted.stderr
    np.testing.assert_array_equal(load_image(folder / "photo.png").pixels, load_image(folder / "photo.jpg").pixels)

    listed = run([RETOUCH, "models", "list"], folder)
    assert listed.returncode == 0, listed.stderr
    for row in ("big-lama", "migan", "isnet-imgly", "realesr-animevideov3"):  # the README's table
        assert row in listed.stdout


# A command of each kind the README lists, each given a file that does not exist (serve: a port that cannot be).
FAILING = {
    "erase": ["erase", "nope.jpg", "--box", "1,1,2,2"],
    "cutout": ["cutout", "nope.jpg"],
    "replace-bg": ["replace-bg", "nope.jpg", "--with", "white"],
    "upscale": ["upscale", "nope.jpg"],
    "restore": ["restore", "nope.jpg"],
    "info": ["info", "nope.jpg"],
    "convert": ["convert", "nope.jpg", "-o", "out.png"],
    "models": ["models", "path", "no-such-model"],
    "serve": ["serve", "--port", "99999"],
}


@pytest.mark.parametrize("command", FAILING)
def test_every_error_prints_one_line_and_exits_with_code_2(command: str, folder: Path) -> None:
    assert "Every error prints one line and exits with code 2." in README
    done = run([RETOUCH, *FAILING[command]], folder)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, (done.returncode, done.stderr)
    assert lines[0].startswith("retouch: error: ") and "Traceback" not in done.stderr
    assert ("nope.jpg" if "nope.jpg" in FAILING[command] else FAILING[command][-1]) in lines[0]


def test_an_absent_gpu_is_an_error_never_a_silent_fallback(folder: Path) -> None:
    """README: `--device auto|cpu|cuda` (a requested GPU that is absent is an error, never a silent fallback)."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    done = run([RETOUCH, "erase", "photo.jpg", "--box", "10,10,20,20", "--device", "cuda", "-o", "gpu.jpg"], folder)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "cuda" in lines[0].lower(), done.stderr
    assert not (folder / "gpu.jpg").exists()


def test_a_ci_run_fails_where_shared_data_or_chromium_would_be_skipped(tmp_path: Path) -> None:
    """README, Tests: with CI set, the tests that need ../shared or Chromium fail instead of skipping."""
    from shared_data import SHARED

    (tmp_path / "test_needs_shared.py").write_text(
        "import pytest\n"
        "from shared_data import unavailable\n"
        f"def test_photos():\n    pytest.skip('Kodak photos not found in {SHARED / 'eval'}')\n"
        "def test_browser():\n    unavailable('browser tests need Chromium')\n"
        "def test_other():\n    pytest.skip('this machine has a CUDA GPU')\n"
        f"def test_optional():\n    pytest.skip('weights absent: {SHARED / 'models' / 'big-lama.pt'}')\n"
    )
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-rA", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    for ci, outcome in (("1", "2 failed, 2 skipped"), ("", "4 skipped")):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={**env, "CI": ci}, timeout=300)
        assert outcome in done.stdout, done.stdout
