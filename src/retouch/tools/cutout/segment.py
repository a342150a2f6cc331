"""Running a segmentation network as its registry row says: resize, scale, normalize, run, decode.

The row's ``CutoutConventions`` hold the input convention of each network (rembg's exports, IMG.LY's, BiRefNet's
own): its fixed input size, how to enlarge to it (shrinking always averages areas, so a 12-megapixel photo is not
aliased on its way to 1024x1024), scaling to the maximum, mean and std, which output holds the matte, its
activation and the stretch to min..max.

The result is the network's probability map at its own resolution; ``to_full`` brings it to the photo's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from retouch.models.conventions import CutoutConventions
from retouch.models.spec import ModelSpec
from retouch.tools.interrupt import Check, terminable


@dataclass(frozen=True)
class Segmenter:
    """One loaded network; calling it maps an RGB float32 HxWx3 image in [0, 1] to its probability map."""

    spec: ModelSpec
    session: Any  # onnxruntime.InferenceSession: run() is thread-safe

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, rgb: np.ndarray, check: Check | None = None) -> np.ndarray:
        """``check`` is called while the network runs; when it raises, the run stops within a node and its
        exception is raised here."""
        conventions = self.spec.conventions_as(CutoutConventions)
        tensor = network_input(rgb, conventions)
        input_name = self.session.get_inputs()[0].name
        with terminable(check or _never) as options:
            outputs = self.session.run(None, {input_name: tensor}, options)
        return decode_output(outputs[conventions.output_index], conventions)


def _never() -> None:
    """A check that never stops the run."""


def network_input(rgb: np.ndarray, conventions: CutoutConventions) -> np.ndarray:
    """The 1x3xHxW float32 tensor the network expects from HxWx3 float32 RGB in [0, 1]."""
    import cv2

    width, height = conventions.input_size
    src_h, src_w = rgb.shape[:2]
    if width * height < src_w * src_h:
        interpolation = cv2.INTER_AREA
    else:
        interpolation = cv2.INTER_LANCZOS4 if conventions.resize == "lanczos" else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(rgb, dtype=np.float32), (width, height), interpolation=interpolation)
    resized = np.clip(resized, 0.0, 1.0)
    if conventions.scale_to_max:  # rembg: values / their maximum
        resized = resized / max(float(resized.max()), 1e-6)
    mean = np.asarray(conventions.mean, dtype=np.float32)
    std = np.asarray(conventions.std, dtype=np.float32)
    normalized = (resized - mean) / std
    return np.ascontiguousarray(normalized.transpose(2, 0, 1)[None], dtype=np.float32)


def decode_output(output: np.ndarray, conventions: CutoutConventions) -> np.ndarray:
    """The HxW float32 map in [0, 1] from the network's 1x1xHxW output."""
    prob = np.asarray(output, dtype=np.float32).reshape(output.shape[-2:])
    if conventions.activation == "sigmoid":
        prob = 1.0 / (1.0 + np.exp(-prob))
    if conventions.stretch:
        low, high = float(prob.min()), float(prob.max())
        prob = (prob - low) / max(high - low, 1e-6)
    return np.clip(prob, 0.0, 1.0).astype(np.float32)


def to_full(prob: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The map resized (bilinear) to ``size`` = (width, height): the network's own mask at full resolution."""
    import cv2

    width, height = size
    if (prob.shape[1], prob.shape[0]) == (width, height):
        return prob.copy()
    interpolation = cv2.INTER_AREA if width * height < prob.size else cv2.INTER_LINEAR
    return np.clip(cv2.resize(prob, (width, height), interpolation=interpolation), 0.0, 1.0)
