"""The tools a batch runs, each through its own single-photo command: ``retouch batch cutout DIR --bg-color white``
takes exactly the options ``retouch cutout PHOTO --bg-color white`` takes, parsed and checked by the same code
before any photo is opened, and runs the same function per photo (its loading, checks and atomic save included).
Only what names one photo (the input, -o, clicks, an erase's --mask) is the batch's to set."""

from __future__ import annotations

from functools import cache
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from retouch.errors import InvalidInput

PHOTO, ALPHA, MASK = "photo", "alpha", "mask"  # what an output holds: it decides the default output format


@dataclass(frozen=True)
class BatchTool:
    name: str  # the single-photo command's name, `retouch NAME`
    per_photo: tuple[str, ...]  # the command's parameters that name one photo: set by the batch, or refused
    output_kind: Callable[[Mapping[str, Any]], str]  # PHOTO, ALPHA or MASK for the parsed options
    worker_gb: float  # peak memory of one worker on a 12-megapixel photo, for the default worker count


def _photo(_options: Mapping[str, Any]) -> str:
    return PHOTO


def _cutout_output(options: Mapping[str, Any]) -> str:
    if options["mask_only"]:
        return MASK
    return PHOTO if options["bg_color"] is not None else ALPHA


def _replace_bg_output(options: Mapping[str, Any]) -> str:
    return ALPHA if str(options["with_"]).strip().lower() == "transparent" else PHOTO


def _detext_output(options: Mapping[str, Any]) -> str:
    return MASK if options["mask_only"] else PHOTO


SINGLE = ("image", "output")  # every command's: the batch sets them per photo
TOOLS: dict[str, BatchTool] = {
    tool.name: tool
    for tool in (
        BatchTool("erase", (*SINGLE, "mask", "click", "unclick"), _photo, 1.5),
        BatchTool("detext", (*SINGLE, "watermark"), _detext_output, 2.0),
        BatchTool("cutout", (*SINGLE, "click", "unclick"), _cutout_output, 1.5),
        BatchTool("replace-bg", SINGLE, _replace_bg_output, 2.0),
        BatchTool("upscale", SINGLE, _photo, 3.0),
        BatchTool("restore", SINGLE, _photo, 2.0),
        BatchTool("relight", (*SINGLE, "click", "unclick", "matte", "export_normals"), _photo, 2.5),
    )
}


def batch_tool(name: str) -> BatchTool:
    try:
        return TOOLS[name]
    except KeyError:
        raise InvalidInput(f"unknown tool {name!r}; choose one of: {', '.join(TOOLS)}") from None


def parse_options(tool: BatchTool, arguments: list[str]) -> dict[str, Any]:
    """The single-photo command's parameters for ``arguments`` (its flags as typed after the batch's own), checked
    by the command's own parser and callbacks: a bad value raises InvalidInput, an unknown flag a UsageError.
    The per-photo parameters are left at their defaults; giving one is refused here."""
    command = command_for(tool)
    for parameter in command.params:
        if parameter.name in tool.per_photo:
            given = [flag for flag in (*parameter.opts, *parameter.secondary_opts) if _gives(arguments, flag)]
            if given:
                raise InvalidInput(f"{given[0]} names one photo; a batch of {tool.name} does not take it")
    context = command.make_context(f"retouch batch {tool.name}", ["PHOTO", *arguments])
    return dict(context.params)


def flags_for(tool: BatchTool, options: Mapping[str, Any]) -> list[str]:
    """Command-line flags for keyword options, the Python API's form, named as the command's parameters:
    ``{"bg_color": "white", "no_refine": True}`` -> ``--bg-color white --no-refine``; a list repeats the flag;
    ``faces=False`` gives ``--no-faces`` where the command has that form; None gives nothing."""
    parameters = {parameter.name: parameter for parameter in command_for(tool).params}
    flags: list[str] = []
    for name, value in options.items():
        parameter = parameters.get(name)
        if parameter is None or name in tool.per_photo or not parameter.opts[0].startswith("-"):
            raise InvalidInput(f"{tool.name} has no option {name!r} a batch can set")
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            if getattr(parameter, "is_flag", False):
                if item:
                    flags.append(parameter.opts[0])
                elif parameter.secondary_opts:
                    flags.append(parameter.secondary_opts[0])
            else:
                flags.extend([parameter.opts[0], str(item)])
    return flags


def command_for(tool: BatchTool) -> Any:
    """The click command Typer builds for ``retouch NAME`` (built once per process: 20-70 ms)."""
    return _commands()[tool.name]


@cache
def _commands() -> dict[str, Any]:
    import typer.main

    from retouch.cli import app

    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _gives(arguments: list[str], flag: str) -> bool:
    return any(argument == flag or argument.startswith(f"{flag}=") for argument in arguments)
