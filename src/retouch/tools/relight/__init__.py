"""Relight: add coloured lights to a flat photo.

find the subject (``matte``, or the picture's own alpha, or a cutout network) > geometry (``geometry``: inflated
matte, detail, faces) > shade in linear light (``shading``) > back to sRGB in the picture's bit depth.
The expensive, light-independent part is ``relight_geometry``: a caller that moves lights (the web app) makes it
once and shades many times.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence

import numpy as np

from retouch.errors import InvalidInput, RetouchWarning, WeightsMissing
from retouch.tools.options import check_options
from retouch.tools.options.relight import AMBIENT, DETAIL, NO_MODEL
from retouch.tools.relight.geometry import FaceBox, Geometry, build_geometry, normal_map_rgb
from retouch.tools.relight.lights import Light, checked_count, make_light, parse_light, parse_lights
from retouch.tools.relight.shading import linear_to_levels, shade
from retouch.types import Metadata, Picture, ProgressCallback, no_progress

__all__ = ["Geometry", "Light", "make_light", "normal_map", "parse_lights", "relight", "relight_geometry"]


def relight(
    picture: Picture,
    lights: Sequence[Light | str] | str | None = None,
    *,
    ambient: float = AMBIENT.default,
    geometry: Geometry | None = None,
    matte: np.ndarray | None = None,
    model: str | None = "auto",
    faces: bool = True,
    detail: float = DETAIL.default,
    depth_model: str | os.PathLike[str] | None = None,
    shadows: bool = True,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Picture:
    """``picture`` lit by ``lights`` on top of its own light scaled by ``ambient``.

    picture: HxWx1 or HxWx3, uint8 or uint16, any size and aspect ratio; alpha, ICC profile and EXIF are kept.
    lights: ``Light`` values (``make_light``) or specs such as "point:x=0.8,y=0.3,color=#ff8000,rim" (a list, or
    one text separated by ';'; see ``retouch.tools.relight.lights``). ambient: >= 0; 1 with no light returns the
    photo unchanged, bit for bit. geometry: one made by ``relight_geometry`` for this picture (then ``matte``,
    ``model``, ``faces``, ``detail`` and ``depth_model`` are not used). Otherwise see ``relight_geometry``.
    shadows: let the subject cast soft shadows. progress: called with (stage, done, total).
    Returns a new Picture in the input's bit depth and layout (greyscale stays greyscale).
    """
    parsed = _lights(lights)
    check_options([(AMBIENT, ambient)])
    if geometry is None:
        geometry = relight_geometry(
            picture,
            matte=matte,
            model=model,
            faces=faces,
            detail=detail,
            depth_model=depth_model,
            device=device,
            progress=progress,
        )
    elif geometry.normals.shape[:2] != picture.pixels.shape[:2]:
        found = f"{geometry.normals.shape[1]}x{geometry.normals.shape[0]}"
        raise InvalidInput(f"the geometry is {found}, not the picture's size ({picture.width}x{picture.height})")
    progress("lighting", 0, 1)
    pixels = np.empty_like(picture.pixels)
    for rows, lit in shade(picture.pixels, geometry, parsed, float(ambient), shadows=shadows):
        pixels[rows] = linear_to_levels(lit.mean(axis=2, keepdims=True) if picture.is_grey else lit, pixels.dtype.type)
    progress("lighting", 1, 1)
    result = picture.replace(pixels=pixels)
    return result.with_operation(f"relight (subject={geometry.source}, lights={len(parsed)}, ambient={ambient:g})")


def relight_geometry(
    picture: Picture,
    *,
    matte: np.ndarray | None = None,
    model: str | None = "auto",
    faces: bool = True,
    detail: float = DETAIL.default,
    depth_model: str | os.PathLike[str] | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Geometry:
    """The shape ``relight`` lights: normals, height and the subject's matte, for ``picture``.

    matte: the subject, HxW float in [0, 1] (or bool, or uint8 0-255) at the picture's size. Without it, the
    picture's own alpha when it has transparent pixels, else the cutout ``model`` finds the subject ("auto": the
    best installed; none installed: a warning, and the whole frame is lit as a far plane with the photo's detail;
    "none": that, without the warning; a named model that is not installed: WeightsMissing with its pull command).
    faces: give each face the face detector finds (when one is installed) an ellipsoidal relief. detail: >= 0, how
    much the photo's fine shading tilts the surface. depth_model: a Depth-Anything-V2 ONNX file
    (``retouch.tools.relight.depth``) whose depth map replaces the inflated matte.
    """
    from retouch.models.runtime import check_device

    check_device(device)
    check_options([(DETAIL, detail)])
    rgb = picture.rgb_float()
    progress("subject", 0, 1)
    subject, source = _subject(picture, rgb, matte, model, device, progress)
    progress("subject", 1, 1)
    found = _faces(rgb, device) if faces else ()
    progress("geometry", 0, 1)
    depth = None
    if depth_model is not None:
        from retouch.tools.relight.depth import depth_height

        depth = depth_height(rgb, depth_model, device)
        source = "depth" if subject is None else f"{source}+depth"
    geometry = build_geometry(rgb, subject, faces=found, detail=float(detail), depth=depth)
    progress("geometry", 1, 1)
    return dataclasses.replace(geometry, source=source)


def normal_map(geometry: Geometry) -> Picture:
    """The geometry's normals as an 8-bit RGB picture: R = x right, G = y up, B = z towards the viewer."""
    colours = normal_map_rgb(geometry.normals)
    pixels = (np.clip(colours, 0.0, 1.0) * np.float32(255) + np.float32(0.5)).astype(np.uint8)
    return Picture(pixels=pixels, metadata=Metadata(source_format="PNG"))


def _lights(lights: Sequence[Light | str] | str | None) -> tuple[Light, ...]:
    if lights is None or isinstance(lights, str):
        return parse_lights(lights)
    for item in lights:
        if not isinstance(item, (Light, str)):
            raise InvalidInput(f"a light must be a Light or a spec text, got {type(item).__name__}")
    return checked_count(tuple(item if isinstance(item, Light) else parse_light(item) for item in lights))


def _subject(
    picture: Picture,
    rgb: np.ndarray,
    matte: np.ndarray | None,
    model: str | None,
    device: str,
    progress: ProgressCallback,
) -> tuple[np.ndarray | None, str]:
    """The subject's matte and where it came from."""
    if matte is not None:
        return _checked_matte(matte, picture), "matte"
    alpha = picture.alpha_float()
    if alpha is not None and (alpha < 1.0).any():
        return alpha, "alpha"
    if model == NO_MODEL:
        return None, NO_MODEL
    from retouch.tools.cutout.networks import load_segmenter
    from retouch.tools.cutout.segment import to_full
    from retouch.tools.interrupt import Heartbeat

    try:
        segmenter = load_segmenter(model, device)
    except WeightsMissing as missing:
        if model not in (None, "auto"):
            raise
        warnings.warn(
            RetouchWarning(
                "no cutout model is installed, so the photo was lit as a flat plane with its own detail; for a "
                f"subject in relief run: {missing.command}"
            ),
            stacklevel=3,
        )
        return None, NO_MODEL
    report = Heartbeat(progress)
    report("subject", 0, 1)
    return to_full(segmenter(rgb, report.beat), picture.size), segmenter.name


def _checked_matte(matte: np.ndarray, picture: Picture) -> np.ndarray:
    values = np.asarray(matte)
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    if values.shape != (picture.height, picture.width):
        size = f"{picture.width}x{picture.height}"
        raise InvalidInput(f"the matte must be {size} like the picture, got shape {values.shape}")
    if values.dtype == np.bool_:
        return values.astype(np.float32)
    if values.dtype == np.uint8:
        return values.astype(np.float32) / np.float32(255)
    if values.dtype == np.uint16:
        return values.astype(np.float32) / np.float32(65535)
    values = values.astype(np.float32)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise InvalidInput("a float matte must hold values in [0, 1]")
    return values


def _faces(rgb: np.ndarray, device: str) -> tuple[FaceBox, ...]:
    """The faces the installed detector finds; none (and a warning) when no detector is installed."""
    from retouch.tools.restore.faces.detect import detect_faces

    try:
        found = detect_faces(rgb, device=device)
    except WeightsMissing as missing:
        warnings.warn(
            RetouchWarning(f"faces were given no relief: no face detector is installed; run: {missing.command}"),
            stacklevel=3,
        )
        return ()
    return tuple(FaceBox(*face.box) for face in found)
