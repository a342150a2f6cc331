"""Where a batch's outputs go: a local folder (a Path), or, for the Ray engine, an fsspec URL (a str such as
``s3://bucket/shoot`` or ``memory://out``) whose files the workers write through fsspec.

The batch's own small files (its record, failures.json) are read and written here for both kinds; a photo's
output is written by ``retouch.batching.ray_engine`` (URLs) or by the tool's own atomic save (local folders).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from retouch.errors import InvalidInput
from retouch.io.atomic import write_atomically

Location = Path | str  # a local path, or a URL (str) naming a file or folder in an fsspec file system

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
# fsspec protocols of object stores: an object is written by one request (or one completed multipart upload)
WHOLE_UPLOADS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})


def is_url(value: str | os.PathLike[str]) -> bool:
    return isinstance(value, str) and _URL.match(value) is not None


def output_folder(value: str | os.PathLike[str]) -> Location:
    """A URL stays a str (without a trailing slash); anything else is a local Path."""
    return str(value).rstrip("/") if is_url(value) else Path(value)


def join(folder: Location, relative: PurePosixPath | str) -> Location:
    if isinstance(folder, Path):
        return folder.joinpath(*PurePosixPath(relative).parts)
    return f"{folder}/{PurePosixPath(relative).as_posix()}"


def file_system(url: str) -> tuple[Any, str]:
    """(the fsspec file system, the path in it) of ``url``; fsspec is imported only for URLs. InvalidInput for a
    protocol fsspec does not know or whose package is not installed (s3:// needs s3fs, gs:// gcsfs)."""
    try:
        import fsspec

        return fsspec.url_to_fs(url)  # type: ignore[no-any-return]
    except (ImportError, ValueError) as error:
        raise InvalidInput(f"cannot write to {url}: {' '.join(str(error).split())}") from error


def is_file(location: Location) -> bool:
    if isinstance(location, Path):
        return location.is_file()
    fs, path = file_system(location)
    try:
        return bool(fs.isfile(path))
    except OSError as error:  # no access (credentials), no such bucket: said before any work
        raise InvalidInput(f"cannot reach {location}: {' '.join(str(error).split())}") from error


def exists(location: Location) -> bool:
    if isinstance(location, Path):
        return location.exists()
    fs, path = file_system(location)
    return bool(fs.exists(path))


def make_folder(folder: Location) -> None:
    if isinstance(folder, Path):
        folder.mkdir(parents=True, exist_ok=True)
    else:
        fs, path = file_system(folder)
        try:
            fs.makedirs(path, exist_ok=True)  # object stores have no folders: a no-op there
        except OSError as error:
            raise InvalidInput(f"cannot write to {folder}: {' '.join(str(error).split())}") from error


def read_bytes(location: Location) -> bytes:
    """The file's content; OSError (FileNotFoundError where it is missing) when it cannot be read."""
    if isinstance(location, Path):
        return location.read_bytes()
    fs, path = file_system(location)
    return bytes(fs.cat_file(path))


def write_bytes(location: Location, data: bytes) -> None:
    """Replace the file with ``data`` in one step: an atomic rename locally, ``store`` for a URL."""
    if isinstance(location, Path):
        write_atomically(location, data, overwrite=True)
        return
    try:
        store(location, lambda fs, path: fs.pipe_file(path, data))
    except OSError as error:
        raise InvalidInput(f"cannot write {location}: {' '.join(str(error).split())}") from error


def upload(local: Path, url: str) -> None:
    """Copy the local file ``local`` to ``url`` in one step (``store``)."""
    store(url, lambda fs, path: fs.put_file(str(local), path))


def store(url: str, write: Callable[[Any, str], None]) -> None:
    """Run ``write(fs, path)`` so that readers of ``url`` see the old file or the complete new one: straight to
    ``url`` on object stores, whose uploads appear whole or not at all (a multipart upload too, at its
    completion), else to a hidden temporary name beside it that is then moved into place."""
    fs, path = file_system(url)
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    if protocols & WHOLE_UPLOADS:
        write(fs, path)
        return
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        write(fs, temporary)
        fs.mv(temporary, path)
    finally:
        if fs.exists(temporary):
            fs.rm_file(temporary)


def remove(location: Location) -> None:
    """Remove the file if it is there."""
    if isinstance(location, Path):
        location.unlink(missing_ok=True)
        return
    fs, path = file_system(location)
    try:
        if fs.exists(path):
            fs.rm_file(path)
    except OSError as error:
        raise InvalidInput(f"cannot remove {location}: {' '.join(str(error).split())}") from error
