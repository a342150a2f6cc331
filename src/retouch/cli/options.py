"""A tool's option (``retouch.tools.options``) as a Typer flag: its help, its choices and its range, checked as
the command line is read (before any file is opened), with the same rules the tool applies."""

from __future__ import annotations

from typing import Any

import typer

from retouch.errors import InvalidInput
from retouch.tools.options import Option, number_text


def flag(option: Option, *names: str, help: str | None = None) -> Any:
    """The Typer option for ``option``, named ``--<its form name>`` unless ``names`` are given; ``help`` replaces
    the option's own where the flag takes another form (e.g. a switch that turns a default off). A value the
    tool would refuse (out of range, not finite, not one of the choices) is refused (InvalidInput): one line, exit 2."""
    text = help or option.help
    if option.choices:
        text += f" One of: {', '.join(option.choices)}."
    bounds = option.bounds
    if bounds is not None and option.kind in (int, float):
        low = "" if bounds.low is None else f"{number_text(bounds.low)} {'<' if bounds.above else '<='} "
        high = "" if bounds.high is None else f" <= {number_text(bounds.high)}"
        text += f" Range: {low}x{high}."

    flags = names or (f"--{option.form_name.replace('_', '-')}",)
    name = next(flag for flag in flags if flag.startswith("--"))  # the messages name the flag as typed

    def check(value: Any) -> Any:
        fault = None if isinstance(value, bool) else option.fault(value, name)
        if fault is not None:
            raise InvalidInput(fault)
        return value

    return typer.Option(*flags, help=text, callback=check)
