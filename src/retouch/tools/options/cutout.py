"""The options of Cutout and Replace background (``retouch.tools.cutout``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range
from retouch.tools.options.generate import MAX_PROMPT, MAX_SEED

FITS = ("fill", "fit")
BACKGROUNDS = ("color", "blur", "image", "prompt", "transparent")  # what the HTTP API and the web app put behind
MAX_COLOUR_TEXT = 40

MODEL = Option(
    "model",
    str,
    "auto",
    "Cutout model (see 'retouch models list'); auto: the best installed permissive one.",
    "Model",
    labels={"auto": "Auto (best installed)"},
)
CROP = Option("crop", bool, False, "Crop to the subject's bounding box.", "Crop to the subject")
MARGIN = Option(
    "margin",
    int,
    0,
    "With crop: pixels of margin around the subject.",
    "Margin",
    bounds=Range(0),
    http_bounds=Range(0, 2000),
    when=("crop", "true"),
)
MASK_ONLY = Option("mask_only", bool, False, "Return the matte alone (white = subject).", "Matte only")
BG_COLOR = Option(
    "background",
    str,
    None,
    "Put this colour behind the subject: white, #1e90ff, 30,144,255.",
    "Colour behind",
    max_length=MAX_COLOUR_TEXT,
    field="bg_color",
)
REFINE = Option(
    "refine", bool, True, "Solve the matte at full resolution (off: the network's own mask, resized).", "Refine"
)

BACKGROUND = Option(
    "background",
    str,
    "color",
    "What goes behind the subject.",
    "Background",
    choices=BACKGROUNDS,
    labels={
        "color": "Colour",
        "blur": "Blurred (portrait)",
        "image": "Image…",
        "prompt": "From a prompt",
        "transparent": "Transparent",
    },
)
COLOR = Option(
    "color",
    str,
    "white",
    "With background=color: the colour.",
    "Colour",
    max_length=MAX_COLOUR_TEXT,
    when=("background", "color"),
)
BACKGROUND_IMAGE = Option(
    "background_image",
    str,
    None,
    "With background=image: the image as a data URL (data:image/...;base64,...).",
    "Image",
    when=("background", "image"),
)
FIT = Option(
    "fit",
    str,
    "fill",
    "How a background image covers the frame: fill (crop) or fit (all visible).",
    "Fit",
    choices=FITS,
    labels={"fill": "Fill the frame", "fit": "Show all of it"},
    when=("background", "image"),
)
# The portrait-mode blur's Gaussian sigma (pixels). Past the image's long side a blur is an even wash of the
# background's colours (it is done as the long side's); 2000 is past the long side of nearly any photo.
BLUR_RANGE = Range(0.1, 2000.0)
BLUR = Option(
    "blur",
    float,
    None,
    "With background blur: Gaussian sigma in pixels (default 1.2% of the long side; past the long side, an even "
    "wash).",
    "Blur",
    bounds=BLUR_RANGE,
    http_bounds=Range(0, 500, above=True),
    when=("background", "blur"),
)
PROMPT = Option(
    "prompt",
    str,
    None,
    "With background=prompt: what the new background shows (a diffusion model makes it).",
    "Describe the background",
    max_length=MAX_PROMPT,
    when=("background", "prompt"),
)
PROMPT_SEED = Option(
    "seed",
    int,
    0,
    "With background=prompt: the diffusion model's random seed (the same prompt and seed give the same background).",
    "Seed",
    bounds=Range(0, MAX_SEED),
    http_bounds=Range(0, 2**31 - 1),
    when=("background", "prompt"),
)
DIFFUSION_MODEL = Option(
    "diffusion_model",
    str,
    "auto",
    "With background=prompt: the diffusion model (auto: the first installed; retouch models list --task generate).",
    "Diffusion model",
    max_length=100,
    when=("background", "prompt"),
)
HARMONIZE = Option(
    "harmonize", bool, True, "Adjust the subject's colour and light to the background.", "Match colour and light"
)
SHADOW = Option("shadow", bool, False, "Add a soft contact shadow under the subject.", "Contact shadow")

CUTOUT_OPTIONS = (MODEL, CROP, MARGIN, MASK_ONLY, BG_COLOR, REFINE)
REPLACE_OPTIONS = (BACKGROUND, COLOR, BACKGROUND_IMAGE, FIT, BLUR, HARMONIZE, SHADOW, MODEL)
