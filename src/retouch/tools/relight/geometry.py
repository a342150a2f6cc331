"""Geometry for relighting a flat photo: a unit normal and a height per pixel, guessed from the subject's matte,
the photo's own shading and its faces.

- Inflation (after Johnston, "Lumo", NPAR 2002): the matte's inside is solved as a membrane, the Poisson equation
  lap(P) = -4 with P = 0 on the silhouette, and the height is sqrt(P). For a disc of radius R that is exactly the
  hemisphere sqrt(R^2 - r^2); for any shape the normals at the silhouette lie in the image plane, perpendicular to
  the edge, and turn towards the viewer inward. The frame's own border is not a silhouette (a subject cut by the
  frame goes on past it): there the membrane is free (Neumann). The solve runs at a work size and is carried to full
  size as P = G * d near the edge (d: the full-size distance to the silhouette, G = P / d: smooth), so the edge stays
  sharp at any size.
- Outside the matte, the subject's normal is the outward one of its nearest edge, so half-transparent hair takes
  the light of the edge it grows from; the matte then blends it with the far plane's (0, 0, 1).
- Detail: the luminance's high-pass is a height field whose slopes tilt every normal (bright = raised).
- Faces (RetinaFace, when installed): an ellipsoidal relief added to the height over each face.

Coordinates: x to the right, y down, z towards the viewer, in pixels of the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORK_SIDE = 384  # the membrane is solved with this long side (the shape, not its detail)
DETAIL_SIGMA = 0.006  # the detail's high-pass, in long sides
DETAIL_HEIGHT = 0.004  # the detail's height for a full-range luminance step, in long sides
FACE_DEPTH = 0.35  # a face's relief above the subject, in face widths
BACKDROP = 0.15  # how far the far plane lies behind the subject's silhouette, in long sides
MATTE_SMOOTH = 0.003  # the matte is smoothed over this many long sides before it is cut at one half
SPECK = 0.0005  # islands and holes of the cut matte smaller than this part of the frame are dropped
# A hole inside the subject where the matte is faint rather than empty (its mean at least UNSURE_HOLE) and that is
# at most HOLE_SHARE of the subject is the network's doubt, not a gap: u2netp leaves one on a portrait's bare
# shoulder (mean 0.13, 3.7% of the subject), whose ragged edge a rim light then traces across the skin. Real gaps
# (between an arm and the body) come out empty, with a mean near 0.
UNSURE_HOLE = 0.1
HOLE_SHARE = 0.1


@dataclass(frozen=True)
class Geometry:
    """Per-pixel shape: ``normals`` HxWx3 unit float32 (x right, y down, z to the viewer), ``height`` HxW float32
    pixels above the far plane (the subject stands BACKDROP long sides in front of it), ``subject`` HxW float32
    matte in [0, 1] (zeros: no subject); ``source``: where the matte came from ("matte", "alpha", a cutout
    model's name, or "none")."""

    normals: np.ndarray
    height: np.ndarray
    subject: np.ndarray
    source: str = "none"


@dataclass(frozen=True)
class FaceBox:
    """A face's box in pixels: x, y (top-left), width, height."""

    x: float
    y: float
    width: float
    height: float


def build_geometry(
    rgb: np.ndarray,
    matte: np.ndarray | None,
    *,
    faces: tuple[FaceBox, ...] = (),
    detail: float = 1.0,
    depth: np.ndarray | None = None,
) -> Geometry:
    """The geometry of the photo ``rgb`` (HxWx3 float32 sRGB in [0, 1]) whose subject is ``matte`` (HxW float32 in
    [0, 1], or None: no subject, the whole frame is the far plane); the inflation makes a disc a hemisphere.
    ``detail`` scales the detail normals (0: none). ``depth``: a height field from a depth network (HxW float32
    pixels), which then replaces the inflation and the far plane; the matte still says where the subject is
    glossy."""
    h, w = rgb.shape[:2]
    subject = np.zeros((h, w), np.float32) if matte is None else matte.astype(np.float32, copy=False)
    if depth is not None:
        height = depth.astype(np.float32, copy=True)
        for face in faces:
            _add_face_relief(height, face)
        normals = _normals(height, None, subject)
        if detail > 0:
            _tilt_by_detail(normals, rgb, detail)
        return Geometry(normals=normals, height=height, subject=subject)
    solid = None if matte is None else solid_part(subject)
    if solid is None or not solid.any() or solid.all():  # no subject, or no silhouette: a flat plane
        solid = None
        height = np.zeros((h, w), np.float32)
    else:
        height = inflate(solid)
    for face in faces:
        _add_face_relief(height, face)
    normals = _normals(height, solid, subject)
    if detail > 0:
        _tilt_by_detail(normals, rgb, detail)
    if solid is not None:  # the subject stands in front of the far plane (the normals do not see this step)
        height[solid] += np.float32(BACKDROP * max(h, w))
    return Geometry(normals=normals, height=height, subject=subject)


def solid_part(matte: np.ndarray) -> np.ndarray:
    """The matte cut at one half after a slight blur, without specks: stray hairs and small holes would each
    become a bump of their own."""
    import cv2

    h, w = matte.shape
    sigma = MATTE_SMOOTH * max(h, w)
    inside = (wide_blur(matte, sigma) if sigma >= 0.5 else matte) >= 0.5
    least = SPECK * h * w
    for value in (True, False):  # islands, then holes
        count, labels, stats, _ = cv2.connectedComponentsWithStats((inside == value).astype(np.uint8), connectivity=8)
        small = np.nonzero(stats[1:, cv2.CC_STAT_AREA] < least)[0] + 1
        if value is False:  # a region that touches the frame is background, not a hole
            x, y, bw, bh = (stats[small, k] for k in range(4))
            small = small[(x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)]
        if small.size:
            dropped = np.zeros(count, bool)
            dropped[small] = True
            inside[dropped[labels]] = not value
    _fill_unsure_holes(inside, matte)
    return inside


def _fill_unsure_holes(inside: np.ndarray, matte: np.ndarray) -> None:
    """Fill, in place, the holes of ``inside`` that the matte only doubts (see UNSURE_HOLE)."""
    import cv2

    h, w = inside.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~inside).astype(np.uint8), connectivity=8)
    if count <= 1:
        return
    means = np.bincount(labels.ravel(), weights=matte.ravel(), minlength=count) / np.maximum(stats[:, 4], 1)
    x, y, bw, bh, area = (stats[:, k] for k in range(5))
    enclosed = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    fill = enclosed & (means >= UNSURE_HOLE) & (area <= HOLE_SHARE * inside.sum())
    fill[0] = False  # label 0 is the subject itself
    if fill.any():
        inside[fill[labels]] = True


def inflate(inside: np.ndarray) -> np.ndarray:
    """The inflated height: HxW float32 pixels, 0 outside ``inside``."""
    import cv2

    h, w = inside.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(inside.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5
    else:
        small = inside
    membrane = _as_tubes(solve_membrane(small), small)
    if scale < 1.0:
        full = _to_full(membrane, small, inside, (h / small.shape[0] + w / small.shape[1]) / 2)
    else:
        full = membrane
    height = np.sqrt(np.maximum(full, 0.0, out=full), out=full)
    height[~inside] = 0.0
    return height


def _as_tubes(membrane: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The membrane rescaled so that a long shape is as deep as it is wide, as a round one is.

    sqrt(P) is exact for a disc, but a band of half-width a gets sqrt(2) a. A shape that is locally a tube of
    radius R (the largest inscribed disc over the pixel, ``_thickness``) has the height^2 d (2R - d) at distance d
    from its edge: exact for discs and bands alike, but creased along the medial axis. The membrane keeps its
    smoothness and takes the tubes' depth: it is scaled by their ratio, smoothed.
    """
    import cv2

    distance = _inner_distance(inside)
    if not distance.any():
        return membrane
    radius = _thickness(distance)
    tubes = np.maximum(distance * (2.0 * radius - distance), 0.0)
    sigma = max(1.0, 0.25 * float(np.percentile(radius[inside], 50)))
    weight = inside.astype(np.float32)
    ratio = cv2.GaussianBlur(tubes, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(membrane, (0, 0), sigma), 1e-6)
    known = cv2.GaussianBlur(weight, (0, 0), sigma) > 0
    ratio = np.where(known, np.clip(ratio, 0.25, 1.0), 1.0).astype(np.float32)
    return membrane * ratio


def _thickness(distance: np.ndarray) -> np.ndarray:
    """Each pixel's radius of the largest disc inside the shape that covers it (``distance``: to the edge)."""
    import cv2

    radius = np.zeros_like(distance)
    for level in np.geomspace(1.0, float(distance.max()), 32):
        centres = (distance >= level).astype(np.uint8)
        if not centres.any():
            break
        reach = cv2.distanceTransform(1 - centres, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to the nearest centre
        radius[(reach < level) & (distance > 0)] = level
    return radius


def solve_membrane(inside: np.ndarray) -> np.ndarray:
    """P with lap(P) = -4 inside, P = 0 on the pixels outside, free at the frame's border (float32 HxW)."""
    import scipy.sparse
    import scipy.sparse.linalg

    h, w = inside.shape
    index = -np.ones((h, w), np.int64)
    ys, xs = np.nonzero(inside)
    n = ys.size
    index[ys, xs] = np.arange(n)
    rows, cols, vals = [np.arange(n)], [np.arange(n)], []
    diagonal = np.zeros(n, np.float64)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        in_frame = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        diagonal += in_frame  # a neighbour past the frame's border is no constraint (Neumann)
        neighbour = np.full(n, -1, np.int64)
        neighbour[in_frame] = index[ny[in_frame], nx[in_frame]]
        linked = neighbour >= 0
        rows.append(np.nonzero(linked)[0])
        cols.append(neighbour[linked])
    vals = [diagonal] + [-np.ones(r.size) for r in rows[1:]]
    matrix = scipy.sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (n, n))
    solution = scipy.sparse.linalg.spsolve(matrix.tocsc(), np.full(n, 4.0))
    out = np.zeros((h, w), np.float32)
    out[ys, xs] = solution
    return out


def _to_full(membrane: np.ndarray, small: np.ndarray, inside: np.ndarray, factor: float) -> np.ndarray:
    """The work-size membrane at full size (float32, in full-size pixels squared), zero on the full-size edge."""
    import cv2

    h, w = inside.shape
    d_small = _inner_distance(small)
    ratio = np.where(small, membrane / np.maximum(d_small, 0.5), 0.0).astype(np.float32)  # G = P / d: smooth
    ratio = _fill_outside(ratio, small)
    up_ratio = cv2.resize(ratio, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(factor)
    up_membrane = cv2.resize(membrane, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(factor * factor)
    d_full = _inner_distance(inside)
    near = np.clip(d_full / np.float32(3.0 * factor), 0.0, 1.0)  # within 3 work pixels of the edge: G * d
    return near * up_membrane + (1.0 - near) * up_ratio * d_full


def _inner_distance(inside: np.ndarray) -> np.ndarray:
    """Each inside pixel's distance to the nearest outside pixel (the frame's border is not an edge)."""
    import cv2

    return cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _fill_outside(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``values`` with each outside pixel given its nearest inside pixel's value (so resizing does not pull the
    edge's values towards zero)."""
    import cv2

    if inside.all():
        return values
    _, labels = cv2.distanceTransformWithLabels(
        (~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(inside)
    source = np.zeros(labels.max() + 1, np.float32)
    source[labels[ys, xs]] = values[ys, xs]
    return source[labels]


def _outward(inside: np.ndarray, where: np.ndarray) -> np.ndarray:
    """At the flat indices ``where`` (outside ``inside``): the unit direction away from the nearest edge, the
    outer distance's gradient (central differences), Nx2 float32 x, y."""
    import cv2

    outer = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    padded = np.pad(outer, 1, mode="edge")
    ys, xs = np.divmod(where, inside.shape[1])
    ys, xs = ys + 1, xs + 1
    gx = padded[ys, xs + 1] - padded[ys, xs - 1]
    gy = padded[ys + 1, xs] - padded[ys - 1, xs]
    length = np.maximum(np.sqrt(gx * gx + gy * gy), np.float32(1e-6))
    return np.stack([gx / length, gy / length], axis=1)


def _normals(height: np.ndarray, inside: np.ndarray | None, subject: np.ndarray) -> np.ndarray:
    """Unit normals of ``height``; outside the subject's ``inside``, its nearest edge's outward normal blended
    with the far plane's (0, 0, 1) by the matte."""
    import cv2

    normals = np.empty((*height.shape, 3), np.float32)
    normals[..., 0] = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=1, scale=-0.5)  # minus the central differences
    normals[..., 1] = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=1, scale=-0.5)
    normals[..., 2] = 1.0
    if inside is not None:
        normals[..., :2] *= inside[..., None]  # the steps at the edge seen from outside are not slopes
        flat = normals.reshape(-1, 3)
        soft = np.flatnonzero((subject > 0).ravel() & ~inside.ravel())  # half-transparent pixels: hair, blur
        alpha = subject.ravel()[soft][:, None]
        flat[soft, :2] = alpha * _outward(inside, soft)
        flat[soft, 2] = 1.0 - alpha[:, 0]
    _normalize(normals)
    return normals


def _tilt_by_detail(normals: np.ndarray, rgb: np.ndarray, detail: float) -> None:
    """Tilt ``normals`` in place by the slopes of the luminance's high-pass, taken as a height field."""
    import cv2

    h, w = rgb.shape[:2]
    side = max(h, w)
    luma = rgb[..., 0] * np.float32(0.2126) + rgb[..., 1] * np.float32(0.7152) + rgb[..., 2] * np.float32(0.0722)
    sigma = max(0.8, DETAIL_SIGMA * side)
    high = luma - wide_blur(luma, sigma)
    high *= np.float32(detail * DETAIL_HEIGHT * side)
    gx = cv2.Sobel(high, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(high, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    z = normals[..., 2]
    normals[..., 0] -= gx * z  # the detail's slope added to the surface's, in the surface's frame
    normals[..., 1] -= gy * z
    _normalize(normals)


def wide_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of ``sigma`` pixels; a wide one is done at a size where it spans 4 pixels, then resized
    back (the same smooth result at a fraction of the work)."""
    import cv2

    factor = int(sigma // 4)
    if factor < 2:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    h, w = values.shape[:2]
    small = cv2.resize(values, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _add_face_relief(height: np.ndarray, face: FaceBox) -> None:
    """Raise ``height`` in place by an ellipsoid over ``face``: smooth at its rim, FACE_DEPTH face widths high."""
    h, w = height.shape
    cx, cy = face.x + face.width / 2, face.y + face.height * 0.55
    ax, ay = face.width * 0.55, face.height * 0.7
    x0, x1 = max(0, int(cx - ax)), min(w, int(cx + ax) + 1)
    y0, y1 = max(0, int(cy - ay)), min(h, int(cy + ay) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    xs = (np.arange(x0, x1, dtype=np.float32) - cx) / ax
    ys = (np.arange(y0, y1, dtype=np.float32) - cy) / ay
    q = np.maximum(1.0 - (ys[:, None] ** 2 + xs[None, :] ** 2), 0.0)
    height[y0:y1, x0:x1] += np.float32(FACE_DEPTH * face.width) * q**1.5


def _normalize(vectors: np.ndarray) -> None:
    length = np.sqrt(np.einsum("...i,...i->...", vectors, vectors))
    length[length == 0] = 1.0
    vectors /= length[..., None]


def downscaled(geometry: Geometry, rgb: np.ndarray, pixels: int) -> tuple[Geometry, np.ndarray, float]:
    """The geometry and the photo ``rgb`` at about ``pixels`` pixels (never enlarged), and the scale used: normals
    averaged and renormalized, the height in the smaller picture's pixels."""
    import cv2

    h, w = geometry.height.shape
    scale = min(1.0, (pixels / (h * w)) ** 0.5)
    if scale >= 1.0:
        return geometry, rgb, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))

    def shrink(values: np.ndarray) -> np.ndarray:
        return cv2.resize(values, size, interpolation=cv2.INTER_AREA)

    normals = shrink(geometry.normals)
    _normalize(normals)
    height = shrink(geometry.height) * np.float32(scale)
    small = Geometry(normals=normals, height=height, subject=shrink(geometry.subject), source=geometry.source)
    return small, shrink(rgb), scale


def normal_map_rgb(normals: np.ndarray) -> np.ndarray:
    """Normals as the usual tangent-space colours: R = x right, G = y up, B = z to the viewer, each (n + 1) / 2."""
    out = normals * np.float32(0.5) + np.float32(0.5)
    out[..., 1] = np.float32(1.0) - out[..., 1]  # y down inside, up in the map
    return out
