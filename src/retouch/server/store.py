"""Documents: an uploaded image being edited, kept losslessly on disk with its history for undo and redo.

Each document is a directory named by its random id, holding the current pixels (and alpha) as ``.npy`` files,
the uploaded file (the parent ingredient of a download's Content Credentials; a JPEG's also gives downloads its
untouched blocks) and one ``.npz`` file per history step. A step stores only the rectangle that changed, before
and after, so an erase on a 12-megapixel photo costs the size of the stroke, not of the photo; a step that
changes the image's size or layout stores both whole states. The current state is updated in place through a
memory map.

Bounds: at most ``max_documents`` (the least recently used is dropped), each dropped after ``ttl_s`` unused,
each keeping its last ``max_history`` steps. Everything lives in a private folder (``tempdata.PrivateFolder``:
mode 0700, locked while in use) removed by ``close``.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from retouch.server.errors import ApiError
from retouch.server.ids import is_valid_id, new_id
from retouch.server.tempdata import PrivateFolder
from retouch.types import Metadata, Picture, Rect, crop_box


Origin = tuple[float, float, float, float]  # x, y, width, height in the pixels of the picture as opened


@dataclass(frozen=True)
class Step:
    """One edit: the rectangle it changed (None: the whole state, whose size or layout changed), and the part of
    the opened picture the state shows before and after it (``Document.origin``)."""

    label: str
    region: Rect | None
    path: Path
    before: Metadata
    after: Metadata
    before_origin: Origin
    after_origin: Origin


class Document:
    """Bookkeeping of one document; its arrays live on disk. Guarded by ``lock``."""

    def __init__(self, doc_id: str, directory: Path, filename: str, picture: Picture) -> None:
        self.id = doc_id
        self.dir = directory
        self.filename = filename
        self.metadata = picture.metadata
        self.created = self.touched = time.time()
        self.steps: list[Step] = []
        self.position = 0  # steps[:position] are applied
        self.revision = 0  # bumped by every change, so a job can tell that its input went stale
        self.alive = True
        self.lock = threading.RLock()
        self._layout(picture.pixels, picture.alpha)
        # The rectangle of the picture as opened that the current state shows: all of it, until a crop (the
        # editor draws the "before" of its comparison from this rectangle; an enlargement keeps it).
        self.origin: Origin = (0.0, 0.0, float(self.width), float(self.height))

    def _layout(self, pixels: np.ndarray, alpha: np.ndarray | None) -> None:
        self.height, self.width, self.channels = (int(v) for v in pixels.shape)
        self.bit_depth = 8 if pixels.dtype == np.uint8 else 16
        self.has_alpha = alpha is not None

    @property
    def pixels_path(self) -> Path:
        return self.dir / "pixels.npy"

    @property
    def alpha_path(self) -> Path:
        return self.dir / "alpha.npy"

    @property
    def source_jpeg_path(self) -> Path:
        """The uploaded file, when it was a JPEG."""
        return self.dir / "source.jpg"

    @property
    def upload_path(self) -> Path:
        """The uploaded file: ``source_jpeg_path`` for a JPEG, else this."""
        return self.dir / "upload"

    def info(self) -> dict[str, Any]:
        meta = self.metadata
        return {
            "id": self.id,
            "filename": self.filename,
            "format": meta.source_format,
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "bit_depth": self.bit_depth,
            "has_alpha": self.has_alpha,
            "has_icc_profile": meta.icc_profile is not None,
            "has_exif": meta.exif is not None,
            "version": self.position,
            "history": len(self.steps),
            "can_undo": self.position > 0,
            "can_redo": self.position < len(self.steps),
            "operations": list(meta.operations),
            "origin": [round(v, 3) for v in self.origin],
        }


class DocumentStore:
    def __init__(
        self, *, root: Path | None = None, max_documents: int = 16, max_history: int = 50, ttl_s: float = 21600.0
    ) -> None:
        self._parent = root
        self._folder: PrivateFolder | None = None  # made on the first upload: an app that never serves leaves nothing
        self.max_documents = max_documents
        self.max_history = max_history
        self.ttl_s = ttl_s
        self._docs: dict[str, Document] = {}
        self._lock = threading.Lock()
        self._step_counter = 0

    @property
    def root(self) -> Path:
        with self._lock:
            if self._folder is None:
                self._folder = PrivateFolder(self._parent)
            return self._folder.path

    # --- documents ------------------------------------------------------------------------------------------------

    def create(self, picture: Picture, filename: str, upload: bytes | None = None) -> Document:
        """A new document of ``picture``, decoded from the file ``upload`` when given (kept on disk)."""
        doc_id = new_id()
        directory = self.root / doc_id
        directory.mkdir()
        doc = Document(doc_id, directory, filename, picture)
        _save_state(doc, picture.pixels, picture.alpha)
        if picture.source_jpeg is not None:  # downloads as JPEG keep its untouched blocks (retouch.io.jpeg_lossless)
            doc.source_jpeg_path.write_bytes(picture.source_jpeg)
        elif upload is not None:
            doc.upload_path.write_bytes(upload)
        with self._lock:
            self._sweep()
            while len(self._docs) >= self.max_documents:
                oldest = min(self._docs.values(), key=lambda d: d.touched)
                self._drop(oldest)
            self._docs[doc_id] = doc
        return doc

    def get(self, doc_id: str) -> Document:
        with self._lock:
            self._sweep()
            doc = self._docs.get(doc_id) if is_valid_id(doc_id) else None
        if doc is None:
            raise _unknown(doc_id)
        doc.touched = time.time()
        return doc

    def delete(self, doc_id: str) -> None:
        doc = self.get(doc_id)
        with self._lock:
            self._drop(doc)

    def close(self) -> None:
        with self._lock:
            for doc in list(self._docs.values()):
                self._drop(doc)
            if self._folder is not None:
                self._folder.remove()

    def __len__(self) -> int:
        return len(self._docs)

    # --- pixels ---------------------------------------------------------------------------------------------------

    def picture(self, doc: Document) -> tuple[Picture, int]:
        """An in-memory copy of the current state and the revision it was read at."""
        with doc.lock:
            _require_alive(doc)
            pixels = np.load(doc.pixels_path)
            alpha = np.load(doc.alpha_path) if doc.has_alpha else None
            source = doc.source_jpeg_path.read_bytes() if doc.source_jpeg_path.exists() else None
            return Picture(pixels, alpha, doc.metadata, source_jpeg=source), doc.revision

    @contextmanager
    def upload(self, doc: Document) -> Iterator[BinaryIO | None]:
        """The uploaded file, open for reading (None when it was not kept); opened while the document is alive,
        so it stays readable if the document is deleted meanwhile."""
        with doc.lock:
            _require_alive(doc)
            path = next((p for p in (doc.source_jpeg_path, doc.upload_path) if p.exists()), None)
            file = open(path, "rb") if path is not None else None  # noqa: SIM115 (closed below)
        try:
            yield file
        finally:
            if file is not None:
                file.close()

    def region(self, doc: Document, region: Rect) -> tuple[np.ndarray, np.ndarray | None]:
        """A copy of one rectangle of the current pixels (and alpha), read without loading the whole image."""
        with doc.lock:
            _require_alive(doc)
            pixels = np.array(np.load(doc.pixels_path, mmap_mode="r")[region.slices])
            alpha = np.array(np.load(doc.alpha_path, mmap_mode="r")[region.slices]) if doc.has_alpha else None
            return pixels, alpha

    # --- history --------------------------------------------------------------------------------------------------

    def commit(self, doc: Document, picture: Picture, label: str, revision: int) -> Rect:
        """Make ``picture`` the new current state, as one undoable step; returns the rectangle that changed.

        ``revision`` is the one the picture was computed from: if the document changed since (an undo while the
        job ran), the result is refused rather than silently dropping that change.
        """
        with doc.lock:
            _require_alive(doc)
            if doc.revision != revision:
                raise ApiError(
                    409,
                    "conflict",
                    "the document changed while the tool ran (undo, redo or another edit); run it again",
                )
            path = self._step_path(doc)
            if _same_layout(doc, picture):
                current = np.load(doc.pixels_path, mmap_mode="r+")
                current_alpha = np.load(doc.alpha_path, mmap_mode="r+") if doc.has_alpha else None
                region = _changed_region(current, picture.pixels, current_alpha, picture.alpha)
                sl = region.slices
                arrays = {"before_pixels": current[sl], "after_pixels": picture.pixels[sl]}
                if current_alpha is not None and picture.alpha is not None:
                    arrays |= {"before_alpha": current_alpha[sl], "after_alpha": picture.alpha[sl]}
                np.savez(path, **arrays)
                _write_region(current, current_alpha, region, picture.pixels[sl], _slice(picture.alpha, sl))
                step = Step(label, region, path, doc.metadata, picture.metadata, doc.origin, doc.origin)
            else:
                before_pixels = np.load(doc.pixels_path)
                before_alpha = np.load(doc.alpha_path) if doc.has_alpha else None
                whole = _whole("before", before_pixels, before_alpha) | _whole("after", picture.pixels, picture.alpha)
                np.savez(path, **whole)
                origin = _origin_after(doc, picture)
                _save_state(doc, picture.pixels, picture.alpha)
                step = Step(label, None, path, doc.metadata, picture.metadata, doc.origin, origin)
            for dropped in doc.steps[doc.position :]:  # a new edit ends the redo branch
                dropped.path.unlink(missing_ok=True)
            doc.steps[doc.position :] = [step]
            doc.position += 1
            while len(doc.steps) > self.max_history:
                doc.steps.pop(0).path.unlink(missing_ok=True)
                doc.position -= 1
            doc.metadata = picture.metadata
            doc.origin = step.after_origin
            doc.revision += 1
            return step.region or Rect(0, 0, doc.width, doc.height)

    def undo(self, doc: Document) -> Rect:
        with doc.lock:
            _require_alive(doc)
            if doc.position == 0:
                raise ApiError(409, "nothing_to_undo", "there is nothing to undo")
            step = doc.steps[doc.position - 1]
            region = _apply(doc, step, "before")
            doc.position -= 1
            doc.metadata = step.before
            doc.origin = step.before_origin
            doc.revision += 1
            return region

    def redo(self, doc: Document) -> Rect:
        with doc.lock:
            _require_alive(doc)
            if doc.position == len(doc.steps):
                raise ApiError(409, "nothing_to_redo", "there is nothing to redo")
            step = doc.steps[doc.position]
            region = _apply(doc, step, "after")
            doc.position += 1
            doc.metadata = step.after
            doc.origin = step.after_origin
            doc.revision += 1
            return region

    # --- internals ------------------------------------------------------------------------------------------------

    def _step_path(self, doc: Document) -> Path:
        with self._lock:
            self._step_counter += 1
            return doc.dir / f"step-{self._step_counter}.npz"

    def _sweep(self) -> None:
        """Drop documents unused for longer than the time to live (caller holds the store lock)."""
        limit = time.time() - self.ttl_s
        for doc in [d for d in self._docs.values() if d.touched < limit]:
            self._drop(doc)

    def _drop(self, doc: Document) -> None:
        """Forget a document and delete its files (caller holds the store lock)."""
        self._docs.pop(doc.id, None)
        with doc.lock:
            doc.alive = False
            shutil.rmtree(doc.dir, ignore_errors=True)


def _unknown(doc_id: str) -> ApiError:
    shown = doc_id[:40]
    return ApiError(
        404, "document_not_found", f"no document with id '{shown}': it never existed or expired; upload the image again"
    )


def _require_alive(doc: Document) -> None:
    if not doc.alive:
        raise _unknown(doc.id)


def _origin_after(doc: Document, picture: Picture) -> Origin:
    """``doc.origin`` carried through the crops ``picture`` records beyond the current state's operations (a
    change of size without a crop, an enlargement, shows the same rectangle)."""
    x, y, w, h = doc.origin
    width, height = doc.width, doc.height
    for operation in picture.metadata.operations[len(doc.metadata.operations) :]:
        box = crop_box(operation)
        if box is not None:
            bx, by, bw, bh = box
            kx, ky = w / width, h / height
            x, y, w, h = x + bx * kx, y + by * ky, bw * kx, bh * ky
            width, height = bw, bh
    return x, y, w, h


def _same_layout(doc: Document, picture: Picture) -> bool:
    return (
        picture.pixels.shape == (doc.height, doc.width, doc.channels)
        and picture.bit_depth == doc.bit_depth
        and picture.has_alpha == doc.has_alpha
    )


def _save_state(doc: Document, pixels: np.ndarray, alpha: np.ndarray | None) -> None:
    np.save(doc.pixels_path, pixels)
    if alpha is not None:
        np.save(doc.alpha_path, alpha)
    else:
        doc.alpha_path.unlink(missing_ok=True)
    doc._layout(pixels, alpha)


def _whole(prefix: str, pixels: np.ndarray, alpha: np.ndarray | None) -> dict[str, Any]:
    arrays: dict[str, Any] = {f"{prefix}_pixels": pixels}
    if alpha is not None:
        arrays[f"{prefix}_alpha"] = alpha
    return arrays


def _slice(array: np.ndarray | None, sl: tuple[slice, slice]) -> np.ndarray | None:
    return None if array is None else array[sl]


def _changed_region(
    old: np.ndarray, new: np.ndarray, old_alpha: np.ndarray | None, new_alpha: np.ndarray | None
) -> Rect:
    """The bounding rectangle of the pixels that differ (empty, at 0,0, when none does).

    Rows first, each compared as one flat run of samples (numpy reduces a long contiguous axis quickly, a 3-sample
    one slowly: this took a third of a small erase's job on a 12 MP photo), then columns within the changed rows.
    """
    height = old.shape[0]

    def differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a.reshape(height, -1) != b.reshape(height, -1)).any(axis=1)

    changed_rows = differs(old, new)
    if old_alpha is not None and new_alpha is not None:
        changed_rows |= differs(old_alpha, new_alpha)
    rows = np.flatnonzero(changed_rows)
    if rows.size == 0:
        return Rect(0, 0, 0, 0)
    band = slice(int(rows[0]), int(rows[-1]) + 1)
    columns = (old[band] != new[band]).reshape(band.stop - band.start, old.shape[1], -1).any(axis=(0, 2))
    if old_alpha is not None and new_alpha is not None:
        columns |= (old_alpha[band] != new_alpha[band]).any(axis=0)
    cols = np.flatnonzero(columns)
    return Rect(int(cols[0]), band.start, int(cols[-1] - cols[0] + 1), band.stop - band.start)


def _write_region(
    pixels: np.ndarray, alpha: np.ndarray | None, region: Rect, new: np.ndarray, new_alpha: np.ndarray | None
) -> None:
    pixels[region.slices] = new
    if alpha is not None and new_alpha is not None:
        alpha[region.slices] = new_alpha
    for mapped in (pixels, alpha):
        if isinstance(mapped, np.memmap):
            mapped.flush()


def _apply(doc: Document, step: Step, side: str) -> Rect:
    """Write one side ("before" or "after") of a step into the current state; returns what changed."""
    with np.load(step.path) as data:
        pixels = data[f"{side}_pixels"]
        alpha = data.get(f"{side}_alpha")
        if step.region is None:
            _save_state(doc, pixels, alpha)
            return Rect(0, 0, doc.width, doc.height)
        current = np.load(doc.pixels_path, mmap_mode="r+")
        current_alpha = np.load(doc.alpha_path, mmap_mode="r+") if doc.has_alpha else None
        _write_region(current, current_alpha, step.region, pixels, alpha)
        return step.region
