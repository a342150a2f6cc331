"""Synthetic photos with a known matte: a textured subject with a soft, hairy edge and a ring-shaped gap, over a
textured background of other colours, composited as I = a F + (1 - a) B."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # HxWx3 float32
    alpha: np.ndarray  # HxW float32, the truth
    foreground: np.ndarray  # HxWx3 float32
    background: np.ndarray  # HxWx3 float32
    hole: np.ndarray  # HxW bool: the background gap inside the subject


def scene(height: int = 192, width: int = 256, seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx, radius = height * 0.55, width * 0.5, min(height, width) * 0.33
    angle = np.arctan2(y - cy, x - cx)
    # A wavy, strand-like edge: the boundary radius varies quickly with the angle, and the edge is soft.
    edge = radius * (1 + 0.06 * np.sin(angle * 23) + 0.04 * np.sin(angle * 57 + 1.0))
    distance = np.hypot(y - cy, x - cx)
    alpha = np.clip((edge - distance) / 3.0 + 0.5, 0.0, 1.0)
    hole = np.hypot(y - cy, x - (cx + radius * 0.35)) < radius * 0.2
    alpha[hole] = 0.0
    grain = rng.standard_normal((height, width, 1)).astype(np.float32)
    foreground = np.clip(np.float32([0.85, 0.35, 0.25]) + 0.04 * grain + 0.05 * np.sin(x / 5)[:, :, None], 0, 1)
    background = np.clip(
        np.float32([0.2, 0.55, 0.3]) + 0.2 * (y / height)[:, :, None] * np.float32([0.3, 0.2, 0.8]) + 0.03 * grain[::-1],
        0,
        1,
    )
    a = alpha[:, :, None]
    image = a * foreground + (1 - a) * background
    return Scene(image.astype(np.float32), alpha.astype(np.float32), foreground.astype(np.float32), background.astype(np.float32), hole)


def network_guess(truth: np.ndarray, factor: int = 8, hole_level: float = 0.35) -> np.ndarray:
    """What a low-resolution network sees: the matte at 1/factor, with the gap half filled in, enlarged again."""
    import cv2

    h, w = truth.shape
    small = cv2.resize(truth, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    guess = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(guess, 0.0, 1.0).astype(np.float32)
