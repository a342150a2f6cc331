"""Running a tool from a command: the pre-start estimate line, the progress bar, and a stop on a signal.

The command itself runs in a worker thread (``retouch.cli.signals``); a signal sets ``signals.stopping``, and the
tool's progress callback then raises ``Interrupted`` at its next report or liveness check, so work that reports
often unwinds cleanly before the process ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

import typer

from retouch.cli.common import duration, progress_bar, state
from retouch.cli.signals import raise_if_stopping
from retouch.tools.estimate import Estimate
from retouch.types import ProgressCallback

T = TypeVar("T")
ESTIMATE_LINE_S = 3.0  # work expected to take longer than this is announced with its estimate


def run_tool(
    ctx: typer.Context, tool: str, work: Callable[[ProgressCallback], T], plan: Estimate | None = None
) -> T:
    """``work(progress)`` with a progress bar; what it took is recorded for later estimates. When ``plan``
    expects a few seconds or more, its estimate is printed as one line once the tool reports its first progress:
    by then it has checked its inputs and loaded its model, so a command that fails still prints its one error
    line only."""
    from retouch.tools import estimate

    announced = False
    started = time.monotonic()
    with progress_bar(ctx, None if plan is None else plan.seconds) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal announced
            raise_if_stopping()
            if not announced:
                announced = True
                announce(ctx, tool, plan, time.monotonic() - started)
            bar(stage, done, total)

        result = work(progress)
    if plan is not None:
        estimate.record(plan, time.monotonic() - started)
    return result


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
