"""`--click x,y` and `--unclick x,y`: select the object under a point (retouch.select) instead of drawing a mask."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from retouch.tools.select import Click

ClickOption = typer.Option(
    "--click", "-c", help="Select the object at x,y (pixels) as the mask. Repeat to add objects or parts."
)
UnclickOption = typer.Option("--unclick", help="Remove the part at x,y from the --click selection. Repeatable.")


def parse_clicks(click: list[str] | None, unclick: list[str] | None) -> list[Click]:
    """The clicks of the options, positive first; InvalidInput (one line, exit 2) for malformed text or for
    --unclick without a --click."""
    from retouch.errors import InvalidInput
    from retouch.tools.select.prompts import parse_click  # numpy comes with it: only when a command runs

    clicks = [parse_click(t) for t in click or []] + [parse_click(t, positive=False) for t in unclick or []]
    if clicks and not any(c.positive for c in clicks):
        raise InvalidInput("--unclick only removes parts of a --click selection: give --click x,y too")
    return clicks
