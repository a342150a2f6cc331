"""Stopping long network runs quickly: a tool's progress callback may raise to stop the work (a cancelled job,
Ctrl+C), but one network call can take many seconds without returning to Python. Three ways in:

- ``Heartbeat`` remembers a tool's last report and repeats it on ``beat()``: a check that raises when the
  caller wants the work stopped, without reporting progress that was not made.
- ``terminable``: ONNX Runtime runs with ``RunOptions.terminate`` set from a watcher thread as soon as the check
  raises; the run stops at its next node and the check's exception is raised in the caller's thread.
- ``checked``: PyTorch modules run with the check called before every layer (a process-wide forward pre-hook that
  acts only in threads inside ``checked``, so a model shared between threads stops only the run that asked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from retouch.types import ProgressCallback

if TYPE_CHECKING:
    import onnxruntime

Check = Callable[[], None]  # returns, or raises to stop the work
CHECK_INTERVAL_S = 0.1  # how often a long native call checks: well inside the 2 s a cancel may take


class Heartbeat:
    """A progress callback that remembers its last report; ``beat`` repeats it (a stop check)."""

    def __init__(self, progress: ProgressCallback) -> None:
        self._progress = progress
        self._last: tuple[str, int, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total > 0:  # a warning (total 0) is said once, never repeated
            self._last = (stage, done, total)
        self._progress(stage, done, total)

    def beat(self) -> None:
        if self._last is not None:
            self._progress(*self._last)


class _Watch:
    """Calls ``check`` every CHECK_INTERVAL_S from a thread; on its first exception sets ``options.terminate``."""

    def __init__(self, check: Check, options: onnxruntime.RunOptions) -> None:
        self.options = options
        self.failure: BaseException | None = None
        self._check = check
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="retouch-terminate", daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_INTERVAL_S):
            try:
                self._check()
            except BaseException as error:  # whatever the caller raises to stop is re-raised in its thread
                self.failure = error
                self.options.terminate = True
                return

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def terminable(check: Check) -> Iterator[onnxruntime.RunOptions]:
    """RunOptions for ``session.run(..., run_options)`` calls that stop within CHECK_INTERVAL_S plus one node
    once ``check`` raises; that exception is then raised here (also when it came after the last run ended)."""
    import onnxruntime

    with _Watch(check, onnxruntime.RunOptions()) as watch:
        try:
            yield watch.options
        except Exception:
            if watch.failure is not None:  # ONNX Runtime's "terminate flag" error: the real reason is the check's
                raise watch.failure from None
            raise
    if watch.failure is not None:
        raise watch.failure


_local = threading.local()
_hooks_guard = threading.Lock()
_hook_users = 0
_hook_handle: Any = None


def _before_layer(module: Any, _inputs: Any) -> None:
    check: Check | None = getattr(_local, "check", None)
    if check is None:
        return
    if _local.on_layer is not None:
        _local.on_layer(module)
    now = time.monotonic()
    if now - _local.checked_at >= CHECK_INTERVAL_S:
        _local.checked_at = now
        check()


@contextmanager
def checked(check: Check, on_layer: Callable[[Any], None] | None = None) -> Iterator[None]:
    """Inside, every PyTorch module this thread runs calls ``check`` first (at most every CHECK_INTERVAL_S), and
    ``on_layer(module)`` when given (progress: the caller counts the modules it knows)."""
    global _hook_users, _hook_handle
    from torch.nn.modules.module import register_module_forward_pre_hook

    with _hooks_guard:
        if _hook_users == 0:
            _hook_handle = register_module_forward_pre_hook(_before_layer)
        _hook_users += 1
    outer = (getattr(_local, "check", None), getattr(_local, "on_layer", None), getattr(_local, "checked_at", 0.0))
    _local.check, _local.on_layer, _local.checked_at = check, on_layer, time.monotonic()
    try:
        yield
    finally:
        _local.check, _local.on_layer, _local.checked_at = outer
        with _hooks_guard:
            _hook_users -= 1
            if _hook_users == 0:
                _hook_handle.remove()
                _hook_handle = None
