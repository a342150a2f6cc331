"""Making a pasted subject belong to its new background: colour and exposure, and light wrap at the edges.

Colour and exposure: the subject's mean colour (alpha-weighted, in linear light) moves part of the way towards
the new background's mean: a per-channel gain, so shadows stay black and the subject keeps its own contrast.
Light wrap: a little of the blurred background's light spills over the subject's edge, as it does in a real photo,
where the background light wraps around a soft edge.

A background is either an HxWx3 image or one colour (3,): a plain colour is never made into a full-size image.
"""

from __future__ import annotations

import numpy as np

COLOUR_STRENGTH = 0.25  # fraction of the (log) difference in each channel's mean that is corrected
GAIN_LIMITS = (0.75, 1.33)  # never change a channel by more than this
WRAP_STRENGTH = 0.35
MEAN_SAMPLES = 250_000  # the means are taken on a regular grid of about this many pixels


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)


def _grid(shape: tuple[int, ...]) -> int:
    """The step of a regular grid of about ``MEAN_SAMPLES`` pixels: the mean of a smooth or photographic image
    over that many pixels is its mean over all of them to far below what an 8-bit gain could show. (Sums are in
    float64: float32 sums of millions of samples drift by percents.)"""
    return max(1, int(np.sqrt(shape[0] * shape[1] / MEAN_SAMPLES)))


def mean_linear(background: np.ndarray) -> np.ndarray:
    """The mean colour (3,) of a background (HxWx3, or one colour) in linear light."""
    if background.ndim == 1:
        return _to_linear(background)
    step = _grid(background.shape)
    return _to_linear(background[::step, ::step]).reshape(-1, 3).mean(axis=0, dtype=np.float64)


def colour_gains(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per-channel gains (3,) in linear light that pull the subject's mean colour towards the background's.

    foreground and alpha may be cut to the subject's bounding box (the alpha-weighted mean is the same).
    """
    step = _grid(alpha.shape)
    weight = alpha[::step, ::step]
    total = float(weight.sum(dtype=np.float64))
    if total * step * step < 1.0:
        return np.ones(3, dtype=np.float32)
    subject = weight.reshape(-1).astype(np.float64) @ _to_linear(foreground[::step, ::step]).reshape(-1, 3) / total
    ratio = np.maximum(mean_linear(background), 1e-4) / np.maximum(subject, 1e-4)
    gains = np.exp(COLOUR_STRENGTH * np.log(ratio))
    return np.clip(gains, *GAIN_LIMITS).astype(np.float32)


def adjust_colour(foreground: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """The foreground's linear light scaled by ``gains`` (3,), back in sRGB (a new float32 array in [0, 1]).

    Where both the sample and its result lie on the power segment of the sRGB curve, scaling linear light by g is
    the affine map x -> k (x + 0.055) - 0.055 with k = g ** (1 / 2.4): it is computed so, in one pass, and only the
    dark samples (at most about 0.05) go through the curve and back.
    """
    import cv2

    k = (gains ** (1 / 2.4)).astype(np.float32)
    affine = np.zeros((3, 4), np.float32)
    affine[:, :3] = np.diag(k)
    affine[:, 3] = 0.055 * k - 0.055
    out = cv2.transform(foreground, affine)
    cv2.min(out, (1.0, 1.0, 1.0, 1.0), dst=out)  # linear light over 1 is clipped; the map reaches 1 right there
    # At or below this, the sample or its result may be on the curve's linear segment.
    limit = float(np.max(np.maximum(0.04045, _to_srgb(np.minimum(0.0031308 / gains, 1.0)))))
    dark = foreground <= limit
    if dark.any():
        channel = np.flatnonzero(dark) % 3  # dark is a new HxWx3 array: its flat index gives the channel
        out[dark] = _to_srgb(_to_linear(foreground[dark]) * gains[channel])
    return out


def wrap_radius(shape: tuple[int, int]) -> int:
    """The reach of the light wrap (pixels) in an image of this (height, width)."""
    return max(2, round(0.006 * max(shape)))


def light_wrap(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray, radius: int) -> None:
    """Blend the blurred background into the subject near its edge, weighted by how close the edge is; in place.

    background: HxWx3 (the same size as foreground), or one colour (3,), whose blur is itself.
    """
    import cv2

    size = (2 * radius + 1, 2 * radius + 1)
    clear = 1.0 - alpha
    outside = cv2.blur(clear, size)  # how much background surrounds each pixel
    weight = alpha * outside
    weight *= WRAP_STRENGTH
    if background.ndim == 1:
        spill = plain(background, alpha.shape)
    else:
        spill = cv2.blur(cv2.multiply(background, cv2.merge([clear] * 3)), size)
        cv2.multiply(spill, cv2.merge([1.0 / np.maximum(outside, 1e-4)] * 3), dst=spill)
    mix(spill, foreground, weight, out=foreground)


def plain(colour: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An HxWx3 float32 image of one colour (3,)."""
    out = np.empty((*shape, 3), np.float32)
    out[:] = np.tile(colour.astype(np.float32), (shape[1], 1))  # a whole row at a time: a (3,) fill is 5x slower
    return out


_SCALE = np.float32(2.0**20)


def mix(first: np.ndarray, second: np.ndarray, weight: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """first * weight + second * (1 - weight), float32 HxWxC images and HxW weights in [0, 1], in one pass;
    exactly ``second`` where weight is 0 and ``first`` where it is 1. ``out`` may be either image.

    ``cv2.blendLinear`` divides by the sum of its weights plus 1e-5; weights scaled by 2^20 (exactly, a power of
    two) leave that 1e-5 below float32's precision.
    """
    import cv2

    scaled = weight * _SCALE
    return cv2.blendLinear(first, second, scaled, _SCALE - scaled, dst=out)
