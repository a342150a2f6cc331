"""Jobs over HTTP: progress with elapsed time and time left, the stall limit (a job making progress is never
stopped, one that stops reporting is, with 504), cancellation within 2 s (state "cancelled"), results kept
when nobody polls, and POST /api/estimate/<tool>."""

from __future__ import annotations

import threading
import time

import pytest
from e2e.harness import api_client, assert_error, upload
from e2e.photos import encode, scene

from retouch.server.jobs import DONE, FAILED, JobQueue
from retouch.tools import estimate
from test_ncnn import random_srvgg
from test_upscale_weights import home, install_pth  # noqa: F401  (home is a fixture)

PNG = encode(scene(160, 120).pixels, "PNG")
CANCEL_BOUND_S = 3.0  # the contract is 2 s; CI machines are slower and busier


def poll(client, job_id: str, until, limit_s: float = 60.0) -> dict:
    deadline = time.monotonic() + limit_s
    job = client.get(f"/api/jobs/{job_id}").json()
    while not until(job) and time.monotonic() < deadline:
        time.sleep(0.02)
        job = client.get(f"/api/jobs/{job_id}").json()
    return job


def test_a_job_reporting_progress_runs_past_the_stall_limit_and_finishes() -> None:
    queue = JobQueue(size=2, workers=1, stall_timeout_s=1.0)

    def steady(job) -> str:
        for step in range(60):  # 3 s in all, three times the limit
            job.report("working", step, 60)
            time.sleep(0.05)
        return "finished"

    job = queue.submit("steady", steady)
    job.future.result(timeout=10)
    assert job.state == DONE and job.result == "finished" and job.error is None
    queue.shutdown()


def test_a_job_that_stops_reporting_is_failed_with_504_even_if_it_never_reports_again() -> None:
    queue = JobQueue(size=2, workers=1, stall_timeout_s=0.3)
    release = threading.Event()
    reached: list[str] = []

    def stuck(job) -> str:
        job.report("working", 0, 10)
        release.wait(10)  # no report while the monitor decides
        reached.append("after")
        job.report("working", 1, 10)  # a late report finds the job stopped
        reached.append("not reached")
        return "too late"

    job = queue.submit("stuck", stuck)
    job.future.result(timeout=5)
    assert job.state == FAILED and job.error is not None
    assert (job.error.status, job.error.code) == (504, "stalled") and "no progress for 0.3 s" in job.error.message
    assert queue.active == 0
    release.set()
    time.sleep(0.2)
    assert reached == ["after"] and job.result is None
    queue.shutdown()


def test_eta_is_a_number_after_the_first_unit_and_falls() -> None:
    queue = JobQueue(size=2, workers=1, stall_timeout_s=30)
    go = [threading.Event() for _ in range(6)]
    reported = [threading.Event() for _ in range(6)]

    def paced(job) -> str:
        for step in range(6):
            job.report("tiles", step, 6)
            reported[step].set()
            go[step].wait(10)
            time.sleep(0.05)
        return "done"

    job = queue.submit("paced", paced)
    reported[0].wait(10)
    first = job.info()["progress"]
    assert first["eta_s"] is None and first["elapsed_s"] >= 0  # no estimate given, no unit measured
    etas = []
    for step in range(1, 5):
        go[step - 1].set()
        reported[step].wait(10)
        progress = job.info()["progress"]
        assert progress["done"] == step and isinstance(progress["eta_s"], float)
        etas.append(progress["eta_s"])
    assert etas[-1] < etas[0]  # 2 units left against 5 (each step's own time varies on a busy machine)
    for event in go:
        event.set()
    job.future.result(timeout=10)
    assert job.info()["progress"]["eta_s"] is None and job.info()["progress"]["elapsed_s"] > 0
    queue.shutdown()


def test_progress_fields_while_queued_and_running_over_http() -> None:
    with api_client(workers=1) as client:
        doc = upload(client, PNG)["id"]
        release = threading.Event()
        client.app.state.services.jobs.submit("hold", lambda job: release.wait(10))
        queued = client.post("/api/erase", data={"document": doc, "boxes": "80,40,30,30", "engine": "patch"}).json()
        assert queued["state"] == "queued"
        progress = queued["progress"]
        assert progress["elapsed_s"] == 0 and isinstance(progress["eta_s"], float) and progress["eta_s"] > 0
        assert abs(progress["updated"] - time.time()) < 60
        release.set()
        done = poll(client, queued["id"], lambda job: job["state"] == "done")
        assert done["state"] == "done" and done["progress"]["elapsed_s"] > 0 and done["progress"]["eta_s"] is None


def test_a_document_edit_is_kept_when_nobody_polls() -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        job_id = client.post("/api/erase", data={"document": doc, "boxes": "80,40,30,30", "engine": "patch"}).json()[
            "id"
        ]
        client.app.state.services.jobs.get(job_id).future.result(timeout=60)  # nobody asks for the job
        info = client.get(f"/api/documents/{doc}").json()
        assert info["version"] == 1 and info["history"] == 1 and info["operations"][-1].startswith("erase")


def test_a_stalled_document_job_answers_504_and_leaves_the_document_alone() -> None:
    from retouch.server.tools import ToolSpec
    from pydantic import BaseModel

    release = threading.Event()

    def silent(picture, mask, options, device, progress, max_pixels):
        progress("thinking", 0, 1)
        release.wait(10)
        progress("thinking", 1, 1)
        return picture

    with api_client(stall_timeout_s=0.3) as client:
        from retouch.server.routers.tools import tool_router

        spec = ToolSpec(name="silent", title="Silent", summary="", options=BaseModel, run=silent, uses_mask=False)
        client.app.include_router(tool_router(spec))
        doc = upload(client, PNG)["id"]
        response = client.post("/api/silent", data={"document": doc, "wait": "true"})
        release.set()
        assert "no progress for 0.3 s" in assert_error(response, 504, "stalled")
        assert client.get(f"/api/documents/{doc}").json()["version"] == 0


def test_cancelling_a_running_upscale_answers_cancelled_within_2_s(home, monkeypatch) -> None:  # noqa: F811
    from retouch.models.arch.rrdbnet import RRDBNet

    network = RRDBNet(num_feat=64, num_block=6, num_grow_ch=32).eval()  # x4plus-anime's size: seconds per tile
    install_pth(monkeypatch, home, "slow-rrdb", network)
    with api_client() as client:
        doc = upload(client, encode(scene(320, 240).pixels, "PNG"))["id"]
        job = client.post("/api/upscale", data={"document": doc, "model": "slow-rrdb", "scale": "2"}).json()
        running = poll(client, job["id"], lambda j: j["progress"]["done"] >= 1 or j["state"] != "running")
        assert running["state"] == "running", running
        asked = time.monotonic()
        answer = client.delete(f"/api/jobs/{job['id']}").json()
        latency = time.monotonic() - asked
        print(f"upscale cancel latency: {latency:.2f} s")
        assert answer["state"] == "cancelled" and latency < CANCEL_BOUND_S
        assert answer["error"] == {"code": "cancelled", "message": "the job was cancelled"}
        assert client.get(f"/api/documents/{doc}").json()["version"] == 0


def test_estimates_answer_for_every_tool_and_learn_from_runs(home, monkeypatch) -> None:  # noqa: F811
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        for tool, fields in [
            ("erase", {}),
            ("erase", {"boxes": "10,10,20,20;100,50,30,30", "engine": "patch"}),
            ("upscale", {"model": "tiny-srvgg", "scale": "3"}),
            ("restore", {"upscale": "2"}),
            ("cutout", {}),
            ("replace-bg", {"background": "blur"}),
        ]:
            response = client.post(f"/api/estimate/{tool}", data={"document": doc, **fields})
            assert response.status_code == 200, (tool, response.text)
            body = response.json()
            assert body["basis"] == "typical" and body["seconds"] > 0, (tool, body)
        small = client.post("/api/estimate/erase", data={"document": doc}).json()["seconds"]
        plan = estimate.erase((4000, 3000), engine="patch")
        estimate.record(plan, 3 * plan.typical_s)  # a 12 MP erase here took three times the typical time
        learned = client.post("/api/estimate/erase", data={"document": doc}).json()
        assert learned["basis"] == "measured" and learned["seconds"] == pytest.approx(3 * small)
        assert (home / estimate.TIMINGS_FILE).exists()


def test_estimates_refuse_bad_input() -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        unknown = {"document": "AAAAAAAAAAAAAAAAAAAAAA"}
        assert_error(client.post("/api/estimate/erase", data=unknown), 404, "document_not_found")
        for tool, fields in [("upscale", {"scale": "40"}), ("erase", {"engine": "nope"})]:
            assert_error(client.post(f"/api/estimate/{tool}", data={"document": doc, **fields}), 422, "invalid_request")
        wrong_model = client.post("/api/estimate/upscale", data={"document": doc, "model": "migan"})
        assert "migan" in assert_error(wrong_model, 422, "invalid_options")
        assert_error(client.post("/api/estimate/erase", data={"document": doc, "boxes": "1,2"}), 400, "invalid_input")
        assert_error(client.post("/api/estimate/erase", data={}), 422, "invalid_request")
        assert_error(client.post("/api/estimate/nope", data={"document": doc}), 404, "not_found")


def test_info_states_the_limits() -> None:
    with api_client() as client:
        limits = client.get("/api/info").json()["limits"]
    assert limits["max_megapixels"] == 150 and limits["stall_timeout_s"] == 300
