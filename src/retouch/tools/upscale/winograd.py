"""RRDBNet in float32 on the CPU with its 3x3 convolutions computed by Winograd's F(4x4, 3x3) (Lavin and Gray,
CVPR 2016): 36 multiplications per 4x4 outputs and input channel instead of 144, so about 2x the reference's
speed without bfloat16 or int8 (the reference's own float32 results within rounding: 120 dB or more).

Each convolution is three steps: the input's 6x6 tiles transformed (``_winograd.input_transform``, C++), 36
matrix products with the transformed weights (``torch.bmm``, MKL), and the products transformed back to pixels
with bias, leaky ReLU, scale and residual fused (``_winograd.output_transform``). A dense block's five
convolutions read its input and every earlier output: each of those is transformed once, into its own columns
of one matrix per position, and each convolution multiplies the leading columns it needs.

Feature maps are channels-last with a zero frame (``_framed``), which is the convolutions' zero padding. The
head enlarges in strips (``networks.in_strips``), as the other runners do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from retouch.models.arch.rrdbnet import NEGATIVE_SLOPE, RESIDUAL_SCALE, RRDBNet
from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.tools.upscale import _winograd

TILE = 4  # output pixels per Winograd tile side
LANES = 16  # channel counts the transforms take are multiples of this
NO_ACTIVATION = 1.0  # a leaky ReLU of slope 1 is the identity
# Rows of trunk features per head strip (each strip also reads 2 rows of context above and below): 16 on narrow
# inputs, whose strips then stay in the caches' reach, 32 on wide ones, where fewer rows would mostly repeat
# context. Measured with x4plus's head on 2 cores: 128 wide, 14.2 s per trunk megapixel at 16 rows, 17.5 at 32;
# 736 wide (a 640-pixel tile and its context), 19.9 at 16 rows, 13.1 at 32, 11.9 at 64 (with twice the memory).
NARROW = 256
HEAD_STRIP_ROWS = {"narrow": 16, "wide": 32}


def head_strip_pixels(width: int) -> int:
    """Trunk pixels per head strip for trunk features ``width`` wide (``networks.in_strips``)."""
    return width * HEAD_STRIP_ROWS["narrow" if width <= NARROW else "wide"]


# G of F(4x4, 3x3): the weights' transform U = G g G^T.
_G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ]
)


def _lanes(channels: int) -> int:
    """Channels rounded up to a multiple of LANES: maps and transformed data carry zero channels up to it."""
    return -(-channels // LANES) * LANES


class _Conv:
    """One 3x3 convolution's transformed weights [36, in, out], bias and activation: the slope of negative
    outputs, one for all channels or one per channel (NO_ACTIVATION, a leaky ReLU's, a PReLU's weights). Its
    input is the maps of ``groups`` channels each (a dense block's input and earlier outputs), each padded to
    _lanes in the transformed data: the weights have zero rows there, and zero columns for the output's own
    padding."""

    def __init__(
        self, conv: torch.nn.Conv2d, groups: list[int] | None = None, slope: float | np.ndarray = NO_ACTIVATION
    ) -> None:
        weight = conv.weight.detach().double().numpy()
        out_channels, in_channels = weight.shape[:2]
        groups = groups or [in_channels]
        assert sum(groups) == in_channels
        self.out_channels = out_channels
        padded = _lanes(out_channels)
        u = np.einsum("ai,ocij,bj->abco", _G, weight, _G).reshape(36, in_channels, out_channels)
        self.weights = torch.zeros(36, sum(_lanes(g) for g in groups), padded)
        row = 0
        for start, count in zip(np.cumsum([0, *groups[:-1]]), groups, strict=True):
            self.weights[:, row : row + count, :out_channels] = torch.from_numpy(u[:, start : start + count])
            row += _lanes(count)
        self.bias = np.zeros(padded, np.float32)
        self.bias[:out_channels] = conv.bias.detach().float().numpy()
        self.slopes = np.full(padded, NO_ACTIVATION, np.float32)
        self.slopes[:out_channels] = slope

    def __call__(
        self,
        data: torch.Tensor,
        products: torch.Tensor,
        out: torch.Tensor,
        size: tuple[int, int],
        scale: float = 1.0,
        residual: torch.Tensor | None = None,
    ) -> None:
        """out's interior = act(this convolution of the maps whose transforms are data's leading columns) *
        scale (+ residual). products: a buffer of at least 36 x tiles x out channels floats."""
        in_channels, out_channels = self.weights.shape[1:]
        result = products[: 36 * data.shape[1] * out_channels].view(36, data.shape[1], out_channels)
        torch.bmm(data[:, :, :in_channels], self.weights, out=result)
        extra = None if residual is None else residual.numpy()
        _winograd.output_transform(result.numpy(), self.bias, self.slopes, out.numpy(), *size, scale, extra)


def _framed(rows: int, cols: int, channels: int) -> torch.Tensor:
    """A zeroed channels-last map for ``rows`` x ``cols`` pixels: a frame of 1 and sides of 4n + 2."""
    return torch.zeros(TILE * -(-rows // TILE) + 2, TILE * -(-cols // TILE) + 2, channels)


def _tiles(rows: int, cols: int) -> int:
    return -(-rows // TILE) * -(-cols // TILE)


def _interior(framed: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    return framed[1 : rows + 1, 1 : cols + 1]


class WinogradRRDBNet:
    """``trunk`` and ``head`` of a loaded RRDBNet, as ``RRDBNet.trunk`` / ``RRDBNet.head`` compute them, on NCHW
    float32 arrays of batch 1."""

    def __init__(self, network: RRDBNet) -> None:
        self.network = network
        features = network.conv_first.out_channels
        grow = network.body[0].rdb1.conv1.out_channels if len(network.body) else 0
        self.features, self.grow = _lanes(features), _lanes(grow)  # channels of the maps, with their padding
        self.blocks = [
            [
                [
                    _Conv(getattr(rdb, f"conv{k}"), [features] + [grow] * (k - 1), NEGATIVE_SLOPE if k < 5 else 1.0)
                    for k in range(1, 6)
                ]
                for rdb in (rrdb.rdb1, rrdb.rdb2, rrdb.rdb3)
            ]
            for rrdb in network.body
        ]
        self.body = _Conv(network.conv_body)
        self.up1 = _Conv(network.conv_up1, slope=NEGATIVE_SLOPE)
        self.up2 = _Conv(network.conv_up2, slope=NEGATIVE_SLOPE)
        self.hr, self.last = _Conv(network.conv_hr, slope=NEGATIVE_SLOPE), _Conv(network.conv_last)

    @torch.inference_mode()
    def trunk(self, batch: np.ndarray, after_block: Callable[[], None], check: Callable[[], None]) -> np.ndarray:
        """Features [1, features, h, w] of the input; ``after_block`` follows each dense block, ``check`` comes
        before each (either may raise to stop)."""
        x = torch.from_numpy(batch)
        if self.network.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.network.unshuffle)
        rows, cols = x.shape[2:]
        size, tiles = (rows, cols), _tiles(rows, cols)
        first = _framed(rows, cols, self.features)
        start = self.network.conv_first(x)[0].permute(1, 2, 0)
        _interior(first, rows, cols)[:, :, : start.shape[2]].copy_(start)
        features = first.clone()
        block_input = torch.empty_like(first)
        grown = [_framed(rows, cols, self.grow) for _ in range(4)]
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
        out = _framed(rows, cols, self.features)
        self.body(data, products, out, size, residual=first)
        real = self.network.conv_body.out_channels
        return np.ascontiguousarray(_interior(out, rows, cols)[:, :, :real].permute(2, 0, 1).numpy()[None])

    def _dense_block(
        self,
        convs: list[_Conv],
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
        the calls of one run (one at a time)."""
        rows, cols = features.shape[2:]
        x = torch.from_numpy(features)[0].permute(1, 2, 0)
        for k, conv in enumerate((self.up1, self.up2, self.hr, self.last)):
            if conv is self.up1 or conv is self.up2:
                rows, cols, x = 2 * rows, 2 * cols, _nearest_x2(x)
            source = _framed_in(buffers.get(k % 2, _framed_size(rows, cols, self.features)), rows, cols, self.features)
            inside = _interior(source, rows, cols)
            inside[:, :, : x.shape[2]].copy_(x)
            inside[:, :, x.shape[2] :].zero_()  # the trunk's features have no padding channels
            size = 36 * _tiles(rows, cols) * self.features
            transformed = buffers.get(2, size).view(36, -1, self.features)
            _winograd.input_transform(source.numpy(), transformed.numpy(), 0)
            channels = conv.weights.shape[2]
            out = _framed_in(buffers.get((k + 1) % 2, _framed_size(rows, cols, channels)), rows, cols, channels)
            conv(transformed, buffers.get(3, 36 * _tiles(rows, cols) * channels), out, (rows, cols))
            x = _interior(out, rows, cols)
        return np.ascontiguousarray(x[:, :, : self.last.out_channels].permute(2, 0, 1).numpy()[None])


class WinogradCompact:
    """A loaded SRVGGNetCompact as its ``forward`` computes it, on NCHW float32 arrays of batch 1."""

    def __init__(self, network: SRVGGNetCompact) -> None:
        self.upscale = network.upscale
        layers = list(network.body)
        self.convs = [_Conv(conv, slope=_slope(act)) for conv, act in zip(layers[:-1:2], layers[1::2], strict=True)]
        self.convs.append(_Conv(layers[-1]))
        self.out_channels = layers[-1].out_channels

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray, after_conv: Callable[[], None], check: Callable[[], None]) -> np.ndarray:
        """The network's output for ``batch``; ``after_conv`` follows each convolution, ``check`` comes before
        each (either may raise to stop)."""
        x = torch.from_numpy(batch)
        rows, cols = x.shape[2:]
        tiles, buffers = _tiles(rows, cols), Buffers()
        source = _framed_in(buffers.get(0, _framed_size(rows, cols, LANES)), rows, cols, LANES)
        inside = _interior(source, rows, cols)
        inside[:, :, : x.shape[1]].copy_(x[0].permute(1, 2, 0))
        inside[:, :, x.shape[1] :].zero_()
        for k, conv in enumerate(self.convs):
            check()
            channels = conv.weights.shape[2]
            data = buffers.get(2, 36 * tiles * source.shape[2]).view(36, tiles, source.shape[2])
            _winograd.input_transform(source.numpy(), data.numpy(), 0)
            out = _framed_in(buffers.get((k + 1) % 2, _framed_size(rows, cols, channels)), rows, cols, channels)
            conv(data, buffers.get(3, 36 * tiles * channels), out, (rows, cols))
            source = out
            after_conv()
        body = _interior(source, rows, cols)[:, :, : self.out_channels].permute(2, 0, 1)[None]
        enlarged = F.interpolate(x, scale_factor=self.upscale, mode="nearest")
        return (F.pixel_shuffle(body, self.upscale) + enlarged).numpy()


def _slope(activation: torch.nn.Module) -> float | np.ndarray:
    """The slope of negative values of one of SRVGGNetCompact's activations (PReLU, ReLU, LeakyReLU)."""
    if isinstance(activation, torch.nn.PReLU):
        return activation.weight.detach().float().numpy()
    if isinstance(activation, torch.nn.LeakyReLU):
        return activation.negative_slope
    return 0.0


class Buffers:
    """Flat float32 work buffers by slot, kept and reused while large enough. Fresh buffers of the head's size
    (tens to hundreds of megabytes) cost more in page faults than the transforms that fill them."""

    def __init__(self) -> None:
        self._slots: dict[int, torch.Tensor] = {}

    def get(self, slot: int, size: int) -> torch.Tensor:
        """At least ``size`` floats (contents undefined), exactly ``size`` long."""
        buffer = self._slots.get(slot)
        if buffer is None or buffer.numel() < size:
            buffer = self._slots[slot] = torch.empty(size)
        return buffer[:size]


def _framed_size(rows: int, cols: int, channels: int) -> int:
    return (TILE * -(-rows // TILE) + 2) * (TILE * -(-cols // TILE) + 2) * channels


def _framed_in(buffer: torch.Tensor, rows: int, cols: int, channels: int) -> torch.Tensor:
    """A framed map (``_framed``) laid in ``buffer`` (``_framed_size`` floats): only its frame and the sides past
    rows / cols are zeroed, since the interior is about to be written."""
    framed = buffer.view(TILE * -(-rows // TILE) + 2, TILE * -(-cols // TILE) + 2, channels)
    framed[0].zero_()
    framed[rows + 1 :].zero_()
    framed[:, 0].zero_()
    framed[:, cols + 1 :].zero_()
    return framed


def _nearest_x2(x: torch.Tensor) -> torch.Tensor:
    """A channels-last map enlarged 2x by repeating pixels (the head's nearest-neighbour interpolation)."""
    rows, cols, channels = x.shape
    return x[:, None, :, None, :].expand(rows, 2, cols, 2, channels).reshape(2 * rows, 2 * cols, channels)
