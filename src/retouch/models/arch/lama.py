"""LaMa's generator (Suvorov et al. 2021): a ResNet of fast Fourier convolutions, big-lama configuration.

Two forms of the same network:

- ``LamaGenerator``: the network as trained. Its attribute names and ``model.N`` indices are those of the official
  ``FFCResNetGenerator`` (advimman/lama, saicinpainting/training/modules/ffc.py), so the official state dict loads
  unchanged (``load_state_dict(strict=True)``): 989 tensors, 50,975,875 parameters for big-lama.
- ``FastLama`` (built by ``LamaGenerator.fused()``): the same function rearranged for inference on CPUs. Every
  BatchNorm is folded into the convolution before it; the two 3x3 convolutions feeding each local branch become
  one over the whole stream; activations are channels-last (oneDNN's fast layout); the 7x7 RGB output convolution,
  slow with only 3 outputs, becomes a 1x7 convolution with 21 outputs and a shifted sum. The encoder and bottleneck
  convolutions may run in bfloat16; the residual stream, the Fourier transforms and the decoder (whose rounding
  errors land straight in the output pixels) stay in float32.

An FFC splits its channels into a local part (ordinary 3x3 convolutions) and a global part (a spectral transform:
1x1 convolution in the 2-D Fourier domain, whose receptive field is the whole image). big-lama's settings
(configs/training/big-lama.yaml): input 4 channels (RGB with the hole zeroed, then the mask), output 3 (sigmoid),
64 base features, 3 stride-2 downsamplings, 18 residual blocks at 512 features of which 75 % are global, reflect
padding, no local Fourier unit (enable_lfu false).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

Pair = tuple[torch.Tensor, torch.Tensor | None]


@dataclass(frozen=True)
class LamaConfig:
    """The generator's shape. The defaults are big-lama's; the tests shrink ``n_blocks`` for speed."""

    input_nc: int = 4
    output_nc: int = 3
    ngf: int = 64
    n_downsampling: int = 3
    n_blocks: int = 18
    global_ratio: float = 0.75  # resnet_conv_kwargs ratio_gin = ratio_gout; the last downsampling's ratio_gout
    max_features: int = 1024


class FourierUnit(nn.Module):
    """1x1 convolution + BN + ReLU applied to the real and imaginary parts of the 2-D real FFT (ortho norm)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(channels * 2, channels * 2, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(channels * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spectrum = _spectrum_channels(x)
        spectrum = F.relu(self.bn(self.conv_layer(spectrum)))
        return _from_spectrum_channels(spectrum, x.shape[-2:])


def _spectrum_channels(x: torch.Tensor) -> torch.Tensor:
    """rfft2 of (B, C, H, W) as real (B, 2C, H, W//2+1), channels interleaved (c0.re, c0.im, c1.re, ...)."""
    spectrum = torch.fft.rfft2(x.float(), norm="ortho")
    parts = torch.stack((spectrum.real, spectrum.imag), dim=2)  # (B, C, 2, H, W')
    return parts.flatten(1, 2)


def _from_spectrum_channels(parts: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """The inverse of ``_spectrum_channels``: irfft2 back to the spatial ``size``."""
    batch, channels2, height, width = parts.shape
    parts = parts.float().reshape(batch, channels2 // 2, 2, height, width)
    spectrum = torch.complex(parts[:, :, 0], parts[:, :, 1])
    return torch.fft.irfft2(spectrum, s=tuple(size), norm="ortho")


class SpectralTransform(nn.Module):
    """The global-to-global path: 1x1 conv halving the channels, Fourier unit, residual, 1x1 conv back."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        hidden = out_channels // 2
        # Index names 0/1 of this Sequential are part of the official parameter names (conv1.0, conv1.1).
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size=1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU()
        )
        self.fu = FourierUnit(hidden)
        self.conv2 = nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(x + self.fu(x))


def _reflect_conv(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False, padding_mode="reflect")


class FFC(nn.Module):
    """A fast Fourier convolution. Only the paths with channels on both ends exist (official: nn.Identity)."""

    def __init__(
        self, cin: int, cout: int, kernel: int, ratio_gin: float, ratio_gout: float, stride: int = 1, padding: int = 0
    ) -> None:
        super().__init__()
        in_g = int(cin * ratio_gin)
        out_g = int(cout * ratio_gout)
        in_l, out_l = cin - in_g, cout - out_g
        if in_l and out_l:
            self.convl2l = _reflect_conv(in_l, out_l, kernel, stride, padding)
        if in_l and out_g:
            self.convl2g = _reflect_conv(in_l, out_g, kernel, stride, padding)
        if in_g and out_l:
            self.convg2l = _reflect_conv(in_g, out_l, kernel, stride, padding)
        if in_g and out_g:
            self.convg2g = SpectralTransform(in_g, out_g)  # stride 1 everywhere in big-lama

    def forward(self, x: Pair) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        x_l, x_g = x
        out_l = _sum(_apply(self, "convl2l", x_l), _apply(self, "convg2l", x_g))
        out_g = _sum(_apply(self, "convl2g", x_l), _apply(self, "convg2g", x_g))
        return out_l, out_g


def _apply(owner: nn.Module, name: str, x: torch.Tensor | None) -> torch.Tensor | None:
    layer = getattr(owner, name, None)
    return None if layer is None or x is None else layer(x)


def _sum(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


class FFC_BN_ACT(nn.Module):  # noqa: N801 - the official class name, kept so the structure is recognisable
    """FFC, then BatchNorm and ReLU on each of the local and global outputs that exist."""

    def __init__(
        self, cin: int, cout: int, kernel: int, ratio_gin: float, ratio_gout: float, stride: int = 1, padding: int = 0
    ) -> None:
        super().__init__()
        self.ffc = FFC(cin, cout, kernel, ratio_gin, ratio_gout, stride, padding)
        out_g = int(cout * ratio_gout)
        if cout - out_g:
            self.bn_l = nn.BatchNorm2d(cout - out_g)
        if out_g:
            self.bn_g = nn.BatchNorm2d(out_g)

    def forward(self, x: Pair) -> Pair:
        out_l, out_g = self.ffc(x)
        out_l = _apply(self, "bn_l", out_l)
        out_g = _apply(self, "bn_g", out_g)
        assert out_l is not None  # every FFC in this network has a local output
        return F.relu(out_l), None if out_g is None else F.relu(out_g)


class FFCResnetBlock(nn.Module):
    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.conv1 = FFC_BN_ACT(dim, dim, 3, ratio, ratio, padding=1)
        self.conv2 = FFC_BN_ACT(dim, dim, 3, ratio, ratio, padding=1)

    def forward(self, x: Pair) -> Pair:
        y = self.conv2(self.conv1(x))
        return x[0] + y[0], _sum(x[1], y[1])


class _Stem(nn.Module):
    """Official index 0: ReflectionPad2d(3) before the 7x7 FFC. Holds no weights."""

    def forward(self, x: torch.Tensor) -> Pair:
        return F.pad(x, (3, 3, 3, 3), mode="reflect"), None


class ConcatTupleLayer(nn.Module):
    """Official index 23: joins the local and global channels (local first) into one tensor."""

    def forward(self, x: Pair) -> torch.Tensor:
        return x[0] if x[1] is None else torch.cat((x[0], x[1]), dim=1)


class LamaGenerator(nn.Module):
    """The LaMa FFC-ResNet generator. Input: (B, 4, H, W) = cat(image * (1 - mask), mask), H and W multiples of
    ``2 ** n_downsampling``; output (B, 3, H, W) RGB in [0, 1]."""

    def __init__(self, config: LamaConfig = LamaConfig()) -> None:
        super().__init__()
        self.config = config
        c = config
        ngf, cap = c.ngf, c.max_features
        layers: list[nn.Module] = [_Stem(), FFC_BN_ACT(c.input_nc, ngf, 7, 0, 0)]
        for i in range(c.n_downsampling):
            last = i == c.n_downsampling - 1
            cin, cout = min(cap, ngf * 2**i), min(cap, ngf * 2 ** (i + 1))
            layers.append(FFC_BN_ACT(cin, cout, 3, 0, c.global_ratio if last else 0, stride=2, padding=1))
        dim = min(cap, ngf * 2**c.n_downsampling)
        layers += [FFCResnetBlock(dim, c.global_ratio) for _ in range(c.n_blocks)]
        layers.append(ConcatTupleLayer())
        for i in range(c.n_downsampling):
            cin, cout = min(cap, ngf * 2 ** (c.n_downsampling - i)), min(cap, ngf * 2 ** (c.n_downsampling - i - 1))
            up = nn.ConvTranspose2d(cin, cout, kernel_size=3, stride=2, padding=1, output_padding=1)
            layers += [up, nn.BatchNorm2d(cout), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c.output_nc, kernel_size=7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.model:  # tuples flow between the FFC layers, tensors elsewhere
            out = layer(out)
        return out

    def fused(self, *, bf16: bool = False) -> FastLama:
        """The inference form of this network: a new module built from the current weights (read in eval mode)."""
        return FastLama(self, bf16=bf16)


# --------------------------------------------------------------------------------------------------------------
# Inference form


def _folded(
    weight: torch.Tensor, bn: nn.BatchNorm2d, bias: torch.Tensor | None = None, dim: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of a convolution followed by an eval-mode BatchNorm on the weight's output axis ``dim``."""
    weight = weight.detach().float()
    channels = weight.shape[dim]
    bias = torch.zeros(channels, device=weight.device) if bias is None else bias.detach().float()
    assert bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
    shape = [1] * weight.ndim
    shape[dim] = channels
    return weight * scale.reshape(shape), (bias - bn.running_mean.float()) * scale + bn.bias.detach().float()


class _Conv(nn.Module):
    """Reflect padding, then a convolution whose weights are stored in the compute dtype (input cast to it)."""

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None, dtype: torch.dtype, *, stride: int = 1, reflect: int = 0
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight.to(dtype).contiguous(memory_format=torch.channels_last))
        self.register_buffer("bias", None if bias is None else bias.to(dtype))
        self.stride, self.reflect = stride, reflect

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.weight.dtype)
        if self.reflect:
            x = F.pad(x, (self.reflect,) * 4, mode="reflect")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


class _Up(nn.Module):
    """ConvTranspose2d(3, stride 2, padding 1, output_padding 1) with the following BatchNorm folded in, then ReLU;
    in float32."""

    def __init__(self, up: nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        weight, bias = _folded(up.weight, bn, up.bias, dim=1)  # transposed weights are (in, out, kh, kw)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().contiguous(memory_format=torch.channels_last)
        return F.relu(F.conv_transpose2d(x, self.weight, self.bias, stride=2, padding=1, output_padding=1))


class _Head(nn.Module):
    """ReflectionPad2d(3) + 7x7 convolution to RGB + sigmoid, in float32.

    A 7x7 convolution with only 3 outputs runs far below the machine's speed, so it is computed as one 1x7
    convolution with 7 x 3 outputs (one group per kernel row) whose row groups are then summed, shifted by their
    row: the same sum of products in a different order.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        weight = conv.weight.detach().float()  # (out, in, 7, 7)
        out, cin, rows, cols = weight.shape
        by_row = weight.permute(2, 0, 1, 3).reshape(rows * out, cin, 1, cols)  # channel r * out + c: row r of c
        self.register_buffer("rows", by_row.contiguous(memory_format=torch.channels_last))
        assert conv.bias is not None
        self.register_buffer("bias", conv.bias.detach().float().reshape(1, out, 1, 1))
        self.out, self.kernel = out, rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.kernel // 2
        x = F.pad(x.float(), (pad,) * 4, mode="reflect")
        partial = F.conv2d(x, self.rows).contiguous()  # (B, rows * out, H + 2 pad, W)
        height = partial.shape[-2] - 2 * pad
        total = self.bias + partial[:, : self.out, :height]
        for r in range(1, self.kernel):
            total = total + partial[:, r * self.out : (r + 1) * self.out, r : r + height]
        return torch.sigmoid(total)


class _FastFFC(nn.Module):
    """One residual-block FFC with its BatchNorms folded, on the stream cat(local, global) of the bottleneck.

    The stream is channels-last, so each pixel's channels are one row of an (H*W, C) matrix: the 1x1
    convolutions of the spectral transform are single matrix products on views of it (no layout conversions),
    the stream is reflect-padded once for both 3x3 convolutions, and the outputs are written into the new stream
    in place (no concatenation).
    """

    def __init__(self, layer: FFC_BN_ACT, dtype: torch.dtype) -> None:
        super().__init__()
        ffc = layer.ffc
        spectral = ffc.convg2g
        self.n_local = ffc.convl2l.weight.shape[0]
        self.dtype = dtype
        # local = l2l(x_l) + g2l(x_g): one convolution over both parts of the stream.
        weight = torch.cat((ffc.convl2l.weight, ffc.convg2l.weight), dim=1)
        self.to_local = _Conv(*_folded(weight, layer.bn_l), dtype)
        # global = bn_g(l2g(x_l) + conv2(h + fourier(h))): bn_g's scale goes into both convolutions.
        self.local_to_global = _Conv(*_folded(ffc.convl2g.weight, layer.bn_g), dtype)
        # The 1x1 convolutions as matrices: spectral_in (hidden, global) and fourier (2 hidden, 2 hidden) applied
        # from the left to channel-major data; spectral_out transposed, (hidden, global), applied from the right.
        weight, bias = _folded(spectral.conv1[0].weight, spectral.conv1[1])
        self.register_buffer("spectral_in", weight[:, :, 0, 0].to(dtype).contiguous())
        self.register_buffer("spectral_in_bias", bias.to(dtype)[:, None])
        self.register_buffer("spectral_out", _folded(spectral.conv2.weight, layer.bn_g)[0][:, :, 0, 0].t().to(dtype).contiguous())
        # The Fourier unit's channels are interleaved (c0.re, c0.im, c1.re, ...); permute its 1x1 convolution to
        # (all real parts, then all imaginary parts) so the spectrum needs no interleaving.
        weight, bias = _folded(spectral.fu.conv_layer.weight, spectral.fu.bn)
        order = torch.cat((torch.arange(0, weight.shape[0], 2), torch.arange(1, weight.shape[0], 2)))
        self.register_buffer("fourier", weight[order][:, order][:, :, 0, 0].to(dtype).contiguous())
        self.register_buffer("fourier_bias", bias[order].to(dtype)[:, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        n_local, n_global = self.n_local, channels - self.n_local
        dtype = self.dtype
        padded = F.pad(x.to(dtype), (1, 1, 1, 1), mode="reflect")
        local = self.to_local(padded)
        to_global = self.local_to_global(padded[:, :n_local]).permute(0, 2, 3, 1)  # (B, H, W, global), contiguous
        out = torch.empty_like(x, dtype=torch.float32, memory_format=torch.channels_last)
        rows = out.permute(0, 2, 3, 1)  # (B, H, W, C): the same memory
        _relu_into(rows[..., :n_local], local.permute(0, 2, 3, 1))
        stream = x.permute(0, 2, 3, 1)
        for b in range(batch):
            x_g = stream[b, :, :, n_local:].reshape(height * width, n_global).to(dtype)  # a view for float32
            hidden = torch.addmm(self.spectral_in_bias, self.spectral_in, x_g.t()).relu_().float()  # (hid, H*W)
            hidden = hidden.view(-1, height, width)
            spectrum = torch.fft.rfft2(hidden, norm="ortho")
            parts = torch.cat((spectrum.real, spectrum.imag)).flatten(1).to(dtype)
            parts = torch.addmm(self.fourier_bias, self.fourier, parts).relu_().float()
            real, imag = parts.view(2, -1, *spectrum.shape[-2:])
            mixed = torch.fft.irfft2(torch.complex(real, imag), s=(height, width), norm="ortho").add_(hidden)
            global_ = to_global[b].reshape(height * width, n_global)
            global_ = global_.addmm_(mixed.flatten(1).to(dtype).t(), self.spectral_out)
            _relu_into(rows[b, :, :, n_local:], global_.view(height, width, n_global))
        return out


def _relu_into(target: torch.Tensor, x: torch.Tensor) -> None:
    """target[...] = relu(x), target a float32 view."""
    if x.dtype == target.dtype:
        torch.clamp_min(x, 0, out=target)
    else:
        target.copy_(x).clamp_min_(0)


class FastLama(nn.Module):
    """``LamaGenerator`` rearranged for inference (see the module docstring): same input, same output.

    With ``bf16`` the encoder and bottleneck convolutions take bfloat16 inputs and weights (oneDNN runs them at
    twice the float32 rate on CPUs with AVX512-BF16 or AMX); the residual stream, the Fourier transforms and the
    decoder stay float32.
    Holds no state that changes during ``forward``: one instance may serve concurrent calls.
    """

    def __init__(self, generator: LamaGenerator, *, bf16: bool = False) -> None:
        super().__init__()
        dtype = torch.bfloat16 if bf16 else torch.float32
        c = generator.config
        layers = list(generator.model)
        stem = layers[1]
        self.stem = _Conv(*_folded(stem.ffc.convl2l.weight, stem.bn_l), dtype, reflect=3)
        downs = []
        for layer in layers[2 : 2 + c.n_downsampling]:
            parts = [_folded(layer.ffc.convl2l.weight, layer.bn_l)]
            if hasattr(layer.ffc, "convl2g"):  # the last downsampling also produces the global channels
                parts.append(_folded(layer.ffc.convl2g.weight, layer.bn_g))
            weight, bias = (torch.cat(tensors) for tensors in zip(*parts))
            downs.append(_Conv(weight, bias, dtype, stride=2, reflect=1))
        self.downs = nn.ModuleList(downs)
        start = 2 + c.n_downsampling
        self.blocks = nn.ModuleList(
            nn.ModuleList((_FastFFC(block.conv1, dtype), _FastFFC(block.conv2, dtype)))
            for block in layers[start : start + c.n_blocks]
        )
        ups = layers[start + c.n_blocks + 1 : -4]  # (ConvTranspose2d, BatchNorm2d, ReLU) per upsampling
        self.ups = nn.ModuleList(_Up(up, bn) for up, bn in zip(ups[0::3], ups[1::3]))
        self.head = _Head(layers[-2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(x.contiguous(memory_format=torch.channels_last)))
        for down in self.downs:
            x = F.relu(down(x))
        x = x.float()  # the residual stream accumulates in float32
        for first, second in self.blocks:
            x = second(first(x)).add_(x)
        for up in self.ups:
            x = up(x)
        return self.head(x)
