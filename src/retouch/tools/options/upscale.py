"""Upscale's options (``retouch.tools.upscale.upscale``)."""

from __future__ import annotations

from retouch.tools.options import PRECISIONS, Option, Range

DEFAULT_MODEL = "realesrgan-x4plus"  # the API's default (``upscale(model=...)``), and what "auto" picks when small
AUTO_MODEL = "auto"  # the CLI's and the web app's default: x4plus for small outputs, a compact model for large ones
# on the CPU; ``retouch.tools.upscale.choose_model``
AUTO_MAX_X4PLUS_OUTPUT_MP = 4.0  # output megapixels up to which "auto" keeps x4plus on a CPU (about 1.5 min on 2 cores)
DENOISE_MODEL = "realesr-general-x4v3"  # the one model with a denoise strength
MAX_SCALE = 16.0
MIN_TILE = 32
# Above this a tile costs more memory than it saves work: RRDBNet's trunk needs about 1.8 GB at 640 pixels and
# grows with the tile's area (about 18 GB at 2048).
MAX_TILE = 2048

SCALE = Option(
    "scale",
    float,
    None,
    f"Enlargement factor, 1 to {MAX_SCALE:g}, e.g. 2, 3, 4 or 2.5 (default: the model's, 4 for most).",
    "Enlarge",
    bounds=Range(1, MAX_SCALE),
)
MODEL = Option(
    "model",
    str,
    AUTO_MODEL,
    f"Upscaling model (see `retouch models list`). auto (default): realesrgan-x4plus up to "
    f"{AUTO_MAX_X4PLUS_OUTPUT_MP:g} MP of output, above that on a CPU a compact model (realesr-general-x4v3 when "
    "installed, else realesr-animevideov3-x4), and it says which. On 2 CPU cores a 1 MP photo x4 takes about 3 "
    "min with x4plus and 7 s with realesr-animevideov3-x4 (float32); on Set5/Set14 x4 (PSNR/SSIM on Y) x4plus scores "
    "26.63/0.807 and 25.10/0.687, animevideov3 28.25/0.827 and 25.85/0.706 (it is smoother, with less "
    "photographic texture: trained for animation).",
    "Model",
    labels={
        AUTO_MODEL: f"Auto: Photo up to {AUTO_MAX_X4PLUS_OUTPUT_MP:g} MP output, fast model above (CPU)",
        "realesrgan-x4plus": "Photo (Real-ESRGAN x4plus; slow on a CPU: ~3 min per MP)",
        "realesrgan-x4plus-anime": "Illustration (x4plus anime)",
        "realesr-animevideov3-x2": "Animation, fast (x2)",
        "realesr-animevideov3-x3": "Animation, fast (x3)",
        "realesr-animevideov3-x4": "Fast (animevideov3 x4; ~7 s per MP on a CPU, smoother than Photo)",
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
    "tile", int, None, "Tile side in input pixels; smaller uses less memory.", "Tile", bounds=Range(MIN_TILE, MAX_TILE)
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
