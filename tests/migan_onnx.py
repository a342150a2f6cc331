"""Builds an ONNX file with the signature and conventions of MI-GAN's official pipeline (random weights)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class FakeMiganPipeline(nn.Module):
    """uint8 image [1,3,H,W] + uint8 mask [1,1,H,W] (255 = keep) -> uint8 result, like migan_pipeline_v2.onnx:
    resize to 512, run the network on [mask - 0.5, image * mask], resize back, composite the known pixels."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Conv2d(4, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(8, 3, 3, padding=1), nn.Tanh()
        )

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        img = F.interpolate(image.float(), size=(512, 512), mode="bilinear", align_corners=False) * 2 / 255 - 1
        keep = F.interpolate(mask.float(), size=(512, 512), mode="nearest") / 255
        out = ((self.net(torch.cat([keep - 0.5, img * keep], 1)) * 0.5 + 0.5) * 255).clamp(0, 255)
        out = F.interpolate(out, size=(image.shape[2], image.shape[3]), mode="bilinear", align_corners=False)
        known = mask.float() / 255
        return (image.float() * known + out * (1 - known)).clamp(0, 255).to(torch.uint8)


def write_fake_migan(path: Path) -> FakeMiganPipeline:
    model = FakeMiganPipeline().eval()
    dummy = (torch.full((1, 3, 512, 512), 255, dtype=torch.uint8), torch.full((1, 1, 512, 512), 255, dtype=torch.uint8))
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            dummy,
            str(path),
            input_names=["image", "mask"],
            output_names=["result"],
            dynamic_axes={"image": axes, "mask": axes, "result": axes},
            opset_version=12,
            dynamo=False,
        )
    return model
