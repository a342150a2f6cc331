"""What every subcommand shares: the global options, one-line errors, JSON output and Rich progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from retouch.types import ProgressCallback, no_progress

if TYPE_CHECKING:
    from retouch.types import Picture


# Options of every command that writes a photo, defined once.
OutputOption = typer.Option("--output", "-o", help="Output file; its extension picks the format.")
DeviceOption = typer.Option("--device", help="auto, cpu or cuda.")
QualityOption = typer.Option("--quality", min=1, max=100, help="JPEG/WebP/HEIC quality.")
OverwriteOption = typer.Option("--overwrite", help="Replace the output file if it exists.")
NoProvenanceOption = typer.Option("--no-provenance", help="Do not mark the output as AI-edited in its XMP.")


@dataclass(frozen=True)
class CliState:
    quiet: bool = False
    verbose: bool = False
    json: bool = False


def state(ctx: typer.Context) -> CliState:
    """The global options, also when a subcommand is invoked without the root callback (tests)."""
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, CliState) else CliState()


def print_error(message: str) -> None:
    """One line on stderr, no traceback: the contract of every failing command."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"retouch: error: {one_line}\n")


def report(ctx: typer.Context, human: str, data: dict[str, Any] | list[Any]) -> None:
    """Print a result: JSON with --json, the human line otherwise, nothing with --quiet."""
    st = state(ctx)
    if st.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif not st.quiet and human:
        typer.echo(human)


def write_result(
    ctx: typer.Context,
    picture: Picture,
    target: Path,
    *,
    quality: int | None,
    overwrite: bool,
    provenance: bool,
    show_size: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save a command's result (atomically; see ``retouch.io.save_image``) and report it: "wrote PATH" (with the
    size when ``show_size``) for people; path, size, operations and ``extra`` as JSON. Returns the path."""
    from retouch.io import save_image

    written = save_image(picture, target, quality=quality, overwrite=overwrite, provenance=provenance)
    size = f" ({picture.width}x{picture.height})" if show_size else ""
    data = {
        "output": str(written),
        "width": picture.width,
        "height": picture.height,
        "operations": list(picture.metadata.operations),
        **(extra or {}),
    }
    report(ctx, f"wrote {written}{size}", data)
    return written


@contextmanager
def progress_bar(ctx: typer.Context, expected_s: float | None = None) -> Iterator[ProgressCallback]:
    """A progress callback rendered as one Rich bar on stderr: the stage, the count and the time left (from the
    measured rate, ``expected_s`` until a unit is measured; see ``retouch.progress``); only when stderr is a
    terminal, never with --quiet or --json. Warnings (total 0) and repeated reports draw nothing."""
    st = state(ctx)
    if st.quiet or st.json or not sys.stderr.isatty():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
    from rich.text import Text

    from retouch.progress import ProgressTracker

    tracker = ProgressTracker(expected_s)
    tracker.start()

    class TimeLeft(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(time_left(tracker.snapshot().eta_s), style="progress.remaining")

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeLeft(),
        console=Console(stderr=True),
        transient=True,
    ) as bars:
        task = bars.add_task("starting", total=None)

        def callback(stage: str, done: int, total: int) -> None:
            if tracker.report(stage, done, total):
                bars.update(task, description=stage, completed=done, total=total)

        yield callback


def time_left(seconds: float | None) -> str:
    """'about 40 s left', '2 min 10 s left'; '' when unknown."""
    if seconds is None:
        return ""
    return f"{duration(seconds)} left"


def duration(seconds: float) -> str:
    """A rounded duration for people: '5 s', '40 s', '2 min 10 s', '1 h 5 min'."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        rest = 10 * round(rest / 10)
        return f"{minutes} min {rest} s" if rest and rest < 60 else f"{minutes + (rest == 60)} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min"


def output_path(source: Path, output: Path | None, suffix: str) -> Path:
    """The -o path, or ``<stem>_<suffix><ext>`` beside the input when none is given."""
    return output if output is not None else source.with_name(f"{source.stem}_{suffix}{source.suffix}")
