"""The Relight endpoints: POST /api/relight like every tool, and a document's geometry for live shading."""

from __future__ import annotations

import base64
import io

import numpy as np
from e2e.harness import api_client, assert_error, upload
from e2e.photos import encode
from PIL import Image

from retouch.tools.relight.geometry import normal_map_rgb

RGBA = np.zeros((60, 90, 4), np.uint8)
RGBA[..., :3] = 120
RGBA[15:45, 30:60, 3] = 255  # the subject is the opaque square: the picture's alpha is its matte
PNG = encode(RGBA, "PNG")


def data_url_pixels(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        return np.asarray(image)


def test_relight_a_document() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "photo.png")["id"]
        response = client.post(
            "/api/relight",
            data={"document": doc, "wait": "true", "lights": "dir:azimuth=0,color=#ff0000", "ambient": "0.5"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "done", response.json()


def test_relight_a_file_keeps_its_alpha() -> None:
    with api_client() as client:
        response = client.post(
            "/api/relight",
            files={"image": ("photo.png", PNG, "image/png")},
            data={"lights": "point:x=0.9,y=0.5;dir:rim", "ambient": "0.8"},
        )
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as image:
            out = np.asarray(image)
    assert out.shape == RGBA.shape and np.array_equal(out[..., 3], RGBA[..., 3])


def test_bad_relight_fields_answer_4xx_json() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "photo.png")["id"]
        for fields in ({"lights": "lamp:x=1"}, {"lights": "point:x=99"}, {"ambient": "-1"}, {"ambient": "many"}):
            response = client.post("/api/relight", data={"document": doc, **fields})
            assert assert_error(response, 422, "invalid_request")
        assert_error(
            client.post(f"/api/documents/{doc}/relight-geometry", data={"model": "big-lama"}), 400, "invalid_input"
        )
        response = client.post(f"/api/documents/{doc}/relight-geometry", data={"pixels": "0"})
        assert_error(response, 422, "invalid_request")
        assert_error(client.post("/api/documents/nope/relight-geometry", data={}), 404, "document_not_found")


def test_the_geometry_for_live_shading() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "photo.png")["id"]
        response = client.post(f"/api/documents/{doc}/relight-geometry", data={"wait": "true", "pixels": "1350"})
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["state"] == "done", job
        polled = client.get(f"/api/jobs/{job['id']}")  # as the page polls it: the result has a schema
        assert polled.status_code == 200, polled.text
        found = polled.json()["result"]
    assert (found["width"], found["height"]) == (45, 30) and found["scale"] == 0.5
    normals = data_url_pixels(found["normals"])
    packed = data_url_pixels(found["height_map"]).astype(np.uint32)
    subject = data_url_pixels(found["subject"])
    albedo = data_url_pixels(found["albedo"])
    assert normals.shape == (30, 45, 3) and albedo.shape == (30, 45, 3) and subject.shape == (30, 45)
    height = ((packed[..., 0] << 8) | packed[..., 1]) * found["height_unit"]
    assert height[15, 22] > height[2, 2] == 0.0  # the subject stands before the far plane
    assert subject[15, 22] == 255 and subject[2, 2] == 0
    assert normals[2, 2].tolist() == [128, 128, 255]  # the far plane faces the viewer
    assert found["shading"]["shininess"] > 0 and found["lights"]["point"]["reach"] == 0.6
    assert (found["shadow_map"]["width"], found["shadow_map"]["height"]) == (90, 60)  # under 512: full size
    shadow_field = data_url_pixels(found["shadow_map"]["map"]).astype(np.uint32)
    assert ((shadow_field[..., 0] << 8) | shadow_field[..., 1])[30, 45] > 0


def test_tall_heights_are_not_clipped_in_the_maps() -> None:
    big = np.zeros((600, 900, 4), np.uint8)
    big[..., :3] = 120
    big[50:550, 100:800, 3] = 255  # a subject 700x500 pixels: its height passes 256 pixels
    with api_client() as client:
        doc = upload(client, encode(big, "PNG"), "photo.png")["id"]
        response = client.post(f"/api/documents/{doc}/relight-geometry", data={"wait": "true", "pixels": "540000"})
        found = response.json()["result"]
    packed = data_url_pixels(found["height_map"]).astype(np.uint32)
    height = ((packed[..., 0] << 8) | packed[..., 1]) * found["height_unit"]
    # the inflation (a 500-pixel band is 250 pixels deep) on the backdrop (0.15 of the 900-pixel side): 385
    assert found["scale"] == 1.0 and 370 < height.max() < 400, height.max()
    flat = normal_map_rgb(np.array([[[0.0, 0.0, 1.0]]], np.float32))
    assert np.allclose(flat, [[[0.5, 0.5, 1.0]]])
