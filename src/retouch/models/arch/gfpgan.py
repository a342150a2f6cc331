"""GFPGAN v1.3 / v1.4 (Wang et al. 2021): a U-Net whose features steer a StyleGAN2 decoder through spatial
feature transforms (SFT), the "clean" variant that needs no compiled CUDA extension.

``GFPGANv1Clean`` holds its parameters under the names of the official ``GFPGANv1Clean``
(TencentARC/GFPGAN, gfpgan/archs/gfpganv1_clean_arch.py, with its StyleGAN2 decoder from stylegan2_clean_arch.py),
so the official ``GFPGANv1.4.pth`` (``params_ema``) loads unchanged with ``load_state_dict(strict=True)``:
for the released configuration (out_size 512, channel multiplier 2) that is 285 tensors and 87,143,276 values
(noise buffers included). Only the released configuration of the official inference (GFPGANer with arch
"clean") is built: the encoder predicts one latent per decoder layer (``different_w``), that latent is used
as is (``input_is_latent``, so the decoder's style MLP is never run but its weights are kept for the strict
load) and the SFT modulates half of each decoder feature map (``sft_half``).

Data flow: RGB in [-1, 1] at out_size x out_size > 1x1 convolution > (log2(size) - 2) residual blocks halving the
resolution down to 4x4 > the latents (a linear layer on the 4x4 features) and, back up, U-Net features at every
scale from 8x8 to out_size, each giving an SFT scale and shift > the StyleGAN2 decoder, whose feature maps are
modulated (half of their channels: ``x * scale + shift``) after the first convolution of each scale > RGB in
about [-1, 1].

Noise injection: the official code draws fresh noise on every call by default; ``noise="fixed"`` (our default)
uses the noise maps stored in the checkpoint instead, so the same face gives the same result every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

NOISE_MODES = ("fixed", "random")


@dataclass(frozen=True)
class GFPGANConfig:
    """The network's shape. The defaults are GFPGAN v1.3 / v1.4's; tests shrink ``narrow`` for speed."""

    out_size: int = 512
    num_style_feat: int = 512
    channel_multiplier: int = 2
    num_mlp: int = 8
    narrow: float = 1.0

    def decoder_channels(self) -> dict[int, int]:
        """Feature channels of the StyleGAN2 decoder at each resolution."""
        wide = {4: 512, 8: 512, 16: 512, 32: 512}
        scaled = {64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
        channels = {size: int(c * self.narrow) for size, c in wide.items()}
        channels.update({size: int(c * self.channel_multiplier * self.narrow) for size, c in scaled.items()})
        return channels

    def unet_channels(self) -> dict[int, int]:
        """The U-Net uses half the decoder's channels at every resolution."""
        half = GFPGANConfig(self.out_size, self.num_style_feat, self.channel_multiplier, self.num_mlp, self.narrow / 2)
        return half.decoder_channels()

    @property
    def log_size(self) -> int:
        return int(math.log2(self.out_size))


def _leaky(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, negative_slope=0.2)


def _resample(x: torch.Tensor, factor: float) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


class ResBlock(nn.Module):
    """conv > leaky > resample > conv > leaky, plus a resampled 1x1 skip. ``factor`` 0.5 (down) or 2 (up)."""

    def __init__(self, in_channels: int, out_channels: int, factor: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = _leaky(self.conv2(_resample(_leaky(self.conv1(x)), self.factor)))
        return out + self.skip(_resample(x, self.factor))


class ModulatedConv2d(nn.Module):
    """StyleGAN2's convolution whose weights are scaled per input channel by the style (and demodulated).

    ``upsample`` enlarges the input twice (bilinear) before convolving, as the clean architecture does.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        num_style_feat: int,
        *,
        demodulate: bool,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel_size // 2
        self.modulation = nn.Linear(num_style_feat, in_channels)
        self.weight = nn.Parameter(
            torch.randn(1, out_channels, in_channels, kernel_size, kernel_size)
            / math.sqrt(in_channels * kernel_size**2)
        )

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        batch, in_channels = x.shape[:2]
        weight = self.weight * self.modulation(style).view(batch, 1, in_channels, 1, 1)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        if self.upsample:
            x = _resample(x, 2)
        height, width = x.shape[2:]
        # One grouped convolution runs every sample of the batch with its own weights.
        kernel = weight.view(batch * self.out_channels, in_channels, *weight.shape[3:])
        out = F.conv2d(x.reshape(1, batch * in_channels, height, width), kernel, padding=self.padding, groups=batch)
        return out.view(batch, self.out_channels, *out.shape[2:])


class StyleConv(nn.Module):
    """Modulated 3x3 convolution, then scaled noise, a bias and a leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, num_style_feat: int, *, upsample: bool = False) -> None:
        super().__init__()
        self.modulated_conv = ModulatedConv2d(
            in_channels, out_channels, 3, num_style_feat, demodulate=True, upsample=upsample
        )
        self.weight = nn.Parameter(torch.zeros(1))  # strength of the injected noise
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        out = self.modulated_conv(x, style) * math.sqrt(2)
        if noise is None:
            noise = out.new_empty(out.shape[0], 1, *out.shape[2:]).normal_()
        return _leaky(out + self.weight * noise + self.bias)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to RGB (not demodulated) plus bias, added to the enlarged previous RGB."""

    def __init__(self, in_channels: int, num_style_feat: int) -> None:
        super().__init__()
        self.modulated_conv = ModulatedConv2d(in_channels, 3, 1, num_style_feat, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        out = self.modulated_conv(x, style) + self.bias
        return out if skip is None else out + _resample(skip, 2)


class ConstantInput(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, channels, 4, 4))


class NormStyleCode(nn.Module):
    """The first layer of the style MLP: normalise each code to unit root mean square."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


def _style_mlp(num_style_feat: int, num_mlp: int) -> nn.Sequential:
    layers: list[nn.Module] = [NormStyleCode()]
    for _ in range(num_mlp):
        layers += [nn.Linear(num_style_feat, num_style_feat), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)


class StyleGAN2Decoder(nn.Module):
    """The StyleGAN2 generator (official ``StyleGAN2GeneratorCSFT``) driven by given latents, with SFT."""

    def __init__(self, config: GFPGANConfig) -> None:
        super().__init__()
        channels = config.decoder_channels()
        feat = config.num_style_feat
        # Unused at inference (the encoder's latents are used as they are); kept so the checkpoint loads strictly.
        self.style_mlp = _style_mlp(feat, config.num_mlp)
        self.constant_input = ConstantInput(channels[4])
        self.style_conv1 = StyleConv(channels[4], channels[4], feat)
        self.to_rgb1 = ToRGB(channels[4], feat)
        self.style_convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        self.num_layers = (config.log_size - 2) * 2 + 1
        for index in range(self.num_layers):
            side = 2 ** ((index + 5) // 2)
            self.noises.register_buffer(f"noise{index}", torch.randn(1, 1, side, side))
        in_channels = channels[4]
        for level in range(3, config.log_size + 1):
            out_channels = channels[2**level]
            self.style_convs.append(StyleConv(in_channels, out_channels, feat, upsample=True))
            self.style_convs.append(StyleConv(out_channels, out_channels, feat))
            self.to_rgbs.append(ToRGB(out_channels, feat))
            in_channels = out_channels

    def forward(self, latent: torch.Tensor, conditions: list[torch.Tensor], noise: str) -> torch.Tensor:
        """latent: (B, 2 * log_size - 2, num_style_feat); conditions: SFT (scale, shift) pairs, coarse to fine."""
        noises: list[torch.Tensor | None]
        if noise == "fixed":
            noises = [getattr(self.noises, f"noise{i}") for i in range(self.num_layers)]
        else:
            noises = [None] * self.num_layers
        out = self.constant_input.weight.repeat(latent.shape[0], 1, 1, 1)
        out = self.style_conv1(out, latent[:, 0], noises[0])
        rgb = self.to_rgb1(out, latent[:, 1], None)
        for level, to_rgb in enumerate(self.to_rgbs):
            i = 2 * level + 1
            out = self.style_convs[2 * level](out, latent[:, i], noises[i])
            scale, shift = conditions[2 * level], conditions[2 * level + 1]
            kept, modulated = torch.split(out, out.shape[1] // 2, dim=1)
            out = torch.cat([kept, modulated * scale + shift], dim=1)
            out = self.style_convs[2 * level + 1](out, latent[:, i + 1], noises[i + 1])
            rgb = to_rgb(out, latent[:, i + 2], rgb)
        return rgb


def _sft_branch(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(channels, channels, 3, 1, 1)
    )


class GFPGANv1Clean(nn.Module):
    """GFPGAN v1.3 / v1.4. Input and output: (B, 3, out_size, out_size) RGB in [-1, 1]."""

    def __init__(self, config: GFPGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or GFPGANConfig()
        if config.out_size < 8 or 2**config.log_size != config.out_size:
            raise ValueError(f"out_size must be a power of two of at least 8, got {config.out_size}")
        unet = config.unet_channels()
        levels = range(3, config.log_size + 1)  # 8x8 ... out_size
        self.conv_body_first = nn.Conv2d(3, unet[config.out_size], 1)
        self.conv_body_down = nn.ModuleList(
            ResBlock(unet[2**level], unet[2 ** (level - 1)], 0.5) for level in reversed(levels)
        )
        self.final_conv = nn.Conv2d(unet[4], unet[4], 3, 1, 1)
        self.conv_body_up = nn.ModuleList(ResBlock(unet[2 ** (level - 1)], unet[2**level], 2) for level in levels)
        # Intermediate RGB outputs used only by the training losses; kept so the checkpoint loads strictly.
        self.toRGB = nn.ModuleList(nn.Conv2d(unet[2**level], 3, 1) for level in levels)
        self.num_latents = config.log_size * 2 - 2
        self.final_linear = nn.Linear(unet[4] * 4 * 4, self.num_latents * config.num_style_feat)
        self.stylegan_decoder = StyleGAN2Decoder(config)
        self.condition_scale = nn.ModuleList(_sft_branch(unet[2**level]) for level in levels)
        self.condition_shift = nn.ModuleList(_sft_branch(unet[2**level]) for level in levels)

    def forward(self, x: torch.Tensor, noise: str = "fixed") -> torch.Tensor:
        if noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
        feat = _leaky(self.conv_body_first(x))
        skips = []
        for block in self.conv_body_down:
            feat = block(feat)
            skips.append(feat)
        feat = _leaky(self.final_conv(feat))
        latent = self.final_linear(feat.flatten(1)).view(x.shape[0], self.num_latents, -1)
        conditions = []
        for block, skip, scale, shift in zip(
            self.conv_body_up, reversed(skips), self.condition_scale, self.condition_shift, strict=True
        ):
            feat = block(feat + skip)
            conditions += [scale(feat), shift(feat)]
        return self.stylegan_decoder(latent, conditions, noise)
