"""A batch's plan: for each input its output file, its mask (erase), and whether the work is already done.

Resuming is the point: a batch that was interrupted, or that failed on some files, is started again with the
same command and does only what is left. An output counts as done when it exists, is newer than its input and
decodes completely; the options that made the folder's outputs are recorded in it (RECORD), so a second run
with other options cannot mistake the first run's outputs for its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from retouch.batching.outputs import Location, join, read_bytes, write_bytes
from retouch.batching.sources import Source
from retouch.io.formats import is_image_name
from retouch.batching.tools import ALPHA, MASK, BatchTool
from retouch.errors import InvalidInput, RetouchError
from retouch.io.formats import FORMATS, format_for_path, format_named

RECORD = ".retouch-batch.json"  # in the output folder: the tool and options its outputs were made with
MASK_SUFFIXES = ("", "_mask", ".mask", "-mask")  # photo.jpg's mask: photo.png, photo_mask.png, ...


@dataclass(frozen=True)
class Task:
    source: Source
    target: Location  # a local path, or a URL with the Ray engine (retouch.batching.outputs)
    mask: Path | None = None  # erase: the mask matched by name
    problem: str | None = None  # why this photo cannot be done at all (no mask matched): its failure message


def output_extension(source: Path, kind: str, format: str | None) -> str:
    """The output's extension: ``format``'s when given, else the input's own, else PNG where the input's format
    cannot hold the output (transparency in a JPEG, a mask in a lossy format)."""
    if format is not None:
        return format_named(format).extensions[0]
    own = format_for_path(source)
    if (kind == ALPHA and not own.alpha) or (kind == MASK and own.name in ("JPEG", "WEBP", "HEIF")):
        return ".png"
    return source.suffix


def check_format(tool: BatchTool, kind: str, format: str | None) -> None:
    """Refuse before any work a ``--format`` that cannot hold what the tool makes."""
    if format is None:
        return
    chosen = format_named(format)
    if kind == ALPHA and not chosen.alpha:
        holders = ", ".join(f.label for f in FORMATS.values() if f.alpha)
        raise InvalidInput(f"{chosen.label} cannot hold the transparency {tool.name} makes here; use {holders}")


def plan_tasks(
    sources: Iterable[Source],
    outdir: Location,
    kind: str,
    format: str | None,
    masks: Path | None = None,
    *,
    mask_required: bool = False,
) -> list[Task]:
    """One task per source; two inputs that would write the same output (a.jpg and a.png with --format webp)
    are refused before any work. ``mask_required``: a photo without a mask in ``masks`` fails (erase with no
    box to apply to every photo)."""
    index = _mask_index(masks) if masks is not None else None
    tasks: list[Task] = []
    taken: dict[Location, Source] = {}
    for source in sources:
        relative = source.relative.with_suffix(output_extension(source.path, kind, format))
        target = join(outdir, relative)
        if target in taken:
            raise InvalidInput(
                f"{taken[target].path} and {source.path} would both be written to {target}; "
                "give --format only where names differ by more than their extension"
            )
        taken[target] = source
        mask = None if index is None else _mask_for(source.relative, index)
        problem = None
        if mask is None and mask_required:
            problem = f"no mask named like {source.relative} in {masks} (tried {_tried(source.relative)})"
        tasks.append(Task(source, target, mask, problem))
    return tasks


def _mask_index(folder: Path) -> dict[PurePosixPath, Path]:
    """Every image under ``folder`` by its relative path without extension (first one wins, sorted)."""
    if not folder.is_dir():
        raise InvalidInput(f"--masks: {folder} is not a folder")
    index: dict[PurePosixPath, Path] = {}
    for root, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            if is_image_name(name):
                path = Path(root) / name
                index.setdefault(PurePosixPath(path.relative_to(folder).with_suffix("").as_posix()), path)
    return index


def _mask_for(relative: PurePosixPath, index: dict[PurePosixPath, Path]) -> Path | None:
    """The mask named like the photo: at the same relative path, else at the top of the mask folder; the name
    itself or with _mask, .mask or -mask added."""
    stem = relative.with_suffix("")
    for place in (stem, PurePosixPath(stem.name)):
        for suffix in MASK_SUFFIXES:
            found = index.get(place.with_name(place.name + suffix))
            if found is not None:
                return found
    return None


def _tried(relative: PurePosixPath) -> str:
    stem = relative.with_suffix("")
    return ", ".join(f"{stem}{suffix}.*" for suffix in MASK_SUFFIXES)


def is_done(task: Task) -> bool:
    """The output (a local file) exists, is at least as new as its input and decodes completely (outputs are
    written atomically, so a damaged one was not written by a batch; it is made again)."""
    from retouch.io import load_image

    assert isinstance(task.target, Path), "a URL's output is checked where it is written (ray_engine)"
    try:
        made = task.target.stat().st_mtime_ns
        if made < task.source.path.stat().st_mtime_ns:
            return False
        load_image(task.target, max_pixels=0)
    except (OSError, RetouchError):
        return False
    return True


def recorded_options(tool: BatchTool, options: dict[str, Any]) -> dict[str, Any]:
    """What the outputs depend on: the parsed options less the per-photo ones, the device and --overwrite, as
    plain JSON."""
    kept = {k: v for k, v in options.items() if k not in (*tool.per_photo, "device", "overwrite")}
    return json.loads(json.dumps(kept, default=str, sort_keys=True))  # type: ignore[no-any-return]


def check_record(outdir: Location, tool: str, options: dict[str, Any], *, overwrite: bool) -> None:
    """Refuse to resume into a folder whose outputs were made with another tool or other options (their files
    would be taken as done); with ``overwrite`` the new options replace the record."""
    try:
        recorded = json.loads(read_bytes(join(outdir, RECORD)).decode("utf-8"))
    except (OSError, ValueError):
        return
    if recorded != {"tool": tool, "options": options} and not overwrite:
        raise InvalidInput(
            f"{outdir} holds the outputs of another batch ({_describe(recorded, tool, options)}); give another output "
            "folder, or --overwrite to make every output again with these options"
        )


def write_record(outdir: Location, tool: str, options: dict[str, Any]) -> None:
    data = json.dumps({"tool": tool, "options": options}, indent=1, sort_keys=True).encode()
    write_bytes(join(outdir, RECORD), data)


def _describe(recorded: Any, tool: str, options: dict[str, Any]) -> str:
    """How the recorded batch differs: 'cutout, not erase' or 'model=u2netp, not model=auto'."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("options"), dict):
        return "its record is unreadable"
    if recorded.get("tool") != tool:
        return f"made by {recorded.get('tool')}, not {tool}"
    before = recorded["options"]
    changed = [k for k in sorted(set(before) | set(options)) if before.get(k) != options.get(k)]
    return ", ".join(f"{k}={before.get(k)!r}, not {options.get(k)!r}" for k in changed[:3]) or "other options"
