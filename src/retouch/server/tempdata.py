"""The server's private working folder, and the removal of folders that killed servers left behind.

Each server keeps its documents (users' pixels) in one ``retouch-server-*`` folder, readable by its user only
(0700), removed when the server stops. A server killed outright (SIGKILL, a crash, a power cut) cannot remove
it, so every server start removes such leftovers: a folder is left only while a live server holds the exclusive
lock on its ``.lock`` file (the operating system releases the lock when the process dies, however it dies). Only
folders owned by this user are considered, and a folder without a lock file (one being created this instant, or
one from a Retouch version before the lock) only once it is older than ``UNLOCKED_GRACE_S``.

Where ``fcntl.flock`` does not exist (Windows), live and stale folders cannot be told apart: none is removed at
start.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from types import ModuleType

PREFIX = "retouch-server-"
LOCK_NAME = ".lock"
UNLOCKED_GRACE_S = 24 * 3600.0
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # a lock file that is a symlink is not opened (absent on Windows)


class PrivateFolder:
    """A new ``retouch-server-*`` folder (mode 0700) under ``parent`` (default: the system's temporary folder),
    locked as in use until ``remove``."""

    def __init__(self, parent: Path | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # mkdtemp makes it 0700
        self._lock = os.open(self.path / LOCK_NAME, os.O_CREAT | os.O_WRONLY | _NO_FOLLOW, 0o600)
        fcntl = _fcntl()
        if fcntl is not None:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(self._lock, f"{os.getpid()}\n".encode())

    def remove(self) -> None:
        """Delete the folder and everything in it, then release the lock (safe to call twice)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Delete the ``retouch-server-*`` folders under ``parent`` (default: the system's temporary folder) that no
    live server holds; returns those removed."""
    fcntl = _fcntl()
    if fcntl is None:
        return []
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    try:
        candidates = sorted(root.glob(PREFIX + "*"))
    except OSError:  # no such folder, or not readable
        return []
    return [folder for folder in candidates if _remove_if_stale(folder, fcntl)]


def _remove_if_stale(folder: Path, fcntl: ModuleType) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():  # a symlink or someone else's: not ours
        return False
    try:
        lock = os.open(folder / LOCK_NAME, os.O_RDONLY | _NO_FOLLOW)
    except FileNotFoundError:
        if time.time() - info.st_mtime < UNLOCKED_GRACE_S:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    except OSError:
        return False
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live server's folder
            return False
        shutil.rmtree(folder, ignore_errors=True)  # removed while holding the lock: no other sweep races it
        return True
    finally:
        os.close(lock)


def _fcntl() -> ModuleType | None:
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    return fcntl
