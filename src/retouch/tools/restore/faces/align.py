"""Aligning faces to the FFHQ template and mapping them back.

A face is aligned by the similarity transform (rotation, uniform scale, translation; no reflection) that takes its
five landmarks closest, in the least-squares sense, to the five points of the FFHQ 512 template (Umeyama's
closed form). The crop is the image warped by that transform; the inverse transform puts a (restored) crop back.

Coordinates: x to the right, y down, pixel centres at integer coordinates (OpenCV's convention), in pixels of the
image the landmarks were found in. A transform is a 2x3 float64 matrix ``[A | t]`` mapping image points to crop
points: ``crop = A @ image + t``.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput

# The five landmarks of FFHQ faces in a 512x512 crop: eye, eye, nose tip, mouth corner, mouth corner (image-left
# first); the template GFPGAN, CodeFormer and GPEN were trained with.
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ]
)


def template(size: int) -> np.ndarray:
    """The FFHQ template for a size x size crop."""
    return FFHQ_TEMPLATE_512 * (size / 512.0)


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform taking ``source`` points (Nx2) closest to ``target`` points (least squares)."""
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or len(source) < 2:
        raise InvalidInput(f"need matching Nx2 point sets (N >= 2), got {source.shape} and {target.shape}")
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mean_s, target - mean_t
    variance = (s**2).sum() / len(s)
    if variance <= 1e-12:
        raise InvalidInput("the landmarks coincide: no transform can be estimated")
    u, singular, vt = np.linalg.svd(t.T @ s / len(s))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])  # a rotation, never a reflection
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular) @ sign)) / variance
    linear = scale * rotation
    return np.hstack([linear, (mean_t - linear @ mean_s)[:, None]])


def alignment(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """The transform from image coordinates to a size x size crop aligned to the FFHQ template."""
    return similarity(landmarks, template(size))


def invert(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 affine transform."""
    linear = matrix[:, :2]
    inverse = np.linalg.inv(linear)
    return np.hstack([inverse, (-inverse @ matrix[:, 2])[:, None]])


def rescaled(matrix: np.ndarray, factor: float) -> np.ndarray:
    """The transform for the same crop taken from the image enlarged ``factor`` times.

    A pixel centre x of the image lands at ``factor * (x + 0.5) - 0.5`` in the enlarged image.
    """
    to_small = np.array([[1 / factor, 0, 0.5 / factor - 0.5], [0, 1 / factor, 0.5 / factor - 0.5]])
    return compose(matrix, to_small)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The transform ``outer(inner(p))``."""
    return np.hstack([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]])


def scale_of(matrix: np.ndarray) -> float:
    """The uniform scale of a similarity transform."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def warp_to_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The size x size crop of ``image`` (HxWxC float32) under ``matrix``; outside the image, mirrored content.

    A face larger than the crop is smoothed first, so shrinking it does not alias.
    """
    import cv2

    shrink = scale_of(matrix)
    source = image
    if shrink < 0.5:  # linear interpolation only averages 2x2 pixels: pre-blur to the crop's resolution
        sigma = 0.5 / shrink * 0.8
        source = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT101)
    crop = cv2.warpAffine(
        np.ascontiguousarray(source), matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )
    return crop.reshape(size, size, -1)


def warp_from_crop(crop: np.ndarray, matrix: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Put a crop (SxSxC or SxS float32) back into the image region ``box`` = (x, y, width, height).

    ``matrix`` maps image coordinates to crop coordinates. Returns the box's pixels (zero where the crop does
    not reach). A crop larger than its place in the image is reduced by area averaging first.
    """
    import cv2

    x, y, width, height = box
    to_crop = compose(matrix, np.array([[1.0, 0, x], [0, 1.0, y]]))  # box pixel -> crop pixel
    scale = 1.0 / scale_of(matrix)  # crop pixels per image pixel, inverted: image pixels per crop pixel
    if scale < 1.0:  # shrink with area averaging first: bilinear sampling of a big crop would alias
        side = crop.shape[0]
        small = max(1, round(side * scale))
        factor = small / side
        crop = cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA)
        to_crop = compose(np.array([[factor, 0, 0.5 * factor - 0.5], [0, factor, 0.5 * factor - 0.5]]), to_crop)
    flat = cv2.warpAffine(
        np.ascontiguousarray(crop),
        to_crop,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return flat if crop.ndim == 2 else flat.reshape(height, width, -1)


def crop_footprint(matrix: np.ndarray, size: int, image_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The image box (x, y, width, height) that a size x size crop covers, clipped to the image, or None."""
    inverse = invert(matrix)
    corners = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]])
    points = corners @ inverse[:, :2].T + inverse[:, 2]
    width, height = image_size
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)
