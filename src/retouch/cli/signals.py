"""SIGINT (Ctrl+C) and SIGTERM: any command stops within a second, leaves no temporary file, prints one line and
exits with 130 or 143 (128 + the signal's number).

Python runs a signal handler only in the main thread, and only between bytecodes: a main thread inside one long
native call (a network layer, the patch engine, an encoder, an fsync on a slow disk) would notice the signal
only when that call returns, a minute later for one tile of some networks. So ``run_guarded`` runs the command
in a worker thread and keeps the main thread waiting, free to act on a signal at once:

1. it sets ``stopping``: the tool's progress callback raises ``Interrupted`` at its next report or liveness
   check, which unwinds the work normally (finally blocks, the progress bar taken off the terminal);
2. it waits at most GRACE_S for that; a thread inside one long native call cannot be stopped from Python;
3. it removes the temporary file of any atomic write under way, after which no write can move its file into
   place (``retouch.io.atomic.stop_writing``), prints its one line and ends the process with ``os._exit``,
   which ends the worker wherever it is: nothing the worker holds needs saving once the writes are stopped.

A signal that the command inherited as ignored (``nohup``, a background job's SIGINT) stays ignored.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

GRACE_S = 0.5  # how long the work may take to unwind after a signal before the process ends anyway
POLL_S = 0.05  # how often the waiting main thread looks for a signal (a handler only records it)
HANDLED = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}

stopping = threading.Event()  # set on a signal: the work should stop at its next progress report


class Interrupted(BaseException):
    """Raised inside the work, at its next progress report, once a signal asked it to stop. A BaseException, so
    that no ``except Exception`` on the way turns it into an error message: the main thread says what happened."""


def raise_if_stopping() -> None:
    if stopping.is_set():
        raise Interrupted


def run_guarded(command: Callable[[], int]) -> int:
    """``command()`` in a worker thread, with SIGINT and SIGTERM handled as this module describes; returns its
    exit code, or raises what it raised. Call it from the main thread."""
    received: list[int] = []
    outcome: list[int] = []
    failure: list[BaseException] = []
    finished = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)  # nothing more here: the handler may run while the main thread holds a lock

    def work() -> None:
        try:
            outcome.append(command())
        except BaseException as error:  # handed to the main thread, which raises it
            failure.append(error)
        finally:
            finished.set()

    # The line goes to a copy of stderr taken now: a library call under way may have pointed descriptor 2
    # elsewhere for a moment (retouch.io.jpeg_blocks captures libjpeg's warnings that way).
    terminal = os.dup(2)
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}
    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, on_signal)
    try:
        worker = threading.Thread(target=work, name="retouch-command", daemon=True)
        worker.start()
        while not finished.wait(POLL_S):
            if received:
                _stop(received[0], finished, terminal)
        if received:  # the command ended on its own as the signal came: it was asked to stop all the same
            _stop(received[0], finished, terminal)
    finally:
        os.close(terminal)
        for signum, handler in previous.items():
            if handler is not signal.SIG_IGN:
                signal.signal(signum, handler)
    if failure:
        raise failure[0]
    return outcome[0]


def _stop(signum: int, finished: threading.Event, terminal: int) -> NoReturn:
    from retouch.io.atomic import stop_writing

    stopping.set()
    unwound = finished.wait(GRACE_S)
    written = stop_writing()
    if unwound:
        _flush()
    elif os.isatty(terminal):  # a progress bar may be on screen, its cursor hidden: clear its line, show it
        _write(terminal, "\r\x1b[2K\x1b[?25h")
    outcome = "nothing was written" if written == 0 else "the output had already been written"
    _write(terminal, f"retouch: {NAMES[signal.Signals(signum)]}; {outcome}\n")
    os._exit(128 + signum)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _write(descriptor: int, text: str) -> None:
    """Straight to the file descriptor: the worker may still hold sys.stderr's buffer."""
    try:
        os.write(descriptor, text.encode("utf-8", "replace"))
    except OSError:
        pass
