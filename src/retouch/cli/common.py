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

from retouch.cli.signals import raise_if_stopping
from retouch.types import ProgressCallback

if TYPE_CHECKING:
    from retouch.types import Picture


def _checked_device(value: str) -> str:
    """An unknown device, or a GPU that is not here, fails as the command starts, before any work."""
    from retouch.models.runtime import check_device

    check_device(value)
    return value


# Options of every command that writes a photo, defined once.
OutputOption = typer.Option("--output", "-o", help="Output file; its extension picks the format.")
DeviceOption = typer.Option(
    "--device", help="auto, cpu, cuda, cuda:N or mps; a GPU that is not here is an error.", callback=_checked_device
)
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


def show_library_warnings(st: CliState) -> None:
    """Collect the warnings library code issues (``retouch.errors.RetouchWarning``: XMP a format cannot hold, a
    box clipped to the image, say) for the current command, every time; ``print_library_warnings`` prints them,
    one "retouch: warning: ..." line each, once the command has succeeded (a failure prints its one error line
    alone), none with --quiet or --json. Other warnings are shown as Python shows them. Installed once per
    process; ``st`` is the current command's state."""
    import warnings

    from retouch.errors import RetouchWarning

    _warning_state[0] = st
    _said.clear()
    warnings.filterwarnings("always", category=RetouchWarning)
    if _warning_state[1] is not None:
        return
    shown = _warning_state[1] = warnings.showwarning

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if not issubclass(category, RetouchWarning):
            shown(message, category, filename, lineno, file, line)
            return
        _said.append(" ".join(str(message).split()))

    warnings.showwarning = show


def print_library_warnings() -> None:
    """The warnings collected for the current command, one line each (none with --quiet or --json)."""
    current = _warning_state[0]
    if current is None or not (current.quiet or current.json):
        sys.stderr.writelines(f"retouch: warning: {text}\n" for text in _said)
    _said.clear()


_warning_state: list[Any] = [None, None]  # the current command's CliState, the showwarning it replaced
_said: list[str] = []  # the current command's warnings, until it ends


def checked_output(target: Path, *, overwrite: bool) -> Path:
    """``target`` once it is known to be writable, before any work: an extension that names a format, an
    existing writable folder, not a folder itself, not an existing file unless ``overwrite``."""
    from retouch.io.atomic import check_output
    from retouch.io.formats import format_for_path

    if target.is_dir():  # said as a folder, before "no extension" would hide what is wrong
        check_output(target, overwrite=overwrite)
    format_for_path(target)
    return check_output(target, overwrite=overwrite)


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
        yield _stop_check
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
            raise_if_stopping()
            if tracker.report(stage, done, total):
                bars.update(task, description=stage, completed=done, total=total)

        yield callback


def _stop_check(stage: str, done: int, total: int) -> None:
    """The progress callback that draws nothing: it only stops the work after a signal."""
    raise_if_stopping()


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
