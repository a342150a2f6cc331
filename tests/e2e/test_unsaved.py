"""Unsaved edits in headless Chromium: opening another image over edits asks first (Keep editing keeps the
document and its history, Discard opens the new image), leaving the page asks the browser's question, and neither
asks once the edits are downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e.photos import encode, scene
from e2e.test_editor import document_id, download, open_photo, paint, to_page, view_transform, wait_idle

pytestmark = pytest.mark.slow


def leaving_asks(page: Any) -> bool:
    """Whether the page's beforeunload handler asks the browser to confirm leaving."""
    return page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; }"
    )


def erase_once(page: Any, version: int) -> None:
    view = view_transform(page)
    paint(page, [to_page(view, 40, 40), to_page(view, 80, 40)])
    wait_idle(page, version)


def photo(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(encode(scene(160, 120).pixels, "PNG"))
    return path


def test_opening_another_image_over_edits_asks_first(page: Any, tmp_path: Path) -> None:
    first, second = photo(tmp_path, "first.png"), photo(tmp_path, "second.png")
    open_photo(page, first)
    assert not leaving_asks(page)
    erase_once(page, 1)
    assert leaving_asks(page)
    doc = document_id(page)

    dialog = page.locator("#unsaved-dialog")
    page.set_input_files("#file-input", str(second))
    dialog.wait_for(state="visible")
    assert "first.png" in dialog.inner_text()
    dialog.get_by_role("button", name="Keep editing").click()
    assert dialog.is_hidden()
    assert document_id(page) == doc and page.evaluate("document.body.dataset.version") == "1"
    assert page.locator("#undo").is_enabled() and "first.png" in page.locator("#status-file").inner_text()

    download(page, tmp_path)
    assert not leaving_asks(page)
    page.keyboard.press("Control+z")  # back to the file as opened: saved too
    wait_idle(page, 0)
    assert not leaving_asks(page)
    erase_once(page, 1)  # a different edit at the downloaded version's number: not saved
    assert leaving_asks(page)

    page.set_input_files("#file-input", str(second))
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Discard").click()
    page.wait_for_function("document.getElementById('status-file').textContent.startsWith('second.png')")
    wait_idle(page, 0)
    assert document_id(page) != doc and not leaving_asks(page)
    page.set_input_files("#file-input", str(first))  # nothing to lose: no question
    page.wait_for_function("document.getElementById('status-file').textContent.startsWith('first.png')")
    assert dialog.is_hidden()


def test_download_first_then_open(page: Any, tmp_path: Path) -> None:
    first, second = photo(tmp_path, "first.png"), photo(tmp_path, "second.png")
    open_photo(page, first)
    erase_once(page, 1)
    page.set_input_files("#file-input", str(second))
    page.locator("#unsaved-dialog").wait_for(state="visible")
    with page.expect_download() as saved:
        page.get_by_role("button", name="Download first").click()
    assert saved.value.suggested_filename == "first-retouched.png"
    page.wait_for_function("document.getElementById('status-file').textContent.startsWith('second.png')")


def test_closing_the_tab_with_edits_asks_the_browser(page: Any, tmp_path: Path) -> None:
    open_photo(page, photo(tmp_path, "first.png"))
    erase_once(page, 1)
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]


def test_strokes_painted_but_not_yet_erased_count_as_work(page: Any, tmp_path: Path) -> None:
    """With "Erase when I release" off, a painted mask is work the user would lose: opening another image asks
    (Keep editing keeps the strokes), leaving asks, and after Clear nothing does."""
    open_photo(page, photo(tmp_path, "first.png"))
    page.get_by_label("Erase when I release").uncheck()
    view = view_transform(page)
    paint(page, [to_page(view, 40, 40), to_page(view, 80, 40)])
    assert page.evaluate("window.retouch.viewer.strokes.length") == 1
    assert page.evaluate("document.body.dataset.version") == "0" and leaving_asks(page)

    dialog = page.locator("#unsaved-dialog")
    page.set_input_files("#file-input", str(photo(tmp_path, "second.png")))
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Keep editing").click()
    assert page.evaluate("window.retouch.viewer.strokes.length") == 1 and "first.png" in page.locator("#status-file").inner_text()

    page.locator("section.panel:not([hidden])").get_by_role("button", name="Clear").click()
    assert not leaving_asks(page)
