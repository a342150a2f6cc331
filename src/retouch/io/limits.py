"""The decompression-bomb guard: refuse images whose header announces more pixels than allowed."""

from __future__ import annotations

import os

from retouch.errors import InvalidInput, TooLarge

DEFAULT_MAX_PIXELS = 150_000_000
ENV_VAR = "RETOUCH_MAX_PIXELS"


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


def check_pixels(width: int, height: int, limit: int | None, name: str) -> None:
    """Raise TooLarge when width x height exceeds the limit (checked on the header, before decoding)."""
    if limit is not None and width * height > limit:
        raise TooLarge(
            f"{name} is {width}x{height} ({width * height / 1e6:.1f} megapixels), over the limit of "
            f"{limit / 1e6:.1f} megapixels; if you trust this file, raise the limit with max_pixels= "
            f"or {ENV_VAR} (0 = no limit)"
        )
