"""Upscale's options (``retouch.tools.upscale.upscale``)."""

from __future__ import annotations

from retouch.tools.options import PRECISIONS, Option, Range

DEFAULT_MODEL = "realesrgan-x4plus"
DENOISE_MODEL = "realesr-general-x4v3"  # the one model with a denoise strength
MAX_SCALE = 16.0
MIN_TILE = 32

SCALE = Option(
    "scale",
    float,
    None,
    f"Enlargement factor, 1 to {MAX_SCALE:g}, e.g. 2, 3, 4 or 2.5 (default: the model's, 4 for most).",
    "Enlarge",
    http_bounds=Range(1, MAX_SCALE),  # the CLI leaves the check to the tool, whose message names the range
)
MODEL = Option(
    "model",
    str,
    DEFAULT_MODEL,
    "Upscaling model (see `retouch models list`).",
    "Model",
    labels={
        "realesrgan-x4plus": "Photo (Real-ESRGAN x4plus)",
        "realesrgan-x4plus-anime": "Illustration (x4plus anime)",
        "realesr-animevideov3-x2": "Animation, fast (x2)",
        "realesr-animevideov3-x3": "Animation, fast (x3)",
        "realesr-animevideov3-x4": "Animation, fast (x4)",
        "realesr-animevideov3": "Animation, fast (x4, .pth)",
        "realesrgan-x4plus-pth": "Photo (x4plus, .pth)",
        "realesrgan-x4plus-anime-pth": "Illustration (x4plus anime, .pth)",
        "realesrgan-x2plus": "Photo (x2plus)",
        DENOISE_MODEL: "Photo, fast, with denoise",
    },
)
DENOISE = Option(
    "denoise",
    float,
    None,
    f"{DENOISE_MODEL} only: 0 keeps the noise, 1 removes most (default 0.5).",
    "Denoise",
    bounds=Range(0, 1),
    when=("model", DENOISE_MODEL),
)
TILE = Option(
    "tile", int, None, "Tile side in input pixels; smaller uses less memory.", "Tile", bounds=Range(MIN_TILE)
)
PRECISION = Option(
    "precision",
    str,
    "auto",
    "CPU: auto (bf16 where the CPU has it), fp32 (the reference's results) or bf16.",
    "Precision",
    choices=PRECISIONS,
)

OPTIONS = (SCALE, MODEL, DENOISE, TILE, PRECISION)
