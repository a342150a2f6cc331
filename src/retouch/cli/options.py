"""A tool's option (``retouch.tools.options``) as a Typer flag: its help, its choices and its range."""

from __future__ import annotations

from typing import Any

import typer

from retouch.tools.options import Option


def flag(option: Option, *names: str, help: str | None = None) -> Any:
    """The Typer option for ``option``, named ``--<its form name>`` unless ``names`` are given; ``help`` replaces
    the option's own where the flag takes another form (e.g. a switch that turns a default off)."""
    text = help or option.help
    if option.choices:
        text += f" One of: {', '.join(option.choices)}."
    bounds = option.bounds
    return typer.Option(
        *(names or (f"--{option.form_name.replace('_', '-')}",)),
        help=text,
        min=None if bounds is None else bounds.low,
        max=None if bounds is None else bounds.high,
    )
