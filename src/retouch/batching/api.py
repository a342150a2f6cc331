"""``retouch.batch``: one tool over a folder of photos, in parallel, resumable, a bad file never stopping it."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retouch.batching.outputs import Location, is_file, is_url, join, make_folder, output_folder, remove, write_bytes
from retouch.batching.plan import Task, check_format, check_record, plan_tasks, recorded_options, write_record
from retouch.batching.sources import find_sources
from retouch.batching.tools import batch_tool, flags_for, parse_options
from retouch.batching.worker import DONE, SKIPPED, Job, Outcome
from retouch.errors import InvalidInput

FAILURES = "failures.json"  # in the output folder, after a batch where some photos failed
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Failure:
    path: str
    error_type: str
    message: str


@dataclass
class BatchReport:
    """How a batch went. ``interrupted``: stopped before every photo was tried (run it again to finish)."""

    output_dir: Location
    total: int
    done: int = 0
    skipped: int = 0  # already made by an earlier run
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        return self.done + self.skipped + len(self.failures)


# (the task, how it went, the report so far): called in the caller's thread as each photo ends
OnOutcome = Callable[[Task, Outcome, BatchReport], None]


@dataclass(frozen=True)
class Plan:
    """A checked batch, before any work: what ``run`` does, and what ``--dry-run`` shows."""

    job: Job
    tasks: list[Task]
    output_dir: Location  # a local folder, or an fsspec URL for the Ray engine
    options: dict[str, Any]  # the parsed options that the outputs depend on (recorded in the output folder)
    workers: int
    threads: int


def batch(
    tool: str,
    inputs: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
    *,
    masks: str | os.PathLike[str] | None = None,
    format: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    engine: str = "local",
    address: str | None = None,
    on_outcome: OnOutcome | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """Run ``tool`` ("erase", "detext", "cutout", "replace-bg", "upscale", "restore", "relight") on every photo
    ``inputs`` names (a folder, searched recursively; a glob; or a .txt list file, one path per line), writing
    each result under ``output_dir`` (a folder; with the Ray engine also an fsspec URL such as
    ``s3://bucket/out``) at the input's relative path, in the input's format (PNG where that cannot
    hold the result, e.g. a cutout of a JPEG) unless ``format`` names one.

    options: the tool's options as its command names them (``{"bg_color": "white", "no_refine": True}`` for
    ``retouch cutout --bg-color white --no-refine``), checked before any work; ``{"overwrite": True}`` makes
    outputs again that an earlier run made, which are otherwise skipped (resuming). masks: for erase, a folder
    of masks matched by name (``a.jpg`` <- ``a.png`` or ``a_mask.png``, at the same relative path or at the
    top). workers: processes (default: what the cores and memory allow), each with ``threads`` threads.
    engine: "local", or "ray" to run on a Ray cluster (``address``; default: a local Ray instance).

    A photo that fails is recorded (``BatchReport.failures`` and ``failures.json`` in ``output_dir``) and the
    batch goes on; ``stop`` (set from another thread) ends it early, leaving no partial file. Raises
    InvalidInput for bad options or inputs, before any work."""
    plan = prepare(
        tool, inputs, output_dir, flags_for(batch_tool(tool), options or {}), masks, format, workers, threads,
        engine=engine,
    )
    return run(plan, engine=engine, address=address, on_outcome=on_outcome, stop=stop)


def prepare(
    tool: str,
    inputs: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    flags: Sequence[str],
    masks: str | os.PathLike[str] | None = None,
    format: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    *,
    engine: str = "local",
) -> Plan:
    """Check everything a batch needs before any work (the CLI's ``--dry-run`` stops here): the tool's flags,
    the inputs, the output folder and its record, the masks, and that ``engine`` can write the output folder."""
    spec = batch_tool(tool)
    parsed = parse_options(spec, list(flags))
    kind = spec.output_kind(parsed)
    check_format(spec, kind, format)
    outdir = output_folder(output_dir)
    check_engine(engine, outdir, tool)
    if is_file(outdir):
        raise InvalidInput(f"-o {outdir} is a file; the output of a batch is a folder")
    local = outdir if isinstance(outdir, Path) else None  # a URL holds no inputs
    mask_folder = Path(masks) if masks is not None else None
    if mask_folder is not None and tool != "erase":
        raise InvalidInput(f"--masks is for erase; {tool} takes no masks")
    if tool == "erase" and mask_folder is None and not parsed["box"]:
        raise InvalidInput("a batch of erase needs --masks DIR (a mask per photo, matched by name) or --box x,y,w,h")
    sources = find_sources(inputs, exclude=local)
    if not sources:
        raise InvalidInput(f"{inputs} holds no image files (JPEG, PNG, WebP, TIFF, BMP, GIF or HEIC)")
    if local is not None and any(Path(os.path.abspath(s.path)) == Path(os.path.abspath(local)) for s in sources):
        raise InvalidInput("-o names an input file")
    tasks = plan_tasks(sources, outdir, kind, format, mask_folder, mask_required=tool == "erase" and not parsed["box"])
    options = recorded_options(spec, parsed)
    check_record(outdir, tool, options, overwrite=parsed["overwrite"])
    count, per_worker = pool_size(spec.worker_gb, len(tasks), workers, threads)
    return Plan(Job(tool, tuple(flags), redo=parsed["overwrite"]), tasks, outdir, options, count, per_worker)


def run(
    plan: Plan,
    *,
    engine: str = "local",
    address: str | None = None,
    on_outcome: OnOutcome | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """Do the planned work; failures.json written (or an old one removed) at the end, also after a stop."""
    check_engine(engine, plan.output_dir)
    make_folder(plan.output_dir)
    write_record(plan.output_dir, plan.job.tool, plan.options)
    report = BatchReport(plan.output_dir, len(plan.tasks))
    started = time.monotonic()

    def ended(task: Task, outcome: Outcome) -> None:
        if outcome.status == DONE:
            report.done += 1
        elif outcome.status == SKIPPED:
            report.skipped += 1
        else:
            report.failures.append(Failure(str(task.source.path), outcome.error_type, outcome.message))
        if on_outcome is not None:
            on_outcome(task, outcome, report)

    halt = stop or threading.Event()
    try:
        if engine == "ray":
            from retouch.batching.ray_engine import run_ray

            complete = run_ray(plan, address=address, on_outcome=ended, stop=halt)
        else:
            from retouch.batching.local import run_local

            complete = run_local(
                plan.job, plan.tasks, workers=plan.workers, threads=plan.threads, on_outcome=ended, stop=halt
            )
    except KeyboardInterrupt:
        complete = False
    report.interrupted = not complete
    report.seconds = time.monotonic() - started
    write_failures(plan.output_dir, report.failures)
    return report


def check_engine(engine: str, outdir: Location, tool: str | None = None) -> None:
    if engine not in ENGINES:
        said = f"unknown batch engine {engine!r}; choose one of: {', '.join(ENGINES)}"
        if tool in ("erase", "detext"):  # their own --engine (patch, lama) is shadowed by the batch's here
            said += f" (the engine that fills, {tool}'s own --engine, is -e here: -e {engine})"
        raise InvalidInput(said)
    if engine == "local" and is_url(outdir):
        raise InvalidInput(f"-o {outdir}: the local engine writes local folders (a path); a URL needs --engine ray")
    if str(outdir).startswith("memory://"):  # fsspec's memory store lives in one process: Ray's workers have their own
        raise InvalidInput(f"-o {outdir}: a memory:// store is private to one process; give a shared one (s3://...)")


def write_failures(outdir: Location, failures: list[Failure]) -> None:
    """``failures.json``: one entry per failed photo (path, error type, message); removed when none failed."""
    path = join(outdir, FAILURES)
    if not failures:
        remove(path)
        return
    entries = [{"path": f.path, "error_type": f.error_type, "message": f.message} for f in failures]
    write_bytes(path, (json.dumps(entries, indent=1) + "\n").encode())


def pool_size(worker_gb: float, tasks: int, workers: int | None, threads: int | None) -> tuple[int, int]:
    """(workers, threads each): by default one worker per core (``default_threads``: the CPUs this process may
    run on, or $RETOUCH_THREADS), fewer where memory would not hold them (each needs ``worker_gb``) or where there
    are fewer photos; the cores shared out among them."""
    from retouch.models.runtime import default_threads

    cores = default_threads()
    if workers is not None and workers < 1:
        raise InvalidInput(f"--workers must be at least 1, got {workers}")
    if threads is not None and threads < 1:
        raise InvalidInput(f"--threads must be at least 1, got {threads}")
    if workers is None:
        memory = available_memory_gb()
        fits = int(memory * 0.8 // worker_gb) if math.isfinite(memory) else cores
        workers = max(1, min(cores, fits, tasks))
    return workers, threads or max(1, cores // workers)


def available_memory_gb() -> float:
    """Memory available to new processes (Linux: MemAvailable), else a figure that does not limit."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("inf")
