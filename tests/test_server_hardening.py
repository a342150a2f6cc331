"""The server under hostile use: absurd strokes, huge or malformed bodies and ids answer 4xx JSON; health answers
while a long job runs; a host beyond this machine needs a key; documents live in a private folder that a killed
server's successor clears; deleting a document cancels its jobs; SIGTERM and SIGINT cancel jobs, remove the
folder and exit promptly with one line."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from e2e.harness import api_client, assert_error, live_server, upload
from e2e.photos import encode, scene

from retouch.errors import InvalidInput
from retouch.server import ServerSettings, tempdata
from retouch.server.schemas import MAX_STROKE_POINTS
from retouch.types import Metadata, Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))
SMALL_PNG = encode(scene(96, 64).pixels, "PNG")
SLOW_PNG = encode(scene(1600, 1200, seed=3).pixels, "PNG")
SLOW_BOX = "300,300,700,500"  # the patch engine takes seconds on it, reporting progress all along


def strokes_json(strokes: list[dict], width: int = 96, height: int = 64) -> str:
    return json.dumps({"width": width, "height": height, "strokes": strokes})


def erase_file(client, strokes: str):
    return client.post(
        "/api/erase", files={"image": ("p.png", SMALL_PNG, "image/png")}, data={"strokes": strokes, "engine": "patch"}
    )


def poll_job(get, job_id: str, until, limit_s: float = 60.0) -> dict:
    deadline = time.monotonic() + limit_s
    job = get(f"/api/jobs/{job_id}").json()
    while not until(job) and time.monotonic() < deadline:
        time.sleep(0.05)
        job = get(f"/api/jobs/{job_id}").json()
    return job


def ended(job: dict) -> bool:
    return job["state"] not in ("queued", "running")


# --- strokes ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strokes", "fragment"),
    [
        ('{"width": 96, "height": 64, "strokes": [{"points": [[NaN, 3]], "radius": 4}]}', "finite"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[1, Infinity]], "radius": 4}]}', "finite"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[1e999, 3]], "radius": 4}]}', "finite"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": Infinity}]}', "finite"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[1e12, 3]], "radius": 4}]}', "less than or equal"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": -5}]}', "greater than 0"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": 0}]}', "greater than 0"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": 1e9}]}', "less than or equal"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": "big"}]}', "radius"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [], "radius": 4}]}', "at least 1"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3]], "radius": 4}]}', "points"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": 4, "mode": "x"}]}', "mode"),
        ('{"width": 0, "height": 64, "strokes": [{"points": [[3, 3]], "radius": 4}]}', "width"),
        ('{"width": 96, "height": 64, "strokes": []}', "strokes"),
        ('{"width": 96, "height": 64, "strokes": [{"points": [[3, 3]], "radius": 4}]', "strokes"),  # cut short
        ("[1, 2, 3]", "strokes"),
        ("not json at all", "strokes"),
    ],
)
def test_invalid_stroke_values_are_422_json(strokes: str, fragment: str) -> None:
    with api_client() as client:
        message = assert_error(erase_file(client, strokes), 422, "invalid_request")
    assert message.startswith("strokes") and fragment in message


def test_too_many_points_or_strokes_are_refused_with_the_limit_named() -> None:
    per_stroke = MAX_STROKE_POINTS // 4 + 1
    many = [{"points": [[1, 1]] * per_stroke, "radius": 2} for _ in range(4)]
    long_one = [{"points": [[1, 1]] * (MAX_STROKE_POINTS + 1), "radius": 2}]
    with api_client() as client:
        assert f"{MAX_STROKE_POINTS:,}" in assert_error(erase_file(client, strokes_json(many)), 422, "invalid_request")
        assert_error(erase_file(client, strokes_json(long_one)), 422, "invalid_request")
        scattered = [{"points": [[1, 1]], "radius": 2}] * 2001
        assert "strokes" in assert_error(erase_file(client, strokes_json(scattered)), 422, "invalid_request")


def test_strokes_whose_drawing_is_too_much_work_are_413_json() -> None:
    """Within the point limit, a full-height zigzag with a huge radius would cross too many rows: refused."""
    zigzag = [[float(i % 96), 0.0 if i % 2 else 64.0] for i in range(30_000)]
    with api_client() as client:
        document = upload(client, encode(scene(400, 400).pixels, "PNG"), "p.png")["id"]
        response = client.post(
            "/api/erase",
            data={"document": document, "wait": "true", "strokes": strokes_json([{"points": zigzag, "radius": 1}])},
        )
    assert "rows" in assert_error(response, 413, "too_large")


def test_the_issue_strokes_request_ends_quickly_and_health_answers_meanwhile() -> None:
    """Radius 100000, 4 strokes of 10 points over a 64x48 canvas (it kept the worker busy for minutes and health
    unanswered for seconds): now drawn at the cost of the image's rows, a hole erased back out of it."""
    rng = np.random.default_rng(2)
    strokes = [{"points": rng.uniform(0, [64, 48], (10, 2)).round(1).tolist(), "radius": 100000} for _ in range(4)]
    strokes.append({"points": [[32, 24]], "radius": 30, "mode": "erase"})  # leaves something to fill from
    body = strokes_json(strokes, 64, 48)
    assert len(body) < 900
    with live_server() as url, httpx.Client(base_url=url, timeout=60) as client:
        document = client.post("/api/documents", files={"file": ("p.png", SMALL_PNG)}).json()["id"]
        job = client.post("/api/erase", data={"document": document, "engine": "patch", "strokes": body}).json()
        health = client.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        job = poll_job(client.get, job["id"], ended)
    assert job["state"] == "done", job


# --- health while a long job runs ------------------------------------------------------------------------------------


def test_health_answers_while_a_long_job_runs() -> None:
    with live_server() as url, httpx.Client(base_url=url, timeout=30) as client:
        document = client.post("/api/documents", files={"file": ("p.png", SLOW_PNG)}).json()["id"]
        job = client.post("/api/erase", data={"document": document, "engine": "patch", "boxes": SLOW_BOX}).json()
        answered_while_running = 0
        latencies = []
        while True:
            started = time.perf_counter()
            health = client.get("/api/health")
            latencies.append(time.perf_counter() - started)
            assert health.status_code == 200
            state = client.get(f"/api/jobs/{job['id']}").json()
            if ended(state):
                break
            answered_while_running += state["state"] == "running"
            time.sleep(0.05)
    assert state["state"] == "done", state
    assert answered_while_running >= 3, (answered_while_running, latencies)


# --- hostile requests ------------------------------------------------------------------------------------------------


def test_bodies_far_above_the_upload_limit_are_413_json_declared_or_streamed() -> None:
    with api_client(max_upload_bytes=64 * 1024) as client:
        declared = client.post(
            "/api/documents", content=b"x", headers={"Content-Length": str(10**12), "Content-Type": "image/png"}
        )
        assert_error(declared, 413, "upload_too_large")

        def chunks():
            for _ in range(64):
                yield b"\0" * 4096  # 256 KiB without a Content-Length

        streamed = client.post(
            "/api/documents", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert_error(streamed, 413, "upload_too_large")
        assert_error(client.post("/api/documents", headers={"Content-Length": "-1"}), 413, "upload_too_large")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"document": "x", "boxes": "1,1,2,2"}'),
        ("text/plain", b"document=x"),
        ("application/x-www-form-urlencoded", b"%%%%=%%%"),
        ("multipart/form-data", b"--no-boundary--"),
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\n--b--"),
    ],
)
def test_wrong_content_types_and_broken_forms_are_4xx_json(content_type: str, body: bytes) -> None:
    with api_client() as client:
        response = client.post("/api/erase", content=body, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"]


@pytest.mark.parametrize(
    "doc_id",
    ["..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e", "aaaaaaaaaaaaaaaaaaaaa%2F", "a" * 5000, "%00" * 22, "ÿ" * 22],
)
def test_path_traversal_and_odd_document_ids_are_404_json(doc_id: str) -> None:
    with api_client() as client:
        upload(client, SMALL_PNG, "p.png")
        for method, path in [
            ("GET", f"/api/documents/{doc_id}"),
            ("GET", f"/api/documents/{doc_id}/download"),
            ("DELETE", f"/api/documents/{doc_id}"),
            ("GET", f"/api/jobs/{doc_id}"),
        ]:
            response = client.request(method, path)
            assert response.status_code == 404, (method, path, response.text)
            assert set(response.json()["error"]) == {"code", "message"}
        as_field = client.post("/api/erase", data={"document": "../../../../etc", "boxes": "1,1,4,4"})
        assert_error(as_field, 404, "document_not_found")


# --- serving beyond this machine -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.org", "[::]"])
def test_a_host_beyond_loopback_needs_a_key_or_the_explicit_flag(host: str) -> None:
    with pytest.raises(InvalidInput, match="--api-key.*--insecure-public"):
        ServerSettings(host=host)
    assert not ServerSettings(host=host, api_key="k").is_loopback
    assert not ServerSettings(host=host, insecure_public=True).is_loopback


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
def test_loopback_hosts_need_no_key(host: str) -> None:
    assert ServerSettings(host=host).is_loopback


def test_serve_on_all_interfaces_without_a_key_is_one_error_line_and_exit_2() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "RETOUCH_API_KEY"}
    for host in ("0.0.0.0", "::"):
        command = [RETOUCH, "serve", "--host", host, "--port", "0"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("retouch: error:") and "--insecure-public" in lines[0]
    shown = subprocess.run([RETOUCH, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    help_text = " ".join(shown.replace("│", " ").split())  # Rich draws the options in a box
    assert "--insecure-public" in help_text and "anyone who can reach the address can upload images" in help_text


# --- the private folder ----------------------------------------------------------------------------------------------


def server_folders(parent: Path) -> list[Path]:
    return sorted(parent.glob(tempdata.PREFIX + "*"))


def test_documents_live_in_a_private_locked_folder_removed_at_shutdown(tmp_path: Path) -> None:
    with api_client(data_dir=tmp_path) as client:
        assert server_folders(tmp_path) == []  # nothing is made before the first upload
        document = upload(client, SMALL_PNG, "p.png")["id"]
        (folder,) = server_folders(tmp_path)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert (folder / tempdata.LOCK_NAME).read_text().strip() == str(os.getpid())
        assert (folder / document / "pixels.npy").is_file()
        assert tempdata.remove_stale(tmp_path) == []  # held by this live server
    assert server_folders(tmp_path) == []


def hold_a_folder(parent: Path) -> subprocess.Popen:
    """Another process holding a server folder, as a running server does; it prints the folder's path."""
    code = (
        "import sys, time; from pathlib import Path; from retouch.server.tempdata import PrivateFolder;"
        "f = PrivateFolder(Path(sys.argv[1])); (f.path / 'pixels.npy').write_bytes(b'users pixels');"
        "print(f.path, flush=True); time.sleep(120)"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(parent)], stdout=subprocess.PIPE, text=True)


def test_a_killed_servers_folder_is_removed_at_the_next_start_a_live_ones_is_kept(tmp_path: Path) -> None:
    killed, live = hold_a_folder(tmp_path), hold_a_folder(tmp_path)
    try:
        killed_folder, live_folder = Path(killed.stdout.readline().strip()), Path(live.stdout.readline().strip())
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        assert killed_folder.is_dir()  # SIGKILL leaves it behind, users' pixels and all
        with api_client(data_dir=tmp_path) as client:  # a server starts
            assert not killed_folder.exists()
            assert (live_folder / "pixels.npy").is_file()  # still in use: kept
            upload(client, SMALL_PNG, "p.png")
            assert len(server_folders(tmp_path)) == 2
        assert server_folders(tmp_path) == [live_folder]
    finally:
        live.kill()
        live.wait(10)


def test_unlocked_folders_are_kept_while_young_and_links_and_files_are_never_touched(tmp_path: Path) -> None:
    young = tmp_path / (tempdata.PREFIX + "young")
    old = tmp_path / (tempdata.PREFIX + "old")
    for folder in (young, old):
        folder.mkdir()
        (folder / "pixels.npy").write_bytes(b"x")
    long_ago = time.time() - tempdata.UNLOCKED_GRACE_S - 60
    os.utime(old, (long_ago, long_ago))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    link = tmp_path / (tempdata.PREFIX + "link")
    link.symlink_to(elsewhere)
    os.utime(link, (long_ago, long_ago), follow_symlinks=False)
    plain_file = tmp_path / (tempdata.PREFIX + "file")
    plain_file.write_text("not a folder")
    assert tempdata.remove_stale(tmp_path) == [old]
    assert young.is_dir() and link.is_symlink() and (elsewhere / "keep.txt").is_file() and plain_file.is_file()


# --- deleting a document ---------------------------------------------------------------------------------------------


def test_deleting_a_document_cancels_its_running_job_and_removes_its_files(tmp_path: Path) -> None:
    with api_client(data_dir=tmp_path, queue_size=4) as client:
        document = upload(client, SLOW_PNG, "p.png")["id"]
        other = upload(client, SMALL_PNG, "q.png")["id"]
        (folder,) = server_folders(tmp_path)
        running = client.post("/api/erase", data={"document": document, "engine": "patch", "boxes": SLOW_BOX}).json()
        queued = client.post("/api/erase", data={"document": document, "engine": "patch", "boxes": "1,1,9,9"}).json()
        kept = client.post("/api/erase", data={"document": other, "engine": "patch", "boxes": "1,1,9,9"}).json()
        assert poll_job(client.get, running["id"], lambda job: job["state"] == "running")["state"] == "running"
        assert client.delete(f"/api/documents/{document}").status_code == 204
        assert not (folder / document).exists()
        assert_error(client.get(f"/api/documents/{document}"), 404, "document_not_found")
        for job_id in (running["id"], queued["id"]):
            job = poll_job(client.get, job_id, ended, limit_s=10)
            assert job["state"] == "cancelled" and job["error"]["code"] == "cancelled", job
        assert poll_job(client.get, kept["id"], ended)["state"] == "done"  # other documents' jobs run on


# --- downloads whose metadata cannot be written ----------------------------------------------------------------------


def test_a_document_whose_metadata_cannot_be_written_still_downloads() -> None:
    """EXIF too long for JPEG: the download leaves the picture's own EXIF and XMP out instead of failing."""
    from retouch.io import load_image
    from retouch.io.xmp import read_provenance
    from retouch.server import imaging

    exif = b"Exif\0\0MM\0*\0\0\0\x08" + b"\0" * 70_000
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"
    meta = Metadata(exif=exif, xmp=xmp, source_format="JPEG", operations=("erase",))
    picture = Picture(scene(40, 30).pixels, None, meta)
    data, fmt = imaging.encode(picture)
    assert fmt == "JPEG" and data[:2] == b"\xff\xd8"
    written = load_image(data).metadata
    assert written.exif is None
    provenance = read_provenance(written.xmp)  # the AI-edit provenance is still written
    assert provenance is not None and provenance.operations == ("erase",)


def test_hostile_xmp_in_an_upload_still_downloads_after_an_edit() -> None:
    """The issue's XMP nested 200,000 levels deep: the edit and every later download succeed."""
    from PIL import Image, PngImagePlugin

    depth = 200_000
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="">' + "<a>" * depth + "</a>" * depth + "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    out = io.BytesIO()
    Image.fromarray(scene(80, 64).pixels).save(out, "PNG", pnginfo=info)
    with api_client() as client:
        document = upload(client, out.getvalue(), "deep.png")["id"]
        edit = client.post("/api/erase", data={"document": document, "wait": "true", "boxes": "10,10,20,20"})
        assert edit.json()["state"] == "done", edit.text
        for _ in range(2):
            download = client.get(f"/api/documents/{document}/download")
            assert download.status_code == 200 and download.content[:8] == b"\x89PNG\r\n\x1a\n"


# --- signals ---------------------------------------------------------------------------------------------------------


def start_server(temp: Path, *arguments: str) -> tuple[subprocess.Popen, str]:
    environment = {**os.environ, "TMPDIR": str(temp)}
    environment.pop("RETOUCH_API_KEY", None)
    server = subprocess.Popen(
        [RETOUCH, "serve", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background test run ignores SIGINT
    )
    match = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
    assert match, server.stderr.read()
    url = match.group(0)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/api/health", timeout=2)
            return server, url
        except httpx.TransportError:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_cancels_the_jobs_removes_the_folder_and_exits_promptly(
    tmp_path: Path, signum: int, code: int, word: str
) -> None:
    server, url = start_server(tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            document = client.post("/api/documents", files={"file": ("p.png", SLOW_PNG)}).json()["id"]
            job = client.post("/api/erase", data={"document": document, "engine": "patch", "boxes": SLOW_BOX}).json()
            assert poll_job(client.get, job["id"], lambda j: j["state"] == "running")["state"] == "running"
            (folder,) = server_folders(tmp_path)
            assert (folder / document / "pixels.npy").is_file()
        server.send_signal(signum)
        started = time.monotonic()
        server.wait(20)
        took = time.monotonic() - started
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    stderr = server.stderr.read()
    assert server.returncode == code, stderr
    assert stderr.strip().splitlines()[-1].startswith(f"retouch: {word}; the server stopped")
    assert server_folders(tmp_path) == []
    assert took < 10, took  # a generous bound: jobs stop at their next progress report, within a second or two
