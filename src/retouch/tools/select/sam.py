"""A promptable segmenter, when one is installed: SAM's ONNX pair (the ``segment`` rows of the registry, e.g.
mobile-sam). The image encoder runs once per photo; the prompt decoder turns clicks and a box into a mask.

The encoder takes the photo resized to a long side of ``SIDE`` as HxWx3 float32 RGB 0-255 (its graph normalises
and pads); the decoder is segment-anything's ONNX export: image_embeddings, point_coords (1xNx2, in the resized
photo's pixels), point_labels (1xN: 1 add, 0 remove, 2 and 3 the box's corners, -1 padding when there is no box),
mask_input (1x1x256x256) with has_mask_input 0, orig_im_size (H, W); its first output holds mask logits at the
photo's size, positive = the object, and when it gives several masks the one with the best predicted IoU is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from retouch.models.spec import ModelSpec
from retouch.tools.select.prompts import Click

SIDE = 1024
LOW_RES = 256  # the decoder's mask_input side


@dataclass(frozen=True)
class Sam:
    spec: ModelSpec
    encoder: Any  # onnxruntime.InferenceSession
    decoder: Any

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, rgb: np.ndarray, clicks: list[Click], box: tuple[int, int, int, int] | None) -> np.ndarray:
        """The HxW bool mask of the object the prompts point at in ``rgb`` (HxWx3 float32 in [0, 1])."""
        import cv2

        height, width = rgb.shape[:2]
        scale = SIDE / max(height, width)
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        pixels = np.ascontiguousarray(np.clip(resized, 0.0, 1.0) * np.float32(255.0), dtype=np.float32)
        embedding = self.encoder.run(None, {self.encoder.get_inputs()[0].name: pixels})[0]
        points, labels = prompt_arrays(clicks, box, (size[0] / width, size[1] / height))
        outputs = self.decoder.run(
            None,
            {
                "image_embeddings": embedding.astype(np.float32, copy=False),
                "point_coords": points,
                "point_labels": labels,
                "mask_input": np.zeros((1, 1, LOW_RES, LOW_RES), np.float32),
                "has_mask_input": np.zeros(1, np.float32),
                "orig_im_size": np.array([height, width], np.float32),
            },
        )
        masks = np.asarray(outputs[0])
        best = int(np.argmax(outputs[1][0])) if masks.shape[1] > 1 else 0
        return masks[0, best] > 0.0


def prompt_arrays(
    clicks: list[Click], box: tuple[int, int, int, int] | None, scale: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's point_coords (1xNx2, in the resized photo's pixels) and point_labels (1xN)."""
    coords = [(c.x + 0.5, c.y + 0.5) for c in clicks]
    labels = [1.0 if c.positive else 0.0 for c in clicks]
    if box is None:  # the export expects the padding point when no box is given
        coords.append((0.0, 0.0))
        labels.append(-1.0)
    else:
        x, y, w, h = box
        coords += [(x, y), (x + w, y + h)]
        labels += [2.0, 3.0]
    points = np.array(coords, np.float32) * np.array(scale, np.float32)
    return points[None], np.array(labels, np.float32)[None]


def installed_sam(model: str | None) -> ModelSpec | None:
    """The segment row to use: ``model`` when it names one, the first installed one for None or "auto", else
    None (the cutout pipeline then selects, with ``model`` as its cutout network)."""
    from retouch.models.registry import get_spec, list_models
    from retouch.models.weights import is_installed

    if model is None or model == "auto":
        return next((spec for spec in list_models("segment") if spec.permissive and is_installed(spec)), None)
    spec = get_spec(model)
    return spec if spec.task == "segment" else None


def load_sam(spec: ModelSpec, device: str) -> Sam:
    """The encoder and decoder sessions (created once per file and device, shared between threads)."""
    from retouch.models.runtime import cached_session
    from retouch.models.weights import resolve_files

    files = resolve_files(spec, allow_download=False)
    encoder, decoder = (files[wf.filename] for wf in spec.files)  # the row lists the encoder first
    return Sam(spec=spec, encoder=cached_session(encoder, device), decoder=cached_session(decoder, device))
