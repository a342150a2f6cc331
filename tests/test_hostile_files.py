"""The hostile-input corpus (``hostile_files.py``) against the real ``retouch`` program and the server.

The contract for every file: refused with exit code 2 and exactly one error line that names the problem (no
traceback, no "not enough memory"), or accepted where the file is valid; nothing written at the target path; the
input unchanged; over HTTP, a 4xx answer in the error shape. Every bomb runs in a child whose resident peak
(the kernel's accounting, from wait4) must stay within the memory budget of ``retouch.io.limits``, under a hard
address-space limit (``RLIMIT_AS``) of that budget plus what the libraries map, so a decoder that inflates a bomb
fails here and not on a user's machine.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e.harness import api_client, assert_error
from hostile_files import BOMBS, FILE_CASES, ODD_PATHS, XMP_CASES, FileCase, make_odd_path, valid_photo, write_cases
from PIL import Image

from retouch.io.limits import decode_budget

RETOUCH = str(Path(sys.executable).with_name("retouch"))
# Address space that the libraries map without using it (code, thread stacks, allocator arenas), with one thread
# per pool as set below: measured peaks 115 MB (info), 0.54 GB (the server's client) and 1.65 GB (erase, whose
# import of torch maps 1.1 GB). The hard limit is the budget plus this: it stops a runaway decoder before it takes
# the machine, while the resident peak, checked against the budget itself, is what catches a regression.
MAPPED_BYTES = 3 << 30
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
CHILD_ENV = {**os.environ, **ONE_THREAD, "RETOUCH_OFFLINE": "1"}
CHILD_ENV.pop("RETOUCH_MAX_PIXELS", None)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    peak_bytes: int  # the child's resident peak


# Linux starts a forked child's resident high-water mark at its parent's resident size and keeps it across exec,
# so a child forked by pytest (1.7 GB resident late in a full run, with torch and the models loaded) would report
# that as its peak. This small launcher, started first, forks the command itself: the command's peak then starts
# from the launcher's few megabytes; past the timeout the launcher kills it. argv: limit, timeout, report, command...
_LAUNCHER = """
import os, resource, signal, sys
limit, timeout, report, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(args[0], args)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.alarm(timeout)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def run_limited(args: list[str], budget: int, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """Run a command under RLIMIT_AS = budget + MAPPED_BYTES; its resident peak comes from wait4."""
    limit = budget + MAPPED_BYTES
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        launcher = [sys.executable, "-c", _LAUNCHER, str(limit), str(int(timeout)), str(report), *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = subprocess.run(launcher, stdout=out, stderr=err, env=env or CHILD_ENV, check=False)
            out.seek(0)
            err.seek(0)
            peak = int(report.read_text()) if report.exists() else 0
            return Run(child.returncode, out.read().decode(), err.read().decode(), peak)


def case_budget(case: FileCase, path: Path) -> int:
    pixels, bytes_per_pixel = case.decoded
    return decode_budget(pixels, bytes_per_pixel, path.stat().st_size if path.is_file() else 0)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(run: Run, says: str) -> None:
    """Exit code 2 and one line, 'retouch: error: ...', saying ``says``; not a MemoryError in disguise."""
    lines = run.stderr.strip().splitlines()
    assert run.code == 2, (run.code, run.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("retouch: error: "), run.stderr[-2000:]
    assert says.lower() in lines[0].lower(), lines[0]
    assert "not enough memory" not in lines[0] and "internal error" not in lines[0], lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_cases(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return valid_photo(tmp_path_factory.mktemp("photo"))


CASE_PARAMS = [pytest.param(case, id=case.name) for case in FILE_CASES]


# --- the command line ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_cli_convert_and_info_keep_the_contract(case: FileCase, corpus: dict[str, Path], tmp_path: Path) -> None:
    path = corpus[case.name]
    before = digest(path)
    target = tmp_path / "out.png"
    budget = case_budget(case, path)
    # convert decodes as info does and has a target to leave alone; bombs also go through info, as reported
    commands = [[RETOUCH, "convert", str(path), "-o", str(target)]] + ([[RETOUCH, "info", str(path)]] * case.bomb)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda args: run_limited(args, budget), commands))
    for run in runs:
        if case.bomb:
            assert run.peak_bytes <= budget, f"peak {run.peak_bytes >> 20} MiB over the budget {budget >> 20} MiB"
        if case.outcome == "refused":
            assert_refused(run, case.says)
        else:
            assert run.code == 0, run.stderr[-2000:]
            assert "Traceback" not in run.stderr
    if case.outcome == "refused":
        assert not target.exists()
    else:
        assert Image.open(target).size  # a real image was written
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.png"] if case.outcome == "accepted" else [])


@pytest.mark.parametrize("name", XMP_CASES)
def test_cli_edit_drops_unreadable_xmp_with_a_warning(name: str, corpus: dict[str, Path], tmp_path: Path) -> None:
    path = corpus[name]
    before = digest(path)
    target = tmp_path / "erased.png"
    run = run_limited([RETOUCH, "erase", str(path), "--box", "2,2,6,6", "-o", str(target)], decode_budget(32 * 24, 3))
    assert run.code == 0, run.stderr[-2000:]
    warnings = [line for line in run.stderr.splitlines() if line.startswith("retouch: warning:")]
    assert len(warnings) == 1 and "XMP" in warnings[0] and "left out" in warnings[0], run.stderr
    assert "Traceback" not in run.stderr and Image.open(target).size == (32, 24)
    assert digest(path) == before


# Every bomb as a mask scaled to the photo (--resize-mask, as the server always does), and the three as a
# mask of the photo's own size too.
MASK_RUNS = [pytest.param(case, True, id=f"{case.name}-resize-mask") for case in BOMBS] + [
    pytest.param(case, False, id=f"{case.name}-exact")
    for case in BOMBS
    if case.name in ("mask-20000x20000-zeros.png", "png16-1x1-1gib.png", "tiff16-1x1-1gib.tif")
]


@pytest.mark.parametrize(("case", "resize"), MASK_RUNS)
def test_cli_bomb_masks_are_refused_within_the_budget(
    case: FileCase, resize: bool, corpus: dict[str, Path], photo: Path, tmp_path: Path
) -> None:
    path = corpus[case.name]
    before = digest(path)
    target = tmp_path / "erased.png"
    args = [RETOUCH, "erase", str(photo), "--mask", str(path), "-o", str(target)]
    args += ["--resize-mask"] if resize else []
    budget = case_budget(case, path)
    run = run_limited(args, budget)
    assert run.peak_bytes <= budget, f"peak {run.peak_bytes >> 20} MiB over the budget {budget >> 20} MiB"
    if case.outcome == "refused":
        assert_refused(run, case.says)
        assert "mask" in run.stderr
    else:  # a valid mask of zeros: nothing to erase, said on one line
        assert_refused(run, "mask")
    assert not target.exists() and digest(path) == before


@pytest.mark.parametrize("kind", list(ODD_PATHS))
def test_cli_odd_paths(kind: str, tmp_path: Path) -> None:
    path = make_odd_path(kind, tmp_path / "in")
    target = tmp_path / "out.png"
    commands = [[RETOUCH, "info", "--", str(path)], [RETOUCH, "convert", "-o", str(target), "--", str(path)]]
    with ThreadPoolExecutor(2) as pool:
        budget = decode_budget(32 * 24, 3, 1 << 20)
        info, convert = pool.map(lambda args: run_limited(args, budget, timeout=60), commands)
    if ODD_PATHS[kind] == "accepted":
        assert info.code == 0 and convert.code == 0, info.stderr + convert.stderr
        assert Image.open(target).size == (32, 24)
    else:
        expected = {
            "symlink-to-dev-zero": "not a regular file",
            "fifo": "not a regular file",
            "directory": "folder",
            "nonexistent": "no such file",
        }[kind]
        assert_refused(info, expected)
        assert_refused(convert, expected)
        assert not target.exists()


def test_cli_upscale_output_over_the_limit_is_refused_before_any_work(tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    Image.new("RGB", (400, 300), (90, 120, 150)).save(source)
    target = tmp_path / "big.png"
    env = {**CHILD_ENV, "RETOUCH_MAX_PIXELS": "20000000"}
    run = run_limited([RETOUCH, "upscale", str(source), "--scale", "16", "-o", str(target)], decode_budget(0, 0), env)
    assert_refused(run, "400x300 x16 would be 6400x4800 (30.7 megapixels), over the limit of 20.0 megapixels")
    assert "RETOUCH_MAX_PIXELS" in run.stderr and "smaller scale" in run.stderr
    assert not target.exists()


# --- the server ----------------------------------------------------------------------------------------------------

# One process for every bomb, under the budget: each uploaded as a document and sent as a mask.
_SERVER_CHILD = """
import json, sys
from fastapi.testclient import TestClient
from retouch.server import ServerSettings, create_app
photo = open(sys.argv[1], "rb").read()
answers = {}
with TestClient(create_app(ServerSettings())) as client:
    for path in sys.argv[2:]:
        data = open(path, "rb").read()
        upload = client.post("/api/documents", files={"file": ("bomb", data)})
        images = {"image": ("p.png", photo), "mask": ("m", data)}
        mask = client.post("/api/erase", data={"engine": "patch"}, files=images)
        answers[path] = [[r.status_code, r.headers["content-type"], r.text[:600]] for r in (upload, mask)]
print(json.dumps(answers))
"""


def test_server_refuses_every_bomb_within_the_budget(corpus: dict[str, Path], photo: Path) -> None:
    paths = [corpus[case.name] for case in BOMBS]
    budget = min(case_budget(case, corpus[case.name]) for case in BOMBS)
    run = run_limited([sys.executable, "-c", _SERVER_CHILD, str(photo), *map(str, paths)], budget, timeout=300)
    assert run.code == 0, run.stderr[-3000:]
    assert run.peak_bytes <= budget, f"peak {run.peak_bytes >> 20} MiB over the budget {budget >> 20} MiB"
    answers = json.loads(run.stdout)
    for case in BOMBS:
        (up_status, up_type, up_text), (mask_status, mask_type, mask_text) = answers[str(corpus[case.name])]
        assert up_type.startswith("application/json") and mask_type.startswith("application/json")
        assert 400 <= mask_status < 500 and "mask" in json.loads(mask_text)["error"]["message"], (case.name, mask_text)
        if case.outcome == "refused":
            assert up_status == case.status, (case.name, up_text)
            for text in (up_text, mask_text):
                assert case.says.lower() in json.loads(text)["error"]["message"].lower(), (case.name, text)
        else:
            assert up_status == 201, (case.name, up_text)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in FILE_CASES if not c.bomb])
def test_server_uploads_keep_the_contract(case: FileCase, corpus: dict[str, Path]) -> None:
    data = corpus[case.name].read_bytes()
    with api_client() as client:
        answer = client.post("/api/documents", files={"file": (case.name, data)})
        if case.outcome == "accepted":
            assert answer.status_code == 201, answer.text
            download = client.get(f"/api/documents/{answer.json()['id']}/download")
            assert download.status_code == 200, download.text
            return
        assert 400 <= answer.status_code < 500
        code = {400: "corrupt_image", 413: "too_large"}.get(answer.status_code, "")
        if case.name == "empty.jpg":
            code = "invalid_input"
        message = assert_error(answer, answer.status_code, code or answer.json()["error"]["code"])
        assert case.says.lower() in message.lower() and message.startswith(f"'{case.name}'"), message


def test_server_upscale_output_is_held_to_max_megapixels() -> None:
    source = io.BytesIO()
    Image.new("RGB", (400, 300), (90, 120, 150)).save(source, "PNG")
    with api_client(max_megapixels=20) as client:
        answer = client.post("/api/upscale", data={"scale": "16"}, files={"image": ("small.png", source.getvalue())})
        message = assert_error(answer, 413, "too_large")
    assert "6400x4800" in message and "20.0 megapixels" in message and "--max-megapixels" in message
    assert "RETOUCH_MAX_PIXELS" not in message


def test_server_background_image_is_held_to_max_megapixels() -> None:
    background, photo = io.BytesIO(), io.BytesIO()
    Image.new("L", (5000, 5000), 128).save(background, "PNG")  # 25 MP in a few kilobytes
    Image.new("RGB", (64, 48), (90, 120, 150)).save(photo, "PNG")
    url = "data:image/png;base64," + base64.b64encode(background.getvalue()).decode()
    with api_client(max_megapixels=20) as client:
        answer = client.post(
            "/api/replace-bg",
            data={"background": "image", "background_image": url},
            files={"image": ("photo.png", photo.getvalue())},
        )
        message = assert_error(answer, 413, "too_large")
    assert "background image" in message and "5000x5000" in message and "--max-megapixels" in message


def test_server_mask_over_the_limit_names_the_server_option() -> None:
    mask = io.BytesIO()
    Image.new("L", (5000, 5000), 0).save(mask, "PNG")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(photo, "PNG")
    with api_client(max_megapixels=20) as client:
        answer = client.post(
            "/api/erase",
            data={"engine": "patch"},
            files={"image": ("photo.png", photo.getvalue()), "mask": ("mask.png", mask.getvalue())},
        )
        message = assert_error(answer, 413, "too_large")
    assert message.startswith("the mask image is 5000x5000") and "--max-megapixels" in message
