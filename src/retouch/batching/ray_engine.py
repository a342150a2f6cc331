"""A batch on a Ray cluster through Ray Data (``retouch batch ... --engine ray [--address ADDR]``).

The driver (the process running the batch) reads nothing itself: ``read_binary_files`` reads each planned
input as bytes in Ray tasks, so the file reaches a worker exactly as it is on disk (EXIF, ICC and XMP included)
and only compressed bytes cross the object store, never decoded pixels. ``map_batches`` runs them through a pool
of ``plan.workers`` actors (``_Photos``), each holding ``plan.threads`` CPUs (and one GPU with ``--device cuda``)
and its loaded models for the whole batch. An actor writes the bytes under the input's own name into a private
temporary folder, runs the tool's single-photo command there (``worker.process``: the same code as the local
engine), then moves the finished file into place in one step: a rename (or an atomic copy) for a local output
folder, an upload for an fsspec URL (``retouch.batching.outputs.upload``). A result row per photo streams back
to the driver, which calls ``on_outcome`` as each arrives.

Stopping: the driver sets a flag actor that every photo actor polls; the photo under way stops at its next
progress report (``retouch.cli.signals``) and its temporary folder is removed, so no output is left partial.
Local paths (inputs, masks, a local output folder) must name the same files on every node: a shared file system.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from retouch.batching.outputs import Location, file_system, upload
from retouch.batching.plan import Task, is_done
from retouch.batching.sources import Source
from retouch.batching.worker import DONE, FAILED, SKIPPED, Job, Outcome, hold_threads, process, remove_leftovers
from retouch.io.atomic import write_atomically
from retouch.io.save import sidecar_path

POLL_S = 0.2  # how often an actor looks at the stop flag, and the driver at the caller's stop event
STOPPED = "stopped"  # a result row's status for a photo stopped by a stop: no outcome, the driver stops there

OnOutcome = Callable[[Task, Outcome], None]
# what the driver hands each actor for a photo it will receive: the task and its input's modification time
Known = dict[str, tuple[Task, int]]


def run_ray(plan: Any, *, address: str | None, on_outcome: OnOutcome, stop: threading.Event) -> bool:
    """Run ``plan`` (``retouch.batching.api.Plan``) on the Ray cluster at ``address`` (None: a local Ray sized to
    this machine, started here and shut down after the batch; a Ray already initialised in this process is used
    as it is). Calls ``on_outcome`` in this thread as each photo ends; returns False when ``stop`` ended it."""
    import ray

    started = not ray.is_initialized()
    if started:
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        ray.init(  # "local": a new instance, even where RAY_ADDRESS or a `ray start` on this machine names one
            address=address or "local", include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
            configure_logging=True,
        )
        if threading.current_thread() is threading.main_thread():
            for handled, handler in handlers.items():  # ray.init takes SIGTERM (to exit at once): the caller's stop
                if handler is not None:  # handling (`retouch batch` sets ``stop``) stays in charge
                    signal.signal(handled, handler)
    try:
        return _run(ray, plan, on_outcome, stop)
    finally:
        if started:
            ray.shutdown()


def _run(ray: Any, plan: Any, on_outcome: OnOutcome, stop: threading.Event) -> bool:
    known: Known = {}
    for task in plan.tasks:  # what cannot be read ends here, before any Ray work: a bad file never stops a batch
        path = os.path.abspath(task.source.path)
        if task.problem is not None:
            on_outcome(task, Outcome(FAILED, 0.0, "InvalidInput", task.problem))
        elif not os.path.isfile(path):
            on_outcome(task, Outcome(FAILED, 0.0, "InvalidInput", f"{task.source.path} does not exist any more"))
        else:
            known[path] = (task, os.stat(path).st_mtime_ns)
    if not known:
        return True
    _settings(ray)
    flag = ray.remote(num_cpus=0)(StopFlag).remote()
    # One block per photo, so that photos are shared out one at a time and each outcome streams back as it is
    # made. The reads reserve no CPU, since the actors may hold every one (the default) and reading is I/O; so
    # that Ray does not start a worker process per photo to read it, a read runs beside each actor at most.
    photos = ray.data.read_binary_files(
        list(known), include_paths=True, override_num_blocks=len(known), num_cpus=0, concurrency=plan.workers
    )
    results = photos.map_batches(
        _Photos,
        fn_constructor_kwargs={"job": plan.job, "threads": plan.threads, "known": known, "flag": flag},
        batch_size=1,
        # one photo at a time per actor: an actor that dies then takes no queued photo down with it
        compute=ray.data.ActorPoolStrategy(size=plan.workers, max_tasks_in_flight_per_actor=1),
        num_cpus=plan.threads,
        num_gpus=1 if _wants_gpu(plan.job.flags) else 0,
        # An actor that dies (killed for memory, a crash in native code) is replaced (Ray Data's default), and
        # its photo is not tried again (Ray Data's default would retry it for ever): that photo's block fails,
        # skipped (max_errored_blocks, in _settings), and the photo is recorded as failed at the end.
        max_task_retries=0,
    )
    ended = threading.Event()
    threading.Thread(target=_relay, args=(stop, ended, flag), daemon=True, name="retouch-ray-stop").start()
    finished: set[str] = set()
    rows = iter(results.iter_rows())
    try:
        for row in rows:
            if row["status"] == STOPPED or stop.is_set():
                break
            path = str(row["path"])
            finished.add(path)
            on_outcome(known[path][0], _outcome(row))
    finally:
        ended.set()
        rows.close()  # shuts the execution down: the actors still busy are ended
    if stop.is_set():
        for path, (task, _) in known.items():
            if path not in finished and isinstance(task.target, Path):
                remove_leftovers(task)  # an actor ended while copying a file into place (_deliver)
        return False
    for path, (task, _) in known.items():
        if path not in finished:
            on_outcome(task, Outcome(FAILED, 0.0, "WorkerDied", "Ray returned nothing for it: the actor making it ended "
                                     "(killed for memory? try fewer --workers) or failed (see Ray's logs)"))
    return True


def _settings(ray: Any) -> None:
    """No progress bars or execution reports from Ray Data (the caller reports progress: ``on_outcome``)."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    context.max_errored_blocks = -1  # a photo whose actor died fails alone (see max_task_retries)
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # also the warning that progress bars are off


def _relay(stop: threading.Event, ended: threading.Event, flag: Any) -> None:
    """The caller's stop, passed on to the actors (through the flag actor they poll)."""
    while not ended.is_set():
        if stop.wait(POLL_S):
            flag.set.remote()
            return


def _wants_gpu(flags: tuple[str, ...]) -> bool:
    """Whether the tool's flags ask for a CUDA device (``--device cuda``, ``--device=cuda:1``)."""
    for index, flag in enumerate(flags):
        if flag == "--device" and index + 1 < len(flags):
            return flags[index + 1].startswith("cuda")
        if flag.startswith("--device="):
            return flag.removeprefix("--device=").startswith("cuda")
    return False


def _outcome(row: dict[str, Any]) -> Outcome:
    said = str(row["warnings"])
    return Outcome(
        str(row["status"]), float(row["seconds"]), str(row["error_type"]), str(row["message"]),
        tuple(said.split("\n")) if said else (),
    )


class StopFlag:
    """A Ray actor holding one bit: whether the batch is stopping."""

    def __init__(self) -> None:
        self.stopping = False

    def set(self) -> None:
        self.stopping = True

    def is_set(self) -> bool:
        return self.stopping


class _Photos:
    """One actor of the pool: its threads held for the whole batch, its models loaded by its first photo and kept
    (``retouch.models.runtime``'s cache lives as long as the actor's process)."""

    def __init__(self, job: Job, threads: int, known: Known, flag: Any) -> None:
        hold_threads(threads)
        from retouch.cli import signals

        self.job = job
        self.known = known
        self.signals = signals
        threading.Thread(target=self._watch, args=(flag,), daemon=True, name="retouch-ray-watch").start()

    def _watch(self, flag: Any) -> None:
        """The batch's stop becomes ``stopping`` here: the photo under way stops at its next progress report."""
        import ray

        while not ray.get(flag.is_set.remote()):
            time.sleep(POLL_S)
        self.signals.stopping.set()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        rows: dict[str, list[Any]] = {k: [] for k in ("path", "status", "seconds", "error_type", "message", "warnings")}
        for data, path in zip(batch["bytes"], batch["path"]):
            task, modified = self.known[str(path)]
            try:
                self.signals.raise_if_stopping()
                outcome = self._one(task, modified, bytes(data))
            except self.signals.Interrupted:  # the batch is stopping: the photo was left, its private folder removed
                outcome = Outcome(STOPPED, 0.0)
            for name, value in (
                ("path", str(path)), ("status", outcome.status), ("seconds", outcome.seconds),
                ("error_type", outcome.error_type), ("message", outcome.message),
                ("warnings", "\n".join(outcome.warnings)),
            ):
                rows[name].append(value)
        return rows

    def _one(self, task: Task, modified: int, data: bytes) -> Outcome:
        """The photo in a private folder: its input under its own name (the name the output's Content Credentials
        give its parent) with its own modification time, its output made there, then moved into place."""
        started = time.monotonic()
        folder = Path(tempfile.mkdtemp(prefix="retouch-ray-"))
        try:
            source = Source(folder / "in" / task.source.path.name, task.source.relative)
            source.path.parent.mkdir()
            source.path.write_bytes(data)
            os.utime(source.path, ns=(modified, modified))
            if not self.job.redo and _made(Task(source, task.target)):
                return Outcome(SKIPPED, time.monotonic() - started)
            made = folder / "out" / _name(task.target)
            outcome = process(self.job, Task(source, made, task.mask))
            # its messages name the photo, not its private copy
            outcome = replace(outcome, message=outcome.message.replace(str(source.path), str(task.source.path)))
            if outcome.status == DONE:
                _deliver(made, task.target)
        except Exception as error:  # noqa: BLE001 - copying the input in or the output out failed: its failure
            return Outcome(FAILED, time.monotonic() - started, type(error).__name__, " ".join(str(error).split()))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return replace(outcome, seconds=time.monotonic() - started)


def _name(target: Location) -> str:
    return target.name if isinstance(target, Path) else target.rpartition("/")[2]


def _made(task: Task) -> bool:
    """Resuming: a local output that ``is_done`` (newer than its input, decodes completely); an output URL that
    exists and decodes completely (object stores keep no comparable modification time)."""
    if isinstance(task.target, Path):
        return is_done(task)
    from retouch.errors import RetouchError
    from retouch.io import load_image

    fs, path = file_system(task.target)
    try:
        load_image(bytes(fs.cat_file(path)), max_pixels=0)
    except (OSError, RetouchError):
        return False
    return True


def _deliver(made: Path, target: Location) -> None:
    """Put the finished output (and its XMP sidecar, first, where the tool wrote one) at ``target``."""
    sidecar = sidecar_path(made)
    moves = [(sidecar, _sidecar_of(target))] if sidecar.exists() else []
    for file, place in [*moves, (made, target)]:
        if isinstance(place, Path):
            place.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(file, place)  # one rename where the temporary folder is on the same file system
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                write_atomically(place, file.read_bytes(), overwrite=True)
        else:
            upload(file, place)


def _sidecar_of(target: Location) -> Location:
    if isinstance(target, Path):
        return sidecar_path(target)
    folder, _, name = target.rpartition("/")
    return f"{folder}/{Path(name).with_suffix('.xmp')}"
