"""Atomic file writes: the target is either untouched or holds the complete new content, never a partial file."""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import suppress
from functools import cache
from pathlib import Path

from retouch.errors import InvalidInput, OutputExists


def output_exists(path: Path) -> OutputExists:
    return OutputExists(f"{path} already exists; use --overwrite (overwrite=True) to replace it")


def write_atomically(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    """Write `data` to a temporary file beside `path`, fsync it, then move it into place in one step.

    Without `overwrite` an existing file is never replaced (OutputExists), even one created meanwhile.
    On any failure the temporary file is removed and an existing target keeps its content.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise output_exists(target)
    try:
        _write(target, data, overwrite)
    except FileExistsError:
        raise output_exists(target) from None
    except OSError as error:
        raise InvalidInput(f"cannot write {target}: {error.strerror or error}") from error
    return target


def _write(target: Path, data: bytes, overwrite: bool) -> None:
    directory = target.parent
    mode = _mode_for(target)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        if overwrite:
            os.replace(temporary, target)
        else:
            _move_into_free_name(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


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
