"""`retouch batch TOOL INPUT -o OUTDIR [tool options]`: one tool over a folder, a glob or a list of photos."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from retouch.cli.common import duration, report, state

if TYPE_CHECKING:
    from retouch.batching.api import BatchReport, OnOutcome, Plan
    from retouch.batching.plan import Task
    from retouch.batching.worker import Outcome

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number, as for every command
DRY_RUN_LINES = 10  # how many planned photos --dry-run lists for people (--json lists all)


def batch_command(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(help="erase, detext, cutout, replace-bg, upscale, restore or relight.")],
    inputs: Annotated[
        str, typer.Argument(help="A folder (searched recursively), a glob such as 'shoot/**/*.jpg', or a .txt list.")
    ],
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="The folder the results go to (made if missing); with --engine ray also "
                     "an fsspec URL (s3://bucket/out, gs://...)."),
    ],
    masks: Annotated[
        Path | None,
        typer.Option("--masks", help="erase: a folder of masks named like the photos (a.jpg <- a.png or a_mask.png)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Write every result in this format (jpg, png, webp, tif, heic); default: each input's own, PNG "
            "where that cannot hold the result (the cutout of a JPEG).",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-j", help="Worker processes; default: what the cores and memory allow.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", help="Threads per worker; default: the cores shared among them.")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="local (worker processes) or ray (a Ray cluster).")] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="With --engine ray: the cluster's address (default: a local Ray).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything and list what would be done.")] = False,
) -> None:
    """Run one tool over many photos in parallel worker processes. The tool's own options follow these (see
    `retouch TOOL --help`), except those that name one photo. Outputs keep each input's relative path, format and
    metadata; an output already made is skipped, so a batch started again does only what is left. A photo that
    fails is listed and recorded in OUTDIR/failures.json. Exit code 0 when all succeeded, 1 when some failed."""
    from retouch.batching.api import prepare, run

    plan = prepare(tool, inputs, output, ctx.args, masks, format, workers, threads, engine=engine)
    if dry_run:
        show_plan(ctx, plan)
        return
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if received:  # a second Ctrl+C: the user will not wait for the workers to stop
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()

    for handled in EXIT_CODES:
        if signal.getsignal(handled) is not signal.SIG_IGN:  # an inherited ignore (nohup) stays
            signal.signal(handled, on_signal)
    with progress_display(ctx, plan) as on_outcome:
        result = run(plan, engine=engine, address=address, on_outcome=on_outcome, stop=stop)
    summarise(ctx, result)
    if result.interrupted:
        raise typer.Exit(EXIT_CODES[signal.Signals(received[0])] if received else 130)
    if result.failures:
        raise typer.Exit(1)


def show_plan(ctx: typer.Context, plan: Plan) -> None:
    from retouch.batching.outputs import exists

    existing = sum(exists(task.target) for task in plan.tasks)
    lines = [planned(task) for task in plan.tasks[:DRY_RUN_LINES]]
    if len(plan.tasks) > DRY_RUN_LINES:
        lines.append(f"... and {len(plan.tasks) - DRY_RUN_LINES} more")
    lines.append(
        f"{len(plan.tasks)} photos for {plan.job.tool}, {existing} of them with an output already (skipped if it "
        f"verifies); {plan.workers} workers of {plan.threads} threads; nothing written (--dry-run)"
    )
    tasks = [
        {"input": str(t.source.path), "output": str(t.target), "mask": t.mask and str(t.mask), "problem": t.problem}
        for t in plan.tasks
    ]
    data = {"tool": plan.job.tool, "photos": len(plan.tasks), "existing": existing, "workers": plan.workers,
            "threads": plan.threads, "tasks": tasks}  # fmt: skip
    report(ctx, "\n".join(lines), data)


def planned(task: Task) -> str:
    line = f"{task.source.path} -> {task.target}"
    if task.mask is not None:
        line += f" (mask {task.mask})"
    if task.problem is not None:
        line += f" (will fail: {task.problem})"
    return line


@contextmanager
def progress_display(ctx: typer.Context, plan: Plan) -> Iterator[OnOutcome]:
    """The batch's on_outcome: a Rich bar (photos, photos per second, time left) on a terminal, and one line per
    failure, printed also with --quiet (failures are errors), not with --json (they are in its answer)."""
    st = state(ctx)
    if st.json:
        yield lambda task, outcome, so_far: None
        return
    if st.quiet or not sys.stderr.isatty():
        yield lambda task, outcome, so_far: say_failure(task, outcome, print_line)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (TextColumn(plan.job.tool), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"))
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bars:
        bar = bars.add_task(plan.job.tool, total=len(plan.tasks), rate="")
        started = time.monotonic()

        def on_outcome(task: Task, outcome: Outcome, so_far: BatchReport) -> None:
            say_failure(task, outcome, lambda text: console.print(text, markup=False, highlight=False))
            made, elapsed = so_far.done + len(so_far.failures), time.monotonic() - started
            rate = f"{made / elapsed:.2f} photos/s" if made and elapsed > 0 else ""
            bars.update(bar, completed=so_far.finished, rate=rate)

        yield on_outcome


def print_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def say_failure(task: Task, outcome: Outcome, write: Callable[[str], None]) -> None:
    from retouch.batching.worker import FAILED

    if outcome.status == FAILED:
        write(f"retouch: failed: {task.source.path}: {outcome.error_type}: {outcome.message}")


def summarise(ctx: typer.Context, result: BatchReport) -> None:
    from retouch.batching.api import FAILURES
    from retouch.batching.outputs import join

    made = result.done + len(result.failures)
    human = f"{result.done} done, {result.skipped} already done, {len(result.failures)} failed of {result.total}"
    human += f" in {duration(result.seconds)}"
    if made and result.seconds > 0:
        human += f", {60 * made / result.seconds:.1f} photos/min"
    if result.failures:
        human += f"; failures listed in {join(result.output_dir, FAILURES)}"
    if result.interrupted:
        human += f"; stopped with {result.total - result.finished} left: run the same command again to finish them"
    data = {
        "output_dir": str(result.output_dir), "total": result.total, "done": result.done, "skipped": result.skipped,
        "failed": len(result.failures), "interrupted": result.interrupted, "seconds": round(result.seconds, 3),
        "failures": [vars(f) for f in result.failures],
    }  # fmt: skip
    report(ctx, human, data)
