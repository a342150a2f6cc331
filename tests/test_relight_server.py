"""The Relight endpoints: POST /api/relight like every tool, and a document's geometry for live shading."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from cutout_onnx import install_fake
from e2e.harness import api_client, assert_error, upload
from e2e.photos import encode
from PIL import Image
from relight_scenes import two_disks

from retouch import Picture, relight
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


@pytest.fixture
def fake_network(tmp_path, monkeypatch) -> None:
    """The generated u2netp (red over green is the subject): both disks of ``two_disks`` without a click."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)


def _subject(client, doc: str, **fields: str) -> np.ndarray:
    """The geometry's matte at the document's full size (256x192), as a bool mask."""
    response = client.post(
        f"/api/documents/{doc}/relight-geometry", data={"wait": "true", "pixels": str(256 * 192), **fields}
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["scale"] == 1.0
    return data_url_pixels(result["subject"]) > 127


def test_clicks_choose_the_subject_of_the_geometry(fake_network) -> None:
    pixels, left, right = two_disks()
    with api_client() as client:
        doc = upload(client, encode(pixels, "PNG"), "disks.png")["id"]
        found = _subject(client, doc)
        clicked = _subject(client, doc, clicks="186,96,1")
    assert found[left].mean() > 0.9 and found[right].mean() > 0.9  # the network's subject: both disks
    assert clicked[right].mean() > 0.9 and not clicked[left].any()  # the clicked disk alone
    assert clicked[~right].mean() < 0.01


def test_apply_with_the_clicks_lights_the_previewed_subject(fake_network) -> None:
    pixels, left, right = two_disks()
    rim = "dir:azimuth=0,elevation=20,color=#ff8000,intensity=4,rim"
    with api_client() as client:
        doc = upload(client, encode(pixels, "PNG"), "disks.png")["id"]
        subject = _subject(client, doc, clicks="69,96,1")
        response = client.post(
            "/api/relight",
            files={"image": ("disks.png", encode(pixels, "PNG"), "image/png")},
            data={"lights": rim, "clicks": "69,96,1"},
        )
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as image:
            applied = np.asarray(image)
    # the same picture lit over the preview's matte: the same pixels, so Apply lit the subject the page showed
    expected = relight(Picture(pixels), rim, matte=subject).pixels
    assert np.array_equal(applied, expected)
    lift = (applied.astype(np.int16) - pixels)[:, :, 0]
    left_edge, right_edge = left & ~np.roll(left, -4, axis=1), right & ~np.roll(right, -4, axis=1)
    assert lift[left_edge].mean() > 10 and lift[right_edge].mean() < 0.2 * lift[left_edge].mean()


@pytest.mark.parametrize(
    ("clicks", "message"),
    [("999,10,1", "outside"), ("10,10,0", "add a click on the object"), ("a,b,1", "clicks:"), ("5,5", "clicks:")],
)
def test_bad_clicks_answer_422_with_one_message(fake_network, clicks: str, message: str) -> None:
    pixels, _, _ = two_disks()
    with api_client() as client:
        doc = upload(client, encode(pixels, "PNG"), "disks.png")["id"]
        for response in (
            client.post(f"/api/documents/{doc}/relight-geometry", data={"clicks": clicks, "wait": "true"}),
            client.post("/api/relight", data={"document": doc, "clicks": clicks, "lights": "dir:rim", "wait": "true"}),
        ):
            text = assert_error(response, 422, "invalid_request")
            assert message in text and "\n" not in text, text


@pytest.mark.parametrize(("model", "selects_with"), [("u2netp", "u2netp"), ("none", None)])
def test_clicks_select_with_the_panels_subject_model(fake_network, monkeypatch, model: str, selects_with) -> None:
    """The preview's geometry and Apply select the clicked subject with the model the panel chose, as
    ``retouch relight --click --model`` does ("none" lights the frame flat: its clicks use select's default)."""
    import retouch.tools.select as selecting

    used = []
    real = selecting.select

    def recording(picture, points, box=None, *, model=None, **rest):
        used.append(model)
        return real(picture, points, box, model=model, **rest)

    monkeypatch.setattr(selecting, "select", recording)
    pixels, _, _ = two_disks()
    with api_client() as client:
        doc = upload(client, encode(pixels, "PNG"), "disks.png")["id"]
        _subject(client, doc, clicks="69,96,1", model=model)
        response = client.post(
            "/api/relight", data={"document": doc, "clicks": "69,96,1", "model": model, "lights": "dir:rim", "wait": "true"}
        )
        assert response.status_code == 200, response.text
    assert used == [selects_with, selects_with]
