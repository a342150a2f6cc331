"""`retouch batch` and `retouch.batch` on this machine's worker processes: every photo of a folder done the way its
single-photo command does it, at its relative path and in its format; bad files recorded, never stopping the
batch; resumed where it stopped; nothing partial left after Ctrl+C; inputs untouched."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import retouch
from retouch.batching.tools import batch_tool, flags_for
from retouch.io import load_image
from homes import private_home
from imagegen import exif_bytes, exif_fields, srgb_profile

RETOUCH = str(Path(sys.executable).with_name("retouch"))
BOX = "20,16,24,20"


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every batch of a test, and the processes it starts, in a private home (``private_home``)."""
    home = private_home(tmp_path / "home")
    monkeypatch.setenv("RETOUCH_HOME", str(home))
    return home


def photo(seed: int, width: int = 96, height: int = 72) -> np.ndarray:
    """A smooth colour field with some texture: something the patch engine fills in a few milliseconds."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 2 + seed * 7, y * 3, (x + y) * 1.5], axis=2) % 256
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def shoot(folder: Path, count: int = 4, width: int = 96, height: int = 72) -> list[Path]:
    """JPEGs in ``folder`` and a PNG in ``folder/day2``, the first JPEG with an ICC profile and EXIF."""
    (folder / "day2").mkdir(parents=True)
    paths = []
    for index in range(count):
        path = folder / f"p{index}.jpg"
        extra = {"icc_profile": srgb_profile(), "exif": b"Exif\x00\x00" + exif_bytes(orientation=1)} if index == 0 else {}
        Image.fromarray(photo(index, width, height)).save(path, quality=92, **extra)
        paths.append(path)
    Image.fromarray(photo(99, width, height)).save(folder / "day2" / "q.png")
    return [*paths, folder / "day2" / "q.png"]


def add_bad_files(folder: Path) -> list[Path]:
    """A truncated JPEG, a 0-byte PNG and a file that cannot be read (no permission, or a dangling link as root)."""
    good = (folder / "p1.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(good[: len(good) // 3])
    (folder / "empty.png").write_bytes(b"")
    unreadable = folder / "locked.jpg"
    if os.geteuid() == 0:  # root reads any file: a link to nothing is what it cannot read
        unreadable.symlink_to(folder / "gone.jpg")
    else:
        unreadable.write_bytes(good)
        unreadable.chmod(0)
    return [folder / "cut.jpg", folder / "empty.png", unreadable]


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and os.access(p, os.R_OK)
    }


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload]


def processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")]


def test_a_folder_with_bad_files_gives_every_good_output_and_records_the_bad(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    good = shoot(inputs)
    bad = add_bad_files(inputs)
    before = digests(inputs)
    out = tmp_path / "out"
    done = run("batch", "erase", str(inputs), "-o", str(out), "--box", BOX, "--engine", "local", "-e", "patch")
    assert done.returncode == 1, done.stderr  # some failed
    made = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert made == ["day2/q.png", "failures.json", "p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg"]
    failures = json.loads((out / "failures.json").read_text())
    assert sorted(f["path"] for f in failures) == sorted(str(p) for p in bad)
    assert {f["error_type"] for f in failures} <= {"CorruptImage", "InvalidInput"}
    for path in bad:  # one line on stderr for each, naming the file
        assert sum(f"failed: {path}:" in line for line in done.stderr.splitlines()) == 1
    assert "5 done, 0 already done, 3 failed of 8" in done.stdout
    assert digests(inputs) == before and not temporaries(tmp_path)
    # each output is what the single-photo command makes of that photo
    single = tmp_path / "single.jpg"
    alone = run("erase", str(good[2]), "-o", str(single), "--box", BOX, "-e", "patch", "--no-provenance")
    assert alone.returncode == 0, alone.stderr
    batched = load_image(out / "p2.jpg")
    assert np.array_equal(batched.pixels, load_image(single).pixels)
    assert batched.metadata.source_format == "JPEG" and load_image(out / "day2" / "q.png").metadata.source_format == "PNG"
    kept = load_image(out / "p0.jpg").metadata
    assert kept.icc_profile == srgb_profile() and exif_fields(kept.exif)["make"] == "Canon"  # ICC, EXIF kept


def test_a_second_run_does_only_what_is_left(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs)
    out = tmp_path / "out"
    first = retouch.batch("erase", inputs, out, {"box": [BOX], "engine": "patch"}, workers=2)
    assert (first.done, first.skipped, first.failures, first.interrupted) == (5, 0, [], False)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    (out / "p1.jpg").write_bytes((out / "p1.jpg").read_bytes()[:500])  # damaged since: made again
    (out / "day2" / "q.png").unlink()  # lost: made again
    second = retouch.batch("erase", inputs, out, {"box": [BOX], "engine": "patch"}, workers=2)
    assert (second.done, second.skipped) == (2, 3)
    assert load_image(out / "p1.jpg").size == (96, 72) and (out / "day2" / "q.png").exists()
    assert all(p.stat().st_mtime_ns == stamps[p] for p in stamps if p.name != "p1.jpg")
    again = retouch.batch("erase", inputs, out, {"box": [BOX], "engine": "patch", "overwrite": True})
    assert (again.done, again.skipped) == (5, 0)


def test_ctrl_c_leaves_no_partial_file_and_the_rerun_finishes(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=12, width=1600, height=1200)  # long enough per photo to be stopped in the middle
    before = digests(inputs)
    out = tmp_path / "out"
    args = ["batch", "erase", str(inputs), "-o", str(out), "--box", "300,300,500,400", "-e", "patch", "--workers", "2"]
    marker = f"RETOUCH_TEST_BATCH={tmp_path}"  # inherited by the worker processes: how the test finds them
    environment = {**os.environ, "RETOUCH_TEST_BATCH": str(tmp_path)}
    process = subprocess.Popen(
        [RETOUCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
        # as a terminal delivers it: a test run started as a background job ignores SIGINT, and children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - as test_cli_signals
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("p*.jpg")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(marker)) >= 3  # the batch and its two workers (and multiprocessing's tracker)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "run the same command again" in stdout
    made = len(list(out.rglob("p*.jpg")))
    assert 0 < made < 13
    assert not temporaries(tmp_path) and digests(inputs) == before
    assert not processes_with(marker)  # no worker outlives the batch
    rerun = run(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert "already done" in rerun.stdout and len(list(out.rglob("*.jpg"))) == 12
    assert not temporaries(tmp_path)


def test_inputs_from_a_glob_or_a_list_and_masks_matched_by_name(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs)
    masks = tmp_path / "masks"
    (masks / "day2").mkdir(parents=True)
    hole = np.zeros((72, 96), np.uint8)
    hole[30:40, 40:60] = 255
    Image.fromarray(hole).save(masks / "p0.png")
    Image.fromarray(hole).save(masks / "p1_mask.png")
    Image.fromarray(hole).save(masks / "day2" / "q.png")
    listed = tmp_path / "photos.txt"
    listed.write_text("# today\nin/p0.jpg\nin/p1.jpg\n\nin/day2/q.png\n")
    report = retouch.batch("erase", listed, tmp_path / "a", {"engine": "patch"}, masks=masks)
    assert (report.done, report.failures) == (3, [])
    assert sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*.*") if p.name[0] != ".") == [
        "day2/q.png", "p0.jpg", "p1.jpg"]
    erased = load_image(tmp_path / "a" / "p0.jpg").pixels.astype(int)
    assert np.abs(erased - photo(0).astype(int))[30:40, 40:60].mean() > 2  # the mask's region changed
    report = retouch.batch("erase", str(inputs / "*.jpg"), tmp_path / "b", {"engine": "patch"}, masks=masks)
    assert report.done == 2 and {f.path for f in report.failures} == {str(inputs / "p2.jpg"), str(inputs / "p3.jpg")}
    said = {Path(f.path).name: f.message for f in report.failures}  # in the order the workers ended them
    assert "no mask named like p2.jpg" in said["p2.jpg"] and "no mask named like p3.jpg" in said["p3.jpg"]


def test_format_follows_the_input_unless_told_and_transparency_gets_a_format_that_holds_it(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=1)
    report = retouch.batch("cutout", inputs, tmp_path / "cut", {"model": "u2netp"}, workers=1)
    assert report.failures == []
    assert load_image(tmp_path / "cut" / "p0.png").alpha is not None  # a JPEG's cutout is a PNG
    report = retouch.batch("cutout", inputs, tmp_path / "white", {"model": "u2netp", "bg_color": "white"}, workers=1)
    assert (tmp_path / "white" / "p0.jpg").exists()  # nothing transparent: the input's own format
    report = retouch.batch("erase", inputs, tmp_path / "webp", {"box": [BOX], "engine": "patch"}, format="webp")
    assert sorted(p.name for p in (tmp_path / "webp").rglob("*.webp")) == ["p0.webp", "q.webp"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["batch", "erase", "IN", "-o", "OUT", "--box", BOX, "--engine", "patch"], "own --engine, is -e here: -e patch"),
        (["batch", "erase", "IN", "-o", "OUT", "--box", BOX, "-e", "nope"], "unknown engine 'nope'"),
        (["batch", "erase", "IN", "-o", "OUT", "--box", BOX, "--click", "3,4"], "--click names one photo"),
        (["batch", "erase", "IN", "-o", "OUT"], "needs --masks DIR"),
        (["batch", "blur", "IN", "-o", "OUT"], "unknown tool 'blur'"),
        (["batch", "cutout", "IN", "-o", "OUT", "--format", "jpg"], "JPEG cannot hold the transparency"),
        (["batch", "erase", "MISSING", "-o", "OUT", "--box", BOX], "does not exist"),
        (["batch", "erase", "IN", "-o", "OUT", "--box", BOX, "--workers", "0"], "--workers must be at least 1"),
        (["batch", "erase", "IN", "-o", "OUT", "--box", BOX, "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_2_before_any_work(tmp_path: Path, args: list[str], says: str) -> None:
    shoot(tmp_path / "IN", count=1)
    done = run(*[str(tmp_path / a) if a in ("IN", "OUT", "MISSING") else a for a in args])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("retouch: error:") and says in lines[0], done.stderr
    assert not (tmp_path / "OUT").exists()


def test_a_folder_made_with_other_options_is_not_taken_as_done(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=1)
    out = tmp_path / "out"
    assert retouch.batch("erase", inputs, out, {"box": [BOX], "engine": "patch"}).done == 2
    other = run("batch", "erase", str(inputs), "-o", str(out), "--box", "1,1,9,9", "-e", "patch")
    assert other.returncode == 2 and "holds the outputs of another batch" in other.stderr
    assert "box" in other.stderr


def test_dry_run_lists_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=2)
    out = tmp_path / "out"
    done = run("--json", "batch", "cutout", str(inputs), "-o", str(out), "--dry-run")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["photos"] == 3 and [t["output"] for t in plan["tasks"]] == [
        str(out / "day2" / "q.png"), str(out / "p0.png"), str(out / "p1.png")]
    assert not out.exists()


def test_the_output_folder_inside_the_input_folder_is_not_an_input(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=1)
    first = retouch.batch("erase", inputs, inputs / "clean", {"box": [BOX], "engine": "patch"})
    second = retouch.batch("erase", inputs, inputs / "clean", {"box": [BOX], "engine": "patch"})
    assert (first.total, second.total, second.skipped) == (2, 2, 2)


def test_the_readme_batch_commands_work_as_written(tmp_path: Path) -> None:
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    commands = [shlex.split(line) for line in re.findall(r"^retouch batch .*$", readme, flags=re.MULTILINE)]
    assert {c[2] for c in commands} >= {"erase", "cutout"}
    shoot(tmp_path / "shoot", count=2)
    hole = np.zeros((72, 96), np.uint8)
    hole[20:40, 30:50] = 255
    (tmp_path / "shoot-masks" / "day2").mkdir(parents=True)
    for name in ("p0.png", "p1_mask.png", "day2/q.png"):
        Image.fromarray(hole).save(tmp_path / "shoot-masks" / name)
    shoot(tmp_path / "catalogue" / "spring", count=1)
    shoot(tmp_path / "more", count=1)
    (tmp_path / "photos.txt").write_text("more/p0.jpg\n")
    for words in commands:
        done = subprocess.run([RETOUCH, *words[1:]], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (words, done.stderr)
        assert " 0 failed" in done.stdout
    assert sorted(p.name for p in (tmp_path / "clean").rglob("*") if p.is_file() and p.name[0] != ".") == [
        "p0.jpg", "p1.jpg", "q.png"]
    assert (tmp_path / "cut" / "spring" / "p0.jpg").exists()  # on white: no transparency, the JPEG stays a JPEG


# Run at the start of every process of the batch (a sitecustomize module on PYTHONPATH), a local worker or a Ray
# actor: the process that opens a photo named crash.jpg dies at once, as one killed for memory does.
KILL_ON_CRASH_JPG = """
import os, signal
import retouch.io
real = retouch.io.load_image
def load_image(source, *args, **kwargs):
    if str(source).endswith("crash.jpg"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(source, *args, **kwargs)
retouch.io.load_image = load_image
"""


def test_a_worker_that_dies_costs_its_photo_alone(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=3)
    (inputs / "crash.jpg").write_bytes((inputs / "p1.jpg").read_bytes())
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(KILL_ON_CRASH_JPG)
    environment = {**os.environ, "PYTHONPATH": str(hooks)}
    out = tmp_path / "out"
    done = run("batch", "erase", str(inputs), "-o", str(out), "--box", BOX, "-e", "patch", "-j", "2", env=environment)
    assert done.returncode == 1, done.stderr
    failures = json.loads((out / "failures.json").read_text())
    assert [(f["path"], f["error_type"]) for f in failures] == [(str(inputs / "crash.jpg"), "WorkerDied")]
    assert "signal 9" in failures[0]["message"]
    assert sorted(p.name for p in out.rglob("*.*") if p.name[0] != "." and p.suffix != ".json") == [
        "p0.jpg", "p1.jpg", "p2.jpg", "q.png"]
    assert not temporaries(tmp_path)


@pytest.mark.parametrize(
    ("tool", "options"),
    [
        ("detext", {}),
        ("replace-bg", {"with_": "blur", "model": "u2netp"}),
        ("restore", {"faces": False}),
        ("relight", {"light": ["point:x=0.2,y=0.2,color=#ff8000"], "model": "none"}),
    ],
)
def test_every_tool_runs_as_a_batch_as_its_command_does(tmp_path: Path, tool: str, options: dict[str, object]) -> None:
    inputs = tmp_path / "in"
    shoot(inputs, count=1)
    report = retouch.batch(tool, inputs, tmp_path / "out", options, workers=1)
    assert (report.done, report.failures) == (2, [])
    flags = flags_for(batch_tool(tool), options)
    alone = run(tool, str(inputs / "p0.jpg"), "-o", str(tmp_path / "alone.png"), *flags)
    assert alone.returncode == 0, alone.stderr
    made = load_image(tmp_path / "out" / "p0.jpg").pixels.astype(int)
    assert np.abs(made - load_image(tmp_path / "alone.png").pixels.astype(int)).mean() < 1.5  # JPEG against PNG
