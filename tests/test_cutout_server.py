"""The Remove background and Replace background endpoints, with a generated network."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from cutout_onnx import offline_home_with_fake
from cutout_scenes import scene
from e2e.harness import api_client, upload


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    offline_home_with_fake("u2netp", tmp_path, monkeypatch)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((scene().image * 255 + 0.5).astype(np.uint8)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_cutout_of_a_jpeg_document_downloads_as_rgba_png(fake_model) -> None:
    with api_client() as client:
        info = client.get("/api/info").json()
        tool = next(t for t in info["tools"] if t["name"] == "cutout")
        assert {"name": "u2netp", "available": True} in tool["engines"]
        doc = upload(client, jpeg())
        response = client.post("/api/cutout", data={"document": doc["id"], "wait": "true", "crop": "true", "margin": "4"})
        assert response.status_code == 200, response.text
        changed = response.json()["result"]["document"]
        assert changed["has_alpha"] and changed["width"] < 256
        download = client.get(f"/api/documents/{doc['id']}/download")
        assert download.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(download.content)) as out:
            assert out.mode == "RGBA"


def test_replace_background_with_an_uploaded_image(fake_model) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (255, 220, 0)).save(buffer, "PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with api_client() as client:
        response = client.post(
            "/api/replace-bg",
            files={"image": ("photo.jpg", jpeg(), "image/jpeg")},
            data={"background": "image", "background_image": data_url, "harmonize": "false"},
        )
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as out:
            corner = np.asarray(out.convert("RGB"))[:6, :6].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - [255, 220, 0]).max() < 20
        bad = client.post(
            "/api/replace-bg",
            files={"image": ("photo.jpg", jpeg(), "image/jpeg")},
            data={"background": "image", "background_image": "data:image/png;base64,@@@"},
        )
        assert bad.status_code == 422 or bad.status_code == 400, bad.text
