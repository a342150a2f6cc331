"""An ONNX file with the signature of Depth-Anything-V2-Small as onnx-community exports it ("pixel_values"
1x3xHxW, H and W dynamic, in; "predicted_depth" 1xHxW out) and a simple rule inside: the depth is the red
channel, un-normalized back to [0, 1] (red is near)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from retouch.tools.relight.depth import MEAN, STD


class RedIsNear(nn.Module):
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels[:, 0] * STD[0] + MEAN[0]


def write_fake_depth_network(path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            RedIsNear().eval(),
            (torch.zeros(1, 3, 518, 518),),
            str(path),
            input_names=["pixel_values"],
            output_names=["predicted_depth"],
            dynamic_axes={"pixel_values": {2: "height", 3: "width"}, "predicted_depth": {1: "height", 2: "width"}},
            opset_version=13,
            dynamo=False,
        )
    return path
