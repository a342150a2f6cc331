"""Erase's options (``retouch.tools.erase.erase``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range
from retouch.tools.options.generate import MAX_PROMPT

ENGINES = ("auto", "patch", "lama", "migan")
STRATEGIES = ("auto", "whole", "resize", "crop")
MAX_PIXELS_OVER_HTTP = 500  # the HTTP API's cap on grow and feather
# Every door's cap on grow and feather: past the long side of the largest photo the pixel guard lets in
# (15000x10000 at 150 MP), a mask grown that far covers the image, which erase refuses anyway.
MAX_PIXELS = 20_000
MAX_SEED = 2**64 - 1  # the patch engine's random generator takes a 64-bit seed

ENGINE = Option(
    "engine",
    str,
    "auto",
    "auto: the best installed network, else patch (built in, no weights).",
    "Engine",
    choices=ENGINES,
    labels={"auto": "Auto (best installed)", "patch": "Patch (built in)", "lama": "LaMa", "migan": "MI-GAN"},
)
GROW = Option(
    "grow",
    int,
    None,
    "Pixels to grow the mask by (default: a few, by image size).",
    "Grow",
    bounds=Range(0, MAX_PIXELS),
    http_bounds=Range(0, MAX_PIXELS_OVER_HTTP),
)
FEATHER = Option(
    "feather",
    float,
    None,
    "Soft edge width inside the grown mask, in pixels (default: half the grow).",
    "Feather",
    bounds=Range(0, MAX_PIXELS),
    http_bounds=Range(0, MAX_PIXELS_OVER_HTTP),
)
STRATEGY = Option(
    "strategy",
    str,
    "auto",
    "HD strategy: how large photos are processed.",
    "Large photos",
    choices=STRATEGIES,
)
SEED = Option(
    "seed",
    int,
    0,
    "Seed of the patch engine's random search.",
    "Seed",
    bounds=Range(0, MAX_SEED),
    http_bounds=Range(0, 2**31 - 1),
)

PROMPT = Option(
    "prompt",
    str,
    None,
    "Fill the region with what this describes (a diffusion model makes it); without it, the usual erase.",
    "Describe what to put there",
    max_length=MAX_PROMPT,
)

OPTIONS = (ENGINE, GROW, FEATHER, STRATEGY, SEED)
