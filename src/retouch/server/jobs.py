"""A bounded queue of tool jobs run by a few worker threads, with progress, time estimates, cancellation and a
stall limit.

Tools are stateless and report progress through a callback; that callback is also where a job learns that it was
cancelled or declared stalled (it raises ``JobStopped``), so long work stops at its next report. Tools repeat
their last report while a long native call runs (``retouch.tools.interrupt``): a repeat checks for a stop
without counting as progress.

A job is never stopped for running long, only for making no progress: a monitor thread fails a running job
whose last new report is older than ``stall_timeout_s`` (504) at once, whether or not its work ever reports again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from typing import Any

from retouch.progress import ProgressTracker
from retouch.server.errors import ApiError, from_exception
from retouch.server.ids import is_valid_id, new_id

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
CANCELLED_ERROR = ("cancelled", "the job was cancelled")
MONITOR_INTERVAL_S = 0.5


class JobStopped(Exception):
    """Raised inside a job's work when it was cancelled or declared stalled."""


class Job:
    """One unit of tool work; its state is written by one worker thread and read by request handlers."""

    def __init__(
        self, tool: str, stall_timeout_s: float, expected_s: float | None = None, document: str | None = None
    ) -> None:
        self.id = new_id()
        self.tool = tool
        self.document = document  # the id of the document it edits, if any
        self.stall_timeout_s = stall_timeout_s
        self.state = QUEUED
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self.tracker = ProgressTracker(expected_s)
        self.last_progress = time.monotonic()  # of the last new report (or the start): what stalls are told by
        self.result: Any = None
        self.error: ApiError | None = None
        self.future: Future[None] = Future()  # completes when the job has finished, whatever the outcome
        self.runner: Future[None] | None = None  # the worker pool's handle
        self._stop_reason: str | None = None
        self._abandoned = False
        self._finish_lock = threading.Lock()

    def report(self, stage: str, done: int, total: int) -> None:
        """The progress callback handed to the tool (a repeat of the last report is only a stop check)."""
        self.check()
        if self.tracker.report(stage, int(done), int(total)):
            self.last_progress = time.monotonic()

    def expect(self, seconds: float | None) -> None:
        """The pre-start estimate of the whole job, once known (a file's size is known once decoded)."""
        self.tracker.expected_s = seconds

    def check(self) -> None:
        if self._stop_reason is not None:
            raise JobStopped(self._stop_reason)

    def stop(self, reason: str = "cancelled") -> None:
        """Ask the job to stop at its next progress report (or before it starts)."""
        if self.state in (QUEUED, RUNNING) and self._stop_reason is None:
            self._stop_reason = reason

    def abandon(self) -> None:
        """Nobody can collect the result (a file job whose client went away): stop the work."""
        self._abandoned = True
        self.stop("cancelled")

    def take_result(self) -> Any:
        """The result, handed over once: large results (encoded images) are not kept after delivery."""
        result, self.result = self.result, None
        return result

    def stalled(self, now: float) -> bool:
        return self.state == RUNNING and now - self.last_progress > self.stall_timeout_s

    def stopped_error(self, reason: str) -> ApiError:
        if reason == "stalled":
            return ApiError(
                504,
                "stalled",
                f"the job made no progress for {self.stall_timeout_s:g} s (the server's stall limit) and was stopped",
            )
        return ApiError(409, *CANCELLED_ERROR)

    def info(self) -> dict[str, Any]:
        timing = self.tracker.snapshot()
        return {
            "id": self.id,
            "tool": self.tool,
            "state": self.state,
            "progress": {
                "stage": timing.stage,
                "done": timing.done,
                "total": timing.total,
                "elapsed_s": self._elapsed(timing.elapsed_s),
                "eta_s": None if self.state in (DONE, FAILED, CANCELLED) else timing.eta_s,
                "updated": timing.updated,
            },
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "result": self.result if isinstance(self.result, dict) else None,
            "error": None if self.error is None else {"code": self.error.code, "message": self.error.message},
        }

    def _elapsed(self, running_s: float) -> float:
        if self.started is None:
            return 0.0
        if self.finished is not None:
            return self.finished - self.started
        return running_s


class JobQueue:
    """At most ``size`` jobs queued or running; ``workers`` threads run them in order of arrival."""

    def __init__(
        self, size: int, workers: int, stall_timeout_s: float, keep_s: float = 900.0, keep_max: int = 256
    ) -> None:
        self.size = size
        self.stall_timeout_s = stall_timeout_s
        self._keep_s = keep_s
        self._keep_max = keep_max
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retouch-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._active = 0
        self._closing = threading.Event()
        self._monitor = threading.Thread(target=self._watch_stalls, name="retouch-job-monitor", daemon=True)
        self._monitor.start()

    @property
    def active(self) -> int:
        return self._active

    def submit(
        self, tool: str, work: Callable[[Job], Any], expected_s: float | None = None, document: str | None = None
    ) -> Job:
        """Queue ``work`` (called with its job: ``job.report`` is the tool's progress callback); raises ApiError
        429 when ``size`` jobs are already queued or running. ``document``: the id of the document it edits."""
        with self._lock:
            self._prune()
            if self._active >= self.size:
                raise ApiError(
                    429,
                    "queue_full",
                    f"the server is busy: {self.size} jobs are queued or running; try again in a moment",
                    headers={"Retry-After": "2"},
                )
            job = Job(tool, self.stall_timeout_s, expected_s, document)
            self._active += 1
            self._jobs[job.id] = job
        try:
            job.runner = self._pool.submit(self._run, job, work)
        except RuntimeError:  # the pool is shut down: the server is stopping
            self._finish(job, error=ApiError(503, "shutting_down", "the server is shutting down"))
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id) if is_valid_id(job_id) else None
        if job is None:
            raise ApiError(404, "job_not_found", f"no job with id '{job_id[:40]}' (finished jobs are kept a while)")
        return job

    def cancel(self, job: Job) -> None:
        """Stop the job: a queued one at once, a running one at its next progress report."""
        job.stop("cancelled")
        if job.state == QUEUED and job.runner is not None and job.runner.cancel():
            self._finish(job, error=job.stopped_error("cancelled"))

    def cancel_document(self, document: str) -> list[Job]:
        """Cancel every queued or running job on ``document`` (being deleted); returns them."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.document == document and job.finished is None]
        for job in jobs:
            self.cancel(job)
        return jobs

    async def wait(self, job: Job, limit_s: float | None = None) -> Job:
        """Wait for the job without blocking the event loop (at most ``limit_s``: then it returns the job as it
        is); raise its error if it failed or was cancelled. Stalled jobs are failed by the monitor, so an
        unbounded wait ends."""
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.future)), limit_s)
        except TimeoutError:
            return job
        if job.error is not None:
            raise job.error
        return job

    def shutdown(self, drain_s: float = 0.0) -> bool:
        """Refuse new jobs, cancel the queued and running ones, and wait up to ``drain_s`` for the running ones to
        stop (they stop at their next progress report: within a second or two). Returns whether every job thread
        has stopped; one stuck in a call that never reports is left behind (the caller may exit regardless).
        Safe to call more than once."""
        self._closing.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop("cancelled")
        self._pool.shutdown(wait=False, cancel_futures=True)
        for job in jobs:  # jobs the pool dropped before they started never finish by themselves
            if job.runner is not None and job.runner.cancelled():
                self._finish(job, error=ApiError(503, "shutting_down", "the server is shutting down"))
        running = [job.runner for job in jobs if job.runner is not None and not job.runner.done()]
        return not running or not wait_for_futures(running, timeout=drain_s).not_done

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.check()
            job.state, job.started = RUNNING, time.time()
            job.last_progress = time.monotonic()
            job.tracker.start()
            result = work(job)
        except JobStopped as stopped:
            self._finish(job, error=job.stopped_error(str(stopped)))
        except BaseException as error:  # every failure becomes the job's JSON error
            self._finish(job, error=from_exception(error))
        else:
            self._finish(job, result=result)

    def _finish(self, job: Job, result: Any = None, error: ApiError | None = None) -> None:
        """The job's outcome, set once (a stalled job is failed by the monitor while its thread may still run)."""
        with job._finish_lock:
            if job.future.done():
                return
            # the bytes of a file whose client went away cannot be delivered: do not hold them until pruned
            keep = not (job._abandoned and not isinstance(result, dict))
            job.result, job.error = (result if keep else None), error
            if error is None:
                job.state = DONE
            else:
                job.state = CANCELLED if error.code == CANCELLED_ERROR[0] else FAILED
            job.finished = time.time()
            with self._lock:
                self._active -= 1
            job.future.set_result(None)

    def _watch_stalls(self) -> None:
        while not self._closing.wait(MONITOR_INTERVAL_S):
            now = time.monotonic()
            with self._lock:
                stalled = [job for job in self._jobs.values() if job.stalled(now)]
            for job in stalled:
                job.stop("stalled")
                self._finish(job, error=job.stopped_error("stalled"))

    def _prune(self) -> None:
        """Forget finished jobs older than keep_s, and the oldest finished ones beyond keep_max."""
        now = time.time()
        finished = [j for j in self._jobs.values() if j.finished is not None]
        excess = len(finished) - self._keep_max
        for job in finished:
            if excess > 0 or now - (job.finished or now) > self._keep_s:
                del self._jobs[job.id]
                excess -= 1
