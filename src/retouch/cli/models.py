"""`retouch models ...`: list, pull, locate, verify and remove model weights.

Only typer is imported here; the models package is imported inside each command.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from retouch.cli.common import progress_bar, report, state

app = typer.Typer(help="List, pull, locate, verify and remove model weights.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print results as JSON, for scripts.")]


def _want_json(ctx: typer.Context, json_output: bool) -> None:
    """Let `retouch models CMD --json` mean the same as `retouch --json models CMD`."""
    if json_output:
        root = ctx.find_root()
        root.obj = dataclasses.replace(state(ctx), json=True)


def _human_size(size: int | None) -> str:
    if size is None:
        return "?"
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@app.command("list")
def list_command(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="Only this task's models (erase, cutout, ...).")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the models Retouch knows, with their license, size and whether they are installed."""
    from retouch.models.registry import list_models
    from retouch.models.weights import is_installed

    _want_json(ctx, json_output)
    rows: list[dict[str, Any]] = []
    for spec in list_models(task):
        rows.append(
            {
                "name": spec.name,
                "task": spec.task,
                "format": spec.format,
                "architecture": spec.architecture,
                "license": spec.license,
                "permissive": spec.permissive,
                "size": spec.size,
                "installed": is_installed(spec),
                "description": spec.description,
            }
        )
    header = ("NAME", "TASK", "LICENSE", "SIZE", "INSTALLED")
    table = [header] + [
        (
            r["name"],
            r["task"],
            r["license"] + ("" if r["permissive"] else " (opt-in)"),
            _human_size(r["size"]),
            "yes" if r["installed"] else "no",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    human = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table)
    report(ctx, human, rows)


@app.command("pull")
def pull_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name (see `retouch models list`).")],
    accept_license: Annotated[
        bool, typer.Option("--accept-license", help="Accept the license of an opt-in (non-permissive) model.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Download again even if the files are cached.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Download a model's weights into the cache and check their sha256."""
    from retouch.models.registry import get_spec
    from retouch.models.weights import pull

    _want_json(ctx, json_output)
    spec = get_spec(name)
    with progress_bar(ctx) as progress:
        path = pull(spec, accept_license=accept_license, progress=progress, force=force)
    report(ctx, f"{spec.name}: {path}", {"model": spec.name, "path": str(path), "license": spec.license})


@app.command("path")
def path_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    json_output: JsonOption = False,
) -> None:
    """Print where a model's weights are (never downloads)."""
    from retouch.models.weights import resolve_files

    _want_json(ctx, json_output)
    files = resolve_files(name, allow_download=False)
    primary = next(iter(files.values()))
    report(ctx, str(primary), {"model": name, "path": str(primary), "files": {k: str(v) for k, v in files.items()}})


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Model name; all installed models when omitted.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Re-hash installed weights and compare with the registry's sha256; fails if any file is bad or missing."""
    from retouch.errors import ChecksumError
    from retouch.models.weights import verify

    _want_json(ctx, json_output)
    results = verify(name)
    lines = [f"{r.status:<9} {r.model}/{r.filename}" + (f"  {r.path}" if r.path else "") for r in results]
    report(
        ctx,
        "\n".join(lines) or "no model is installed",
        [{**dataclasses.asdict(r), "path": str(r.path) if r.path else None, "ok": r.ok} for r in results],
    )
    bad = [r for r in results if not r.ok]
    if bad:
        models = sorted({r.model for r in bad})
        listing = ", ".join(f"{r.model}/{r.filename} ({r.status})" for r in bad)
        fixes = "; ".join(f"retouch models pull {m} --force" for m in models)
        raise ChecksumError(f"{len(bad)} file(s) failed verification: {listing}; to fetch them again run: {fixes}")


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    json_output: JsonOption = False,
) -> None:
    """Delete a model's files from the cache."""
    from retouch.models.weights import remove

    _want_json(ctx, json_output)
    removed = remove(name)
    human = f"removed {len(removed)} file(s) of {name}" if removed else f"{name} has nothing in the cache"
    report(ctx, human, {"model": name, "removed": [str(p) for p in removed]})
