"""SRVGGNetCompact (Real-ESRGAN's compact models: realesr-animevideov3, realesr-general-x4v3).

A plain stack of 3x3 convolutions and activations at the input's resolution; the last convolution makes
``upscale**2`` sub-pixels per output channel, a pixel shuffle puts them in place, and the nearest-neighbour
enlargement of the input is added (the network predicts the residual).

Attribute names follow the official checkpoints: one ``body`` list with convolutions at even indices and
activations at odd ones (``body.1.weight`` is a PReLU's slopes), ending with the last convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = ("prelu", "relu", "leakyrelu")
LEAKY_SLOPE = 0.1  # the official 'leakyrelu' activation


class SRVGGNetCompact(nn.Module):
    def __init__(
        self,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        num_feat: int = 64,
        num_conv: int = 16,
        upscale: int = 4,
        act_type: str = "prelu",
    ) -> None:
        super().__init__()
        if act_type not in ACTIVATIONS:
            raise ValueError(f"SRVGGNetCompact act_type must be one of {ACTIVATIONS}, got {act_type!r}")
        self.upscale = upscale
        layers: list[nn.Module] = []
        for index in range(num_conv + 1):
            layers.append(nn.Conv2d(num_in_ch if index == 0 else num_feat, num_feat, 3, 1, 1))
            layers.append(_activation(act_type, num_feat))
        layers.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(upscale)

    @property
    def scale(self) -> int:
        return self.upscale

    @property
    def size_multiple(self) -> int:
        return 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


def _activation(act_type: str, channels: int) -> nn.Module:
    if act_type == "prelu":
        return nn.PReLU(num_parameters=channels)
    if act_type == "relu":
        return nn.ReLU(inplace=True)
    return nn.LeakyReLU(negative_slope=LEAKY_SLOPE, inplace=True)
