"""POST /api/upscale: the whole document enlarged as one undoable step, a file answered enlarged, bad options."""

from __future__ import annotations

import io

import numpy as np
from e2e.harness import api_client, assert_error, upload, working_pixels
from PIL import Image

from retouch.tools.upscale import upscale
from retouch.types import Picture
from test_ncnn import random_srvgg
from test_upscale_api import photo
from test_upscale_weights import home, install_pth  # noqa: F401  (home is a fixture)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_tool_is_listed_without_a_mask_and_with_its_models(home, monkeypatch) -> None:
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    with api_client() as client:
        info = client.get("/api/info").json()
    tool = next(t for t in info["tools"] if t["name"] == "upscale")
    assert tool["uses_mask"] is False and tool["endpoint"] == "/api/upscale"
    models = {engine["name"]: engine["available"] for engine in tool["engines"]}
    assert models["tiny-srvgg"] is True and models["realesrgan-x2plus"] is False  # a download, not installed
    # "auto" comes first and is usable, so the web panel's menu starts on it (the tool's default)
    assert tool["engines"][0] == {"name": "auto", "available": True}
    assert {"scale", "model", "denoise"} <= set(tool["options"]["properties"])


def test_upscaling_a_document_is_one_undoable_step(home, monkeypatch) -> None:
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    pixels = photo(30, 40)
    with api_client() as client:
        doc = upload(client, png(pixels), "small.png")["id"]
        response = client.post(
            "/api/upscale", data={"document": doc, "wait": "true", "model": "tiny-srvgg", "scale": "2.5"}
        )
        assert response.status_code == 200, response.text
        job = response.json()
        changed = job["result"]["document"]
        assert (changed["width"], changed["height"]) == (100, 75)
        assert job["progress"]["stage"]
        expected = upscale(Picture(pixels), model="tiny-srvgg", scale=2.5).pixels
        np.testing.assert_array_equal(working_pixels(client, doc), expected)

        undone = client.post(f"/api/documents/{doc}/undo").json()
        assert (undone["document"]["width"], undone["document"]["height"]) == (40, 30)
        np.testing.assert_array_equal(working_pixels(client, doc), pixels)


def test_a_file_is_answered_enlarged_in_its_format(home, monkeypatch) -> None:
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    with api_client() as client:
        response = client.post(
            "/api/upscale", files={"image": ("s.png", png(photo(16, 20)), "image/png")}, data={"model": "tiny-srvgg"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (80, 64)


def test_bad_options_are_refused(home, monkeypatch) -> None:
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    with api_client() as client:
        doc = upload(client, png(photo(16, 16)), "s.png")["id"]
        too_big = client.post("/api/upscale", data={"document": doc, "wait": "true", "scale": "40"})
        assert too_big.status_code == 422
        for fields, status, code in [
            ({"model": "migan"}, 400, "invalid_input"),
            ({"model": "realesrgan-x2plus"}, 503, "weights_missing"),
        ]:
            response = client.post("/api/upscale", data={"document": doc, "wait": "true", **fields})
            message = assert_error(response, status, code)
            assert fields["model"] in message
