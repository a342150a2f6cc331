"""bfloat16 forms of the upscaling networks, for CPUs that multiply bfloat16 in hardware (x86 AVX512-BF16, AMX).

There oneDNN's bfloat16 convolutions run about twice as fast as float32 ones. The convolutions (weights and
activations, channels-last) are bfloat16, with 8 bits of mantissa; what accumulates stays float32: RRDBNet's
residual stream (the sum every dense block and every RRDB adds to) and the compact networks' final addition of
the enlarged input. Measured on Set5/Set14 inputs against the float32 networks: RRDBNet x4plus 49.7 to 53 dB
(47.7 to 52.5 dB when the residual stream is bfloat16 too), realesr-animevideov3 56 to 58 dB, 8-bit outputs.

Both forms take and return float32 NCHW tensors; the weights are copied (0.2 of RRDBNet's dense-block residual
folded into its last convolution), the float32 network is left as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from retouch.models.arch.rrdbnet import NEGATIVE_SLOPE, RESIDUAL_SCALE, RRDBNet, ResidualDenseBlock
from retouch.models.arch.srvgg import SRVGGNetCompact


def _bf16(x: torch.Tensor) -> torch.Tensor:
    return x.to(dtype=torch.bfloat16, memory_format=torch.channels_last)


class Bf16RRDBNet(nn.Module):
    """RRDBNet with bfloat16 convolutions and a float32 residual stream; ``trunk`` and ``head`` as RRDBNet's."""

    def __init__(self, network: RRDBNet) -> None:
        super().__init__()
        net = copy.deepcopy(network)
        with torch.no_grad():
            for block in net.body:
                for rdb in (block.rdb1, block.rdb2, block.rdb3):
                    rdb.conv5.weight.mul_(RESIDUAL_SCALE)
                    rdb.conv5.bias.mul_(RESIDUAL_SCALE)
        self.net = net.to(dtype=torch.bfloat16, memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))

    def trunk(self, x: torch.Tensor, after_block: Callable[[], None] | None = None) -> torch.Tensor:
        """The trunk's features; ``after_block`` is called after each dense block (progress)."""
        net = self.net
        if net.unshuffle > 1:
            x = F.pixel_unshuffle(x, net.unshuffle)
        first = net.conv_first(_bf16(x)).float()
        stream = first
        for block in net.body:
            inner = stream
            for rdb in (block.rdb1, block.rdb2, block.rdb3):
                inner = inner + _dense_residual(rdb, inner)
                if after_block is not None:
                    after_block()
            stream = torch.add(stream, inner, alpha=RESIDUAL_SCALE)
        return first + net.conv_body(_bf16(stream)).float()

    def head(self, feat: torch.Tensor) -> torch.Tensor:
        return self.net.head(_bf16(feat)).float()


def _dense_residual(rdb: ResidualDenseBlock, x: torch.Tensor) -> torch.Tensor:
    """0.2 x the dense block's last convolution (folded into its weights), as float32."""
    features = [_bf16(x)]
    for conv in (rdb.conv1, rdb.conv2, rdb.conv3, rdb.conv4):
        features.append(F.leaky_relu(conv(torch.cat(features, 1)), NEGATIVE_SLOPE, inplace=True))
    return rdb.conv5(torch.cat(features, 1)).float()


class Bf16SRVGGNetCompact(nn.Module):
    """SRVGGNetCompact with its body in bfloat16 and the enlarged input added in float32."""

    def __init__(self, network: SRVGGNetCompact) -> None:
        super().__init__()
        self.net = copy.deepcopy(network).to(dtype=torch.bfloat16, memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor, after_conv: Callable[[], None] | None = None) -> torch.Tensor:
        """``after_conv`` is called after each convolution of the body (progress)."""
        out = _bf16(x)
        for layer in self.net.body:
            out = layer(out)
            if after_conv is not None and isinstance(layer, nn.Conv2d):
                after_conv()
        base = F.interpolate(x, scale_factor=self.net.upscale, mode="nearest")
        return self.net.upsampler(out).float() + base
