"""Remove text's options (``retouch.tools.detext.detext``); the engine and seed are erase's."""

from __future__ import annotations

from retouch.tools.options import Option, Range
from retouch.tools.options.erase import ENGINE, SEED

MAX_GROW = 500

GROW = Option(
    "grow",
    int,
    None,
    "Pixels added around the letters (default: 2 + the text's height / 16, per line).",
    "Grow",
    bounds=Range(0, MAX_GROW),
)
KEEP = Option(
    "keep",
    str,
    None,
    "Spare the lines whose recognised text matches this regular expression (e.g. '©|Copyright').",
    "Keep text matching",
    max_length=200,
)

OPTIONS = (ENGINE, GROW, KEEP, SEED)
