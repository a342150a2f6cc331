"""Progress reports turned into what a person waits on: time elapsed and an estimate of the time left.

Tools report ``(stage, done, total)`` through a ``ProgressCallback``. A ``ProgressTracker`` watches those reports
and answers ``elapsed_s`` and ``eta_s``:

- Inside a stage, the time per unit is measured from the first completed unit on, so a slow first step (a model
  loading, a cold cache) does not inflate the rate; with one unit done, that unit's own time is used.
- Before a stage has a measured rate, the time left is the pre-start estimate minus the time elapsed (see
  ``retouch.tools.estimate``), or None when there is none.
- Between reports the time left keeps falling with the clock; it never goes below zero.

A report that repeats the last one exactly is a liveness check (see ``retouch.types.ProgressCallback``), not
progress: it changes nothing here. Warnings (stages reported with total 0) change nothing either.

Nothing here imports NumPy or a tool: the CLI and the server use it before any work starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from retouch.types import ProgressCallback


@dataclass(frozen=True)
class Snapshot:
    """The latest report and the timing derived from it."""

    stage: str
    done: int
    total: int
    elapsed_s: float
    eta_s: float | None
    updated: float  # unix time of the last report that changed something (the start time before any)


class ProgressTracker:
    """Timing of one run from its progress reports; safe to read from one thread while another reports."""

    def __init__(self, expected_s: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.expected_s = expected_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started: float | None = None
        self._wall_updated = time.time()
        self._last: tuple[str, int, int] = ("", 0, 0)
        self._last_at = 0.0
        # the current stage: when it began, and its first completed unit (count, time)
        self._stage_at = 0.0
        self._first: tuple[int, float] | None = None

    def start(self) -> None:
        """The work begins now (a queued job starts running)."""
        with self._lock:
            self._started = self._last_at = self._stage_at = self._clock()
            self._wall_updated = time.time()

    def report(self, stage: str, done: int, total: int) -> bool:
        """Record a report; returns whether it was new progress (not a repeat, not a warning)."""
        now = self._clock()
        with self._lock:
            if self._started is None:
                self._started = self._stage_at = now
            if total <= 0 or (stage, done, total) == self._last:
                return False
            previous = self._last
            self._last, self._last_at, self._wall_updated = (stage, done, total), now, time.time()
            if stage != previous[0] or total != previous[2] or done < previous[1]:
                self._stage_at, self._first = now, None
            if done > 0 and self._first is None:
                self._first = (done, now)
            return True

    def snapshot(self) -> Snapshot:
        now = self._clock()
        with self._lock:
            stage, done, total = self._last
            elapsed = 0.0 if self._started is None else now - self._started
            return Snapshot(stage, done, total, elapsed, self._eta(now, elapsed), self._wall_updated)

    def _eta(self, now: float, elapsed: float) -> float | None:
        if self._started is None:
            return self.expected_s
        _, done, total = self._last
        rate = self._seconds_per_unit()
        if rate is not None:
            return max(0.0, rate * (total - done) - (now - self._last_at))
        if self.expected_s is not None:
            return max(0.0, self.expected_s - elapsed)
        return None

    def _seconds_per_unit(self) -> float | None:
        if self._first is None:
            return None
        first_done, first_at = self._first
        done = self._last[1]
        if done > first_done:
            return (self._last_at - first_at) / (done - first_done)
        return (first_at - self._stage_at) / first_done


def scaled(progress: ProgressCallback, stage: str, start: int, span: int, total: int) -> ProgressCallback:
    """A callback for one part of a larger run: the part's own (done, total) become ``start`` to ``start + span``
    of ``total`` under ``stage``. Warnings (total 0) pass through unchanged."""

    def report(part_stage: str, done: int, part_total: int) -> None:
        if part_total <= 0:
            progress(part_stage, done, part_total)
            return
        progress(stage, start + (span * min(done, part_total)) // part_total, total)

    return report
