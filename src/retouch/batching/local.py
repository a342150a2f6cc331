"""A batch on this machine: worker processes, each holding its models for the whole batch, one photo at a time.

The parent hands each worker one task over its own pipe, so it always knows which photo each worker holds: a
worker that dies (killed for memory, a crash in native code) costs that photo alone, recorded as its failure,
and a new worker takes its place. Workers are started with ``spawn`` (a fork of a parent that has started
threads is unsafe) and ignore SIGINT and SIGTERM, which a terminal or a `kill` of the process group sends to
every process: the parent decides.

Stopping (Ctrl+C, SIGTERM, a caller's ``stop``): the parent raises a flag in shared memory; each worker's
watcher thread turns it into ``retouch.cli.signals.stopping``, so the tool stops at its next progress report and
its atomic write removes its temporary file. Workers still busy after GRACE_S are killed, and the temporary files of the
photos they held are removed by the parent: no partial file is left either way.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from retouch.batching.plan import Task
from retouch.batching.worker import FAILED, Job, Outcome, hold_threads, process, remove_leftovers

GRACE_S = 2.0  # how long busy workers get to stop after a stop before they are killed
POLL_S = 0.2  # how often a waiting parent looks at its stop flag, and a worker's watcher at its parent

OnOutcome = Callable[[Task, Outcome], None]


def run_local(
    job: Job,
    tasks: Sequence[Task],
    *,
    workers: int,
    threads: int,
    on_outcome: OnOutcome,
    stop: threading.Event,
) -> bool:
    """Run ``tasks`` on ``workers`` processes of ``threads`` threads each, calling ``on_outcome`` in this thread
    as each photo ends. Returns False when ``stop`` ended the batch before every task was done."""
    context = multiprocessing.get_context("spawn")
    # A flag in shared memory read without a lock: an Event's lock, held by a worker killed at the wrong moment
    # (for memory, say), would hang every later set or wait.
    halt = context.RawValue("b", 0)
    pool = [_Worker.start(context, job, threads, halt) for _ in range(min(workers, len(tasks)))]
    waiting = deque(tasks)
    try:
        while waiting or any(w.task is not None for w in pool):
            if stop.is_set():
                return False
            for worker in pool:
                if worker.task is None and waiting:
                    worker.give(waiting.popleft())
            busy = [w for w in pool if w.task is not None]
            ready = wait([handle for w in busy for handle in (w.connection, w.process.sentinel)], timeout=POLL_S)
            for index, worker in enumerate(pool):
                if worker.task is not None and {worker.connection, worker.process.sentinel} & set(ready):
                    task = worker.task
                    try:
                        outcome = worker.finished()
                    except (EOFError, OSError):  # it died with the photo: that photo fails, a new worker starts
                        remove_leftovers(task)
                        if stop.is_set():  # killed with the rest of the batch: the photo is left for the next run
                            return False
                        outcome = Outcome(FAILED, time.monotonic() - worker.given_at, "WorkerDied", worker.death())
                        worker.connection.close()
                        pool[index] = _Worker.start(context, job, threads, halt)
                    on_outcome(task, outcome)
        return True
    finally:
        _shut_down(pool, halt, on_outcome)


@dataclass
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    connection: Connection
    task: Task | None = None
    given_at: float = field(default=0.0)

    @classmethod
    def start(cls, context: Any, job: Job, threads: int, halt: Any) -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(job, threads, theirs, halt, os.getpid()), name="retouch-batch", daemon=True
        )
        process.start()
        theirs.close()
        return cls(process, ours)

    def give(self, task: Task) -> None:
        self.task = task
        self.given_at = time.monotonic()
        self.connection.send(task)

    def finished(self) -> Outcome:
        outcome: Outcome = self.connection.recv()
        self.task = None
        return outcome

    def death(self) -> str:
        self.process.join(1.0)
        code = self.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        hint = " (killed for memory? try fewer --workers)" if code == -signal.SIGKILL else ""
        return f"the worker process ended with {how}{hint}"


def _shut_down(pool: list[_Worker], halt: Any, on_outcome: OnOutcome) -> None:
    """Ask every worker to end, give the busy ones GRACE_S to stop (a photo they finish meanwhile is reported),
    kill the rest and remove what their writes left."""
    halt.value = 1
    for worker in pool:
        with suppress(OSError):
            worker.connection.send(None)
    deadline = time.monotonic() + GRACE_S
    for worker in pool:
        task = worker.task
        if task is not None:
            with suppress(EOFError, OSError):
                if worker.connection.poll(max(0.0, deadline - time.monotonic())):
                    on_outcome(task, worker.finished())
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        if worker.task is not None:
            remove_leftovers(worker.task)
        worker.connection.close()


def _serve(job: Job, threads: int, connection: Connection, halt: Any, parent: int) -> None:
    """A worker process: tasks from ``connection`` until None, an outcome back for each."""
    for handled in (signal.SIGINT, signal.SIGTERM):  # sent to the whole group (Ctrl+C, a `kill -- -PGID`): the
        signal.signal(handled, signal.SIG_IGN)  # parent stops the workers in order
    hold_threads(threads)
    from retouch.cli import signals

    def watch() -> None:  # a stop of the parent, or its death, stops the photo under way at its next report
        while not halt.value and os.getppid() == parent:
            time.sleep(POLL_S)
        signals.stopping.set()

    threading.Thread(target=watch, daemon=True, name="retouch-batch-watch").start()
    try:
        while (task := connection.recv()) is not None:
            connection.send(process(job, task))
    except (signals.Interrupted, EOFError, BrokenPipeError):  # stopped, or the parent is gone
        return
