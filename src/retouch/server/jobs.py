"""A bounded queue of tool jobs run by a few worker threads, with progress, cancellation and a time limit.

Tools are stateless and report progress through a callback; that callback is also where a job learns that it
was cancelled or ran out of time (it raises ``JobStopped``), so long work stops at its next report.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from retouch.server.errors import ApiError, from_exception
from retouch.server.ids import is_valid_id, new_id
from retouch.types import ProgressCallback

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# Work run by a job: receives the progress callback, returns the job's result.
Work = Callable[[ProgressCallback], Any]


class JobStopped(Exception):
    """Raised inside a job's work when it was cancelled or passed its deadline."""


@dataclass
class Progress:
    stage: str = ""
    done: int = 0
    total: int = 0


class Job:
    """One unit of tool work; its state is written by one worker thread and read by request handlers."""

    def __init__(self, tool: str, timeout_s: float) -> None:
        self.id = new_id()
        self.tool = tool
        self.timeout_s = timeout_s
        self.state = QUEUED
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self.deadline = time.monotonic() + timeout_s
        self.progress = Progress()
        self.result: Any = None
        self.error: ApiError | None = None
        self.future: Future[None] = Future()  # completes when the job has finished, whatever the outcome
        self.runner: Future[None] | None = None  # the worker pool's handle
        self._stop_reason: str | None = None
        self._abandoned = False

    def report(self, stage: str, done: int, total: int) -> None:
        """The progress callback handed to the tool."""
        self.check()
        self.progress = Progress(stage, int(done), int(total))

    def check(self) -> None:
        if self._stop_reason is None and time.monotonic() > self.deadline:
            self._stop_reason = "timeout"
        if self._stop_reason is not None:
            raise JobStopped(self._stop_reason)

    def stop(self, reason: str = "cancelled") -> None:
        """Ask the job to stop at its next progress report (or before it starts)."""
        if self.state in (QUEUED, RUNNING) and self._stop_reason is None:
            self._stop_reason = reason

    def abandon(self) -> None:
        """Nobody will collect the result: stop the work, and drop whatever it returns."""
        self._abandoned = True
        self.stop("cancelled")
        self.result = None

    def take_result(self) -> Any:
        """The result, handed over once: large results (encoded images) are not kept after delivery."""
        result, self.result = self.result, None
        return result

    def stopped_error(self, reason: str) -> ApiError:
        if reason == "timeout":
            return ApiError(504, "timeout", f"the job ran longer than the server's limit of {self.timeout_s:g} s")
        return ApiError(409, "cancelled", "the job was cancelled")

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tool": self.tool,
            "state": self.state,
            "progress": {"stage": self.progress.stage, "done": self.progress.done, "total": self.progress.total},
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "result": self.result if isinstance(self.result, dict) else None,
            "error": None if self.error is None else {"code": self.error.code, "message": self.error.message},
        }


class JobQueue:
    """At most ``size`` jobs queued or running; ``workers`` threads run them in order of arrival."""

    def __init__(self, size: int, workers: int, timeout_s: float, keep_s: float = 900.0, keep_max: int = 256) -> None:
        self.size = size
        self.timeout_s = timeout_s
        self._keep_s = keep_s
        self._keep_max = keep_max
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retouch-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._active = 0

    @property
    def active(self) -> int:
        return self._active

    def submit(self, tool: str, work: Work) -> Job:
        """Queue ``work``; raises ApiError 429 when ``size`` jobs are already queued or running."""
        with self._lock:
            self._prune()
            if self._active >= self.size:
                raise ApiError(
                    429,
                    "queue_full",
                    f"the server is busy: {self.size} jobs are queued or running; try again in a moment",
                    headers={"Retry-After": "2"},
                )
            job = Job(tool, self.timeout_s)
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

    async def wait(self, job: Job) -> Job:
        """Wait for the job without blocking the event loop; raise its error if it failed.

        A job stops itself at its deadline when it reports progress; the grace period covers one that does not.
        """
        grace = max(0.0, job.deadline - time.monotonic()) + 5.0
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.future)), grace)
        except TimeoutError:
            job.stop("timeout")
            raise job.stopped_error("timeout") from None
        if job.error is not None:
            raise job.error
        return job

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop("cancelled")
        self._pool.shutdown(wait=False, cancel_futures=True)
        for job in jobs:  # jobs the pool dropped before they started never finish by themselves
            if job.runner is not None and job.runner.cancelled():
                self._finish(job, error=ApiError(503, "shutting_down", "the server is shutting down"))

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.check()
            job.state, job.started = RUNNING, time.time()
            result = work(job.report)
        except JobStopped as stopped:
            self._finish(job, error=job.stopped_error(str(stopped)))
        except BaseException as error:  # every failure becomes the job's JSON error
            self._finish(job, error=from_exception(error))
        else:
            self._finish(job, result=result)

    def _finish(self, job: Job, result: Any = None, error: ApiError | None = None) -> None:
        job.result, job.error = (None if job._abandoned else result), error
        job.state = FAILED if error is not None else DONE
        job.finished = time.time()
        with self._lock:
            self._active -= 1
        job.future.set_result(None)

    def _prune(self) -> None:
        """Forget finished jobs older than keep_s, and the oldest finished ones beyond keep_max."""
        now = time.time()
        finished = [j for j in self._jobs.values() if j.finished is not None]
        excess = len(finished) - self._keep_max
        for job in finished:
            if excess > 0 or now - (job.finished or now) > self._keep_s:
                del self._jobs[job.id]
                excess -= 1
