"""Restore's options (``retouch.tools.restore.restore``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range

FACE_MODEL = "gfpgan-v1.4"
DETECTORS = ("auto", "retinaface", "yunet")
UPSCALE_FACTORS = (1, 2, 3, 4)
AMOUNT = Range(0, 1)

FACES = Option(
    "faces",
    str,
    "auto",
    f"auto: restore faces when the face model is installed (else a warning: retouch models pull {FACE_MODEL}); "
    "on: a missing face model is an error; off: leave faces alone.",
    "Faces",
    choices=("auto", "on", "off"),
    labels={
        "auto": "Auto: when the face model is installed",
        "on": "Always (the face model is required)",
        "off": "Leave faces alone",
    },
    arguments={"auto": None, "on": True, "off": False},
)
STRENGTH = Option(
    "strength", float, 1.0, "How much of each restored face replaces the original, 0..1.", "Face strength", bounds=AMOUNT
)
SCRATCHES = Option(
    "scratches", bool, False, "Find scratches and dust and erase them.", "Remove scratches and dust"
)
SENSITIVITY = Option(
    "scratch_sensitivity",
    float,
    0.5,
    "Scratch and dust sensitivity, 0..1.",
    "Scratch sensitivity",
    bounds=AMOUNT,
    field="sensitivity",
)
DENOISE = Option("denoise", float, 0.3, "Noise removal, 0 (off)..1.", "Denoise", bounds=AMOUNT)
COLOUR = Option("colour", float, 0.5, "Colour-cast correction, 0 (off)..1.", "Colour correction", bounds=AMOUNT)
UPSCALE = Option(
    "upscale",
    int,
    1,
    "Enlarge the photo 1, 2, 3 or 4 times.",
    "Enlarge",
    labels={"1": "Keep the size", **{str(n): f"{n}×" for n in UPSCALE_FACTORS[1:]}},
    bounds=Range(UPSCALE_FACTORS[0], UPSCALE_FACTORS[-1]),
)
DETECTOR = Option(
    "detector", str, "auto", "Face detector.", "Face detector", choices=DETECTORS
)
FACE_MODEL_OPTION = Option("face_model", str, FACE_MODEL, "Face restoration model.", "Face model")

OPTIONS = (FACES, STRENGTH, SCRATCHES, SENSITIVITY, DENOISE, COLOUR, UPSCALE, DETECTOR, FACE_MODEL_OPTION)
