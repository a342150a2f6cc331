"""Resource bounds for every input Retouch reads, stated and enforced in one place.

The budget. With L the pixel limit (150 megapixels unless raised), reading an image whose header declares P <= L
pixels, each held as B bytes (channels, alpha included, times 1 or 2 bytes per sample), peaks at

    resident memory <= file size + DECODE_FACTOR x P x B + BASE_BYTES

where the file size is itself at most FILE_BYTES_PER_PIXEL x L + METADATA_BYTES. Measured on 12-megapixel files
(docs/limits.md has the table and the command): the decoders peak at 2.0 to 3.4 x P x B beyond the file, WebP at
5.4 (libwebp and Pillow each hold a 4-byte canvas), and a grey mask scaled to the photo (--resize-mask, the
server's masks) at 7.5 (one float copy); the process itself (interpreter, NumPy, Pillow, OpenCV; FastAPI for the
server) stays under 100 MB. A mask is decoded under the same limit and budget as a photo, and so is every image a
server request carries (uploads, masks, background images sent as data URLs). ``tests/test_hostile_files.py``
holds every hostile file to this budget.

What is refused, and when, so that nothing is decoded or inflated beyond the budget:
- before reading: a path that is not a regular file (a FIFO would block, /dev/zero never ends), and a file
  larger than any image within the limit can be (``read_limit``);
- from the header: more than L pixels (``check_pixels``); for upscale, an output of scale x size over L
  (``check_output``, before any model is loaded);
- before decoding PNG and TIFF: compressed image data longer than deflate could make it for the declared size
  (``check_compressed``), TIFF directory entries whose values lie outside the file;
- while checking PNG and TIFF data: a stream that inflates to more than the declared size needs is stopped a
  step past it (``BoundedInflater``: never inflated whole), and one that falls short is refused as truncated.
"""

from __future__ import annotations

import lzma
import os
import zlib
from collections.abc import Iterator

from retouch.errors import CorruptImage, InvalidInput, TooLarge

DEFAULT_MAX_PIXELS = 150_000_000
ENV_VAR = "RETOUCH_MAX_PIXELS"

DECODE_FACTOR = 8  # measured worst 7.5 (a grey mask scaled to the photo), see docs/limits.md
BASE_BYTES = 256 << 20  # the process and its libraries, with room: measured 35-100 MB resident
FILE_BYTES_PER_PIXEL = 10  # the largest stored pixel Retouch reads: five 16-bit samples, uncompressed
METADATA_BYTES = 64 << 20  # what a file may carry beside its pixels (previews, profiles, XMP)
_INFLATE_STEP = 1 << 20  # output handed back per call while a stream is checked

RAISE = f"raise the limit with max_pixels= or {ENV_VAR} (0 = no limit)"  # a server says its own option instead
HINT = f"if you trust this file, {RAISE}"


def pixel_limit(max_pixels: int | None = None) -> int | None:
    """The pixel limit in force: the argument, else $RETOUCH_MAX_PIXELS, else 150 megapixels.

    0 switches the guard off (returned as None), for trusted files only.
    """
    if max_pixels is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(raw)
        except ValueError:
            raise InvalidInput(f"{ENV_VAR} must be a whole number of pixels (0 = no limit), got '{raw}'") from None
        origin = ENV_VAR
    else:
        origin = "max_pixels"
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 0:
        raise InvalidInput(f"{origin} must be a whole number of pixels (0 = no limit), got {max_pixels!r}")
    return max_pixels or None


def decode_budget(pixels: int, bytes_per_pixel: int, file_bytes: int = 0) -> int:
    """The most resident memory reading a file of ``file_bytes`` declaring ``pixels`` may take (the budget)."""
    return file_bytes + DECODE_FACTOR * pixels * bytes_per_pixel + BASE_BYTES


def read_limit(limit: int | None) -> int | None:
    """The largest file worth reading under the pixel limit ``limit`` (None: no limit)."""
    return None if limit is None else FILE_BYTES_PER_PIXEL * limit + METADATA_BYTES


def check_pixels(width: int, height: int, limit: int | None, name: str) -> None:
    """Raise TooLarge when width x height exceeds the limit (checked on the header, before decoding)."""
    if limit is not None and width * height > limit:
        raise TooLarge(
            f"{name} is {width}x{height} ({width * height / 1e6:.1f} megapixels), over the limit of "
            f"{limit / 1e6:.1f} megapixels; {HINT}"
        )


def check_output(what: str, width: int, height: int, limit: int | None) -> None:
    """Raise TooLarge when a result of width x height would exceed the limit, before any work makes it.

    ``what`` says how the size comes about, e.g. "1920x1080 x16".
    """
    if limit is not None and width * height > limit:
        raise TooLarge(
            f"{what} would be {width}x{height} ({width * height / 1e6:.1f} megapixels), over the limit of "
            f"{limit / 1e6:.1f} megapixels; use a smaller scale, or {RAISE}"
        )


def compressed_bound(raw_bytes: int) -> int:
    """The most bytes a zlib stream of ``raw_bytes`` can take: stored blocks, 5 bytes per 16 KiB at worst
    (zlib itself needs 5 per 64 KiB), plus the stream's header and checksum, with room."""
    return raw_bytes + 5 * (raw_bytes // 16384 + 1) + 64


def check_compressed(compressed_bytes: int, raw_bytes: int, size: tuple[int, int]) -> None:
    """Refuse compressed image data longer than any encoder makes for ``raw_bytes`` (a WxH ``size``)."""
    if compressed_bytes > compressed_bound(raw_bytes):
        raise CorruptImage(_too_much(size, f" ({compressed_bytes} bytes compressed)"))


class BoundedInflater:
    """Inflates a zlib (or LZMA) stream fed in pieces, handing its output back a step at a time, and stops with
    CorruptImage as soon as it passes ``most`` bytes (the declared WxH ``size`` needs no more): memory stays at
    one step of output whatever the stream holds."""

    def __init__(self, most: int, size: tuple[int, int], method: str = "zlib") -> None:
        self.most, self.size = most, size
        self._lzma = lzma.LZMADecompressor() if method == "lzma" else None
        self._zlib = None if self._lzma else zlib.decompressobj()
        self.total = 0  # bytes inflated so far

    @property
    def ended(self) -> bool:
        """Whether the stream's end was reached."""
        return (self._lzma or self._zlib).eof  # type: ignore[union-attr]

    def feed(self, piece: bytes) -> Iterator[bytes]:
        try:
            for out in self._lzma_steps(piece) if self._lzma else self._zlib_steps(piece):
                self.total += len(out)
                if self.total > self.most:
                    raise CorruptImage(_too_much(self.size, ""))
                yield out
        except (zlib.error, lzma.LZMAError) as error:
            raise CorruptImage(f"its image data is damaged ({error})") from None

    def _zlib_steps(self, piece: bytes) -> Iterator[bytes]:
        inflater = self._zlib
        assert inflater is not None
        while piece and not inflater.eof:
            yield inflater.decompress(piece, _INFLATE_STEP)
            piece = inflater.unconsumed_tail  # the input not yet inflated must be handed back in

    def _lzma_steps(self, piece: bytes) -> Iterator[bytes]:
        inflater = self._lzma
        assert inflater is not None
        if inflater.eof:
            return
        yield inflater.decompress(piece, _INFLATE_STEP)
        while not inflater.needs_input and not inflater.eof:  # it keeps what it has not inflated yet
            yield inflater.decompress(b"", _INFLATE_STEP)


def inflated_size(data: bytes, most: int, size: tuple[int, int], method: str = "zlib") -> tuple[int, bool]:
    """(bytes, whether the stream ended) of a zlib or LZMA stream, inflated under ``BoundedInflater``'s bound."""
    inflater = BoundedInflater(most, size, method)
    for _ in inflater.feed(data):
        pass
    return inflater.total, inflater.ended


def _too_much(size: tuple[int, int], detail: str) -> str:
    return (
        f"its header declares a {size[0]}x{size[1]} image but its data holds more than that{detail}: the file is "
        "damaged or a decompression bomb"
    )
