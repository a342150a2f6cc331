"""Atomic file writes: the target is either untouched or holds the complete new content, never a partial file.

Every write under way is known here (its temporary file), so a process that must end at once (the command line
on SIGINT or SIGTERM, see ``retouch.cli.signals``) can call ``stop_writing``: it removes those temporary files
and no write moves its file into place afterwards. Creating a temporary file and moving it into place both
happen under one lock, so a stop comes either before a write's rename (nothing written) or after it (complete).
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from contextlib import suppress
from functools import cache
from pathlib import Path

from retouch.errors import InvalidInput, OutputExists, RetouchError

_writes = threading.Lock()  # guards the three below, and every creation and rename of a temporary file
_pending: set[str] = set()  # temporary files of the writes under way
_completed = 0  # writes moved into place by this process
_stopped = False  # set by stop_writing: no temporary file is created or moved into place any more


class WritingStopped(RetouchError):
    """The process is ending on a signal: this write was abandoned (its temporary file removed)."""


def output_exists(path: Path) -> RetouchError:
    """The error for a write to ``path`` that is taken: OutputExists, or InvalidInput when ``path`` is a folder,
    which no overwrite can replace."""
    if path.is_dir():
        return InvalidInput(f"{path} is a folder; give a file name for the output, e.g. {path / 'result.png'}")
    return OutputExists(f"{path} already exists; use --overwrite (overwrite=True) to replace it")


def check_output(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Raise now, before any work, what writing ``path`` would raise at the end: a folder as the target, a
    missing or unwritable folder (tried by creating and removing a temporary file there, as the write does), or
    an existing file without ``overwrite``. Returns the path."""
    target = Path(path)
    if target.is_dir() or (not overwrite and target.exists()):
        raise output_exists(target)
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidInput(f"cannot write {target}: the folder {folder} {what}")
    try:
        descriptor, temporary = _create_temporary(target)
    except OSError as error:
        raise InvalidInput(f"cannot write {target}: {error.strerror or error}") from error
    os.close(descriptor)
    _discard(temporary)
    return target


def write_atomically(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    """Write `data` to a temporary file beside `path`, fsync it, then move it into place in one step.

    Without `overwrite` an existing file is never replaced (OutputExists), even one created meanwhile.
    On any failure the temporary file is removed and an existing target keeps its content.
    """
    target = Path(path)
    if target.is_dir() or (not overwrite and target.exists()):
        raise output_exists(target)
    try:
        _write(target, data, overwrite)
    except FileExistsError:
        raise output_exists(target) from None
    except OSError as error:
        raise InvalidInput(f"cannot write {target}: {error.strerror or error}") from error
    return target


def stop_writing() -> int:
    """For a process about to end on a signal: remove the temporary file of every write under way; any write not
    yet moved into place fails instead (WritingStopped). Returns how many writes this process completed."""
    global _stopped
    with _writes:
        _stopped = True
        for temporary in _pending:
            with suppress(OSError):
                os.unlink(temporary)
        _pending.clear()
        return _completed


def _write(target: Path, data: bytes, overwrite: bool) -> None:
    global _completed
    directory = target.parent
    mode = _mode_for(target)
    descriptor, temporary = _create_temporary(target)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        with _writes:
            _check_not_stopped()
            if overwrite:
                os.replace(temporary, target)
            else:
                _move_into_free_name(temporary, target)
            _pending.discard(temporary)
            _completed += 1
    except BaseException as error:
        _discard(temporary)
        if _stopped and not isinstance(error, WritingStopped):  # its file was removed under it: say why
            raise WritingStopped("the process is stopping: nothing more is written") from error
        raise
    _sync_directory(directory)


def _create_temporary(target: Path) -> tuple[int, str]:
    """An empty temporary file beside ``target`` (descriptor, path), known to ``stop_writing`` until it is moved
    or discarded."""
    with _writes:
        _check_not_stopped()
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        _pending.add(temporary)
    return descriptor, temporary


def _discard(temporary: str) -> None:
    with _writes:
        _pending.discard(temporary)
        with suppress(FileNotFoundError):
            os.unlink(temporary)


def _check_not_stopped() -> None:
    if _stopped:
        raise WritingStopped("the process is stopping: nothing more is written")


def _move_into_free_name(temporary: str, target: Path) -> None:
    """Rename without replacing: a hard link fails if the name was taken meanwhile; rename where links are
    not supported (some network and FAT file systems)."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError:
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.replace(temporary, target)
        return
    os.unlink(temporary)


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or what a new file gets under the umask (mkstemp makes 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@cache
def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened or synced."""
    if os.name != "posix":
        return
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
