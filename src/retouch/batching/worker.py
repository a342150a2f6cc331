"""One photo of a batch, done the way `retouch TOOL PHOTO -o OUT` does it, in whichever process runs it (a local
worker process or a Ray actor). Loaded models stay in the process's cache (``retouch.models.runtime``), so each
worker loads them once, for its first photo."""

from __future__ import annotations

import glob
import os
import time
import warnings
from contextlib import suppress
from dataclasses import dataclass, field

from retouch.batching.plan import Task
from retouch.batching.tools import batch_tool

DONE, SKIPPED, FAILED = "done", "skipped", "failed"  # skipped: its output was already made
THREAD_VARIABLES = ("RETOUCH_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")


@dataclass(frozen=True)
class Job:
    """What every photo of a batch gets: the tool and its flags as typed (checked once, in the parent)."""

    tool: str
    flags: tuple[str, ...]
    redo: bool = False  # make every output again (--overwrite), instead of skipping those already made


@dataclass(frozen=True)
class Outcome:
    status: str  # DONE or FAILED
    seconds: float
    error_type: str = ""
    message: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)


def hold_threads(threads: int) -> None:
    """Hold this process's math libraries (PyTorch's OpenMP, MKL, ONNX Runtime, OpenCV and Retouch's own kernels)
    to ``threads``: before they are imported, since most read the setting once."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def process(job: Job, task: Task) -> Outcome:
    """Make ``task.target`` from ``task.source`` with the job's tool; a failure is returned, never raised (a bad
    photo must not stop the batch), except ``Interrupted``, which stops the work (``retouch.cli.signals``)."""
    from retouch.cli.common import CliState

    from retouch.batching.plan import is_done

    started = time.monotonic()
    if task.problem is not None:
        return Outcome(FAILED, 0.0, "InvalidInput", task.problem)
    if not job.redo and is_done(task):
        return Outcome(SKIPPED, time.monotonic() - started)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _run_command(job, task, CliState(quiet=True))
        except Exception as error:  # noqa: BLE001 - anything a photo raises is its failure; the batch goes on
            # (``Interrupted``, a BaseException, passes: it stops the worker)
            return Outcome(FAILED, time.monotonic() - started, type(error).__name__, _one_line(error))
    said = tuple(_one_line(w.message) for w in caught)
    return Outcome(DONE, time.monotonic() - started, warnings=said)


def _run_command(job: Job, task: Task, quiet: object) -> None:
    from retouch.batching.tools import command_for

    arguments = [str(task.source.path), "--output", str(task.target), *job.flags]
    if task.mask is not None:
        arguments += ["--mask", str(task.mask)]
    if task.target.exists() and "--overwrite" not in job.flags:
        arguments.append("--overwrite")  # found not done (damaged, or older than its input), or redone
    task.target.parent.mkdir(parents=True, exist_ok=True)
    command = command_for(batch_tool(job.tool))
    with command.make_context(f"retouch {job.tool}", arguments) as context:
        context.obj = quiet
        command.invoke(context)


def _one_line(message: object) -> str:
    return " ".join(str(message).split()) or "no message"


def remove_leftovers(task: Task) -> None:
    """Remove the temporary files an atomic write of the task's output (or of its XMP sidecar) leaves when its
    process is killed (``retouch.io.atomic`` names them ``.<name>.<random>.tmp`` beside the target)."""
    target = task.target
    for name in (target.name, target.with_suffix(".xmp").name):
        for leftover in target.parent.glob(f".{glob.escape(name)}.*.tmp"):
            with suppress(OSError):
                leftover.unlink()
