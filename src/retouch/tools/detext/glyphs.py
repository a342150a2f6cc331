"""From a detected line of text to the pixels of its letters: erasing whole boxes throws away the background
between and around the letters and leaves the fill a large hole to invent; erasing only the glyphs (with their
outlines, shadows and anti-aliased edges) leaves it thin strokes, which it fills from their immediate
surroundings.

Per region: the background's colours are sampled in a ring just outside it and summarised by a few clusters
(k-means in CIELAB); a pixel of the region is text when its colour lies farther from every background cluster
than the ring's own pixels do (a threshold from the ring's spread, so a busy background asks more of the text;
clusters too small to be background, such as ascenders poking into the ring, are left out). The text pixels,
with what they enclose (the fill of an outlined letter, even where its colour also occurs around it), are
closed over small gaps and grown by a few pixels (the anti-aliased edge, a halo, a shadow softer than the
threshold), within the region grown by the same amount. Where this cannot tell text from background, the whole
region is taken (grown by WHOLE_GROW only), as a box would be: a region that comes out almost all text or almost
none (text over a busy photo, a faint watermark), or one whose strong edges (Canny) the glyph mask does not
nearly all cover (a letter whose colours also occur around it: white letters crossing a white shirt).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retouch.tools.detext.detect import TextRegion
from retouch.types import Rect

CLUSTERS = 3  # background colours per region
MIN_DISTANCE = 10.0  # CIELAB units: closer colours are never told apart from the background
RING_SPREAD = 1.5  # text must lie this many times farther out than the ring's 90th percentile
SPARSE, DENSE = 0.03, 0.85  # text shares of the region outside which the glyph mask is not trusted
EDGE_COVERAGE = 0.9  # the glyph mask must cover this share of the region's strong edges
# CIELAB units: a ring this close to its colours is a plain background (JPEG noise allowed), and this close to one
# colour a flat one, filled smoothly (a photo's grain is above it: a smooth patch there would show)
PLAIN_SPREAD = 4.0
FLAT_SPREAD = 2.0
MAX_SAMPLES = 2000  # ring pixels the clusters are fitted on
MIN_CLUSTER_SHARE = 0.15  # smaller clusters of the ring's colours are not background


def default_grow(height: float) -> int:
    """Pixels added around the glyphs: enough for anti-aliasing and soft edges, more for larger text."""
    return 2 + round(height / 16)


# Pixels added around a whole region taken for want of its letters: the detector's outline of a line (its kernel
# grown back by the unclip ratio) already reaches past the letters. Measured on the remove-text benchmark, growing
# it by the letters' margin as well gave a larger hole than a box and a worse fill (texture distance 137 against
# the boxes' 135); by 1 px, 124, with the same recall.
WHOLE_GROW = 1


@dataclass(frozen=True)
class Glyphs:
    """What to erase for one line: ``mask`` (bool) over ``box`` (x, y, w, h); whether the background around it
    is plain (a few colours without texture: what the detector finds there is lettering, not a texture it
    mistook), and whether it is flat (plain and one colour: a smooth fill restores it to within a few levels)."""

    box: Rect
    mask: np.ndarray
    plain: bool
    flat: bool


def glyph_mask(
    pixels: np.ndarray, region: TextRegion, grow: int, texts: np.ndarray, whole_grow: int | None = None
) -> Glyphs:
    """The pixels to erase for ``region`` in ``pixels`` (HxWx3 uint8 RGB): its letters grown by ``grow``, within
    the region grown as much, or where the letters cannot be told apart, the region grown by ``whole_grow``
    (default: ``grow``). ``texts``: HxW, True inside every detected region, none of which counts as this one's
    background (the next line of a paragraph often lies within its ring)."""
    import cv2

    height, width = pixels.shape[:2]
    ring_width = max(2, round(region.height / 4))
    margin = grow + ring_width
    x, y, w, h = region.box
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    box = (x0, y0, x1 - x0, y1 - y0)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    inside[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = region.mask
    near = cv2.dilate(inside, _disk(ring_width)).astype(bool)
    ring = near & ~inside.astype(bool) & ~texts[y0:y1, x0:x1]
    crop = pixels[y0:y1, x0:x1]
    lab = cv2.cvtColor(crop.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    bound = _grown(inside.astype(bool), grow)
    whole = bound if whole_grow is None or whole_grow == grow else _grown(inside.astype(bool), whole_grow)
    text, spread, colours = _far_from_background(lab, inside.astype(bool), ring)
    plain = spread <= PLAIN_SPREAD
    flat = spread <= FLAT_SPREAD and colours == 1
    if text is None:
        return Glyphs(box, whole, plain, flat)
    closed = cv2.morphologyEx(text.astype(np.uint8), cv2.MORPH_CLOSE, _disk(1)).astype(bool)
    text = _grown(closed & inside.astype(bool), grow) & bound
    if _edge_coverage(crop, inside, text) < EDGE_COVERAGE:  # letters the colours could not tell: take it whole
        text = whole
    return Glyphs(box, text, plain, flat)


def _grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), _disk(pixels)).astype(bool) if pixels > 0 else mask


def _edge_coverage(crop: np.ndarray, inside: np.ndarray, text: np.ndarray) -> float:
    """The share of the strong edges inside the region that ``text`` covers: every edge of every letter lies
    inside, so a mask that misses a letter (or a stretch of its outline) leaves edges uncovered."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    core = cv2.erode(inside, _disk(1)).astype(bool)
    edges = (cv2.Canny(grey, 60, 150) > 0) & core
    total = int(edges.sum())
    return 1.0 if total == 0 else float((edges & text).sum()) / total


def _far_from_background(
    lab: np.ndarray, inside: np.ndarray, ring: np.ndarray
) -> tuple[np.ndarray | None, float, int]:
    """The pixels of ``inside`` whose colour is far from every background cluster, with what they enclose (the
    fill of an outlined letter whose colour also occurs in the background), or None when the split is not
    trustworthy (see the module's description); the ring's spread around its clusters (90th percentile, CIELAB
    units; infinite without enough ring); and how many distinct colours the ring holds (clusters further apart
    than PLAIN_SPREAD: several where panels or a horizon meet, whose edge a smooth fill would smudge)."""
    samples = lab[ring]
    if len(samples) < 4 * CLUSTERS:
        return None, float("inf"), CLUSTERS
    centres = _kmeans(samples[:: max(1, len(samples) // MAX_SAMPLES)], CLUSTERS)
    distance = _nearest(lab, centres)
    spread = float(np.quantile(distance[ring], 0.9))
    text = with_enclosed(inside & (distance > max(MIN_DISTANCE, RING_SPREAD * spread)))
    share = text.sum() / max(1, inside.sum())
    apart = max(float(np.linalg.norm(a - b)) for a in centres for b in centres)
    return (text if SPARSE <= share <= DENSE else None), spread, (1 if apart <= PLAIN_SPREAD else 2)


def _kmeans(samples: np.ndarray, k: int, rounds: int = 12) -> np.ndarray:
    """The background's colours: up to k cluster centres of ``samples`` (N x 3), Lloyd's iterations from centres
    spread over the lightness range (deterministic, unlike OpenCV's k-means++ whose seed is process-wide state).
    Clusters holding under MIN_CLUSTER_SHARE of the samples are dropped: they are the strokes of letters whose
    ascenders and descenders poke out into the ring, which must not count as background."""
    order = np.argsort(samples[:, 0], kind="stable")
    centres = samples[order[(np.arange(k) * 2 + 1) * len(samples) // (2 * k)]].astype(np.float64)
    nearest = np.zeros(len(samples), np.int64)
    for _ in range(rounds):
        nearest = np.argmin(((samples[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        for j in range(k):
            members = samples[nearest == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    counts = np.bincount(nearest, minlength=k)
    kept = counts >= MIN_CLUSTER_SHARE * len(samples)
    return centres[kept if kept.any() else counts == counts.max()].astype(np.float32)


def with_enclosed(text: np.ndarray) -> np.ndarray:
    """``text`` plus the pixels it encloses (not reachable from the box's border without crossing it)."""
    import cv2

    outside = (~text).astype(np.uint8)
    _, labels = cv2.connectedComponents(outside, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    enclosed = (outside > 0) & ~np.isin(labels, border)
    return text | enclosed


def _nearest(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each pixel's CIELAB distance to its nearest cluster centre."""
    best = np.full(lab.shape[:2], np.inf, np.float32)
    for centre in centres:
        np.minimum(best, np.linalg.norm(lab - centre, axis=2), out=best)
    return best


def _disk(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
