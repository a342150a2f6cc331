"""Every tool's options, written once for every door: the CLI builds its flags and help from them, the server its
form fields and their checks, and the web app its labels and choices (they travel in GET /api/info).

One module per tool (``erase``, ``upscale``, ``restore``, ``cutout``); the tool's own code reads its names
(engines, strategies, detectors, defaults) from there too. This package imports nothing heavy, so the CLI can
build its commands from it without loading NumPy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# CPU precisions of the networks that have a bfloat16 form: upscale's ``precision`` option and LaMa's loader.
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Range:
    """Inclusive bounds (None: unbounded); ``above``: the low bound itself is excluded."""

    low: float | None = None
    high: float | None = None
    above: bool = False


@dataclass(frozen=True)
class Option:
    """One option of a tool.

    name: the tool function's keyword; also the HTTP form field and the CLI flag's stem unless ``field`` names
    another. kind: bool, int, float or str. default: what the tool does when the option is not given (None: the
    tool decides, e.g. by image size). help: what it does, for ``--help`` and the OpenAPI description. label: the
    web panel's caption. choices: the closed set of values, when there is one. labels: captions of values
    (choices, or open values such as model names) for the web app. arguments: what each choice means to the
    tool function, where that is not the choice itself. bounds: the range every door accepts; http_bounds: the
    HTTP API's own range where a shared server caps what one request may ask for (default: ``bounds``).
    max_length: the longest text the HTTP API accepts. when: (another option, its value): the option applies
    only then (the web app shows it only then).
    """

    name: str
    kind: type
    default: Any
    help: str
    label: str
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    arguments: Mapping[str, Any] = field(default_factory=dict)
    bounds: Range | None = None
    http_bounds: Range | None = None
    max_length: int | None = None
    field: str | None = None
    when: tuple[str, str] | None = None

    @property
    def form_name(self) -> str:
        """The HTTP form field, the key the web app sends."""
        return self.field or self.name

    @property
    def http_range(self) -> Range | None:
        return self.http_bounds or self.bounds

    def argument(self, value: Any) -> Any:
        """The tool function's value for this option's ``value`` (as sent by a door)."""
        return self.arguments[value] if self.arguments else value

    def describe(self) -> dict[str, Any]:
        """The option as plain JSON-ready values, for the web app."""
        bounds = self.http_range
        return {
            "name": self.form_name,
            "type": self.kind.__name__,
            "default": self.default,
            "label": self.label,
            "help": self.help,
            "choices": list(self.choices),
            "labels": dict(self.labels),
            "minimum": bounds.low if bounds else None,
            "maximum": bounds.high if bounds else None,
            "when": list(self.when) if self.when else None,
        }
