"""The document store: lossless states on disk, rectangle-sized history steps, bounds and expiry."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.server.errors import ApiError
from retouch.server.store import DocumentStore
from retouch.types import Metadata, Picture, Rect


def picture(height: int = 40, width: int = 50, value: int = 100, alpha: bool = False) -> Picture:
    rng = np.random.default_rng(value)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    mask = np.full((height, width), 255, np.uint8) if alpha else None
    return Picture(pixels, mask, Metadata(source_format="PNG"))


@pytest.fixture
def store(tmp_path):
    store = DocumentStore(root=tmp_path, max_documents=3, max_history=3, ttl_s=3600)
    yield store
    store.close()


def test_a_step_stores_only_the_changed_rectangle(store) -> None:
    original = picture()
    doc = store.create(original, "a.png")
    edited = original.pixels.copy()
    edited[10:14, 20:25] = 0
    region = store.commit(doc, original.replace(pixels=edited).with_operation("paint"), "paint", revision=0)
    assert region == Rect(20, 10, 5, 4)
    with np.load(doc.steps[0].path) as step:
        assert step["before_pixels"].shape == (4, 5, 3)
    current, revision = store.picture(doc)
    np.testing.assert_array_equal(current.pixels, edited)
    assert revision == 1 and current.metadata.operations == ("paint",)
    assert store.undo(doc) == region
    np.testing.assert_array_equal(store.picture(doc)[0].pixels, original.pixels)
    assert store.picture(doc)[0].metadata.operations == ()


def test_a_change_of_size_and_layout_is_undoable(store) -> None:
    original = picture()
    doc = store.create(original, "a.png")
    bigger = picture(80, 100, value=7, alpha=True)
    assert store.commit(doc, bigger, "upscale", revision=0) == Rect(0, 0, 100, 80)
    assert (doc.width, doc.height, doc.has_alpha) == (100, 80, True)
    assert store.undo(doc) == Rect(0, 0, 50, 40)
    restored = store.picture(doc)[0]
    assert restored.alpha is None and not doc.has_alpha
    np.testing.assert_array_equal(restored.pixels, original.pixels)
    store.redo(doc)
    again = store.picture(doc)[0]
    np.testing.assert_array_equal(again.pixels, bigger.pixels)
    np.testing.assert_array_equal(again.alpha, bigger.alpha)


def test_the_origin_follows_crops_through_enlargements_and_history(store) -> None:
    """The part of the picture as opened that each state shows: a crop narrows it (a crop of an enlarged crop in
    the opened picture's pixels), an enlargement keeps it, undo and redo bring back each state's own."""
    doc = store.create(picture(40, 50), "a.png")
    assert doc.info()["origin"] == [0, 0, 50, 40]
    store.commit(doc, picture(40, 50).cropped(10, 4, 30, 20), "crop", revision=0)
    assert doc.info()["origin"] == [10, 4, 30, 20]
    enlarged = picture(40, 60, value=3).with_operation("crop x=10 y=4 width=30 height=20").with_operation("upscale")
    store.commit(doc, enlarged, "upscale", revision=1)  # 2x, no new crop: the same part of the original
    assert doc.info()["origin"] == [10, 4, 30, 20]
    recropped = picture(40, 60, value=4).with_operation("crop x=10 y=4 width=30 height=20").with_operation("upscale")
    store.commit(doc, recropped.cropped(6, 10, 30, 20), "crop", revision=2)  # in the enlarged picture's pixels
    assert doc.info()["origin"] == [13, 9, 15, 10]
    store.undo(doc)
    assert doc.info()["origin"] == [10, 4, 30, 20]
    store.undo(doc)
    store.undo(doc)
    assert doc.info()["origin"] == [0, 0, 50, 40]
    store.redo(doc)
    assert doc.info()["origin"] == [10, 4, 30, 20]


def test_a_result_computed_from_a_stale_state_is_refused(store) -> None:
    doc = store.create(picture(), "a.png")
    store.commit(doc, picture(value=1), "one", revision=0)
    store.undo(doc)  # revision 2 now
    with pytest.raises(ApiError) as conflict:
        store.commit(doc, picture(value=2), "two", revision=1)
    assert conflict.value.status == 409


def test_history_keeps_the_last_steps_and_deletes_the_rest(store) -> None:
    doc = store.create(picture(), "a.png")
    for i in range(5):
        store.commit(doc, picture(value=i + 1), f"edit {i}", revision=doc.revision)
    assert len(doc.steps) == 3 and doc.position == 3
    assert len(list(doc.dir.glob("step-*.npz"))) == 3
    for _ in range(3):
        store.undo(doc)
    np.testing.assert_array_equal(store.picture(doc)[0].pixels, picture(value=2).pixels)  # after edit 1
    with pytest.raises(ApiError):
        store.undo(doc)
    store.commit(doc, picture(value=9), "branch", revision=doc.revision)  # ends the redo branch
    assert len(doc.steps) == 1 and len(list(doc.dir.glob("step-*.npz"))) == 1


def test_documents_expire_and_are_evicted(store, monkeypatch) -> None:
    docs = [store.create(picture(), f"{i}.png") for i in range(3)]
    store.get(docs[0].id)  # used: now the most recent
    fourth = store.create(picture(), "3.png")
    with pytest.raises(ApiError):
        store.get(docs[1].id)  # the least recently used went
    assert not docs[1].dir.exists()
    assert store.get(docs[0].id) and store.get(fourth.id)

    import retouch.server.store as module

    later = module.time.time() + 7200
    monkeypatch.setattr(module.time, "time", lambda: later)
    with pytest.raises(ApiError) as gone:
        store.get(fourth.id)
    assert gone.value.status == 404 and len(store) == 0


def test_files_appear_with_the_first_document_and_close_removes_them(tmp_path) -> None:
    store = DocumentStore(root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    doc = store.create(picture(), "a.png")
    assert doc.dir.exists() and doc.dir.parent.parent == tmp_path
    store.close()
    assert list(tmp_path.iterdir()) == []
