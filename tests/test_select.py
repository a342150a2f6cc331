"""Click to select (retouch.select, --click on erase and cutout) on generated scenes, with a generated network in
u2netp's layout that calls red-over-green pixels the subject (tests/cutout_onnx.py)."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sam_onnx
from cutout_onnx import write_fake_network
from e2e.harness import api_client, upload
from registry_sized import cache_path, pad_onnx
from retouch import InvalidInput, Picture, select
from retouch.tools.select import Click

RETOUCH = str(Path(sys.executable).with_name("retouch"))
MODEL = "u2netp"
GREEN = (0.25, 0.6, 0.3)


@pytest.fixture
def fake_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    path, size = cache_path(MODEL)
    write_fake_network(MODEL, path)
    pad_onnx(path, size)


def _canvas(height: int = 192, width: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb = np.empty((height, width, 3), np.float32)
    rgb[:] = GREEN
    ys, xs = np.mgrid[0:height, 0:width]
    return rgb, ys, xs


def _picture(rgb: np.ndarray, seed: int = 0) -> Picture:
    noisy = rgb + np.random.default_rng(seed).normal(0, 0.02, rgb.shape).astype(np.float32)
    return Picture((np.clip(noisy, 0, 1) * 255 + 0.5).astype(np.uint8))


def two_objects() -> tuple[Picture, np.ndarray, np.ndarray]:
    """A red disk and a red square on green, apart: the picture and the true masks of the disk and the square."""
    rgb, ys, xs = _canvas()
    disk = (ys - 96) ** 2 + (xs - 70) ** 2 < 40**2
    square = (ys >= 60) & (ys < 130) & (xs >= 160) & (xs < 230)
    rgb[disk] = (0.85, 0.15, 0.1)
    rgb[square] = (0.8, 0.2, 0.2)
    return _picture(rgb), disk, square


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_a_click_selects_the_object_under_it_and_nothing_else(fake_model):
    picture, disk, square = two_objects()
    mask = select(picture, [(70, 96, 1)])
    assert mask.shape == disk.shape and mask.dtype == bool
    assert iou(mask, disk) > 0.9
    assert not (mask & square).any()
    other = select(picture, [(195, 95, 1)])
    assert iou(other, square) > 0.9 and not (other & disk).any()
    both = select(picture, [(70, 96, 1), (195, 95, 1)])
    assert iou(both, disk | square) > 0.9


def test_a_negative_click_removes_a_part(fake_model):
    rgb, ys, xs = _canvas()
    body = (ys >= 50) & (ys < 140) & (xs >= 40) & (xs < 130)
    arm = (ys >= 80) & (ys < 110) & (xs >= 130) & (xs < 220)  # touches the body: one object to the network
    rgb[body] = (0.85, 0.1, 0.1)
    rgb[arm] = (0.95, 0.75, 0.2)  # orange: still red over green
    picture = _picture(rgb)
    whole = select(picture, [(85, 95, 1)])
    assert whole[arm].mean() > 0.9 and whole[body].mean() > 0.9
    trimmed = select(picture, [(85, 95, 1), (190, 95, 0)])
    assert trimmed[body].mean() > 0.9
    assert trimmed[arm].mean() < 0.1


def test_a_box_alone_selects_the_object_inside_it(fake_model):
    picture, disk, square = two_objects()
    mask = select(picture, box=(150, 50, 90, 90))
    assert iou(mask, square) > 0.9 and not (mask & disk).any()


def test_the_same_prompts_give_the_same_mask(fake_model):
    picture, _, _ = two_objects()
    clicks = [(70, 96, 1), (30, 30, 0)]
    assert np.array_equal(select(picture, clicks), select(picture, clicks))


@pytest.mark.parametrize(
    ("points", "box", "message"),
    [
        ([(300, 10, 1)], None, "outside"),
        ([(-1, 10, 1)], None, "outside"),
        ([(10, 10, 2)], None, "label"),
        ([(10, 10)], None, "label"),
        ([(1.5, 10, 1)], None, "label"),
        ([(10, 10, 0)], None, "nothing to select"),
        (None, None, "nothing to select"),
        (None, (300, 300, 10, 10), "does not overlap"),
        (None, (10, 10, 0, 5), "does not overlap"),
    ],
)
def test_bad_prompts_are_refused(fake_model, points, box, message):
    picture, _, _ = two_objects()
    with pytest.raises(InvalidInput, match=message):
        select(picture, points, box)


# --- the command line --------------------------------------------------------------------------------------------


def retouch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RETOUCH, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )


@pytest.fixture
def photo(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    picture, disk, square = two_objects()
    path = tmp_path / "photo.png"
    Image.fromarray(picture.pixels).save(path)
    return path, disk, square


def test_cutout_click_keeps_only_the_clicked_object(fake_model, photo, tmp_path):
    path, disk, square = photo
    out = tmp_path / "disk.png"
    result = retouch("cutout", str(path), "--click", "70,96", "-o", str(out))
    assert result.returncode == 0, result.stderr
    alpha = np.asarray(Image.open(out))[:, :, 3] > 127
    assert iou(alpha, disk) > 0.85
    assert not alpha[square].any()


def test_erase_click_erases_the_clicked_object(fake_model, photo, tmp_path):
    path, disk, square = photo
    out = tmp_path / "erased.png"
    result = retouch("erase", str(path), "--click", "195,95", "-o", str(out))
    assert result.returncode == 0, result.stderr
    before = np.asarray(Image.open(path)).astype(np.int16)
    after = np.asarray(Image.open(out)).astype(np.int16)
    red_left = (after[:, :, 0] - after[:, :, 1]) > 100
    assert not red_left[square].any()  # the square is gone...
    assert red_left[disk].mean() > 0.95 and np.array_equal(after[disk], before[disk])  # ...the disk untouched


def test_relight_click_lights_only_the_clicked_object(fake_model, photo, tmp_path):
    """The selection is the subject the rim light traces: the disk's right edge lights up, the square's does not
    (without the click, the cutout network would take both for the subject)."""
    path, disk, square = photo
    out = tmp_path / "relit.png"
    rim = "dir:azimuth=0,elevation=20,color=#ff8000,intensity=4,rim"
    result = retouch("relight", str(path), "--click", "70,96", "--light", rim, "--no-faces", "-o", str(out))
    assert result.returncode == 0, result.stderr
    before = np.asarray(Image.open(path)).astype(np.int16)
    after = np.asarray(Image.open(out)).astype(np.int16)
    lift = (after - before)[:, :, 0]
    disk_edge = disk & ~np.roll(disk, -4, axis=1)  # the disk's rightmost 4 pixels of each row
    square_edge = square & ~np.roll(square, -4, axis=1)
    assert lift[disk_edge].mean() > 10
    assert lift[square_edge].mean() < 0.2 * lift[disk_edge].mean()
    both = retouch("relight", str(path), "--click", "70,96", "--matte", str(path), "-o", str(tmp_path / "x.png"))
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--click", "999,10"), "outside"),
        (("--click", "10"), "bad click"),
        (("--click", "a,b"), "bad click"),
        (("--unclick", "10,10"), "--click"),
    ],
)
@pytest.mark.parametrize("command", ["erase", "cutout", "relight"])
def test_bad_clicks_exit_2_with_one_line(fake_model, photo, tmp_path, command, args, message):
    path, _, _ = photo
    out = tmp_path / "out.png"
    result = retouch(command, str(path), *args, "-o", str(out))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not out.exists()


# --- the server ------------------------------------------------------------------------------------------------------


def _png(picture: Picture) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture.pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _decoded_mask(data_url: str) -> np.ndarray:
    data = base64.b64decode(data_url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L")) > 127


def test_the_select_endpoint_returns_the_clicked_objects_mask(fake_model):
    picture, disk, square = two_objects()
    with api_client() as client:
        doc = upload(client, _png(picture))
        response = client.post(
            f"/api/documents/{doc['id']}/select",
            data={"clicks": "195,95,1", "wait": "true"},
        )
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        mask = _decoded_mask(result["mask"])
        assert iou(mask, square) > 0.9 and not (mask & disk).any()
        assert result["area"] == int(mask.sum())
        boxed = client.post(
            f"/api/documents/{doc['id']}/select",
            data={"box": "20,20,110,150", "wait": "true"},
        )
        assert boxed.status_code == 200, boxed.text
        assert iou(_decoded_mask(boxed.json()["result"]["mask"]), disk) > 0.9


@pytest.mark.parametrize(
    "form",
    [
        {"clicks": "999,10,1"},
        {"clicks": "10,10"},
        {"clicks": "a,b,1"},
        {"clicks": "--5,3,1"},  # passed a digit check that stripped every leading minus, then broke int(): a 500
        {"clicks": "1,\u00b2,1"},  # a superscript two is a "digit" to str.isdigit, not to int()
        {"clicks": "10,10,7"},
        {"clicks": "10,10,0"},
        {},
        {"box": "400,400,10,10"},
    ],
)
def test_the_select_endpoint_refuses_bad_clicks_with_422(fake_model, form):
    picture, _, _ = two_objects()
    with api_client() as client:
        doc = upload(client, _png(picture))
        response = client.post(f"/api/documents/{doc['id']}/select", data={**form, "wait": "true"})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"


def test_erase_and_cutout_endpoints_take_clicks(fake_model):
    picture, disk, square = two_objects()
    with api_client() as client:
        erased = client.post(
            "/api/erase",
            files={"image": ("p.png", _png(picture), "image/png")},
            data={"clicks": "195,95,1"},
        )
        assert erased.status_code == 200, erased.text
        after = np.asarray(Image.open(io.BytesIO(erased.content))).astype(np.int16)
        assert not ((after[:, :, 0] - after[:, :, 1]) > 100)[square].any()
        assert np.array_equal(after[disk], picture.pixels[disk])
        cut = client.post(
            "/api/cutout",
            files={"image": ("p.png", _png(picture), "image/png")},
            data={"clicks": "70,96,1"},
        )
        assert cut.status_code == 200, cut.text
        alpha = np.asarray(Image.open(io.BytesIO(cut.content)))[:, :, 3] > 127
        assert iou(alpha, disk) > 0.85 and not alpha[square].any()
        outside = client.post(
            "/api/erase",
            files={"image": ("p.png", _png(picture), "image/png")},
            data={"clicks": "999,1,1"},
        )
        assert outside.status_code == 422, outside.text
        doc = upload(client, _png(picture))
        outside_doc = client.post(
            "/api/cutout",
            data={"document": doc["id"], "clicks": "1,999,1", "wait": "true"},
        )
        assert outside_doc.status_code == 422, outside_doc.text
        malformed = client.post("/api/erase", data={"document": doc["id"], "clicks": "1;2", "wait": "true"})
        assert malformed.status_code == 422, malformed.text


# --- a promptable segmenter (mobile-sam), generated with the real files' signature -------------------------------


@pytest.fixture
def fake_sam(fake_model) -> None:
    from retouch.models import cache
    from retouch.models.registry import get_spec

    spec = get_spec("mobile-sam")
    writers = {spec.files[0].filename: sam_onnx.write_encoder, spec.files[1].filename: sam_onnx.write_decoder}
    for weight in spec.files:
        path = cache.cached_file(spec.name, weight.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        writers[weight.filename](path)
        pad_onnx(path, weight.size)


def test_an_installed_segment_model_answers_the_clicks(fake_sam):
    picture, _, square = two_objects()
    mask = select(picture, [(60, 40, 1)])
    # the generated decoder's disk around the first click: radius 24 in the 256 frame of the padded 1024 square,
    # which a 256-pixel-wide photo fills at 1 pixel per unit
    ys, xs = np.mgrid[0:192, 0:256]
    expected = (ys - 40) ** 2 + (xs - 60) ** 2 < sam_onnx.RADIUS**2
    assert iou(mask, expected) > 0.9
    by_network = select(picture, [(195, 95, 1)], model="u2netp")  # a cutout model by name: the cutout pipeline
    assert iou(by_network, square) > 0.9


def test_prompts_reach_the_decoder_in_the_resized_frame():
    from retouch.tools.select.sam import prompt_arrays

    points, labels = prompt_arrays([Click(10, 20, True), Click(30, 40, False)], None, (2.0, 4.0))
    assert points.tolist() == [[[21.0, 82.0], [61.0, 162.0], [0.0, 0.0]]]
    assert labels.tolist() == [[1.0, 0.0, -1.0]]  # the padding point when there is no box
    points, labels = prompt_arrays([], (5, 6, 10, 20), (2.0, 2.0))
    assert points.tolist() == [[[10.0, 12.0], [30.0, 52.0]]] and labels.tolist() == [[2.0, 3.0]]


def test_cutout_refuses_a_subject_of_another_size(fake_model):
    from retouch import cutout

    picture, disk, _ = two_objects()
    with pytest.raises(InvalidInput, match="subject mask is 10x5"):
        cutout(picture, subject=np.zeros((5, 10), bool))
    kept = cutout(picture, subject=disk, mask_only=True).pixels[:, :, 0] > 127
    assert iou(kept, disk) > 0.9
