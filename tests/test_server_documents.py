"""HTTP API, documents: upload, limits, previews, undo and redo, downloads in the original format."""

from __future__ import annotations

import io

import numpy as np
import pytest
from e2e.harness import api_client, assert_error, erase, upload, working_pixels
from e2e.photos import assert_fill_matches_background, decode, encode, scene, srgb_profile
from PIL import Image

from retouch import masks
from retouch.io import load_image, read_provenance
from retouch.io.xmp import AI_EDITED
from retouch.tools.erase import default_grow

SCENE = scene(160, 120)
JPEG = encode(SCENE.pixels, "JPEG")
PNG = encode(SCENE.pixels, "PNG")
BOX = (80, 40, 30, 30)  # x, y, w, h: over the object


def box_text(box: tuple[int, int, int, int]) -> str:
    return ",".join(str(v) for v in box)


def grown_box(box: tuple[int, int, int, int], size: tuple[int, int], extra: int) -> np.ndarray:
    grow = default_grow(*size) + extra
    return masks.grow(masks.mask_from_boxes([box], size), grow)


def test_upload_describes_the_document() -> None:
    with api_client() as client:
        info = upload(client, JPEG, "holiday.jpg")
        assert info["format"] == "JPEG" and (info["width"], info["height"]) == (160, 120)
        assert info["channels"] == 3 and info["bit_depth"] == 8 and not info["has_alpha"]
        assert info["has_icc_profile"] and info["has_exif"]
        assert info["version"] == 0 and not info["can_undo"] and not info["can_redo"]
        assert client.get(f"/api/documents/{info['id']}").json() == info


def test_corrupt_and_foreign_uploads_answer_4xx_json() -> None:
    with api_client() as client:
        truncated = client.post("/api/documents", files={"file": ("cut.jpg", JPEG[: len(JPEG) // 3])})
        message = assert_error(truncated, 400, "corrupt_image")
        assert "damaged" in message and message.startswith("'cut.jpg'")  # names the file as the user knows it
        text = client.post("/api/documents", files={"file": ("notes.jpg", b"just some text, not an image")})
        assert_error(text, 415, "unsupported_format")
        assert_error(client.post("/api/documents", files={"file": ("empty.png", b"")}), 400, "invalid_input")
        assert_error(client.post("/api/documents"), 422, "invalid_request")


def test_upload_over_the_byte_limit_is_413() -> None:
    with api_client(max_upload_bytes=20_000) as client:
        big = encode(np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8), "PNG")
        assert len(big) > 20_000
        message = assert_error(client.post("/api/documents", files={"file": ("big.png", big)}), 413, "upload_too_large")
        assert "MiB" in message

        def chunks():  # no Content-Length: the limit applies while the body streams in
            boundary = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
            yield boundary
            for start in range(0, len(big), 4096):
                yield big[start : start + 4096]
            yield b"\r\n--x--\r\n"

        streamed = client.post(
            "/api/documents", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert_error(streamed, 413, "upload_too_large")
        assert upload(client, JPEG)["width"] == 160  # a small upload still passes


def test_too_many_megapixels_is_413() -> None:
    with api_client(max_megapixels=0.01) as client:  # 10,000 pixels; the photo has 19,200
        message = assert_error(client.post("/api/documents", files={"file": ("p.jpg", JPEG)}), 413, "too_large")
        assert "160" in message and "120" in message


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/documents/{id}"),
        ("DELETE", "/api/documents/{id}"),
        ("GET", "/api/documents/{id}/download"),
        ("GET", "/api/documents/{id}/preview"),
        ("POST", "/api/documents/{id}/undo"),
        ("POST", "/api/documents/{id}/redo"),
    ],
)
def test_unknown_document_is_404_json(method: str, path: str) -> None:
    with api_client() as client:
        for doc_id in ("AAAAAAAAAAAAAAAAAAAAAA", "not~an*id", "x" * 300):
            assert_error(client.request(method, path.format(id=doc_id)), 404, "document_not_found")
        assert client.request(method, path.format(id="..%2F..%2Fpyproject.toml")).status_code == 404


def test_erase_on_an_unknown_document_is_404() -> None:
    with api_client() as client:
        assert_error(erase(client, "AAAAAAAAAAAAAAAAAAAAAA", boxes=box_text(BOX)), 404, "document_not_found")


def test_undo_and_redo_walk_the_history() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "scene.png")["id"]
        original = working_pixels(client, doc)
        np.testing.assert_array_equal(original, SCENE.pixels)

        first = erase(client, doc, boxes=box_text(BOX))
        assert first.status_code == 200, first.text
        result = first.json()["result"]
        assert result["document"]["version"] == 1 and result["document"]["can_undo"]
        changed = result["changed"]
        after_first = working_pixels(client, doc)
        # The changed rectangle holds every changed pixel.
        diff = np.any(after_first != original, axis=2)
        ys, xs = np.nonzero(diff)
        assert changed["x"] == xs.min() and changed["y"] == ys.min()
        assert changed["x"] + changed["width"] == xs.max() + 1 and changed["y"] + changed["height"] == ys.max() + 1

        assert erase(client, doc, boxes="20,20,20,20").status_code == 200
        after_second = working_pixels(client, doc)
        assert client.get(f"/api/documents/{doc}").json()["version"] == 2

        undo = client.post(f"/api/documents/{doc}/undo").json()
        assert undo["document"]["version"] == 1 and undo["document"]["can_redo"]
        np.testing.assert_array_equal(working_pixels(client, doc), after_first)
        client.post(f"/api/documents/{doc}/undo")
        np.testing.assert_array_equal(working_pixels(client, doc), original)
        assert client.get(f"/api/documents/{doc}").json()["operations"] == []
        assert_error(client.post(f"/api/documents/{doc}/undo"), 409, "nothing_to_undo")

        redo = client.post(f"/api/documents/{doc}/redo").json()
        assert redo["document"]["version"] == 1 and redo["document"]["operations"] == ["erase (engine=patch)"]
        np.testing.assert_array_equal(working_pixels(client, doc), after_first)
        client.post(f"/api/documents/{doc}/redo")
        np.testing.assert_array_equal(working_pixels(client, doc), after_second)
        assert_error(client.post(f"/api/documents/{doc}/redo"), 409, "nothing_to_redo")

        # A new edit after an undo ends the redo branch.
        client.post(f"/api/documents/{doc}/undo")
        info = erase(client, doc, boxes="120,90,15,15").json()["result"]["document"]
        assert info["version"] == 2 and info["history"] == 2 and not info["can_redo"]


def test_history_is_bounded() -> None:
    with api_client(max_history=2) as client:
        doc = upload(client, PNG, "scene.png")["id"]
        for box in ("10,10,8,8", "40,10,8,8", "70,10,8,8"):
            assert erase(client, doc, boxes=box).status_code == 200
        info = client.get(f"/api/documents/{doc}").json()
        assert info["version"] == 2 and info["history"] == 2
        assert client.post(f"/api/documents/{doc}/undo").status_code == 200
        assert client.post(f"/api/documents/{doc}/undo").status_code == 200
        assert_error(client.post(f"/api/documents/{doc}/undo"), 409, "nothing_to_undo")


def test_download_keeps_format_and_metadata_and_marks_the_ai_edit() -> None:
    with api_client() as client:
        doc = upload(client, JPEG, "holiday.jpg")["id"]
        untouched = client.get(f"/api/documents/{doc}/download")
        assert read_provenance(load_image(untouched.content).metadata.xmp) is None  # nothing edited yet

        assert erase(client, doc, boxes=box_text(BOX)).status_code == 200
        response = client.get(f"/api/documents/{doc}/download")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert 'filename="holiday-retouched.jpg"' in response.headers["content-disposition"]
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "JPEG" and image.size == (160, 120)
            assert image.info["icc_profile"] == srgb_profile()
            exif = image.getexif()
            assert exif[0x010F] == "Retouch Test Camera Co." and exif[0x0110] == "Model 7"
        provenance = read_provenance(load_image(response.content).metadata.xmp)
        assert provenance is not None and provenance.digital_source_type == AI_EDITED
        assert provenance.operations == ("erase (engine=patch)",)
        # One encode from the lossless working copy: close to the original away from the edit.
        outside = ~grown_box(BOX, (160, 120), 8)
        error = np.abs(decode(response.content).astype(int) - decode(JPEG).astype(int))[outside].mean()
        assert error < 2.0


def test_png_download_is_exact_outside_the_grown_mask() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "scene.png")["id"]
        assert erase(client, doc, boxes=box_text(BOX)).status_code == 200
        response = client.get(f"/api/documents/{doc}/download")
        assert response.headers["content-type"] == "image/png"
        result = decode(response.content)
        outside = ~grown_box(BOX, (160, 120), 1)
        np.testing.assert_array_equal(result[outside], SCENE.pixels[outside])
        inside = masks.mask_from_boxes([BOX], (160, 120)) & SCENE.object_mask
        assert_fill_matches_background(result, SCENE, inside)  # the dark object is gone, the scene is back
        assert load_image(response.content).metadata.exif is not None


def test_preview_returns_the_exact_rectangle() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "scene.png")["id"]
        part = working_pixels(client, doc, x=10, y=20, width=30, height=40)
        np.testing.assert_array_equal(part, SCENE.pixels[20:60, 10:40])
        response = client.get(f"/api/documents/{doc}/preview", params={"x": 150, "width": 20})
        assert "160x120" in assert_error(response, 400, "invalid_region")
        assert_error(client.get(f"/api/documents/{doc}/preview", params={"x": -1}), 422, "invalid_request")
        jpeg = client.get(f"/api/documents/{doc}/preview", params={"format": "jpeg"})
        assert jpeg.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(jpeg.content)) as image:
            assert image.info["icc_profile"] == srgb_profile()  # previews carry the colours of the original


def test_sixteen_bit_and_alpha_documents_preview_in_8_bits() -> None:
    deep = (SCENE.pixels.astype(np.uint16) * 257)[:, :, :3]
    alpha = np.full((120, 160), 65535, np.uint16)
    alpha[:, :40] = 0
    out = io.BytesIO()
    import tifffile

    tifffile.imwrite(out, np.dstack([deep, alpha]), photometric="rgb", extrasamples=["unassalpha"])
    with api_client() as client:
        info = upload(client, out.getvalue(), "deep.tif")
        assert info["bit_depth"] == 16 and info["has_alpha"] and info["format"] == "TIFF"
        response = client.get(f"/api/documents/{info['id']}/preview")
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.mode == "RGBA"
            rgba = np.asarray(image)
        np.testing.assert_array_equal(rgba[:, :, :3], SCENE.pixels)
        assert rgba[:, :40, 3].max() == 0 and rgba[:, 40:, 3].min() == 255
        assert erase(client, info["id"], boxes=box_text(BOX)).status_code == 200
        download = client.get(f"/api/documents/{info['id']}/download")
        picture = load_image(download.content)
        assert picture.bit_depth == 16 and picture.has_alpha and picture.metadata.source_format == "TIFF"


def test_documents_are_bounded_and_can_be_deleted() -> None:
    with api_client(max_documents=2) as client:
        first, second, third = (upload(client, JPEG)["id"] for _ in range(3))
        assert_error(client.get(f"/api/documents/{first}"), 404, "document_not_found")  # least recently used
        assert client.get(f"/api/documents/{second}").status_code == 200
        assert client.delete(f"/api/documents/{third}").status_code == 204
        assert_error(client.get(f"/api/documents/{third}"), 404, "document_not_found")
