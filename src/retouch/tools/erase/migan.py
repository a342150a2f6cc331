"""MI-GAN through its official ONNX pipeline (migan_pipeline_v2.onnx).

The pipeline's contract (Picsart-AI-Research/MI-GAN, scripts/create_onnx_pipeline.py): inputs ``image`` uint8
[1, 3, H, W] RGB and ``mask`` uint8 [1, 1, H, W] with 255 = keep and 0 = hole; it resizes to its 512x512 network
internally and returns ``result`` uint8 [1, 3, H, W] with the known pixels composited back. Its internal resize is
to a square, so we pad our crop to a square first to keep the aspect ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retouch.ops.pad import crop_back, pad_to_multiple

NETWORK_SIDE = 512


@dataclass(frozen=True)
class MiganEngine:
    session: Any  # onnxruntime.InferenceSession: its run() is thread-safe
    name: str = "migan"
    max_side: int | None = NETWORK_SIDE

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        square, original = pad_to_multiple(image, 8, square=True)
        hole, _ = pad_to_multiple(mask, 8, square=True)
        rgb = (np.clip(square, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        keep = np.where(hole, 0, 255).astype(np.uint8)
        (result,) = self.session.run(
            ["result"],
            {"image": rgb.transpose(2, 0, 1)[None], "mask": keep[None, None]},
        )
        filled = result[0].transpose(1, 2, 0).astype(np.float32) / 255.0
        return crop_back(filled, original)


def load_migan(path: Path, device: str = "auto") -> MiganEngine:
    from retouch.models.runtime import onnx_session

    return MiganEngine(session=onnx_session(path, device))
