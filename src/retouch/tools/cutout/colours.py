"""Colours as users write them: names (white, transparent), #rgb, #rrggbb, #rrggbbaa, or r,g,b with 0-255 values."""

from __future__ import annotations

import re

from retouch.errors import InvalidInput

_TRIPLE = re.compile(r"^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$")


def parse_colour(text: str) -> tuple[float, float, float, float]:
    """(r, g, b, a) in [0, 1]; "transparent" is (0, 0, 0, 0)."""
    from PIL import ImageColor

    value = text.strip().lower()
    if value == "transparent":
        return 0.0, 0.0, 0.0, 0.0
    match = _TRIPLE.match(value)
    if match:
        channels = [int(v) for v in match.groups()]
        if max(channels) > 255:
            raise InvalidInput(f"colour {text!r}: each of r,g,b must be 0-255")
        return channels[0] / 255, channels[1] / 255, channels[2] / 255, 1.0
    try:
        rgba = ImageColor.getcolor(value, "RGBA")
    except ValueError:
        raise InvalidInput(
            f"unknown colour {text!r}: use a name (white, black, ...), #rrggbb, #rrggbbaa or r,g,b"
        ) from None
    assert isinstance(rgba, tuple)
    return rgba[0] / 255, rgba[1] / 255, rgba[2] / 255, rgba[3] / 255
