"""Running a tool from a command: the pre-start estimate line, the progress bar, and Ctrl+C that stops within
a second or two.

The tool runs in a worker thread while the main thread waits: a signal reaches Python only in the main thread,
and only between bytecodes, so a main thread busy inside a long native call (a network, the patch engine) would
notice Ctrl+C only when that call returns. The waiting main thread notices at once; it then tells the work to
stop (its progress callback raises at the next report or check), gives it a moment to unwind (temporary files),
and exits with code 130.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import typer

from retouch.cli.common import duration, progress_bar, state
from retouch.tools.estimate import Estimate
from retouch.types import ProgressCallback

T = TypeVar("T")
ESTIMATE_LINE_S = 3.0  # work expected to take longer than this is announced with its estimate
UNWIND_S = 1.0  # how long an interrupted tool may take to stop before the command exits anyway
POLL_S = 0.1


class Interrupted(Exception):
    """Raised inside the tool's work, at its next progress report or check, after Ctrl+C."""


def run_tool(
    ctx: typer.Context, tool: str, work: Callable[[ProgressCallback], T], plan: Estimate | None = None
) -> T:
    """``work(progress)`` with a progress bar; what it took is recorded for later estimates. KeyboardInterrupt
    (Ctrl+C) stops it. When ``plan`` expects a few seconds or more, its estimate is printed as one line once the
    tool reports its first progress: by then it has checked its inputs and loaded its model, so a command that
    fails still prints its one error line only."""
    from retouch.tools import estimate

    stop = threading.Event()
    announced = threading.Event()
    outcome: list[T] = []
    failure: list[BaseException] = []
    finished = threading.Event()
    started = time.monotonic()
    with progress_bar(ctx, None if plan is None else plan.seconds) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            if stop.is_set():
                raise Interrupted
            if not announced.is_set():
                announced.set()
                announce(ctx, tool, plan, time.monotonic() - started)
            bar(stage, done, total)

        def run() -> None:
            try:
                outcome.append(work(progress))
            except BaseException as error:  # handed to the main thread, which raises it
                failure.append(error)
            finally:
                finished.set()

        worker = threading.Thread(target=run, name=f"retouch-{tool}", daemon=True)
        worker.start()
        try:
            while not finished.wait(POLL_S):
                pass
        except KeyboardInterrupt:
            stop.set()
            finished.wait(UNWIND_S)
            raise
    if failure:
        raise failure[0]
    if plan is not None:
        estimate.record(plan, time.monotonic() - started)
    return outcome[0]


def announce(ctx: typer.Context, tool: str, plan: Estimate | None, elapsed_s: float = 0.0) -> None:
    """One line on stderr, "upscale: about 40 s on this machine": the time ``plan`` leaves after ``elapsed_s``,
    when that is ESTIMATE_LINE_S or more (nothing with --quiet or --json)."""
    st = state(ctx)
    if plan is None or st.quiet or st.json:
        return
    left = plan.seconds - elapsed_s
    if left < ESTIMATE_LINE_S:
        return
    basis = "on this machine" if plan.basis == "measured" else "(a typical figure: not yet measured on this machine)"
    sys.stderr.write(f"{tool}: about {duration(left)} {basis}\n")
    sys.stderr.flush()
