"""`retouch batch ... --engine ray` on a local Ray instance: the same outputs as the local engine (pixels, ICC,
EXIF), a bad file recorded without stopping the batch, a second run skipping what is done, a stop leaving nothing
partial, and an fsspec URL as the output folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
import ray
from PIL import Image

import retouch
from retouch.batching.api import prepare, run
from retouch.batching.outputs import upload
from retouch.cli import main
from retouch.io import load_image
from imagegen import exif_bytes, exif_fields, srgb_profile
from homes import private_home
from test_batch import KILL_ON_CRASH_JPG  # also run by every Python process Ray starts

BOX = "20,16,24,20"
PHOTOS = 5


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One small Ray instance for the module: the batches find it initialised and use it as it is. Its processes,
    and the commands the tests start, use a private Retouch home (``homes.private_home``)."""
    home = private_home(tmp_path_factory.mktemp("ray-home"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETOUCH_HOME", str(home))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield
        ray.shutdown()


@pytest.fixture
def own_signals() -> Iterator[None]:
    """`retouch batch` takes SIGINT and SIGTERM for the batch; give them back to pytest afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for handled, handler in saved.items():
        signal.signal(handled, handler)


def shoot(folder: Path) -> None:
    """PHOTOS small JPEGs (the first with an ICC profile and EXIF) and a truncated one."""
    folder.mkdir()
    for index in range(PHOTOS):
        rng = np.random.default_rng(index)
        y, x = np.mgrid[0:72, 0:96]
        base = np.stack([x * 2 + index * 7, y * 3, (x + y) * 1.5], axis=2) % 256
        pixels = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        extra = {"icc_profile": srgb_profile(), "exif": b"Exif\x00\x00" + exif_bytes(orientation=1)} if index == 0 else {}
        Image.fromarray(pixels).save(folder / f"p{index}.jpg", quality=92, **extra)
    good = (folder / "p1.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(good[: len(good) // 3])


def cli(*args: str, json_out: bool = False) -> int:
    with pytest.raises(SystemExit) as ended:
        main([*(["--json"] if json_out else []), "batch", *args])
    return int(ended.value.code)


def test_ray_makes_what_the_local_engine_makes_records_the_bad_file_and_resumes(
    tmp_path: Path, own_signals: None, capsys: pytest.CaptureFixture[str]
) -> None:
    shoot(tmp_path / "in")
    local = retouch.batch("erase", tmp_path / "in", tmp_path / "local", {"box": BOX}, workers=1)
    assert (local.done, len(local.failures)) == (PHOTOS, 1)

    assert cli("erase", str(tmp_path / "in"), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", "2", "--box", BOX) == 1
    assert "failed: " in capsys.readouterr().err
    for index in range(PHOTOS):
        made = load_image(tmp_path / "ray" / f"p{index}.jpg")
        assert np.array_equal(made.pixels, load_image(tmp_path / "local" / f"p{index}.jpg").pixels)
    first = load_image(tmp_path / "ray" / "p0.jpg").metadata
    assert first.icc_profile == srgb_profile()
    assert exif_fields(first.exif) == exif_fields(load_image(tmp_path / "in" / "p0.jpg").metadata.exif)
    failures = json.loads((tmp_path / "ray" / "failures.json").read_text())
    assert [(Path(f["path"]).name, f["error_type"]) for f in failures] == [("cut.jpg", "CorruptImage")]
    assert str(tmp_path / "in" / "cut.jpg") in failures[0]["message"]  # the input, not the actor's private copy
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == sorted(
        p.name for p in (tmp_path / "local").iterdir()
    )  # no temporary file left, nothing more

    times = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ray").glob("*.jpg")}
    assert cli("erase", str(tmp_path / "in"), "-o", str(tmp_path / "ray"), "--engine", "ray", "--box", BOX, json_out=True) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["done"], summary["skipped"], summary["failed"]) == (0, PHOTOS, 1)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ray").glob("*.jpg")} == times


def test_a_stop_leaves_no_partial_file_and_the_next_run_finishes(tmp_path: Path) -> None:
    shoot(tmp_path / "in")
    plan = prepare("erase", tmp_path / "in", tmp_path / "out", ["--box", BOX], workers=1, engine="ray")
    stop = threading.Event()
    stopped = run(plan, engine="ray", on_outcome=lambda *_: stop.set(), stop=stop)
    assert stopped.interrupted and stopped.finished < PHOTOS + 1
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")] == []
    for made in (tmp_path / "out").glob("*.jpg"):
        load_image(made)  # whatever is there is complete
    rest = retouch.batch("erase", tmp_path / "in", tmp_path / "out", {"box": BOX}, workers=2, engine="ray")
    assert not rest.interrupted
    # photos an actor finished after the stop, before the execution was shut down, are complete and skipped too
    assert rest.done + rest.skipped == PHOTOS and rest.skipped >= stopped.done


def test_an_fsspec_url_is_an_output_folder(tmp_path: Path) -> None:
    """file:// through fsspec, as s3:// or gs:// would be: written by the actors, read back by this process."""
    shoot(tmp_path / "in")
    url = f"file://{tmp_path}/url-out"
    made = retouch.batch("erase", tmp_path / "in", url, {"box": BOX}, workers=2, engine="ray")
    assert (made.done, [Path(f.path).name for f in made.failures]) == (PHOTOS, ["cut.jpg"])
    local = retouch.batch("erase", tmp_path / "in", tmp_path / "local", {"box": BOX}, workers=1)
    assert local.done == PHOTOS
    fs = fsspec.filesystem("file")
    for index in range(PHOTOS):
        there = load_image(fs.cat_file(f"{tmp_path}/url-out/p{index}.jpg"))
        assert np.array_equal(there.pixels, load_image(tmp_path / "local" / f"p{index}.jpg").pixels)
    assert json.loads(fs.cat_file(f"{tmp_path}/url-out/.retouch-batch.json"))["tool"] == "erase"
    assert [e["path"] for e in json.loads(fs.cat_file(f"{tmp_path}/url-out/failures.json"))] == [
        str(tmp_path / "in" / "cut.jpg")
    ]
    assert sorted(p.name for p in (tmp_path / "url-out").iterdir()) == sorted(
        p.name for p in (tmp_path / "local").iterdir()
    )  # each output moved into place from its temporary name: none left
    again = retouch.batch("erase", tmp_path / "in", url, {"box": BOX}, workers=2, engine="ray")
    assert (again.done, again.skipped) == (0, PHOTOS)


def test_an_actor_that_dies_costs_its_photo_alone(tmp_path: Path) -> None:
    """The command starts its own Ray here (its processes must start with the hook), and ends it."""
    shoot(tmp_path / "in")
    (tmp_path / "in" / "crash.jpg").write_bytes((tmp_path / "in" / "p1.jpg").read_bytes())
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "sitecustomize.py").write_text(KILL_ON_CRASH_JPG)
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "hooks")}
    environment.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("retouch")), "batch", "erase", str(tmp_path / "in"), "-o",
         str(tmp_path / "out"), "--box", BOX, "--engine", "ray", "-j", "2"],
        capture_output=True, text=True, env=environment, timeout=300, check=False,
    )
    assert done.returncode == 1, done.stderr
    failures = json.loads((tmp_path / "out" / "failures.json").read_text())
    assert sorted((Path(f["path"]).name, f["error_type"]) for f in failures) == [
        ("crash.jpg", "WorkerDied"), ("cut.jpg", "CorruptImage")
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".jpg") == [
        f"p{index}.jpg" for index in range(PHOTOS)
    ]


def test_an_object_store_gets_each_output_in_one_upload() -> None:
    """memory:// stands for an object store here (in this process): the file appears whole, no temporary name."""
    source = Path(__file__).with_name("imagegen.py")
    upload(source, "memory://retouch-ray-test/a/b.py")
    fs = fsspec.filesystem("memory")
    assert fs.cat_file("/retouch-ray-test/a/b.py") == source.read_bytes()
    assert fs.ls("/retouch-ray-test/a", detail=False) == ["/retouch-ray-test/a/b.py"]


@pytest.mark.parametrize(
    ("output", "engine", "says"),
    [
        ("s3://bucket/out", "local", "a URL needs --engine ray"),
        ("memory://x/out", "ray", "private to one process"),
    ],
)
def test_an_output_url_an_engine_cannot_write_is_refused_in_one_line(
    tmp_path: Path, own_signals: None, capsys: pytest.CaptureFixture[str], output: str, engine: str, says: str
) -> None:
    shoot(tmp_path / "in")
    assert cli("erase", str(tmp_path / "in"), "-o", output, "--engine", engine, "--box", BOX) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err
