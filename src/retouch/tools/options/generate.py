"""The generative tools' options (``retouch.tools.generate.generate``, ``retouch.tools.uncrop.uncrop``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range

MAX_STEPS = 8  # the few-step path: distilled and LCM models run 1 to 4 steps, and a step is seconds on a CPU
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
    "Denoising steps (default: the model's, usually 4; 1 is fastest).",
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
    max_length=1000,
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

GENERATE_OPTIONS = (SEED, STEPS, MODEL)
UNCROP_OPTIONS = (UNCROP_ENGINE, SEED, STEPS, MODEL)
