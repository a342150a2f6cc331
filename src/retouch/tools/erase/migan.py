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

from retouch.models.descriptor import SizeRequirements, run_padded
from retouch.tools.interrupt import Heartbeat, terminable
from retouch.types import ProgressCallback, no_progress

# The pipeline resizes to a square inside, so the crop is padded to a square first (aspect ratio kept).
SIZE = SizeRequirements(multiple=8, square=True, pad="symmetric")


@dataclass(frozen=True)
class MiganEngine:
    session: Any  # onnxruntime.InferenceSession: its run() is thread-safe
    # The longest side to give it (the row's EraseConventions.max_side: the network's 512); None: any size.
    max_side: int | None = None
    name: str = "migan"

    steps: int = 1  # one pipeline run: a fraction of a second to a few seconds on a CPU

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
        """image: HxWx3 float32 RGB in [0, 1]; mask: HxW bool, True = hole. Returns HxWx3 float32 in [0, 1],
        quantized to 8 bits: the input outside the hole, MI-GAN's fill inside it. progress: ("migan", 0, 1)
        then (1, 1), repeated while the network runs (it may raise to stop the run within a node)."""
        report = Heartbeat(progress)
        report("migan", 0, 1)
        with terminable(report.beat) as options:
            filled = run_padded(lambda rgb, hole: self._fill(rgb, hole, options), (image, mask), SIZE)
        report("migan", 1, 1)
        return filled

    def _fill(self, image: np.ndarray, hole: np.ndarray, options: Any) -> np.ndarray:
        rgb = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        keep = np.where(hole, 0, 255).astype(np.uint8)
        (result,) = self.session.run(
            ["result"],
            {"image": rgb.transpose(2, 0, 1)[None], "mask": keep[None, None]},
            options,
        )
        return result[0].transpose(1, 2, 0).astype(np.float32) / 255.0


def load_migan(path: Path, device: str = "auto", *, max_side: int | None = None) -> MiganEngine:
    """The MI-GAN pipeline's ONNX session on ``device``, created once per (file, device) by the runtime's cache."""
    from retouch.models.runtime import cached_session

    return MiganEngine(session=cached_session(path, device), max_side=max_side)
