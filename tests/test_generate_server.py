"""HTTP API of the generative tools: POST /api/generate (a new document), /api/uncrop (a plain tool on a
document), /api/reimagine and its choose step, GET /api/generative; with the tiny random diffusion model
(tests/diffusion_tiny.py) registered and in a temporary cache as if pulled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
from e2e.harness import api_client, assert_error, upload, working_pixels
from e2e.photos import encode

from retouch.io import load_image
from retouch.io.xmp import read_provenance
from retouch.tools.generate import backend

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
HANG_GUARD_S = 600


def photo(width: int = 80, height: int = 60) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x / (width - 1), y / (height - 1), np.full((height, width), 0.4)], axis=2)
    return (rgb * 255 + 0.5).astype(np.uint8)


def done(client: Any, response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 202), response.text
    job = response.json()
    client.app.state.services.jobs.get(job["id"]).future.result(timeout=HANG_GUARD_S)
    job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def test_generate_makes_a_new_document_marked_as_generated(tiny: str) -> None:
    with api_client() as client:
        status = client.get("/api/generative").json()
        assert status == {"ready": True, "model": tiny, "native_size": 64, "missing": None}
        form = {"prompt": "a cat in the sky", "width": "96", "height": "64", "seed": "7"}
        job = done(client, client.post("/api/generate", data=form))
        doc = job["result"]["document"]
        assert (doc["width"], doc["height"], doc["version"]) == (96, 64, 0)
        assert doc["operations"] == [f"generate (model={tiny}, steps=2, seed=7)"]
        again = done(client, client.post("/api/generate", data=form))["result"]["document"]
        assert np.array_equal(working_pixels(client, doc["id"]), working_pixels(client, again["id"]))
        download = client.get(f"/api/documents/{doc['id']}/download")
        assert download.status_code == 200 and download.headers["content-type"] == "image/png"
        provenance = read_provenance(load_image(download.content).metadata.xmp)
        assert provenance is not None and provenance.digital_source_type == TRAINED


@pytest.mark.parametrize(
    ("form", "status", "code", "words"),
    [
        ({"prompt": "undress her"}, 400, "invalid_input", "refused"),
        ({"prompt": "a cat", "width": "100"}, 400, "invalid_input", "multiple of 8"),
        ({"prompt": "a cat", "width": "4096"}, 422, "invalid_request", "width"),
        ({"prompt": "a cat", "steps": "51"}, 422, "invalid_request", "steps"),
        ({"prompt": ""}, 422, "invalid_request", "prompt"),
        ({"prompt": "   "}, 400, "invalid_input", "give a prompt"),
    ],
)
def test_generate_refuses_bad_requests_at_once(
    tiny: str, form: dict[str, str], status: int, code: str, words: str
) -> None:
    with api_client() as client:
        assert words in assert_error(client.post("/api/generate", data=form), status, code)
        assert client.app.state.services.jobs.active == 0  # nothing was queued


def test_without_the_model_or_the_extra_each_endpoint_names_the_command(
    only_tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pull = f"run: retouch models pull {diffusion_tiny.NAME}"
    with api_client() as client:
        doc = upload(client, encode(photo(), "PNG"), "photo.png")["id"]
        status = client.get("/api/generative").json()
        assert status["ready"] is False and status["missing"].endswith(pull)
        message = assert_error(client.post("/api/generate", data={"prompt": "a cat"}), 503, "weights_missing")
        assert message.endswith(pull)
        message = assert_error(client.post("/api/reimagine", data={"document": doc}), 503, "weights_missing")
        assert message.endswith(pull)
        uncrop = client.post("/api/uncrop", data={"document": doc, "to": "2:1", "engine": "model", "wait": "true"})
        assert "retouch models pull" in assert_error(uncrop, 503, "weights_missing")
        info = next(t for t in client.get("/api/info").json()["tools"] if t["name"] == "uncrop")
        assert {e["name"]: e["available"] for e in info["engines"]} == {"auto": True, "patch": True, "model": False}
        monkeypatch.setattr(backend, "extra_installed", lambda: False)
        status = client.get("/api/generative").json()
        assert status["missing"].endswith("run: pip install 'retouch[gen]'")
        message = assert_error(client.post("/api/generate", data={"prompt": "a cat"}), 503, "backend_unavailable")
        assert message.endswith("run: pip install 'retouch[gen]'")


def test_uncrop_extends_a_document_and_keeps_its_pixels(only_tiny: Path) -> None:
    source = photo()
    with api_client() as client:
        doc = upload(client, encode(source, "PNG"), "photo.png")["id"]
        job = done(client, client.post("/api/uncrop", data={"document": doc, "to": "16:9", "engine": "patch"}))
        info = job["result"]["document"]
        assert (info["width"], info["height"]) == (107, 60)
        assert np.array_equal(working_pixels(client, doc)[:, 13:93], source)
        job = done(client, client.post("/api/uncrop", data={"document": doc, "top": "8", "engine": "patch"}))
        assert job["result"]["document"]["height"] == 68
        assert "not both" in assert_error(
            client.post("/api/uncrop", data={"document": doc, "to": "2:1", "left": "4", "wait": "true"}),
            400, "invalid_input",
        )
        assert_error(client.post("/api/uncrop", data={"document": doc, "left": "-1"}), 422, "invalid_request")
        too_big = {"document": doc, "right": "20000", "bottom": "20000", "wait": "true"}
        assert_error(client.post("/api/uncrop", data=too_big, params={}), 413, "too_large")


def test_uncrop_with_the_model(tiny: str) -> None:
    source = photo()
    with api_client() as client:
        doc = upload(client, encode(source, "PNG"), "photo.png")["id"]
        job = done(client, client.post("/api/uncrop", data={"document": doc, "left": "16", "engine": "auto"}))
        assert job["result"]["document"]["operations"] == [f"uncrop (engine=model, model={tiny})"]
        assert np.array_equal(working_pixels(client, doc)[:, 16:], source)
        refused = client.post("/api/uncrop", data={"document": doc, "left": "8", "prompt": "nude", "wait": "true"})
        assert "refused" in assert_error(refused, 400, "invalid_input")


def test_reimagine_shows_variations_and_the_chosen_one_becomes_the_document(tiny: str) -> None:
    source = photo()
    with api_client() as client:
        doc = upload(client, encode(source, "PNG"), "photo.png")["id"]
        form = {"document": doc, "strength": "0.6", "seed": "3", "count": "3"}
        job = done(client, client.post("/api/reimagine", data=form))
        result = job["result"]
        assert result["document"] == doc
        assert [(v["index"], v["seed"], v["width"], v["height"]) for v in result["variations"]] == [
            (i, 3 + i, 80, 60) for i in range(3)
        ]
        assert all(v["preview"].startswith("data:image/png;base64,") for v in result["variations"])
        assert np.array_equal(working_pixels(client, doc), source)  # nothing changes until one is chosen
        chosen = client.post(f"/api/reimagine/{job['id']}/choose", data={"index": "1"})
        assert chosen.status_code == 200, chosen.text
        info = chosen.json()["document"]
        assert info["version"] == 1 and info["operations"] == [f"reimagine (model={tiny}, strength=0.6, steps=2, seed=4)"]
        from retouch.tools.reimagine import reimagine
        from retouch.types import Picture

        expected = reimagine(Picture(pixels=source), strength=0.6, seed=4)[0].pixels
        assert np.array_equal(working_pixels(client, doc), expected)
        # the document moved on: the other variations were made from the state before
        assert_error(client.post(f"/api/reimagine/{job['id']}/choose", data={"index": "0"}), 409, "conflict")
        assert_error(client.post(f"/api/reimagine/{job['id']}/choose", data={"index": "7"}), 422, "invalid_request")
        assert_error(client.post("/api/reimagine", data={"document": doc, "strength": "0"}), 422, "invalid_request")
        assert_error(client.post("/api/reimagine", data={"document": doc, "count": "5"}), 422, "invalid_request")
        assert_error(client.post("/api/reimagine", data={"document": "nope"}), 404, "document_not_found")


def test_a_cancelled_reimagine_keeps_nothing(tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from retouch.server.routers import generative

    started, release = threading.Event(), threading.Event()
    real = backend.DiffusionModel.image_to_image

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(backend.DiffusionModel, "image_to_image", slow)
    with api_client() as client:
        doc = upload(client, encode(photo(), "PNG"), "photo.png")["id"]
        job = client.post("/api/reimagine", data={"document": doc, "count": "2"}).json()
        assert started.wait(30)
        client.delete(f"/api/jobs/{job['id']}")  # answers within its wait, the job stops at its next report
        release.set()
        client.app.state.services.jobs.get(job["id"]).future.result(timeout=HANG_GUARD_S)
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "cancelled"
        assert_error(client.post(f"/api/reimagine/{job['id']}/choose", data={"index": "0"}), 409, "not_ready")
        with pytest.raises(Exception, match="no variations"):
            generative.HELD.get(job["id"])
