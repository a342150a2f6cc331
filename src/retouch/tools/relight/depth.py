"""A monocular depth network's map as the relight height field, in place of the inflated matte.

The network is Depth-Anything-V2-Small as ONNX, in the layout of the onnx-community export used by
Transformers.js (https://huggingface.co/onnx-community/depth-anything-v2-small, ``onnx/model.onnx``, Apache-2.0):
input "pixel_values" 1x3xHxW float32, ImageNet-normalized RGB, H and W multiples of 14 (518 by default); output
"predicted_depth" 1xHxW (or 1x1xHxW) relative inverse depth: larger is nearer. The file is given by path: it has
no registry row yet (its published sha256 could not be checked here).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from retouch.errors import InvalidInput

SIDE = 518  # the network's trained input side
PATCH = 14  # ViT patches: the input's sides are multiples of this
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RELIEF = 0.25  # the nearest point's height above the farthest, in long sides of the photo


def depth_height(rgb: np.ndarray, model_path: str | os.PathLike[str], device: str = "auto") -> np.ndarray:
    """The height field (HxW float32, pixels above the farthest point) that the depth network at
    ``model_path`` sees in ``rgb`` (HxWx3 float32 RGB in [0, 1]). InvalidInput when the file is not such a
    network."""
    import cv2

    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf

    from retouch.models.runtime import cached_session

    path = Path(model_path)
    if not path.is_file():
        raise InvalidInput(f"depth model {str(path)!r}: no such file")
    try:
        session = cached_session(path, device)
    except (Fail, InvalidGraph, InvalidProtobuf) as error:  # not an ONNX file, or a graph it cannot run
        raise InvalidInput(f"depth model {str(path)!r} could not be loaded: {error}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[1] not in (3, "3"):
        raise InvalidInput(f"depth model {str(path)!r}: expected one 1x3xHxW input, found {[i.shape for i in inputs]}")
    h, w = rgb.shape[:2]
    size = _input_size(inputs[0].shape, w, h)
    tensor = cv2.resize(np.ascontiguousarray(rgb, np.float32), size, interpolation=cv2.INTER_AREA)
    tensor = (tensor - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    try:
        output = session.run(None, {inputs[0].name: tensor.transpose(2, 0, 1)[None]})[0]
    except (Fail, InvalidArgument) as error:  # the input's type or sizes are not what the graph takes
        raise InvalidInput(f"depth model {str(path)!r} did not run: {error}") from None
    disparity = np.squeeze(np.asarray(output, np.float32))
    if disparity.ndim != 2:
        raise InvalidInput(f"depth model {str(path)!r}: expected a 1xHxW output, found {np.shape(output)}")
    disparity = cv2.resize(disparity, (w, h), interpolation=cv2.INTER_LINEAR)
    low, high = float(disparity.min()), float(disparity.max())
    if high - low <= 1e-12:
        return np.zeros((h, w), np.float32)
    return ((disparity - low) / (high - low) * np.float32(RELIEF * max(h, w))).astype(np.float32)


def _input_size(shape: list[int | str], width: int, height: int) -> tuple[int, int]:
    """(width, height) for the network: its own fixed size, or the photo's aspect ratio at about SIDE pixels a
    side in multiples of PATCH."""
    fixed_h, fixed_w = shape[2], shape[3]
    if isinstance(fixed_h, int) and isinstance(fixed_w, int):
        return fixed_w, fixed_h
    scale = SIDE / max(width, height)
    return (max(PATCH, round(width * scale / PATCH) * PATCH), max(PATCH, round(height * scale / PATCH) * PATCH))
