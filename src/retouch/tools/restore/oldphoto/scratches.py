"""Finding scratches and dust on scanned photos, as a mask for the erase engine.

Scratches and dust are thin or small marks much brighter (emulsion scraped off, dust on the scanner glass) or
darker (dirt, hair) than what surrounds them. Per polarity:

1. Contrast: a morphological top-hat (bright marks) or black-hat (dark marks) with a disk wider than the widest
   mark keeps only structures narrower than the disk, at their contrast over the local background.
2. Evidence of a line: the contrast is averaged along short segments in 12 directions. A scratch gives a strong
   average along its own direction and a weak one across; texture (foliage, gravel, fabric) is about as strong
   in every direction. ``lineness`` = strongest direction minus the median direction.
3. Marks: pixels whose contrast clears a threshold (a multiple of the photo's measured noise, never under
   ``MIN_CONTRAST``) are grouped into connected regions. A region is a scratch when its line evidence is strong
   somewhere and it is long and thin; it is dust when it is small and compact and stands out strongly.

Thresholds scale with ``sensitivity`` (0..1, default 0.5): higher finds fainter marks and more false ones.
Sizes scale with the photo (``max(width, height) / 1000``), so the same marks are found on a scan at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.restore.oldphoto.denoise import estimate_noise

DIRECTIONS = 12
MIN_CONTRAST = 0.05  # of full scale: fainter marks are left alone whatever the noise
MAX_SPECK_DENSITY = 0.05  # fraction of salient pixels around a speck above which specks are texture
LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class ScratchSettings:
    """Sizes in pixels for a photo of a given size, and thresholds for a sensitivity."""

    max_width: int  # the widest scratch found
    segment: int  # length of the segments that gather line evidence
    min_length: int  # the shortest scratch kept
    max_dust: int  # the largest speck of dust kept, in pixels of area
    contrast_sigmas: float  # contrast floor in units of noise
    texture_ratio: float  # contrast threshold in units of the local texture (RMS contrast around)
    line_ratio: float  # line evidence needed, as a fraction of the pixel's own contrast
    speck_ratio: float  # contrast a speck of dust needs, in units of the local texture

    @classmethod
    def for_image(cls, width: int, height: int, sensitivity: float) -> ScratchSettings:
        if not 0.0 <= sensitivity <= 1.0:
            raise InvalidInput(f"scratch sensitivity must be between 0 and 1, got {sensitivity}")
        unit = max(width, height) / 1000
        return cls(
            max_width=max(2, round(5 * unit)),
            segment=max(9, round(21 * unit) | 1),
            min_length=max(12, round(30 * unit)),
            max_dust=round(0.8 * (2 * max(2, round(5 * unit)) + 1) ** 2),
            contrast_sigmas=6.0 - 4.0 * sensitivity,
            texture_ratio=3.0 - 2.0 * sensitivity,
            line_ratio=0.7 - 0.4 * sensitivity,
            speck_ratio=6.0 - 4.0 * sensitivity,
        )


def detect_scratches(image: np.ndarray, *, sensitivity: float = 0.5, dust: bool = True) -> np.ndarray:
    """The scratches (and, with ``dust``, specks) on ``image`` (HxWx3 float32 RGB in [0, 1]) as an HxW bool mask."""
    import cv2

    height, width = image.shape[:2]
    settings = ScratchSettings.for_image(width, height, sensitivity)
    luma = np.ascontiguousarray(image.astype(np.float32, copy=False) @ LUMA_601)
    noise = estimate_noise(luma)
    side = 2 * settings.max_width + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    bright = cv2.morphologyEx(luma, cv2.MORPH_TOPHAT, disk, borderType=cv2.BORDER_REFLECT101)
    dark = cv2.morphologyEx(luma, cv2.MORPH_BLACKHAT, disk, borderType=cv2.BORDER_REFLECT101)
    found = np.zeros((height, width), bool)
    for contrast in (bright, dark):
        found |= _marks(contrast, noise, settings, dust)
    return found


def line_evidence(contrast: np.ndarray, segment: int) -> np.ndarray:
    """Strongest minus median mean contrast along segments of ``segment`` pixels in DIRECTIONS directions."""
    import cv2

    responses = np.stack(
        [cv2.filter2D(contrast, -1, kernel, borderType=cv2.BORDER_REFLECT101) for kernel in _segment_kernels(segment)]
    )
    return responses.max(axis=0) - np.median(responses, axis=0)


def _marks(contrast: np.ndarray, noise: float, settings: ScratchSettings, dust: bool) -> np.ndarray:
    """The marks of one polarity: salient contrast that forms long thin lines, or small compact specks."""
    import cv2

    # Salient: above the noise, above MIN_CONTRAST and well above the texture around it (its local RMS).
    window = 4 * settings.segment + 1
    texture = np.sqrt(cv2.blur(contrast * contrast, (window, window), borderType=cv2.BORDER_REFLECT101))
    floor = max(MIN_CONTRAST, settings.contrast_sigmas * noise)
    salient = contrast > np.maximum(floor, settings.texture_ratio * texture)
    kept = np.where(salient, contrast, np.float32(0))
    evidence = line_evidence(kept, settings.segment)
    on_line = salient & (evidence > settings.line_ratio * contrast)
    band = settings.max_width  # the frame's own edge is not a scratch: lines must show inside it
    on_line[:band], on_line[-band:], on_line[:, :band], on_line[:, -band:] = False, False, False, False
    found = _long_regions(on_line, settings.min_length)
    if found.any():  # take in the full width of each scratch: its salient neighbours
        grown = cv2.dilate(found.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        found = grown & salient | found
    if dust:
        # Dust is sparse: where salient specks are dense (spray, gravel, foliage) they are texture.
        density = cv2.blur(salient.astype(np.float32), (window, window), borderType=cv2.BORDER_REFLECT101)
        needed = np.maximum(2 * floor, settings.speck_ratio * texture)
        needed[density > MAX_SPECK_DENSITY] = np.inf
        found |= _specks(salient, contrast, needed, settings)
    return found


def _long_regions(mask: np.ndarray, min_length: int) -> np.ndarray:
    """The connected regions of ``mask`` whose extent (bounding-box diagonal) reaches ``min_length``."""
    import cv2

    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = extent >= min_length
    keep[0] = False  # the background
    return keep[labels]


def _specks(salient: np.ndarray, contrast: np.ndarray, needed: np.ndarray, settings: ScratchSettings) -> np.ndarray:
    """Small compact salient regions somewhere above the contrast ``needed`` there (HxW)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(salient.astype(np.uint8), connectivity=8)
    standout = np.zeros(count, np.float32)
    np.maximum.at(standout, labels.ravel(), (contrast - needed).ravel())
    side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    small = (stats[:, cv2.CC_STAT_AREA] <= settings.max_dust) & (side <= 2 * settings.max_width + 1)
    keep = small & (standout > 0)
    keep[0] = False
    return keep[labels]


def _segment_kernels(length: int) -> list[np.ndarray]:
    import cv2

    kernels = []
    centre = (length - 1) / 2
    for index in range(DIRECTIONS):
        angle = np.pi * index / DIRECTIONS
        kernel = np.zeros((length, length), np.uint8)
        dx, dy = np.cos(angle) * centre, np.sin(angle) * centre
        start = (round((centre - dx) * 16), round((centre - dy) * 16))
        end = (round((centre + dx) * 16), round((centre + dy) * 16))
        cv2.line(kernel, start, end, 255, 1, cv2.LINE_AA, shift=4)
        weights = kernel.astype(np.float32)
        kernels.append(weights / weights.sum())
    return kernels
