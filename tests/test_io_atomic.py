"""Atomic writes: a saved file is complete or absent; an existing file is replaced only when asked."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from imagegen import blocky_rgb

from retouch.errors import InvalidInput, OutputExists
from retouch.io import atomic, load_image, save_image
from retouch.types import Picture

PICTURE = Picture(blocky_rgb())


def _listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_existing_file_is_not_replaced_without_overwrite(tmp_path) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"the user's precious file")
    with pytest.raises(OutputExists, match="--overwrite"):
        save_image(PICTURE, target)
    assert target.read_bytes() == b"the user's precious file"
    save_image(PICTURE, target, overwrite=True)
    assert np.array_equal(load_image(target).pixels, PICTURE.pixels)
    assert _listing(tmp_path) == ["photo.png"]


def test_failure_while_encoding_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    from retouch.io import png

    target = tmp_path / "photo.png"
    target.write_bytes(b"old content")

    def fail_halfway(*args, **kwargs):
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(png, "_compressed_rows", fail_halfway)
    with pytest.raises(InvalidInput, match="cannot encode"):
        save_image(PICTURE, target, overwrite=True)
    with pytest.raises(InvalidInput):
        save_image(PICTURE, tmp_path / "new.png")
    assert target.read_bytes() == b"old content"
    assert _listing(tmp_path) == ["photo.png"]


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_failure_while_writing_removes_the_temporary_file(failing: str, tmp_path, monkeypatch) -> None:
    target = tmp_path / "photo.jpg"
    target.write_bytes(b"old content")
    written_parts: list[str] = []

    def no_space(*args, **kwargs):
        written_parts.extend(_listing(tmp_path))  # the temporary file exists at this point
        raise OSError(28, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, handle):
                self.handle = handle

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            def write(self, data):
                self.handle.write(data[: len(data) // 2])  # half the bytes reach the disk
                no_space()

        monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(atomic.os, failing, no_space)
    with pytest.raises(InvalidInput, match="No space left"):
        save_image(PICTURE, target, overwrite=True)
    assert any(name.endswith(".tmp") for name in written_parts)
    assert target.read_bytes() == b"old content"
    assert _listing(tmp_path) == ["photo.jpg"]


def test_a_file_created_meanwhile_is_not_replaced(tmp_path, monkeypatch) -> None:
    target = tmp_path / "race.png"
    real_fsync = os.fsync

    def another_program_saves_first(fd: int) -> None:
        real_fsync(fd)
        target.write_bytes(b"written by someone else")

    monkeypatch.setattr(atomic.os, "fsync", another_program_saves_first)
    with pytest.raises(OutputExists):
        save_image(PICTURE, target)
    assert target.read_bytes() == b"written by someone else"
    assert _listing(tmp_path) == ["race.png"]


def test_new_files_get_normal_permissions_and_replaced_files_keep_theirs(tmp_path) -> None:
    fresh = save_image(PICTURE, tmp_path / "fresh.png")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    os.chmod(fresh, 0o640)
    save_image(PICTURE, fresh, overwrite=True)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640


def test_missing_output_folder_is_invalid_input(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="cannot write"):
        save_image(PICTURE, tmp_path / "no" / "such" / "folder.png")
