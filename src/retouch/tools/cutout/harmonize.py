"""Making a pasted subject belong to its new background: colour and exposure, and light wrap at the edges.

Colour and exposure: the subject's mean colour (alpha-weighted, in linear light) moves part of the way towards
the new background's mean: a per-channel gain, so shadows stay black and the subject keeps its own contrast.
Light wrap: a little of the blurred background's light spills over the subject's edge, as it does in a real photo,
where the background light wraps around a soft edge.
"""

from __future__ import annotations

import numpy as np

COLOUR_STRENGTH = 0.25  # fraction of the (log) difference in each channel's mean that is corrected
GAIN_LIMITS = (0.75, 1.33)  # never change a channel by more than this
WRAP_STRENGTH = 0.35


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)


def colour_gains(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per-channel gains (3,) in linear light that pull the subject's mean colour towards the background's."""
    weight = alpha[:, :, None]
    total = float(alpha.sum())
    if total < 1.0:
        return np.ones(3, dtype=np.float32)
    subject = (_to_linear(foreground) * weight).sum(axis=(0, 1)) / total
    scene = _to_linear(background).reshape(-1, 3).mean(axis=0)
    ratio = np.maximum(scene, 1e-4) / np.maximum(subject, 1e-4)
    gains = np.exp(COLOUR_STRENGTH * np.log(ratio))
    return np.clip(gains, *GAIN_LIMITS).astype(np.float32)


def harmonize(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """The foreground colours adjusted to the background (float32 HxWx3 in [0, 1])."""
    gains = colour_gains(foreground, alpha, background)
    adjusted = _to_srgb(_to_linear(foreground) * gains)
    return light_wrap(adjusted, alpha, background)


def light_wrap(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Blend the blurred background into the subject near its edge, weighted by how close the edge is."""
    import cv2

    radius = max(2, round(0.006 * max(alpha.shape)))
    size = (2 * radius + 1, 2 * radius + 1)
    outside = cv2.blur(1.0 - alpha, size)  # how much background surrounds each pixel
    weight = (WRAP_STRENGTH * alpha * outside)[:, :, None]
    spill = cv2.blur(background * (1.0 - alpha)[:, :, None], size) / np.maximum(outside, 1e-4)[:, :, None]
    return (foreground + weight * (spill - foreground)).astype(np.float32)
