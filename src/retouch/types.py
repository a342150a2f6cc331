"""Core value types: plain frozen dataclasses, shared by every tool.

Pixel contract (enforced at the edges, stated once here):
- ``Picture.pixels`` holds the decoded samples: HxWxC with C = 1 (greyscale) or 3 (RGB, in that order),
  dtype uint8 or uint16 as in the file. Alpha, when present, is a separate HxW array of the same dtype.
- Inside tools pixels are float32 in [0, 1] (``Picture.to_float``); ``Picture.with_float`` quantizes back to
  the picture's own bit depth, so an 8-bit value survives the round trip exactly, and so does a 16-bit one.
- Masks are HxW bool arrays, True = the pixels to change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Mask = npt.NDArray[np.bool_]
else:
    Mask = Any

# Progress callback: (stage label, units done, units total). Library code reports, the CLI and server render.
ProgressCallback = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: reports nowhere."""


@dataclass(frozen=True)
class Rect:
    """A rectangle of an image in pixels: top-left x, y and width, height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index an HxW[xC] array with this to get the rectangle's pixels."""
        return slice(self.y, self.y + self.height), slice(self.x, self.x + self.width)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Metadata:
    """What travels with the pixels from the input file to the output file."""

    icc_profile: bytes | None = None
    exif: bytes | None = None  # raw EXIF block (starting with the TIFF header); orientation already reset to 1
    xmp: bytes | None = None  # the XMP packet as read
    dpi: tuple[float, float] | None = None
    source_format: str | None = None  # Pillow's format name of the input: "JPEG", "PNG", "HEIF", ...
    operations: tuple[str, ...] = ()  # Retouch operations applied so far, recorded in the provenance XMP


@dataclass(frozen=True, eq=False)
class Picture:
    """An image with everything needed to write it back without loss."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    metadata: Metadata = field(default_factory=Metadata)
    # The bytes of the JPEG file the picture was decoded from (None for other sources). Saving as JPEG then keeps
    # the file's blocks wherever the pixels still decode from them (retouch.io.jpeg_lossless); safe to carry
    # through any edit, since blocks are kept only where the pixels equal the file's own decode.
    source_jpeg: bytes | None = field(default=None, repr=False)
    # The file the picture was loaded from (None for other sources): a save names it, with its own Content
    # Credentials when it has them, as the parent ingredient of the output's C2PA manifest (retouch.io.credentials).
    source_file: Path | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import numpy as np

        p = self.pixels
        if p.ndim != 3 or p.shape[2] not in (1, 3):
            raise ValueError(f"Picture.pixels must be HxWx1 or HxWx3, got shape {p.shape}")
        if p.shape[0] == 0 or p.shape[1] == 0:
            raise ValueError(f"Picture.pixels must have at least one pixel, got shape {p.shape}")
        if p.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"Picture.pixels must be uint8 or uint16, got {p.dtype}")
        if self.alpha is not None and (self.alpha.shape != p.shape[:2] or self.alpha.dtype != p.dtype):
            raise ValueError("Picture.alpha must be HxW with the same dtype as pixels")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow orders it."""
        return self.width, self.height

    @property
    def bit_depth(self) -> int:
        return 8 if self.pixels.dtype.itemsize == 1 else 16

    @property
    def max_value(self) -> int:
        return 255 if self.bit_depth == 8 else 65535

    @property
    def is_grey(self) -> bool:
        return self.pixels.shape[2] == 1

    @property
    def has_alpha(self) -> bool:
        return self.alpha is not None

    def to_float(self) -> np.ndarray:
        """The colour samples as float32 HxWxC in [0, 1]."""
        import numpy as np

        return self.pixels.astype(np.float32) / np.float32(self.max_value)

    def rgb_float(self) -> np.ndarray:
        """The colour samples as float32 HxWx3 RGB in [0, 1] (greyscale repeated), what networks expect."""
        import numpy as np

        f = self.to_float()
        return np.repeat(f, 3, axis=2) if self.is_grey else f

    def alpha_float(self) -> np.ndarray | None:
        import numpy as np

        return None if self.alpha is None else self.alpha.astype(np.float32) / np.float32(self.max_value)

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Float samples in [0, 1] to this picture's integer dtype (round to nearest, clipped)."""
        import numpy as np

        scaled = np.clip(values, 0.0, 1.0) * np.float32(self.max_value) + np.float32(0.5)
        return scaled.astype(self.pixels.dtype)

    def with_float(self, rgb_or_grey: np.ndarray, alpha: np.ndarray | None | str = "keep") -> Picture:
        """A new picture with these float pixels, in this picture's bit depth and colour layout.

        RGB input for a greyscale picture is folded back to one channel (its mean), so greyscale stays greyscale.
        ``alpha="keep"`` keeps the current alpha; ``None`` drops it; an HxW float array replaces it.
        """
        if rgb_or_grey.ndim == 2:
            rgb_or_grey = rgb_or_grey[:, :, None]
        if self.is_grey and rgb_or_grey.shape[2] == 3:
            rgb_or_grey = rgb_or_grey.mean(axis=2, keepdims=True)
        new_alpha = self.alpha if isinstance(alpha, str) else (None if alpha is None else self.quantize(alpha))
        return dataclasses.replace(self, pixels=self.quantize(rgb_or_grey), alpha=new_alpha)

    def with_operation(self, name: str) -> Picture:
        """Record an applied operation for the provenance XMP."""
        meta = dataclasses.replace(self.metadata, operations=(*self.metadata.operations, name))
        return dataclasses.replace(self, metadata=meta)

    def cropped(self, x: int, y: int, width: int, height: int) -> Picture:
        """The part of this picture at (x, y, width, height), recorded as a ``crop_operation`` (the editor lines
        up its before/after comparison with it)."""
        alpha = None if self.alpha is None else self.alpha[y : y + height, x : x + width].copy()
        part = self.replace(pixels=self.pixels[y : y + height, x : x + width].copy(), alpha=alpha)
        return part.with_operation(crop_operation(x, y, width, height))

    def replace(self, **changes: Any) -> Picture:
        return dataclasses.replace(self, **changes)


_CROP = re.compile(r"crop x=(\d+) y=(\d+) width=(\d+) height=(\d+)")


def crop_operation(x: int, y: int, width: int, height: int) -> str:
    """How a crop is recorded among a picture's operations (``crop_box`` reads it back)."""
    return f"crop x={x} y={y} width={width} height={height}"


def crop_box(operation: str) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of a recorded ``crop_operation``; None for any other operation."""
    found = _CROP.fullmatch(operation)
    return None if found is None else (int(found[1]), int(found[2]), int(found[3]), int(found[4]))
