"""The command line's error contract, through the installed `retouch` executable: every refused option, device,
box, mask or output path is exactly one line on stderr and exit code 2 (no traceback, no "internal error"), and
is refused before any work: a prelude (a `sitecustomize` on PYTHONPATH, see test_cli_signals.py) records in a
marker file every image the command starts to load, and the refused commands load none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

RETOUCH = str(Path(sys.executable).with_name("retouch"))
SITECUSTOMIZE = """
import os
marker = os.environ.get("RETOUCH_TEST_MARKER")
if marker:
    import retouch.io
    real_load_image = retouch.io.load_image
    def load_image(*args, **kwargs):  # the first step of every command's work
        with open(marker, "a") as file:
            file.write("loaded\\n")
        return real_load_image(*args, **kwargs)
    retouch.io.load_image = load_image
"""
WIDTH, HEIGHT = 48, 32


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with photo.png, white.png (a mask over everything), a sub folder and a plain file."""
    folder = tmp_path_factory.mktemp("contract")
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)).save(folder / "photo.png")
    Image.fromarray(np.full((HEIGHT, WIDTH), 255, np.uint8)).save(folder / "white.png")
    (folder / "folder.png").mkdir()  # a folder whose name looks like an output file
    (folder / "taken.png").write_bytes(b"the user's file")
    (folder / "plain").write_bytes(b"a file, not a folder")
    (folder / "home").mkdir()
    (folder / "hooks").mkdir()
    (folder / "hooks" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder


def retouch(place: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    """Run the command in ``place``; (its result, whether it started loading an image)."""
    marker = place / f"marker-{uuid.uuid4().hex}"  # one per run: runs may go in parallel
    env = {
        **os.environ,
        "RETOUCH_HOME": str(place / "home"),
        "RETOUCH_OFFLINE": "1",
        "PYTHONPATH": str(place / "hooks"),
        "RETOUCH_TEST_MARKER": str(marker),
    }
    result = subprocess.run([RETOUCH, *args], cwd=place, env=env, capture_output=True, text=True, timeout=300)
    loaded = marker.exists()
    marker.unlink(missing_ok=True)
    return result, loaded


def refused(place: Path, *args: str) -> str:
    """The command fails as every command must, before loading anything; returns its one line."""
    result, loaded = retouch(place, *args)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr)
    assert lines[0].startswith("retouch: error: ") and "Traceback" not in result.stderr
    assert "internal error" not in lines[0]
    assert not loaded, "the command started its work before refusing"
    return lines[0]


def refused_after_loading(place: Path, *args: str) -> str:
    """As ``refused``, for what can only be judged with the image in hand (a box, a mask)."""
    result, _ = retouch(place, *args)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr)
    assert lines[0].startswith("retouch: error: ") and "internal error" not in lines[0]
    return lines[0]


def all_refused(place: Path, cases: list[tuple[list[str], str]]) -> None:
    """``refused`` for every (arguments, expected message) case, a few processes at a time; every failing case
    is named."""
    from concurrent.futures import ThreadPoolExecutor

    def judge(case: tuple[list[str], str]) -> str | None:
        args, message = case
        try:
            line = refused(place, *args)
        except AssertionError as failure:
            return f"{' '.join(args)}: {failure}"
        return None if message in line else f"{' '.join(args)}: {line!r} does not say {message!r}"

    with ThreadPoolExecutor(max(2, min(8, os.cpu_count() or 2))) as pool:
        problems = [problem for problem in pool.map(judge, cases) if problem]
    assert not problems, "\n".join(problems)


ERASE = ("erase", "photo.png", "--box", "4,4,8,8", "-o", "out.png")
CUTOUT = ("cutout", "photo.png", "-o", "out.png")
REPLACE = ("replace-bg", "photo.png", "--with", "blur", "-o", "out.png")
UPSCALE = ("upscale", "photo.png", "-o", "out.png")
RESTORE = ("restore", "photo.png", "-o", "out.png")
CONVERT = ("convert", "photo.png", "-o", "out.png")

BAD_OPTIONS = [
    (ERASE, ["--grow", "-1"], "grow must be between 0 and 20000"),
    (ERASE, ["--grow", "1000000"], "grow must be between 0 and 20000"),
    (ERASE, ["--feather", "nan"], "feather must be a finite number"),
    (ERASE, ["--feather", "1e30"], "feather must be between 0 and 20000"),
    (ERASE, ["--seed", "-1"], "seed must be between 0 and 18446744073709551615"),
    (ERASE, ["--quality", "0"], "--quality"),
    (ERASE, ["--engine", "magic"], "unknown engine 'magic'"),
    (ERASE, ["--strategy", "tiles"], "unknown strategy 'tiles'"),
    (ERASE, ["--box", "1,2,3"], "invalid box '1,2,3'"),
    (ERASE, ["--box", "1,2,0,5"], "invalid box '1,2,0,5'"),
    (("erase", "photo.png", "-o", "out.png"), [], "nothing to erase"),
    (CUTOUT, ["--crop-margin", "-1"], "crop-margin must be at least 0"),
    (REPLACE, ["--blur", "1e6"], "blur must be between 0.1 and 2000"),
    (REPLACE, ["--blur", "nan"], "blur must be a finite number"),
    (REPLACE, ["--blur", "0"], "blur must be between 0.1 and 2000"),
    (REPLACE, ["--fit", "stretch"], "unknown fit 'stretch'"),
    (UPSCALE, ["--scale", "0.5"], "scale must be between 1 and 16"),
    (UPSCALE, ["--scale", "nan"], "scale must be a finite number"),
    (UPSCALE, ["--scale", "inf"], "scale must be a finite number"),
    (UPSCALE, ["--tile", "5"], "tile must be between 32 and 2048"),
    (UPSCALE, ["--tile", "99999999999999999999"], "tile must be between 32 and 2048"),
    (UPSCALE, ["--denoise", "2"], "denoise must be between 0 and 1"),
    (UPSCALE, ["--denoise", "nan"], "denoise must be a finite number"),
    (UPSCALE, ["--precision", "fp8"], "unknown precision 'fp8'"),
    (RESTORE, ["--strength", "2"], "strength must be between 0 and 1"),
    (RESTORE, ["--strength", "nan"], "strength must be a finite number"),
    (RESTORE, ["--strength", "0.5,x"], "--strength takes a number"),
    (RESTORE, ["--sensitivity", "1.5"], "sensitivity must be between 0 and 1"),
    (RESTORE, ["--denoise", "-1"], "denoise must be between 0 and 1"),
    (RESTORE, ["--colour", "nan"], "colour must be a finite number"),
    (RESTORE, ["--upscale", "5"], "upscale must be between 1 and 4"),
    (RESTORE, ["--detector", "eyes"], "unknown detector 'eyes'"),
    (CONVERT, ["--quality", "0"], "--quality"),
    (("convert", "photo.png", "-o", "out.xyz"), [], "cannot tell the image format"),
    (("convert", "photo.png"), [], "Missing option '--output'"),
    (("info", "missing.png"), [], "missing.png"),
    (("info", "plain"), [], "plain"),
    (("models", "pull", "nope"), [], "unknown model 'nope'"),
    (("models", "path", "nope"), [], "unknown model 'nope'"),
    (("models", "remove", "nope"), [], "unknown model 'nope'"),
    (("models", "list", "--task", "nope"), [], "unknown task 'nope'"),
    (("frobnicate",), [], "No such command 'frobnicate'"),
    (ERASE, ["--bogus"], "No such option: --bogus"),
]


def test_every_refused_option_is_one_line_exit_2_before_any_work(place) -> None:
    all_refused(place, [([*command, *options], message) for command, options, message in BAD_OPTIONS])


# Refused once the image is loaded (the mask file is read with it; a model name or a colour is looked up by the
# tool), still before the tool's work: one line, exit 2, nothing written.
LATE = [
    (ERASE, ["--mask", "missing.png"], "missing.png: no such file"),
    (CUTOUT, ["--bg-color", "nope"], "unknown colour 'nope'"),
    (CUTOUT, ["--model", "nope"], "unknown model 'nope'"),
    (CUTOUT, [], "retouch models pull"),
    (("replace-bg", "photo.png", "--with", "nope", "-o", "out.png"), [], "background 'nope'"),
    (UPSCALE, ["--model", "nope"], "unknown model 'nope'"),
    (UPSCALE, ["--model", "big-lama"], "not an upscaling model"),
    (UPSCALE, ["--model", "realesrgan-x4plus", "--denoise", "0.5"], "has no denoise strength"),
    (RESTORE, ["--face-model", "nope"], "unknown model 'nope'"),
    (RESTORE, ["--faces"], "retouch models pull gfpgan-v1.4"),
]


@pytest.mark.parametrize(
    ("command", "options", "message"), LATE, ids=[" ".join((c[0], *o)) or c[0] for c, o, _ in LATE]
)
def test_what_needs_the_image_or_the_registry_is_refused_as_one_line_exit_2(place, command, options, message) -> None:
    assert message in refused_after_loading(place, *command, *options)
    assert not (place / "out.png").exists()


DEVICE_COMMANDS = [ERASE, CUTOUT, REPLACE, UPSCALE, RESTORE]


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_an_unknown_device_and_a_missing_gpu_are_refused_by_every_tool(place) -> None:
    cases = [([*command, "--device", "tpu"], "unknown device 'tpu'") for command in DEVICE_COMMANDS]
    if not _has_cuda():  # else --device cuda is honoured here
        cases += [([*command, "--device", "cuda"], "no CUDA GPU") for command in DEVICE_COMMANDS]
    all_refused(place, cases)


OUTPUT_CASES = [
    ("missing/out.png", "the folder missing does not exist"),
    ("plain/out.png", "the folder plain is not a folder"),
    ("folder.png", "folder.png is a folder; give a file name"),
    ("taken.png", "taken.png already exists; use --overwrite"),
    ("out.tiff2", "cannot tell the image format"),
]


def test_every_command_checks_its_output_path_before_any_work(place) -> None:
    cases = [(["erase", "photo.png", "--box", "4,4,8,8", "-o", output], message) for output, message in OUTPUT_CASES]
    for *start, _ in (CUTOUT, REPLACE, UPSCALE, RESTORE, CONVERT):
        cases.append(([*start, "folder.png"], "folder.png is a folder; give a file name"))
        cases.append(([*start, "missing/out.png"], "the folder missing does not exist"))
    all_refused(place, cases)


def test_an_output_folder_without_write_permission_is_refused_before_any_work(place) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders: nothing to refuse")
    locked = place / "locked"
    locked.mkdir(exist_ok=True)
    locked.chmod(0o555)
    try:
        assert "cannot write locked/out.png" in refused(place, *ERASE[:-1], "locked/out.png")
    finally:
        locked.chmod(0o755)


def test_a_box_entirely_outside_is_refused_and_one_partly_outside_is_clipped_with_a_warning(place) -> None:
    line = refused_after_loading(place, "erase", "photo.png", "--box", f"{WIDTH},0,5,5", "-o", "never.png")
    assert f"lies entirely outside the {WIDTH}x{HEIGHT} image" in line
    assert not (place / "never.png").exists()

    result, _ = retouch(place, "erase", "photo.png", "--box", "40,-4,20,10", "--grow", "0", "-o", "clipped.png")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"retouch: warning: box 40,-4,20,10 reaches past the {WIDTH}x{HEIGHT} image; only its part inside is used: "
        "40,0,8,6"
    ]
    inside, _ = retouch(place, "erase", "photo.png", "--box", "40,0,8,6", "--grow", "0", "-o", "inside.png")
    assert inside.returncode == 0 and inside.stderr == ""
    clipped = np.asarray(Image.open(place / "clipped.png"))
    assert np.array_equal(clipped, np.asarray(Image.open(place / "inside.png")))  # the same hole, the same fill
    assert not np.array_equal(clipped, np.asarray(Image.open(place / "photo.png")))

    result, _ = retouch(place, "--quiet", "erase", "photo.png", "--box", "40,-4,20,10", "-o", "quiet.png")
    assert result.returncode == 0 and result.stderr == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--mask", "white.png"], "the mask covers the whole image"),
        (["--box", f"0,0,{WIDTH},{HEIGHT}"], "the mask covers the whole image"),
        (["--box", "-10,-10,100,100"], "the mask covers the whole image"),
        (["--box", "4,4,8,8", "--grow", "60"], "grown by 60 pixels, the mask covers the whole image"),
    ],
    ids=["white-mask", "whole-box", "larger-box", "grown"],
)
def test_a_mask_over_the_whole_image_is_refused(place, options, message) -> None:
    assert message in refused_after_loading(place, "erase", "photo.png", *options, "-o", "covered.png")
    assert not (place / "covered.png").exists()


# The same rules in the library, which the server calls: the errors are typed, and raised before any work.


def test_the_library_refuses_a_mask_over_the_whole_picture_and_options_out_of_range() -> None:
    from retouch import erase, upscale
    from retouch.errors import InvalidInput
    from retouch.types import Picture

    picture = Picture(np.random.default_rng(1).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    with pytest.raises(InvalidInput, match="the mask covers the whole image"):
        erase(picture, np.ones((HEIGHT, WIDTH), bool))
    hole = np.zeros((HEIGHT, WIDTH), bool)
    hole[10:20, 10:20] = True
    with pytest.raises(InvalidInput, match="grown by 100 pixels, the mask covers the whole image"):
        erase(picture, hole, grow=100)
    for options, message in [
        ({"feather": float("nan")}, "feather must be a finite number"),
        ({"grow": -2}, "grow must be between 0 and 20000"),
        ({"grow": 2.5}, "grow must be a whole number"),
        ({"seed": -1}, "seed must be between 0"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            erase(picture, hole, **options)
    with pytest.raises(InvalidInput, match="tile must be between 32 and 2048"):
        upscale(picture, tile=4096)
    with pytest.raises(InvalidInput, match="denoise must be a finite number"):
        upscale(picture, denoise=float("nan"))


def test_the_patch_engine_refuses_a_gpu_it_cannot_use(monkeypatch) -> None:
    import torch

    from retouch import erase
    from retouch.errors import BackendUnavailable
    from retouch.types import Picture

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with a GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    hole = np.zeros((HEIGHT, WIDTH), bool)
    hole[4:8, 4:8] = True
    with pytest.raises(BackendUnavailable, match="the patch engine runs on the CPU only"):
        erase(Picture(np.zeros((HEIGHT, WIDTH, 3), np.uint8)), hole, engine="patch", device="cuda")


def test_check_output_says_what_is_wrong_with_an_output_path(tmp_path) -> None:
    from retouch.errors import InvalidInput, OutputExists
    from retouch.io.atomic import check_output

    (tmp_path / "dir.png").mkdir()
    (tmp_path / "taken.png").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="is a folder"):
        check_output(tmp_path / "dir.png", overwrite=True)
    with pytest.raises(OutputExists):
        check_output(tmp_path / "taken.png")
    assert check_output(tmp_path / "taken.png", overwrite=True) == tmp_path / "taken.png"
    with pytest.raises(InvalidInput, match="does not exist"):
        check_output(tmp_path / "no" / "out.png")
    assert sorted(os.listdir(tmp_path)) == ["dir.png", "taken.png"]  # the trial file is gone
