"""Rendered shapes with known normals for the relight tests: a sphere and a cylinder lying across the frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shape:
    matte: np.ndarray  # HxW float32, 1 inside
    normals: np.ndarray  # HxWx3 unit, x right, y down, z to the viewer; (0, 0, 1) outside
    height: np.ndarray  # HxW pixels, 0 outside


def sphere(width: int, height: int, radius: float) -> Shape:
    """A sphere of ``radius`` pixels at the frame's centre, seen from the front."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    dx, dy = x + 0.5 - width / 2, y + 0.5 - height / 2
    r2 = (dx * dx + dy * dy) / radius**2
    inside = r2 < 1.0
    z = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    normals = np.where(inside[..., None], np.stack([dx / radius, dy / radius, z], axis=2), [0.0, 0.0, 1.0])
    return Shape(inside.astype(np.float32), normals.astype(np.float32), (z * radius * inside).astype(np.float32))


def cylinder(width: int, height: int, radius: float) -> Shape:
    """A cylinder of ``radius`` pixels lying across the whole frame (its ends are cut by the frame's border)."""
    y = np.arange(height, dtype=np.float64)[:, None] + 0.5 - height / 2
    dy = np.repeat(y, width, axis=1)
    inside = np.abs(dy) < radius
    z = np.sqrt(np.clip(1.0 - (dy / radius) ** 2, 0.0, 1.0))
    normals = np.where(inside[..., None], np.stack([np.zeros_like(dy), dy / radius, z], axis=2), [0.0, 0.0, 1.0])
    return Shape(inside.astype(np.float32), normals.astype(np.float32), (z * radius * inside).astype(np.float32))


def angular_error_deg(found: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    """The mean angle between two normal maps over ``where``, in degrees."""
    cosine = np.clip(np.sum(found[where] * truth[where], axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cosine)).mean())


def two_disks(width: int = 256, height: int = 192, radius: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two red disks on green, apart (the generated cutout network of tests/cutout_onnx.py takes both for the
    subject): the HxWx3 uint8 photo and the masks of the left and the right disk."""
    ys, xs = np.mgrid[0:height, 0:width]
    left = (ys - height // 2) ** 2 + (xs - width * 3 // 11) ** 2 < radius**2
    right = (ys - height // 2) ** 2 + (xs - width * 8 // 11) ** 2 < radius**2
    rgb = np.empty((height, width, 3), np.float32)
    rgb[:] = (0.25, 0.6, 0.3)
    rgb[left | right] = (0.85, 0.15, 0.1)
    rgb += np.random.default_rng(0).normal(0, 0.02, rgb.shape).astype(np.float32)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), left, right
