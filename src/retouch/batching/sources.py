"""What a batch works on: the image files named by a folder (searched recursively), a glob pattern or a list file,
each with the relative path its output keeps."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from retouch.errors import InvalidInput
from retouch.io.formats import is_image_name

LIST_SUFFIXES = (".txt", ".lst", ".list")  # a list file: one image path per line ('#' starts a comment)
GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Source:
    """One input file and the path its output takes under the output folder (extension included)."""

    path: Path
    relative: PurePosixPath


def find_sources(spec: str | os.PathLike[str], *, exclude: Path | None = None) -> list[Source]:
    """The image files ``spec`` names, sorted by relative path: every file with an image extension under a folder
    (hidden files and folders left out), the matches of a glob pattern (``**`` recurses), or the lines of a list
    file. ``exclude``: a folder whose files are never inputs (the batch's output folder inside its input folder).
    Raises InvalidInput when ``spec`` names nothing that exists."""
    text = os.fspath(spec)
    path = Path(text)
    if path.is_dir():
        return _relative_to(path, _images_under(path, exclude))
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        return _from_list(path, exclude)
    if path.is_file():
        return _relative_to(path.parent, [path])
    if GLOB_CHARACTERS & set(text):
        return _from_glob(text, exclude)
    raise InvalidInput(f"{text} does not exist (give a folder, a glob such as 'photos/*.jpg' or a list file)")


def _images_under(folder: Path, exclude: Path | None) -> list[Path]:
    found = []
    for root, folders, files in os.walk(folder):
        here = Path(root)
        # pruned in place so that os.walk does not enter hidden folders or the output folder
        folders[:] = sorted(name for name in folders if not name.startswith(".") and not _same(here / name, exclude))
        found.extend(here / name for name in sorted(files) if not name.startswith(".") and is_image_name(name))
    return found


def _from_glob(pattern: str, exclude: Path | None) -> list[Source]:
    matches = [Path(p) for p in glob.glob(pattern, recursive=True)]
    files = [p for p in matches if p.is_file() and is_image_name(p.name) and not _inside(p, exclude)]
    if not matches:
        raise InvalidInput(f"no file matches {pattern}")
    base = Path(_literal_prefix(pattern))
    return _relative_to(base if base.is_dir() else base.parent, files)


def _from_list(list_file: Path, exclude: Path | None) -> list[Source]:
    """Paths one per line, relative ones read from the list file's folder; outputs keep the paths' layout below
    the deepest folder they share."""
    files = []
    for number, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        path = Path(entry) if Path(entry).is_absolute() else list_file.parent / entry
        if not _inside(path, exclude):
            files.append(path)
    if not files:
        raise InvalidInput(f"{list_file} lists no files")
    common = Path(os.path.commonpath([os.path.abspath(p.parent) for p in files]))
    return _relative_to(common, files)


def _relative_to(base: Path, files: list[Path]) -> list[Source]:
    root = os.path.abspath(base)
    sources = {
        PurePosixPath(Path(os.path.relpath(os.path.abspath(p), root)).as_posix()): p for p in files
    }
    return [Source(sources[key], key) for key in sorted(sources)]


def _literal_prefix(pattern: str) -> str:
    """The part of a glob pattern before its first wildcard, cut at a path separator: 'a/b*/c' -> 'a'."""
    cut = min((pattern.index(c) for c in GLOB_CHARACTERS if c in pattern), default=len(pattern))
    head = pattern[:cut]
    return head[: head.rfind(os.sep) + 1] or "." if os.sep in head else "."


def _same(path: Path, other: Path | None) -> bool:
    return other is not None and os.path.abspath(path) == os.path.abspath(other)


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
