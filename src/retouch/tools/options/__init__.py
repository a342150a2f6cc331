"""Every tool's options, written once for every door: the CLI builds its flags and help from them, the server its
form fields and their checks, and the web app its labels and choices (they travel in GET /api/info).

One module per tool (``erase``, ``upscale``, ``restore``, ``cutout``); the tool's own code reads its names
(engines, strategies, detectors, defaults) from there too. This package imports nothing heavy, so the CLI can
build its commands from it without loading NumPy.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from retouch.errors import InvalidInput

# CPU precisions of the networks that have a bfloat16 form: upscale's ``precision`` option and LaMa's loader.
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Range:
    """Inclusive bounds (None: unbounded); ``above``: the low bound itself is excluded."""

    low: float | None = None
    high: float | None = None
    above: bool = False

    def fault(self, value: float) -> str | None:
        """What is wrong with ``value`` ("must be between 0 and 1, got 2"), or None when it is in range."""
        too_low = self.low is not None and (value <= self.low if self.above else value < self.low)
        too_high = self.high is not None and value > self.high
        if not (too_low or too_high):
            return None
        parts = []
        if self.low is not None:
            parts.append(f"{'above' if self.above else 'at least'} {number_text(self.low)}")
        if self.high is not None:
            parts.append(f"at most {number_text(self.high)}")
        wanted = " and ".join(parts)
        if self.low is not None and self.high is not None and not self.above:
            wanted = f"between {number_text(self.low)} and {number_text(self.high)}"
        return f"must be {wanted}, got {number_text(value)}"


def number_text(value: float) -> str:
    """Whole numbers in full (a seed's 18446744073709551615), others as %g."""
    if isinstance(value, numbers.Integral):
        return str(value)
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


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

    def fault(self, value: Any, name: str | None = None) -> str | None:
        """What is wrong with ``value`` for every door, as a sentence about ``name`` (default: the option's
        keyword), or None: a choice outside ``choices``, a number that is not finite or outside ``bounds``, a
        value of another kind. None passes: not given, the tool decides."""
        name = name or self.name
        if value is None:
            return None
        if self.kind is bool:
            return None if isinstance(value, bool) else f"{name} must be true or false, got {value!r}"
        if self.kind in (int, float):
            wanted = numbers.Integral if self.kind is int else numbers.Real
            if isinstance(value, bool) or not isinstance(value, wanted):
                return f"{name} must be {'a whole number' if self.kind is int else 'a number'}, got {value!r}"
            if not math.isfinite(value):
                return f"{name} must be a finite number, got {value}"
            fault = None if self.bounds is None else self.bounds.fault(value)
            return None if fault is None else f"{name} {fault}"
        if self.choices and value not in self.choices:
            return f"unknown {name.lstrip('-')} {value!r}; choose one of: {', '.join(self.choices)}"
        return None

    def check(self, value: Any) -> None:
        """Raise InvalidInput when ``fault`` finds something wrong with ``value``."""
        fault = self.fault(value)
        if fault is not None:
            raise InvalidInput(fault)

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


def check_options(values: Iterable[tuple[Option, Any]]) -> None:
    """``option.check(value)`` for each pair: a tool's first lines, before any work."""
    for option, value in values:
        option.check(value)
