"""The upscaling networks (RRDBNet and SRVGGNetCompact) in float32 on the CPU with their 3x3 convolutions by
Winograd's F(4x4, 3x3) (``retouch.ops.winograd``): about 2x the reference's speed without bfloat16 or int8, its
float32 results within rounding (within 1 level of 255 on photos).

A dense block's five convolutions read its input and every earlier output: each of those is transformed once,
into its own columns of one matrix per position, and each convolution multiplies the leading columns it needs.
Feature maps have a zero frame, the convolutions' zero padding. The head enlarges in strips
(``networks.in_strips``), as the other runners do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from retouch.models.arch.rrdbnet import NEGATIVE_SLOPE, RESIDUAL_SCALE, RRDBNet
from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.ops import _winograd
from retouch.ops.winograd import (
    LANES,
    NO_ACTIVATION,
    Buffers,
    WinogradConv,
    framed,
    framed_in,
    framed_size,
    interior,
    lanes,
    tile_count,
)

# Rows of trunk features per head strip (each strip also reads 2 rows of context above and below): 16 on narrow
# inputs, whose strips then stay in the caches' reach, 32 on wide ones, where fewer rows would mostly repeat
# context. Measured with x4plus's head on 2 cores: 128 wide, 14.2 s per trunk megapixel at 16 rows, 17.5 at 32;
# 736 wide (a 640-pixel tile and its context), 19.9 at 16 rows, 13.1 at 32, 11.9 at 64 (with twice the memory).
NARROW = 256
HEAD_STRIP_ROWS = {"narrow": 16, "wide": 32}


# Slots of the Buffers of one run: a network's input (or the head's enlarged map), its outputs in turn (never the
# map being read), the transformed data and the products.
INPUT, OUTPUTS, DATA, PRODUCTS = 0, (1, 2), 3, 4


def head_strip_pixels(width: int) -> int:
    """Trunk pixels per head strip for trunk features ``width`` wide (``networks.in_strips``)."""
    return width * HEAD_STRIP_ROWS["narrow" if width <= NARROW else "wide"]


class WinogradRRDBNet:
    """``trunk`` and ``head`` of a loaded RRDBNet, as ``RRDBNet.trunk`` / ``RRDBNet.head`` compute them, on NCHW
    float32 arrays of batch 1."""

    def __init__(self, network: RRDBNet) -> None:
        self.network = network
        features = network.conv_first.out_channels
        grow = network.body[0].rdb1.conv1.out_channels if len(network.body) else 0
        self.features, self.grow = lanes(features), lanes(grow)  # channels of the maps, with their padding
        self.blocks = [
            [
                [
                    _conv(getattr(rdb, f"conv{k}"), [features] + [grow] * (k - 1), NEGATIVE_SLOPE if k < 5 else 1.0)
                    for k in range(1, 6)
                ]
                for rdb in (rrdb.rdb1, rrdb.rdb2, rrdb.rdb3)
            ]
            for rrdb in network.body
        ]
        self.body = _conv(network.conv_body)
        self.up1 = _conv(network.conv_up1, slope=NEGATIVE_SLOPE)
        self.up2 = _conv(network.conv_up2, slope=NEGATIVE_SLOPE)
        self.hr, self.last = _conv(network.conv_hr, slope=NEGATIVE_SLOPE), _conv(network.conv_last)

    @torch.inference_mode()
    def trunk(self, batch: np.ndarray, after_block: Callable[[], None], check: Callable[[], None]) -> np.ndarray:
        """Features [1, features, h, w] of the input; ``after_block`` follows each dense block, ``check`` comes
        before each (either may raise to stop)."""
        x = torch.from_numpy(batch)
        if self.network.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.network.unshuffle)
        rows, cols = x.shape[2:]
        size, tiles = (rows, cols), tile_count(rows, cols)
        first = framed(rows, cols, self.features)
        start = self.network.conv_first(x)[0].permute(1, 2, 0)
        interior(first, rows, cols)[:, :, : start.shape[2]].copy_(start)
        features = first.clone()
        block_input = torch.empty_like(first)
        grown = [framed(rows, cols, self.grow) for _ in range(4)]
        data = torch.empty(36, tiles, self.features + 4 * self.grow)
        products = torch.empty(36 * tiles * self.features)
        for rrdb in self.blocks:
            block_input.copy_(features)
            for convs in rrdb:
                check()
                self._dense_block(convs, features, grown, data, products, size)
                after_block()
            features.mul_(RESIDUAL_SCALE).add_(block_input)  # the RRDB's own residual
        _winograd.input_transform(features.numpy(), data.numpy(), 0)
        out = framed(rows, cols, self.features)
        self.body(data, products, out, size, residual=first)
        real = self.network.conv_body.out_channels
        return np.ascontiguousarray(interior(out, rows, cols)[:, :, :real].permute(2, 0, 1).numpy()[None])

    def _dense_block(
        self,
        convs: list[WinogradConv],
        features: torch.Tensor,
        grown: list[torch.Tensor],
        data: torch.Tensor,
        products: torch.Tensor,
        size: tuple[int, int],
    ) -> None:
        """One residual dense block, in place on ``features``."""
        _winograd.input_transform(features.numpy(), data.numpy(), 0)
        columns = self.features
        for conv, out in zip(convs[:4], grown, strict=True):
            conv(data, products, out, size)
            _winograd.input_transform(out.numpy(), data.numpy(), columns)
            columns += self.grow
        convs[4](data, products, features, size, scale=RESIDUAL_SCALE, residual=features)

    @torch.inference_mode()
    def head(self, features: np.ndarray, buffers: Buffers) -> np.ndarray:
        """The trunk's features [1, features, h, w] to the output [1, 3, 4h, 4w]; ``buffers`` may be shared by
        the calls of one run (one at a time). conv_hr and conv_last read the output before them in place."""
        rows, cols = features.shape[2:]
        small = torch.from_numpy(features)[0].permute(1, 2, 0)
        out: torch.Tensor | None = None
        for k, conv in enumerate((self.up1, self.up2, self.hr, self.last)):
            if conv is self.up1 or conv is self.up2:
                rows, cols = 2 * rows, 2 * cols
                source = framed_in(
                    buffers.get(INPUT, framed_size(rows, cols, self.features)), rows, cols, self.features
                )
                _enlarge_into(interior(source, rows, cols), small)
            else:
                assert out is not None  # conv_hr and conv_last come after the enlargements
                source = out
            out = _apply(conv, source, (rows, cols), buffers, OUTPUTS[k % 2])
            small = interior(out, rows, cols)
        return np.ascontiguousarray(small[:, :, : self.last.out_channels].permute(2, 0, 1).numpy()[None])


class WinogradCompact:
    """A loaded SRVGGNetCompact as its ``forward`` computes it, on NCHW float32 arrays of batch 1."""

    def __init__(self, network: SRVGGNetCompact) -> None:
        self.upscale = network.upscale
        layers = list(network.body)
        self.convs = [_conv(conv, slope=_slope(act)) for conv, act in zip(layers[:-1:2], layers[1::2], strict=True)]
        self.convs.append(_conv(layers[-1]))
        self.out_channels = layers[-1].out_channels

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray, after_conv: Callable[[], None], check: Callable[[], None]) -> np.ndarray:
        """The network's output for ``batch``; ``after_conv`` follows each convolution, ``check`` comes before
        each (either may raise to stop)."""
        x = torch.from_numpy(batch)
        rows, cols = x.shape[2:]
        buffers = Buffers()
        source = framed_in(buffers.get(INPUT, framed_size(rows, cols, LANES)), rows, cols, LANES)
        inside = interior(source, rows, cols)
        inside[:, :, : x.shape[1]].copy_(x[0].permute(1, 2, 0))
        inside[:, :, x.shape[1] :].zero_()
        for k, conv in enumerate(self.convs):
            check()
            source = _apply(conv, source, (rows, cols), buffers, OUTPUTS[k % 2])
            after_conv()
        body = interior(source, rows, cols)[:, :, : self.out_channels].permute(2, 0, 1)[None]
        enlarged = F.interpolate(x, scale_factor=self.upscale, mode="nearest")
        return (F.pixel_shuffle(body, self.upscale) + enlarged).numpy()


def _apply(
    conv: WinogradConv, source: torch.Tensor, size: tuple[int, int], buffers: Buffers, out_slot: int
) -> torch.Tensor:
    """``conv`` of the framed map ``source`` (``size`` = rows, cols), into a framed map in ``buffers``' out_slot."""
    tiles, columns = tile_count(*size), source.shape[2]
    data = buffers.get(DATA, 36 * tiles * columns).view(36, tiles, columns)
    _winograd.input_transform(source.numpy(), data.numpy(), 0)
    channels = conv.weights.shape[2]
    out = framed_in(buffers.get(out_slot, framed_size(*size, channels)), *size, channels)
    conv(data, buffers.get(PRODUCTS, 36 * tiles * channels), out, size)
    return out


def _conv(
    conv: torch.nn.Conv2d, groups: list[int] | None = None, slope: float | np.ndarray = NO_ACTIVATION
) -> WinogradConv:
    return WinogradConv(conv.weight, conv.bias, groups, slope)


def _slope(activation: torch.nn.Module) -> float | np.ndarray:
    """The slope of negative values of one of SRVGGNetCompact's activations (PReLU, ReLU, LeakyReLU)."""
    if isinstance(activation, torch.nn.PReLU):
        return activation.weight.detach().float().numpy()
    if isinstance(activation, torch.nn.LeakyReLU):
        return activation.negative_slope
    return 0.0


def _enlarge_into(target: torch.Tensor, x: torch.Tensor) -> None:
    """``target`` (a channels-last view, 2x the size of ``x``, as many or more channels) = x enlarged 2x by
    repeating pixels (the head's nearest-neighbour interpolation), its channels past x's zeroed."""
    rows, cols, channels = x.shape
    grid = target.unflatten(0, (rows, 2)).unflatten(2, (cols, 2))  # [rows, 2, cols, 2, channels]
    grid[..., :channels].copy_(x[:, None, :, None, :].expand(rows, 2, cols, 2, channels))
    grid[..., channels:].zero_()
