"""3x3 convolutions (stride 1, a border of 1) in float32 by Winograd's F(4x4, 3x3) (Lavin and Gray, CVPR 2016):
36 multiplications per 4x4 outputs and input channel instead of 144, the direct convolution's results within
float32 rounding, for networks whose float32 convolutions are most of their time on a CPU (the upscalers:
``tools.upscale.winograd``). The transformed weights take 4 times the memory of the direct ones: LaMa's
bottleneck in this form ran 1.2x faster for 0.59 GB more resident memory, and was left direct.

A convolution is three steps: the input's 6x6 tiles transformed (``_winograd.input_transform``, C++), 36 matrix
products with the transformed weights (``torch.bmm``, MKL), and the products transformed back to pixels with
bias, activation, scale and residual fused (``_winograd.output_transform``). Maps are channels-last with a frame
of one pixel, which is the convolution's padding (``framed``: zeros), and sides of 4n + 2; channel counts are
padded to multiples of LANES.
"""

from __future__ import annotations

import numpy as np
import torch

from retouch.ops import _winograd

TILE = 4  # output pixels per Winograd tile side
LANES = 16  # channel counts the transforms take are multiples of this
NO_ACTIVATION = 1.0  # a leaky ReLU of slope 1 is the identity

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


def lanes(channels: int) -> int:
    """Channels rounded up to a multiple of LANES: maps and transformed data carry zero channels up to it."""
    return -(-channels // LANES) * LANES


class WinogradConv:
    """One 3x3 convolution's transformed weights [36, in, out], bias and activation: the slope of negative
    outputs, one for all channels or one per channel (NO_ACTIVATION, a leaky ReLU's, a PReLU's weights). Its
    input is the maps of ``groups`` channels each (a dense block's input and earlier outputs), each padded to
    _lanes in the transformed data: the weights have zero rows there, and zero columns for the output's own
    padding."""

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        groups: list[int] | None = None,
        slope: float | np.ndarray = NO_ACTIVATION,
    ) -> None:
        weight = weight.detach().double().numpy()
        out_channels, in_channels = weight.shape[:2]
        groups = groups or [in_channels]
        assert sum(groups) == in_channels
        self.out_channels = out_channels
        padded = lanes(out_channels)
        u = np.einsum("ai,ocij,bj->abco", _G, weight, _G).reshape(36, in_channels, out_channels)
        self.weights = torch.zeros(36, sum(lanes(g) for g in groups), padded)
        row = 0
        for start, count in zip(np.cumsum([0, *groups[:-1]]), groups, strict=True):
            self.weights[:, row : row + count, :out_channels] = torch.from_numpy(u[:, start : start + count])
            row += lanes(count)
        self.bias = np.zeros(padded, np.float32)
        if bias is not None:
            self.bias[:out_channels] = bias.detach().float().numpy()
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


def framed(rows: int, cols: int, channels: int) -> torch.Tensor:
    """A zeroed channels-last map for ``rows`` x ``cols`` pixels: a frame of 1 and sides of 4n + 2."""
    return torch.zeros(TILE * -(-rows // TILE) + 2, TILE * -(-cols // TILE) + 2, channels)


def tile_count(rows: int, cols: int) -> int:
    return -(-rows // TILE) * -(-cols // TILE)


def interior(framed: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    return framed[1 : rows + 1, 1 : cols + 1]


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


def framed_size(rows: int, cols: int, channels: int) -> int:
    return (TILE * -(-rows // TILE) + 2) * (TILE * -(-cols // TILE) + 2) * channels


def framed_in(buffer: torch.Tensor, rows: int, cols: int, channels: int) -> torch.Tensor:
    """A framed map (``framed``) laid in ``buffer`` (``_framed_size`` floats): only its frame and the sides past
    rows / cols are zeroed, since the interior is about to be written."""
    framed = buffer.view(TILE * -(-rows // TILE) + 2, TILE * -(-cols // TILE) + 2, channels)
    framed[0].zero_()
    framed[rows + 1 :].zero_()
    framed[:, 0].zero_()
    framed[:, cols + 1 :].zero_()
    return framed
