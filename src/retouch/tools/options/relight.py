"""The options of Relight (``retouch.tools.relight``)."""

from __future__ import annotations

from retouch.tools.options import Option, Range

NO_MODEL = "none"  # the relight model option's value for "no subject": the whole frame is the far plane
MAX_LIGHTS_TEXT = 2000

LIGHTS = Option(
    "lights",
    str,
    None,
    "The lights, specs separated by ';' (e.g. point:x=0.8,y=0.3,color=#ff8000;dir:azimuth=200,elevation=20,rim).",
    "Lights",
    max_length=MAX_LIGHTS_TEXT,
)
AMBIENT = Option(
    "ambient",
    float,
    0.6,
    "How much of the photo's own light to keep (1: all of it; lower lets the added lights read).",
    "Ambient",
    bounds=Range(0.0, 4.0),
)
SHADOWS = Option("shadows", bool, True, "Let the subject cast soft shadows.", "Shadows")
FACES = Option("faces", bool, True, "Give the faces found a face-shaped relief.", "Face relief")
DETAIL = Option(
    "detail",
    float,
    1.0,
    "How much the photo's own fine shading tilts the surface (0: a smooth shape).",
    "Surface detail",
    bounds=Range(0.0, 4.0),
)
MODEL = Option(
    "model",
    str,
    "auto",
    "Cutout model that finds the subject (see 'retouch models list'); auto: the best installed; none: no subject, "
    "the whole frame is a far plane with the photo's detail.",
    "Subject model",
    labels={"auto": "Auto (best installed)", NO_MODEL: "None (flat)"},
)

RELIGHT_OPTIONS = (LIGHTS, AMBIENT, SHADOWS, FACES, DETAIL, MODEL)

# The light syntax as the CLI's help gives it (parsed by retouch.tools.relight.lights, which imports nothing heavy
# either, but whose package does)
SPEC_HELP = (
    "A light: point:x=0.8,y=0.3,z=0.4,reach=0.6 | dir:azimuth=135,elevation=30 | "
    "spot:x=0.2,y=0.1,z=0.5,tx=0.5,ty=0.5,cone=40,softness=0.3; each with color=#ff8000 (or a name), intensity=1, "
    "specular=0.1 and the flag rim (the light sits behind the subject and lights its silhouette). x, y are "
    "fractions of the frame (0..1, right and down); z, reach fractions of its long side; angles in degrees "
    "(azimuth counter-clockwise from the right; elevation above the photo)."
)
