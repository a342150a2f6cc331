"""Shading in linear light: out = albedo * (ambient + sum of lights' diffuse) + sum of lights' specular.

The albedo is the photo itself, sRGB decoded: its own light stays in it and ``ambient`` scales it, so ambient 1 with
no added light gives the photo back. Each light adds Lambert's cosine times its colour, intensity, distance falloff
and, for a spot, its cone; a soft Blinn-Phong highlight on the subject (the background is a matte far plane); and a
soft shadow found by marching from each pixel towards the light over the height field, at a reduced size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from retouch.ops.srgb import srgb_to_linear as to_linear

from retouch.tools.relight.geometry import Geometry
from retouch.tools.relight.lights import Light

SHININESS = 40.0  # the Blinn-Phong exponent: a soft highlight, not a wash over a whole smooth shape
BAND_ROWS = 128
SHADOW_SIDE = 512  # shadows are marched at this long side and resized up (they are soft)
SHADOW_STEPS = 32
SHADOW_REACH = 0.5  # how far a shadow can be cast, in long sides
PENUMBRA = 0.2  # the shadow's softness: the occluder's height over the distance that fades it
_LUTS: dict[int, np.ndarray] = {}


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB samples (uint8, uint16, or float32 in [0, 1]) to linear light, float32."""
    if values.dtype in (np.uint8, np.uint16):
        levels = 256 if values.dtype == np.uint8 else 65536
        lut = _LUTS.get(levels)
        if lut is None:
            lut = _LUTS[levels] = srgb_to_linear(np.arange(levels, dtype=np.float32) / np.float32(levels - 1))
        return lut[values]
    return to_linear(values.astype(np.float32, copy=False))


def linear_to_levels(values: np.ndarray, dtype: type) -> np.ndarray:
    """Linear light (float32) to sRGB levels of ``dtype`` (uint8 or uint16), each the level whose sRGB value is
    nearest (what rounding the sRGB encoding would give), found by table, without a power per sample. Every level
    that ``srgb_to_linear`` decodes comes back as itself."""
    table, bounds, buckets = _encoding_tables(dtype)
    index = np.multiply(values, np.float32(buckets), dtype=np.float32)
    np.clip(index, 0, buckets - 1, out=index)
    level = table[index.astype(np.int32)]
    level += values >= bounds[level]  # a bucket holds at most one boundary between levels
    return level.astype(dtype)


_ENCODING: dict[type, tuple[np.ndarray, np.ndarray, int]] = {}


def _encoding_tables(dtype: type) -> tuple[np.ndarray, np.ndarray, int]:
    """For each of ``buckets`` equal steps of [0, 1] the level at its start, and the linear value where each
    level ends (the next begins); the buckets are finer than the narrowest level (the darkest)."""
    cached = _ENCODING.get(dtype)
    if cached is not None:
        return cached
    top = 255 if dtype == np.uint8 else 65535
    buckets = 4096 if dtype == np.uint8 else 1 << 21
    middle = (np.arange(top, dtype=np.float64) + 0.5) / top  # sRGB values halfway between levels
    ends = np.where(middle <= 0.04045, middle / 12.92, ((middle + 0.055) / 1.055) ** 2.4)
    bounds = np.append(ends, np.inf).astype(np.float32)
    starts = np.arange(buckets, dtype=np.float64) / buckets
    table = np.searchsorted(bounds.astype(np.float64), starts, side="right").astype(np.int32)
    _ENCODING[dtype] = (table, bounds, buckets)
    return _ENCODING[dtype]


def shade(
    samples: np.ndarray,
    geometry: Geometry,
    lights: tuple[Light, ...],
    ambient: float,
    *,
    shadows: bool = True,
) -> Iterator[tuple[slice, np.ndarray]]:
    """The relit linear image of the photo's ``samples`` (HxWxC sRGB, C = 1 or 3, uint8 or uint16: the albedo) on
    ``geometry``, a band of rows at a time (so its temporaries stay in the caches): (the band's rows, its
    linear HxWx3 float32 pixels), top to bottom."""
    h, w = samples.shape[:2]
    reaching = [
        shadow(geometry.height, light, (h, w)) if shadows and not light.rim else None for light in lights
    ]
    for top in range(0, h, BAND_ROWS):
        rows = slice(top, min(top + BAND_ROWS, h))
        band = Geometry(geometry.normals[rows], geometry.height[rows], geometry.subject[rows], geometry.source)
        diffuse = np.full((*band.height.shape, 3), np.float32(ambient), np.float32)
        specular = np.zeros_like(diffuse)
        for light, visible in zip(lights, reaching):
            lit, shine = light_terms(band, light, (h, w), top)
            if visible is not None:
                lit *= visible[rows]
                shine *= visible[rows]
            colour = np.asarray(light.color, np.float32) * np.float32(light["intensity"])
            diffuse += lit[..., None] * colour
            specular += (shine * band.subject)[..., None] * colour
        out = srgb_to_linear(samples[rows]) * diffuse  # a grey albedo (C = 1) takes the lights' colours
        if lights:
            out += specular
        yield rows, out


def light_terms(
    geometry: Geometry, light: Light, frame: tuple[int, int], top: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The light's diffuse term (cosine times falloff and cone) and its specular term, float32 each, for
    ``geometry``: the rows from ``top`` of a ``frame`` = (height, width) picture."""
    h, w = frame
    side = float(max(h, w))
    n = geometry.normals
    nx, ny, nz = n[..., 0], n[..., 1], n[..., 2]
    if light.kind == "dir":
        lx, ly, lz = (np.float32(c) for c in light.direction())
        cosine = nx * lx + ny * ly + nz * lz
        falloff: np.ndarray | np.float32 = np.float32(1.0)
    else:
        rows = geometry.height.shape[0]
        px = np.float32(light["x"] * w) - np.arange(w, dtype=np.float32)[None, :]
        py = np.float32(light["y"] * h) - np.arange(top, top + rows, dtype=np.float32)[:, None]
        pz = np.float32((-1.0 if light.rim else 1.0) * light["z"] * side) - geometry.height
        distance2 = px * px + py * py + pz * pz
        inverse = 1.0 / np.sqrt(np.maximum(distance2, np.float32(1e-6)))
        lx, ly, lz = px * inverse, py * inverse, pz * inverse
        cosine = nx * lx + ny * ly + nz * lz
        reach2 = np.float32((light["reach"] * side) ** 2)
        falloff = reach2 / (reach2 + distance2)
        if light.kind == "spot":
            falloff = falloff * _cone(light, lx, ly, lz, (w, h, side))
    lit = np.maximum(cosine, 0.0) * falloff
    # Blinn-Phong with the viewer on the z axis: |L + V|^2 = 2 + 2 lz, N.H = (N.L + nz) / |L + V|
    half = np.sqrt(np.maximum(2.0 + 2.0 * lz, np.float32(1e-6)))
    facing = np.maximum((cosine + nz) / half, 0.0)
    shine = np.float32(light["specular"]) * facing**SHININESS * (cosine > 0) * falloff
    return lit.astype(np.float32, copy=False), np.asarray(shine, np.float32)


def _cone(light: Light, lx: np.ndarray, ly: np.ndarray, lz: np.ndarray, frame: tuple[int, int, float]) -> np.ndarray:
    """A spot's cone: 1 inside, fading to 0 over ``softness`` of its half-angle at the edge."""
    w, h, side = frame
    aim = np.array(
        [(light["tx"] - light["x"]) * w, (light["ty"] - light["y"]) * h, -light["z"] * side * (-1 if light.rim else 1)]
    )
    aim /= max(np.linalg.norm(aim), 1e-9)
    cos_angle = -(lx * np.float32(aim[0]) + ly * np.float32(aim[1]) + lz * np.float32(aim[2]))
    outer = math.radians(light["cone"] / 2)
    inner = outer * (1.0 - light["softness"])
    low, high = np.float32(math.cos(outer)), np.float32(math.cos(inner))
    if high - low < 1e-6:
        return (cos_angle >= low).astype(np.float32)
    t = np.clip((cos_angle - low) / (high - low), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def shadow_field(height: np.ndarray) -> tuple[np.ndarray, float]:
    """The height field shadows are marched over: ``height`` at SHADOW_SIDE long side at most (area-averaged, in
    its own pixels), and the scale it was taken at."""
    import cv2

    h, w = height.shape
    scale = min(1.0, SHADOW_SIDE / max(h, w))
    if scale >= 1:
        return height, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(height, size, interpolation=cv2.INTER_AREA) * np.float32(scale), scale


def shadow(height: np.ndarray, light: Light, size: tuple[int, int]) -> np.ndarray | None:
    """How much of ``light`` reaches each pixel (HxW float32, 1 = all), marched over ``height`` at a reduced size
    (``shadow_field``) and resized back (bilinear); None where nothing can block it (a flat height field, a
    light straight overhead), which spares a full-size map of ones and a product per band."""
    import cv2

    h, w = size
    if not height.any():
        return None
    small, scale = shadow_field(height)
    sh, sw = small.shape
    side = float(max(sw, sh))
    xs = np.arange(sw, dtype=np.float32)[None, :].repeat(sh, 0)
    ys = np.arange(sh, dtype=np.float32)[:, None].repeat(sw, 1)
    if light.kind == "dir":
        lx, ly, lz = light.direction()
        flat = math.hypot(lx, ly)
        if flat < 1e-6:
            return None
        ux, uy = np.float32(lx / flat), np.float32(ly / flat)
        rise = np.float32(lz / flat)
        reach = np.full((sh, sw), np.float32(SHADOW_REACH * side))
    else:
        dx, dy = np.float32(light["x"] * sw) - xs, np.float32(light["y"] * sh) - ys
        flat = np.maximum(np.sqrt(dx * dx + dy * dy), np.float32(1e-3))
        ux, uy = dx / flat, dy / flat
        rise = (np.float32(light["z"] * side) - small) / flat
        reach = np.minimum(flat, np.float32(SHADOW_REACH * side))
    blocked = np.zeros((sh, sw), np.float32)
    for step in range(1, SHADOW_STEPS + 1):
        t = reach * np.float32((step / SHADOW_STEPS) ** 1.5) + np.float32(1.0)
        sample = cv2.remap(
            small, xs + ux * t, ys + uy * t, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0
        )
        above = sample - (small + rise * t)
        np.maximum(blocked, above / (t * np.float32(PENUMBRA) + np.float32(1.0)), out=blocked)
    visible = 1.0 - np.clip(blocked, 0.0, 1.0)
    if scale < 1:
        visible = cv2.resize(visible, (w, h), interpolation=cv2.INTER_LINEAR)
    return visible.astype(np.float32, copy=False)
