"""The generative tools' options (``retouch.tools.generate.generate``, ``retouch.tools.uncrop.uncrop``,
``retouch.tools.reimagine.reimagine``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range

MAX_PROMPT = 1000  # characters, every prompt option: CLIP reads 77 tokens; the rest is only checked, never used
MAX_STEPS = 50  # distilled and LCM models run 1 to 8 steps, a guided base model about 20; a step is seconds on a CPU
MIN_SIDE = 64
MAX_SIDE = 2048  # four times the 512 px latent-diffusion models are trained at, per side
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed's range
MAX_EXTEND = 20_000  # pixels added on one side: the pixel guard's long side
UNCROP_ENGINES = ("auto", "patch", "model")

SEED = Option(
    "seed",
    int,
    0,
    "Random seed: the same prompt, size, steps, seed and model give the same image.",
    "Seed",
    bounds=Range(0, MAX_SEED),
    http_bounds=Range(0, 2**31 - 1),
)
STEPS = Option(
    "steps",
    int,
    None,
    "Denoising steps (default: the model's: 1 to 4 for few-step models, 20 for Stable Diffusion 1.5).",
    "Steps",
    bounds=Range(1, MAX_STEPS),
)
MODEL = Option(
    "model",
    str,
    "auto",
    "The diffusion model (auto: the first installed; retouch models list --task generate).",
    "Model",
    max_length=100,
)
PROMPT = Option(
    "prompt",
    str,
    None,
    "What the picture shows.",
    "Prompt",
    max_length=MAX_PROMPT,
)
UNCROP_ENGINE = Option(
    "engine",
    str,
    "auto",
    "auto: a diffusion model when one is installed, else patch (built in: extends the photo's own textures).",
    "Engine",
    choices=UNCROP_ENGINES,
    labels={"auto": "Auto", "patch": "Patch (built in)", "model": "Diffusion model"},
)
EXTEND = Range(0, MAX_EXTEND)
MAX_VARIATIONS = 8  # reimagine's variations per run: each is a whole diffusion run (seconds to a minute on a CPU)
STRENGTH = Option(
    "strength",
    float,
    0.7,
    "How far a variation may move from the photo: 0.05 keeps it close, 1 keeps little but its colours and layout.",
    "Strength",
    bounds=Range(0.05, 1.0),
)
COUNT = Option(
    "count",
    int,
    1,
    "How many variations to make (seeds seed, seed+1, ...).",
    "Variations",
    bounds=Range(1, MAX_VARIATIONS),
    http_bounds=Range(1, 4),
)

FRAME = Option(
    "to",
    str,
    None,
    "The new frame: an aspect ratio (16:9) or a size (WIDTHxHEIGHT); or give the pixels per side.",
    "Frame",
    max_length=20,
)
SIDES = tuple(
    Option(side, int, 0, f"Pixels to add {where}.", side.capitalize(), bounds=EXTEND)
    for side, where in (("left", "on the left"), ("right", "on the right"), ("top", "at the top"),
                        ("bottom", "at the bottom"))
)

GENERATE_OPTIONS = (SEED, STEPS, MODEL)
UNCROP_OPTIONS = (UNCROP_ENGINE, SEED, STEPS, MODEL)
REIMAGINE_OPTIONS = (STRENGTH, COUNT, SEED, STEPS, MODEL)
