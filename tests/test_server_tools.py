"""HTTP API, tools: POST /api/erase on documents (as jobs) and on files, masks in every form, bad options,
the bounded queue and cancellation (progress, estimates and stalls: test_server_jobs.py)."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pytest
from e2e.harness import api_client, assert_error, erase, upload, working_pixels
from e2e.photos import assert_fill_matches_background, decode, encode, scene
from PIL import Image

from retouch import masks
from retouch.server.errors import ApiError
from retouch.server.jobs import Job, JobQueue

SCENE = scene(160, 120)
PNG = encode(SCENE.pixels, "PNG")
JPEG = encode(SCENE.pixels, "JPEG")


# Waits below end when the job ends (its future), not after a time; this bound only stops a hung run.
HANG_GUARD_S = 600


def finished(client, job_id: str) -> None:
    """Wait until the app's job has finished, whatever its outcome."""
    client.app.state.services.jobs.get(job_id).future.result(timeout=HANG_GUARD_S)


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_erase_on_a_document_is_a_job_to_poll() -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        response = client.post("/api/erase", data={"document": doc, "boxes": "80,40,30,30", "engine": "patch"})
        assert response.status_code == 202
        job = response.json()
        assert response.headers["location"] == f"/api/jobs/{job['id']}"
        assert job["tool"] == "erase" and job["state"] in ("queued", "running", "done")
        finished(client, job["id"])
        job = client.get(f"/api/jobs/{job['id']}").json()
        assert job["state"] == "done" and job["error"] is None
        assert job["result"]["document"]["version"] == 1
        assert job["progress"]["stage"]  # the tool reported progress on the way
        x0, y0, x1, y1 = changed_box(SCENE.pixels, working_pixels(client, doc))
        assert x0 >= 70 and x1 < 120 and y0 >= 30 and y1 < 80  # inside the box grown by a few pixels


def test_erase_on_a_file_answers_the_edited_file() -> None:
    with api_client() as client:
        response = client.post(
            "/api/erase",
            files={"image": ("street.jpg", JPEG, "image/jpeg")},
            data={"boxes": "80,40,30,30", "quality": "90"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert 'filename="street-erase.jpg"' in response.headers["content-disposition"]
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "JPEG" and image.size == (160, 120)
        result = decode(response.content)
        inside = SCENE.object_mask & masks.mask_from_boxes([(80, 40, 30, 30)], (160, 120))
        assert_fill_matches_background(result, SCENE, inside)


def test_strokes_drawn_at_display_size_are_scaled_to_the_image() -> None:
    # The page paints on a canvas half the photo's size: its stroke lands on the same spot of the photo.
    strokes = {"width": 80, "height": 60, "strokes": [{"points": [[45, 25], [50, 30]], "radius": 4}]}
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        response = erase(client, doc, strokes=json.dumps(strokes), grow=0, feather=0)
        assert response.status_code == 200, response.text
        x0, y0, x1, y1 = changed_box(SCENE.pixels, working_pixels(client, doc))
        # (45, 25)-(50, 30) radius 4 at half size: (90, 50)-(100, 60) radius 8 in the photo.
        assert 80 <= x0 <= 83 and 106 <= x1 <= 109 and 40 <= y0 <= 43 and 66 <= y1 <= 69


def test_mask_eraser_strokes_take_paint_back() -> None:
    strokes = {
        "width": 160,
        "height": 120,
        "strokes": [
            {"points": [[20, 60], [140, 60]], "radius": 6},
            {"points": [[60, 60], [140, 60]], "radius": 10, "mode": "erase"},
        ],
    }
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        assert erase(client, doc, strokes=json.dumps(strokes), grow=0, feather=0).status_code == 200
        x0, _, x1, _ = changed_box(SCENE.pixels, working_pixels(client, doc))
        # only the part left of the eraser stroke changed (its round cap, centred at x 60 with radius 10, reaches
        # only x 51.65 on the paint's top and bottom rows, 5.5 from the centre line: columns 50 and 51 stay painted)
        assert x0 >= 13 and x1 <= 51


def test_a_mask_image_of_another_size_is_scaled() -> None:
    small = np.zeros((30, 40), np.uint8)
    small[10:15, 20:28] = 255  # at quarter size: x 80-112, y 40-60 in the photo
    out = io.BytesIO()
    Image.fromarray(small).save(out, "PNG")
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        response = client.post(
            "/api/erase",
            data={"document": doc, "wait": "true", "engine": "patch", "grow": "0", "feather": "0"},
            files={"mask": ("mask.png", out.getvalue(), "image/png")},
        )
        assert response.status_code == 200, response.text
        assert changed_box(SCENE.pixels, working_pixels(client, doc)) == (80, 40, 111, 59)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"engine": "magic"}, "engine"),
        ({"grow": "-1"}, "grow"),
        ({"grow": "lots"}, "grow"),
        ({"feather": "9999"}, "feather"),
        ({"strategy": "sideways"}, "strategy"),
        ({"seed": "-5"}, "seed"),
        ({"wait": "perhaps"}, "wait"),
    ],
)
def test_bad_options_are_422_with_the_stable_shape(fields: dict[str, str], fragment: str) -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        response = client.post("/api/erase", data={"document": doc, "boxes": "1,1,5,5", **fields})
        assert fragment in assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    ("strokes", "fragment"),
    [
        ("not json", "strokes"),
        (json.dumps({"width": 10, "height": 10, "strokes": []}), "strokes.strokes"),
        (json.dumps({"width": 0, "height": 10, "strokes": [{"points": [[1, 1]], "radius": 2}]}), "strokes.width"),
        (json.dumps({"width": 10, "height": 10, "strokes": [{"points": [[1, 1]], "radius": -2}]}), "radius"),
        (json.dumps({"width": 10, "height": 10, "strokes": [{"points": [], "radius": 2}]}), "points"),
        (json.dumps({"width": 10, "height": 10, "strokes": [{"points": [[1, 1]], "radius": 2, "mode": "x"}]}), "mode"),
    ],
)
def test_malformed_strokes_are_422(strokes: str, fragment: str) -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        response = client.post("/api/erase", data={"document": doc, "strokes": strokes})
        assert fragment in assert_error(response, 422, "invalid_request")


def test_requests_without_a_target_or_a_mask_are_rejected() -> None:
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        assert "mask" in assert_error(client.post("/api/erase", data={"document": doc}), 422, "invalid_request")
        assert "exactly one" in assert_error(
            client.post("/api/erase", data={"boxes": "1,1,5,5"}), 422, "invalid_request"
        )
        both = client.post("/api/erase", data={"document": doc, "boxes": "1,1,5,5"}, files={"image": ("a.png", PNG)})
        assert_error(both, 422, "invalid_request")
        assert "box" in assert_error(erase(client, doc, boxes="1,2"), 400, "invalid_input")
        painted_then_wiped = {
            "width": 160,
            "height": 120,
            "strokes": [{"points": [[50, 50]], "radius": 5}, {"points": [[50, 50]], "radius": 20, "mode": "erase"}],
        }
        empty = erase(client, doc, strokes=json.dumps(painted_then_wiped))
        assert "empty" in assert_error(empty, 400, "invalid_input")
        assert client.get(f"/api/documents/{doc}").json()["version"] == 0  # failed jobs change nothing


def test_an_engine_without_weights_names_the_command_to_install_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    with api_client() as client:
        doc = upload(client, PNG)["id"]
        message = assert_error(erase(client, doc, boxes="80,40,30,30", engine="lama"), 503, "weights_missing")
        assert "retouch models pull" in message
        engines = client.get("/api/info").json()["tools"][0]["engines"]
        assert {"name": "patch", "available": True} in engines and {"name": "lama", "available": False} in engines


def hold_queue(client, count: int) -> tuple[threading.Event, list[Job]]:
    """Occupy `count` places of the app's job queue until the returned event is set; returns it and the jobs."""
    release = threading.Event()
    jobs = [client.app.state.services.jobs.submit("hold", lambda job: release.wait(10)) for _ in range(count)]
    return release, jobs


def test_a_full_queue_answers_429() -> None:
    with api_client(queue_size=2, workers=1) as client:
        doc = upload(client, PNG)["id"]
        release, held_jobs = hold_queue(client, 2)
        try:
            response = client.post("/api/erase", data={"document": doc, "boxes": "80,40,30,30"})
            assert "busy" in assert_error(response, 429, "queue_full")
            assert response.headers["retry-after"]
            on_file = client.post("/api/erase", data={"boxes": "80,40,30,30"}, files={"image": ("a.png", PNG)})
            assert_error(on_file, 429, "queue_full")
        finally:
            release.set()
        for held in held_jobs:
            held.future.result(timeout=HANG_GUARD_S)
        assert erase(client, doc, boxes="80,40,30,30").status_code == 200  # room again


def test_a_queued_job_can_be_cancelled() -> None:
    with api_client(queue_size=4, workers=1) as client:
        doc = upload(client, PNG)["id"]
        release, _ = hold_queue(client, 1)
        job = client.post("/api/erase", data={"document": doc, "boxes": "80,40,30,30"}).json()
        assert job["state"] == "queued"
        client.delete(f"/api/jobs/{job['id']}")
        release.set()
        finished(client, job["id"])
        job = client.get(f"/api/jobs/{job['id']}").json()
        assert job["state"] == "cancelled" and job["error"]["code"] == "cancelled"
        assert client.get(f"/api/documents/{doc}").json()["version"] == 0


def test_unknown_jobs_are_404() -> None:
    with api_client() as client:
        assert_error(client.get("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA"), 404, "job_not_found")
        assert_error(client.delete("/api/jobs/nope"), 404, "job_not_found")


def test_the_queue_refuses_beyond_its_size_and_recovers() -> None:
    queue = JobQueue(size=1, workers=1, stall_timeout_s=10)
    release = threading.Event()
    first = queue.submit("hold", lambda job: release.wait(10) and "held")
    with pytest.raises(ApiError) as refused:
        queue.submit("more", lambda job: "x")
    assert refused.value.status == 429
    release.set()
    first.future.result(timeout=10)
    assert first.result == "held"
    second = queue.submit("more", lambda job: "x")
    second.future.result(timeout=10)
    assert second.result == "x"
    queue.shutdown()


def test_a_tool_without_a_mask_is_one_spec_and_one_endpoint() -> None:
    """How later tools plug in: a ToolSpec row becomes POST /api/<name>, with its options as form fields."""
    from fastapi.testclient import TestClient
    from pydantic import BaseModel, Field

    from retouch.server import ServerSettings, create_app
    from retouch.server.routers.tools import tool_router
    from retouch.server.tools import ToolSpec

    class MirrorOptions(BaseModel):
        axis: int = Field(1, ge=0, le=1)

    def mirror(picture, mask, options, device, progress, max_pixels):
        assert mask is None
        progress("mirror", 1, 1)
        return picture.replace(pixels=np.ascontiguousarray(np.flip(picture.pixels, options.axis))).with_operation(
            "mirror"
        )

    spec = ToolSpec(
        name="mirror", title="Mirror", summary="Flip the photo.", options=MirrorOptions, run=mirror, uses_mask=False
    )
    app = create_app(ServerSettings())
    app.include_router(tool_router(spec))
    with TestClient(app) as client:
        fields = client.get("/api/openapi.json").json()["components"]["schemas"]
        body = next(v for k, v in fields.items() if k.startswith("Body_run_mirror"))
        assert "strokes" not in body["properties"] and "document" in body["properties"]
        doc = upload(client, PNG)["id"]
        done = client.post("/api/mirror", data={"document": doc, "wait": "true", "axis": "1"}).json()
        assert done["result"]["document"]["operations"] == ["mirror"]
        np.testing.assert_array_equal(working_pixels(client, doc), SCENE.pixels[:, ::-1])
        assert_error(client.post("/api/mirror", data={"document": doc, "axis": "2"}), 422, "invalid_request")
