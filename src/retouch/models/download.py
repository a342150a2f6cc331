"""HTTP downloads that survive interruptions, and extraction of one member from a zip archive.

Bytes go to a ``.part`` file that the caller names; an interrupted transfer is resumed with an HTTP Range request,
and a server that ignores Range (answers 200 instead of 206) makes the download restart from zero. Checksums and
the final atomic rename are the caller's business. Standard library only (urllib).
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from retouch._version import __version__
from retouch.errors import DownloadError
from retouch.types import ProgressCallback

CHUNK = 1 << 20
TIMEOUT_S = 60.0
ATTEMPTS = 4  # tries per download; each one resumes where the previous stopped
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _Retry(Exception):
    """A transient failure: the next attempt resumes from what the .part file holds."""


def download(url: str, part: Path, *, size: int | None, progress: ProgressCallback, stage: str) -> None:
    """Fetch ``url`` into ``part``, resuming its current content. On return ``part`` holds the whole body.

    ``size`` (bytes, when known) lets a complete ``.part`` be recognised without a request. Raises DownloadError
    when the server refuses (HTTP error) or when every attempt was cut short; the partial file is kept so that a
    later call resumes it.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    reason = ""
    for attempt in range(ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:  # not a prefix of the file we want
            part.unlink()
            have = 0
        if size is not None and have == size:
            return
        try:
            _fetch(url, part, have, size, progress, stage)
            return
        except _Retry as error:
            reason = str(error)
            grew = part.exists() and part.stat().st_size > have
            if not grew and attempt + 1 < ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))  # nothing arrived: back off a little before trying again
    raise DownloadError(f"download failed after {ATTEMPTS} attempts: {reason}")


def _fetch(url: str, part: Path, have: int, size: int | None, progress: ProgressCallback, stage: str) -> None:
    headers = {"User-Agent": f"retouch/{__version__}", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # our partial file does not fit the server's file: start over
            part.unlink()
            raise _Retry(f"HTTP 416 for a resumed download of {url}") from None
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise _Retry(f"{url}: {getattr(error, 'reason', error)}") from None

    with response:
        total = size
        if response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                part.unlink(missing_ok=True)
                raise _Retry(f"{url}: the server resumed at an unexpected offset")
            if total is None and match.group(3) != "*":
                total = int(match.group(3))
            mode, done = "ab", have
        else:  # 200: the whole body, whether or not we asked for a range
            length = response.headers.get("Content-Length")
            if total is None and length is not None:
                total = int(length)
            mode, done = "wb", 0
        progress(stage, done, total or 0)
        with part.open(mode) as out:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as error:
                    raise _Retry(f"{url}: connection lost after {done} bytes ({error})") from None
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as error:  # disk full, permissions: retrying will not help
                    raise DownloadError(f"cannot write {part}: {error}") from None
                done += len(chunk)
                progress(stage, done, total or 0)
    if total is not None and done < total:
        raise _Retry(f"{url}: connection closed after {done} of {total} bytes")


def extract_member(archive: Path, member: str, dest: Path, *, progress: ProgressCallback, stage: str) -> None:
    """Copy one member of a zip archive to ``dest`` (streamed, with progress)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise DownloadError(f"{archive.name} does not contain {member}") from None
            copy_member(zf, info, dest, progress=progress, stage=stage)
    except zipfile.BadZipFile as error:
        raise DownloadError(f"{archive.name} is not a valid zip archive ({error})") from None


def copy_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, *, progress: ProgressCallback, stage: str
) -> None:
    """Stream the member ``info`` of the open archive ``zf`` into ``dest``, reporting the bytes written."""
    done = 0
    progress(stage, 0, info.file_size)
    with zf.open(info) as src, dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
            done += len(chunk)
            progress(stage, done, info.file_size)
