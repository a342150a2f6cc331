"""Restore: bring back faces and old photos.

validate > scratches and dust found and erased (patch engine) > colour cast corrected > denoised > faces
detected, aligned to the FFHQ template, restored by GFPGAN > the photo enlarged (optional, by the upscaler) >
the restored faces pasted back through feathered masks, each at its strength.

Faces need a face restoration network, whose weights are downloaded by ``retouch models pull gfpgan-v1.4``.
``faces=None`` (the default) restores them when those weights are installed; when they are not, and the photo
has faces, everything else still runs and a warning names the pull command. ``faces=True`` makes the faces
required: missing weights (or no face detector) are then an error, since the result would lack what was asked
for. ``faces=False`` skips faces altogether.

Warnings go through the progress callback as a stage that starts with ``"warning: "`` (with done = total = 0),
and are recorded with the operation in the result's provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from retouch.errors import InvalidInput, WeightsMissing
from retouch.tools.interrupt import Heartbeat, checked
from retouch.tools.options.restore import (
    COLOUR,
    DENOISE,
    DETECTORS,
    FACE_MODEL,
    SENSITIVITY,
    STRENGTH,
    UPSCALE_FACTORS,
)
from retouch.types import Picture, ProgressCallback, no_progress

if TYPE_CHECKING:
    from retouch.tools.restore.faces.paste import Paste

WARNING_PREFIX = "warning: "


@dataclass
class _Log:
    """What a run did and what it could not do, for the provenance record and the warnings."""

    progress: Heartbeat
    steps: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.steps.append(message)
        self.progress(WARNING_PREFIX + message, 0, 0)


def restore(
    picture: Picture,
    *,
    faces: bool | None = None,
    strength: float | Sequence[float] = STRENGTH.default,
    scratches: bool = False,
    scratch_sensitivity: float = SENSITIVITY.default,
    denoise: float = DENOISE.default,
    colour: float = COLOUR.default,
    upscale: int = 1,
    face_model: str = FACE_MODEL,
    detector: str = "auto",
    device: str = "auto",
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> Picture:
    """Restore an old or damaged photo and the faces in it.

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. faces: None (restore faces if the face model is installed, else warn), True (required: an error without
    weights) or False (leave faces alone). strength: how much of each restored face replaces the original, in
    [0, 1]; a sequence gives one value per face found, faces ordered left to right. scratches: find scratches
    and dust (``scratch_sensitivity`` in [0, 1]) and erase them with the built-in patch engine. denoise, colour:
    strengths in [0, 1] of noise removal and of colour-cast correction (0 turns a step off). upscale: enlarge the
    photo 1, 2, 3 or 4 times (with the upscaler when it is available, else bicubic, with a warning); faces are
    pasted at the new size. face_model: a registered face-restore model; detector: "auto", "retinaface" or
    "yunet". device: "auto", "cpu" or "cuda". seed: the patch engine's seed for scratches. progress: called with
    (stage, done, total) per stage and per face, repeated while a network runs; it may raise to stop the work.
    Warnings arrive as stages starting "warning: ".
    Returns a new Picture in the input's bit depth and layout, ``upscale`` times the size (alpha kept, enlarged
    with the photo), with "restore (...)" recorded for the provenance XMP. With every step off the pixels come
    back unchanged.
    """
    from retouch.models.runtime import check_device

    if detector not in DETECTORS:
        raise InvalidInput(f"unknown face detector {detector!r}; choose one of: {', '.join(DETECTORS)}")
    check_device(device)
    _check_amount("denoise", denoise)
    _check_amount("colour", colour)
    _check_amount("scratch_sensitivity", scratch_sensitivity)
    if upscale not in UPSCALE_FACTORS:
        raise InvalidInput(f"upscale must be one of {', '.join(map(str, UPSCALE_FACTORS))}, got {upscale}")
    strengths = _strengths(strength)
    log = _Log(Heartbeat(progress))
    missing = None if faces is False else _missing_face_model(face_model, required=bool(faces))

    working = _remove_scratches(picture, scratch_sensitivity, seed, log) if scratches else picture
    image = working.rgb_float()
    if colour > 0:
        from retouch.tools.restore.oldphoto.colour import correct_colour_cast

        image = correct_colour_cast(image, colour, log.progress)
        log.steps.append(f"colour {colour:g}")
    if denoise > 0:
        from retouch.tools.restore.oldphoto.denoise import denoise as denoise_image

        image = denoise_image(image, denoise, log.progress)
        log.steps.append(f"denoise {denoise:g}")
    pastes = [] if faces is False else _restore_faces(image, face_model, missing, strengths, detector, device, log)

    result = working.with_float(image) if colour > 0 or denoise > 0 else working
    if upscale > 1:
        result = _enlarge(result, upscale, device, log)
    if pastes:
        from retouch.tools.restore.faces.align import rescaled
        from retouch.tools.restore.faces.paste import Paste, paste_faces

        log.progress("faces: paste", 0, 1)
        if upscale > 1:
            pastes = [Paste(p.crop, rescaled(p.matrix, upscale), p.strength) for p in pastes]
        result = result.with_float(paste_faces(result.rgb_float(), pastes))
    return result.with_operation(f"restore ({'; '.join(log.steps) or 'nothing to do'})")


def available_models() -> dict[str, bool]:
    """The models Restore can use (the face network and the face detectors), and whether each is installed."""
    from retouch.models.weights import is_installed
    from retouch.tools.restore.faces.detect import DETECTOR_MODELS

    return {name: is_installed(name) for name in (FACE_MODEL, *DETECTOR_MODELS.values())}


def _check_amount(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"{name} must be between 0 and 1, got {value}")


def _strengths(strength: float | Sequence[float]) -> float | tuple[float, ...]:
    if isinstance(strength, (int, float)):
        _check_amount("strength", float(strength))
        return float(strength)
    values = tuple(float(v) for v in strength)
    for value in values:
        _check_amount("strength", value)
    return values


def _missing_face_model(model: str, *, required: bool) -> WeightsMissing | None:
    """Why the face model cannot be used (None: it can); raised instead when faces are ``required``."""
    from retouch.models.weights import resolve_weights

    try:
        resolve_weights(model, allow_download=False)
    except WeightsMissing as missing:
        if required:
            raise WeightsMissing(missing.model, missing.command, "faces were asked for") from None
        return missing
    return None


def _restore_faces(
    image: np.ndarray,
    model: str,
    missing: WeightsMissing | None,
    strengths: float | tuple[float, ...],
    detector: str,
    device: str,
    log: _Log,
) -> list[Paste]:
    """Detect the faces; with the face model installed, align and restore them and return what to paste.
    Without it the faces found are only counted, for the warning that says how to get it."""
    from retouch.tools.restore.faces.align import alignment, warp_to_crop
    from retouch.tools.restore.faces.detect import detect_faces
    from retouch.tools.restore.faces.paste import Paste
    from retouch.tools.restore.faces.restore import load_face_restorer

    log.progress("faces: detect", 0, 1)
    try:
        found = detect_faces(image, detector=detector, device=device)
    except WeightsMissing as no_detector:
        if missing is None:  # the face model is here (or was required) but nothing can find the faces
            raise
        log.warn(f"faces were not looked for: no face detector is installed; run: {no_detector.command}")
        return []
    if not found:
        log.steps.append("no faces found")
        return []
    if missing is not None:
        log.warn(
            f"{len(found)} face(s) found but not restored: the face model '{missing.model}' is not installed; "
            f"run: {missing.command}"
        )
        return []
    if isinstance(strengths, tuple) and len(strengths) != len(found):
        raise InvalidInput(f"{len(strengths)} face strengths given but {len(found)} face(s) found")
    restorer = load_face_restorer(model, device=device)
    pastes = []
    for index, face in enumerate(found):
        log.progress("faces: restore", index, len(found))
        matrix = alignment(face.landmark_array(), restorer.size)
        crop = warp_to_crop(image, matrix, restorer.size)
        value = strengths[index] if isinstance(strengths, tuple) else strengths
        with checked(log.progress.beat):  # the face network stops before its next layer once asked to
            restored = restorer(crop)
        pastes.append(Paste(restored, matrix, value))
    log.progress("faces: restore", len(found), len(found))
    log.steps.append(f"{len(found)} face(s) restored with {restorer.model}")
    return pastes


def _remove_scratches(picture: Picture, sensitivity: float, seed: int, log: _Log) -> Picture:
    from retouch.tools.erase import erase
    from retouch.tools.restore.oldphoto.scratches import detect_scratches

    log.progress("scratches: find", 0, 1)
    mask = detect_scratches(picture.rgb_float(), sensitivity=sensitivity)
    share = float(mask.mean())
    if share == 0.0:
        log.steps.append("no scratches found")
        return picture
    erased = erase(picture, mask, engine="patch", grow=2, feather=1.0, seed=seed, progress=log.progress)
    log.steps.append(f"scratches and dust erased ({share:.2%} of pixels)")
    return erased.replace(metadata=picture.metadata)  # one "restore" operation is recorded, not an "erase" too


def _enlarge(picture: Picture, factor: int, device: str, log: _Log) -> Picture:
    """The picture enlarged by the upscaler, or by bicubic interpolation (with a warning) without one."""
    from retouch.tools.upscale import upscale as upscaler

    try:
        enlarged = upscaler(picture, scale=factor, device=device, progress=log.progress)
    except WeightsMissing as missing:
        log.warn(f"the upscaler's model is missing ({missing}); enlarged with bicubic interpolation instead")
        return _bicubic(picture, factor)
    log.steps.append(f"upscaled x{factor}")
    return enlarged.replace(metadata=picture.metadata)


def _bicubic(picture: Picture, factor: int) -> Picture:
    from retouch.ops.resize import resize

    size = (picture.width * factor, picture.height * factor)
    pixels = picture.quantize(resize(picture.to_float(), size))
    alpha = picture.alpha_float()
    return picture.replace(pixels=pixels, alpha=None if alpha is None else picture.quantize(resize(alpha, size)))
