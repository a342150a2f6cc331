"""A private Retouch home for tests whose commands record or read timings."""

from __future__ import annotations

from pathlib import Path


def private_home(folder: Path) -> Path:
    """A Retouch home in ``folder`` that sees the installed models (setup's u2netp) but keeps its own timings.json:
    every command records how long its tool took there, and those figures decide the estimate line ("detext: about
    6 s on this machine") that a command prints, so tests that record them, or read a command's exact output, keep
    them apart from the user's home and from each other."""
    from retouch.models.cache import models_dir

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "models").symlink_to(models_dir(), target_is_directory=True)
    return folder
