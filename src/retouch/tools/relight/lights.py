"""Light specs: what each added light is, and the one-line text form the CLI, the HTTP API and the web app share.

A spec is ``kind:key=value,key=value,flag``. Positions are fractions of the frame (x to the right, y down, 0..1
inside it), so a spec means the same on any size and aspect ratio; heights and distances are fractions of the
frame's long side. Kinds and their keys:

- ``point:x=0.8,y=0.3,z=0.4,reach=0.6``: a bulb at (x, y), z above the photo; its light halves at ``reach``.
- ``dir:azimuth=135,elevation=30``: a distant light (the sun); azimuth in degrees counter-clockwise from the right
  (90: from the top), elevation in degrees above the photo's plane (90: from the camera).
- ``spot:x=0.2,y=0.1,z=0.5,tx=0.5,ty=0.5,cone=40,softness=0.3``: a point light aimed at (tx, ty) with a cone of
  ``cone`` degrees whose edge fades over ``softness`` (0: hard, 1: all fade).

Every kind takes ``color`` (a name or #rrggbb), ``intensity`` (default 1), ``specular`` (the glossy highlight's
strength, default 0.1) and the flag ``rim``: the light then sits behind the subject (z or elevation measured on
the far side), so it lights only the edges that face it, the silhouette.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from retouch.errors import InvalidInput

KINDS = ("point", "dir", "spot")
MAX_LIGHTS = 8

# key -> (default, low, high) for the numbers each kind takes
_COMMON = {"intensity": (1.0, 0.0, 20.0), "specular": (0.1, 0.0, 5.0)}
_PLACED = {"x": (0.5, -2.0, 3.0), "y": (0.5, -2.0, 3.0), "z": (0.4, 0.0, 10.0), "reach": (0.6, 0.01, 100.0)}
_NUMBERS: dict[str, dict[str, tuple[float, float, float]]] = {
    "point": {**_PLACED, **_COMMON},
    "dir": {"azimuth": (135.0, -360.0, 360.0), "elevation": (30.0, 0.0, 90.0), **_COMMON},
    "spot": {
        **_PLACED,
        "z": (0.5, 0.0, 10.0),
        "tx": (0.5, -2.0, 3.0),
        "ty": (0.5, -2.0, 3.0),
        "cone": (40.0, 1.0, 179.0),
        "softness": (0.3, 0.0, 1.0),
        **_COMMON,
    },
}


@dataclass(frozen=True)
class Light:
    """One added light; ``color`` is linear-light RGB (sRGB decoded), ``values`` the kind's numbers."""

    kind: str
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    rim: bool = False
    values: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def direction(self) -> tuple[float, float, float]:
        """A directional light's unit vector towards the light (x right, y down, z towards the viewer)."""
        azimuth, elevation = math.radians(self.values["azimuth"]), math.radians(self.values["elevation"])
        flat = math.cos(elevation)
        z = math.sin(elevation)
        return flat * math.cos(azimuth), -flat * math.sin(azimuth), -z if self.rim else z


def defaults() -> dict[str, dict[str, float]]:
    """Each kind's numbers and their defaults (what a spec that leaves them out gets)."""
    return {kind: {key: default for key, (default, _, _) in table.items()} for kind, table in _NUMBERS.items()}


def make_light(kind: str, *, color: str = "white", rim: bool = False, **numbers: float) -> Light:
    """A checked light of ``kind`` ("point", "dir" or "spot"); numbers not given take their defaults."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown light kind {kind!r}; choose one of: {', '.join(KINDS)}")
    table = _NUMBERS[kind]
    values = {key: default for key, (default, _, _) in table.items()}
    for key, value in numbers.items():
        if key not in table:
            raise InvalidInput(f"a {kind} light has no {key!r}; it takes: {', '.join([*table, 'color', 'rim'])}")
        _, low, high = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"light {key} must be a finite number, got {value!r}")
        if not low <= value <= high:
            raise InvalidInput(f"light {key} must be between {low:g} and {high:g}, got {value:g}")
        values[key] = float(value)
    return Light(kind=kind, color=_linear_colour(color), rim=bool(rim), values=values)


def parse_light(spec: str) -> Light:
    """The light a ``kind:key=value,...`` spec describes (see the module's text); InvalidInput says what is wrong."""
    text = spec.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise InvalidInput(f"light {spec!r}: start with one of {', '.join(k + ':' for k in KINDS)} (e.g. point:x=0.8)")
    numbers: dict[str, float] = {}
    colour, rim = "white", False
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = (s.strip() for s in part.partition("="))
        key = key.lower()
        if not eq:
            if key != "rim":
                raise InvalidInput(f"light {spec!r}: {part!r} is not key=value (the only flag is rim)")
            rim = True
        elif key in ("color", "colour"):
            colour = value
        else:
            try:
                numbers[key] = float(value)
            except ValueError:
                raise InvalidInput(f"light {spec!r}: {key} must be a number, got {value!r}") from None
    try:
        return make_light(kind, color=colour, rim=rim, **numbers)
    except InvalidInput as error:
        raise InvalidInput(f"light {spec!r}: {error}") from None


def parse_lights(specs: str | list[str] | tuple[str, ...] | None) -> tuple[Light, ...]:
    """Lights from specs: a list, or one text with specs separated by ';' (the HTTP form's field)."""
    if specs is None:
        return ()
    items = [s for s in specs.split(";")] if isinstance(specs, str) else list(specs)
    return checked_count(tuple(parse_light(s) for s in items if s.strip()))


def checked_count(lights: tuple[Light, ...]) -> tuple[Light, ...]:
    """``lights``, or InvalidInput when there are more than MAX_LIGHTS of them."""
    if len(lights) > MAX_LIGHTS:
        raise InvalidInput(f"at most {MAX_LIGHTS} lights, got {len(lights)}")
    return lights


def _linear_colour(text: str) -> tuple[float, float, float]:
    from retouch.tools.cutout.colours import parse_colour

    if "," in text:  # the spec's own separator: r,g,b cannot be told apart from the next key
        raise InvalidInput(f"light color {text!r}: write it as a name or #rrggbb")
    r, g, b, _ = parse_colour(text)
    return srgb_to_linear_scalar(r), srgb_to_linear_scalar(g), srgb_to_linear_scalar(b)


def srgb_to_linear_scalar(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
