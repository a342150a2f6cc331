"""Synthetic photos for the server and browser tests: a textured scene with one dark object to remove."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms


@dataclass(frozen=True)
class Scene:
    pixels: np.ndarray  # HxWx3 uint8
    center: tuple[int, int]  # the object's centre (x, y)
    radius: int
    background: np.ndarray  # the same scene without the object: what a good fill recovers

    @property
    def object_mask(self) -> np.ndarray:
        height, width = self.pixels.shape[:2]
        y, x = np.ogrid[:height, :width]
        return (x - self.center[0]) ** 2 + (y - self.center[1]) ** 2 <= self.radius**2


def scene(width: int, height: int, seed: int = 0, radius: int | None = None) -> Scene:
    """Sky over a field: smooth gradients with fine grain, and a dark disk (the object) on the horizon."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    sky = np.array([0.45, 0.6, 0.85], np.float32) + y * np.array([0.2, 0.15, -0.1], np.float32)
    field = np.array([0.35, 0.63, 0.25], np.float32) + y * np.array([0.0, -0.15, 0.0], np.float32)
    image = np.where(y > 0.55, field, sky) + x * np.array([0.05, 0.0, 0.0], np.float32)  # H x W x 3
    grain = rng.standard_normal((height, width, 1), dtype=np.float32) * np.float32(0.015 * 255)
    pixels = np.clip(image * np.float32(255) + grain + np.float32(0.5), 0, 255).astype(np.uint8)
    radius = radius or max(6, min(width, height) // 12)
    found = Scene(pixels, (int(width * 0.6), int(height * 0.5)), radius, pixels.copy())
    pixels[found.object_mask] = (30, 25, 20)
    return found


def fill_error(result: np.ndarray, found: Scene, region: np.ndarray) -> float:
    """Mean absolute difference (levels per channel) between ``result`` and the scene without its object over
    ``region`` (an erased part of the object)."""
    return float(np.abs(result[region].astype(np.float32) - found.background[region]).mean())


def flat_fill_error(found: Scene, region: np.ndarray) -> float:
    """The lowest ``fill_error`` any fill of one flat colour can have (the per-channel median of the background
    there): the object straddles the horizon, sky above and field below, so every flat fill is far from both."""
    truth = found.background[region].astype(np.float32)
    return float(np.abs(truth - np.median(truth, axis=0)).mean())


@functools.cache
def srgb_profile() -> bytes:
    """One sRGB profile per test run (a new one would carry a new creation time)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_block() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Retouch Test Camera Co."  # Make
    exif[0x0110] = "Model 7"  # Model
    return exif.tobytes()


def encode(pixels: np.ndarray, fmt: str, *, metadata: bool = True, quality: int = 92) -> bytes:
    """The pixels as a JPEG or PNG file, with an sRGB ICC profile and EXIF (camera make and model)."""
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": srgb_profile(), "exif": exif_block()} if metadata else {}
    if fmt == "JPEG":
        options["quality"] = quality
    Image.fromarray(pixels).save(out, fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


# The patch engine's fill of these scenes is 4.1-5.3 levels from the background (160x120, 900x600 and 780x844
# scenes, seeds 0 and 1); the best flat fill is 11.4-15.4 levels from it.
FILL_LIMIT = 9.0


def assert_fill_matches_background(result: np.ndarray, found: Scene, region: np.ndarray) -> None:
    """The erased ``region`` of the object looks like what was behind it: sky above the horizon, field below,
    with their gradients (closer than any flat colour, or the dark object, can be)."""
    assert flat_fill_error(found, region) > FILL_LIMIT  # the check can tell a flat fill from a real one
    assert_fill_close_to_background(result, found, region)


def assert_fill_close_to_background(result: np.ndarray, found: Scene, region: np.ndarray) -> None:
    """The erased ``region`` is within ``FILL_LIMIT`` of what was behind the object. Alone, this cannot tell a
    flat fill from a real one where the object lies within the sky (its grain favours flat colours)."""
    assert region.sum() > 0
    error = fill_error(result, found, region)
    assert error < FILL_LIMIT, f"the fill is {error:.1f} levels from the background (limit {FILL_LIMIT})"
