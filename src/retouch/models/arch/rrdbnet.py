"""RRDBNet (ESRGAN, Wang et al. 2018; Real-ESRGAN, Wang et al. 2021): residual-in-residual dense blocks.

Attribute names follow the official checkpoints (``conv_first``, ``body.N.rdbK.convM``, ``conv_body``, ``conv_up1``,
``conv_up2``, ``conv_hr``, ``conv_last``), so a ``params`` / ``params_ema`` state dict from a Real-ESRGAN release
loads unchanged with ``strict=True``. Modules are registered in the order the forward pass uses them, which is
also the order of the convolutions in an ncnn export of the network (``retouch.models.ncnn`` relies on it).

The trunk works at the input's resolution (scale 4), or on the input folded by pixel-unshuffle into 4 (scale 2)
or 16 (scale 1) times the channels; two nearest-neighbour x2 enlargements then bring it to 4x the trunk's size.
For scale 2 and 1 the input's sides must therefore be multiples of 2 and 4: the caller pads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NEGATIVE_SLOPE = 0.2  # every LeakyReLU of the network
RESIDUAL_SCALE = 0.2  # dense blocks and RRDBs add 0.2 x their residual


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing the block's input and every earlier output (dense connections)."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        for index in range(1, 5):
            setattr(self, f"conv{index}", nn.Conv2d(num_feat + (index - 1) * num_grow_ch, num_grow_ch, 3, 1, 1))
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            features.append(F.leaky_relu(conv(torch.cat(features, 1)), NEGATIVE_SLOPE))
        return torch.add(x, self.conv5(torch.cat(features, 1)), alpha=RESIDUAL_SCALE)


class RRDB(nn.Module):
    """Three dense blocks in a row, wrapped in one more scaled residual connection."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(x, self.rdb3(self.rdb2(self.rdb1(x))), alpha=RESIDUAL_SCALE)


class RRDBNet(nn.Module):
    """The generator of ESRGAN / Real-ESRGAN. ``scale``: 4, 2 or 1 (the output is ``scale`` times the input)."""

    def __init__(
        self,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        scale: int = 4,
        num_feat: int = 64,
        num_block: int = 23,
        num_grow_ch: int = 32,
    ) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBNet scale must be 1, 2 or 4, got {scale}")
        self.scale = scale
        self.unshuffle = 4 // scale  # pixel-unshuffle factor of the input: 1, 2 or 4
        self.conv_first = nn.Conv2d(num_in_ch * self.unshuffle**2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(num_feat, num_grow_ch) for _ in range(num_block)))
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this (the pixel-unshuffle factor)."""
        return self.unshuffle

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The input to ``num_feat`` features at the trunk's resolution: nearly all of the work."""
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        feat = self.conv_first(x)
        return feat + self.conv_body(self.body(feat))

    def head(self, feat: torch.Tensor) -> torch.Tensor:
        """The trunk's features to the output, 4x their size: two enlargements and four convolutions."""
        feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), NEGATIVE_SLOPE)
        feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), NEGATIVE_SLOPE)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), NEGATIVE_SLOPE))
