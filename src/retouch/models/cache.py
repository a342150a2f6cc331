"""Where weights live on disk: ``$RETOUCH_HOME/models/<name>/`` (default ``~/.cache/retouch``).

Besides the weight files a model folder may hold ``<file>.part`` (a download in progress), ``<file>.sha256``
(the digest recorded on first download of a file that has no published one), ``LICENSE-ACCEPTED`` (written when
the user pulled an opt-in model and accepted its license) and ``.lock`` (serialises downloads across processes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from retouch._version import __version__
from retouch.models.spec import ModelSpec

LICENSE_RECORD = "LICENSE-ACCEPTED"
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def retouch_home() -> Path:
    """``$RETOUCH_HOME``, or ``~/.cache/retouch``."""
    configured = os.environ.get("RETOUCH_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "retouch"


def models_dir() -> Path:
    return retouch_home() / "models"


def model_dir(name: str) -> Path:
    return models_dir() / name


def cached_file(name: str, filename: str) -> Path:
    return model_dir(name) / filename


def license_accepted(spec: ModelSpec) -> bool:
    """True when the user accepted this model's current license (a changed license must be accepted again)."""
    record = model_dir(spec.name) / LICENSE_RECORD
    try:
        fields = dict(line.split(": ", 1) for line in record.read_text(encoding="utf-8").splitlines() if ": " in line)
    except OSError:
        return False
    return fields.get("license") == spec.license


def record_license(spec: ModelSpec) -> Path:
    folder = model_dir(spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / LICENSE_RECORD
    when = datetime.now(UTC).isoformat(timespec="seconds")
    text = f"model: {spec.name}\nlicense: {spec.license}\naccepted: {when}\nretouch: {__version__}\n"
    if spec.license_url:
        text += f"license_url: {spec.license_url}\n"
    record.write_text(text, encoding="utf-8")
    return record


@contextmanager
def model_lock(name: str) -> Iterator[None]:
    """Exclusive access to one model's folder: across threads always, across processes where flock exists."""
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(name, threading.Lock())
    with lock:
        folder = model_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: threads are serialised, processes are not
            yield
            return
        with (folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
