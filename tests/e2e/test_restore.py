"""The Restore panel in headless Chromium: without the face model it hides the face options and says how to install
it, restores the photo in one click, reports what it did in a notice over the image (the pull command for the faces
it could not restore), and enlarges the photo, which the compare then shows over the original stretched to fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shared_data import EVAL

from e2e.photos import decode, encode, scene
from e2e.test_editor import assert_original_covers_the_image, document_id, open_photo, wait_idle, working_pixels

pytestmark = pytest.mark.slow

FACES_PHOTO = EVAL / "faces" / "gfpgan_inputs" / "whole_imgs" / "Blake_Lively.jpg"


@pytest.fixture(autouse=True)
def no_face_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty model cache for the in-process server: the face model is not installed."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))


def open_restore(page: Any) -> Any:
    page.locator(".tool-tab", has_text="Restore").click()
    panel = page.locator("section.panel:not([hidden])")
    assert panel.locator("h2").inner_text() == "Restore"
    return panel


def test_restore_a_photo_with_faces_reports_the_missing_face_model(page: Any, server_url: str, screenshot) -> None:
    if not FACES_PHOTO.exists():
        pytest.skip(f"evaluation photo {FACES_PHOTO} is absent")
    open_photo(page, FACES_PHOTO)
    panel = open_restore(page)
    hint = panel.locator("[data-face-model]")
    assert hint.is_visible() and "retouch models pull gfpgan-v1.4" in hint.inner_text()
    before = working_pixels(server_url, document_id(page))
    panel.locator("[data-run]").click()
    wait_idle(page, 1)
    screenshot("restored")
    note = page.locator("#toast")
    assert note.is_visible() and "error" not in note.get_attribute("class")
    text = note.inner_text()
    assert "colour 0.5" in text and "denoise 0.3" in text
    assert "2 face(s) found but not restored" in text and "retouch models pull gfpgan-v1.4" in text
    after = working_pixels(server_url, document_id(page))
    assert after.shape == before.shape and not np.array_equal(after, before)


def test_without_the_face_model_the_panel_offers_no_face_options(page: Any, tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    source.write_bytes(encode(scene(120, 80).pixels, "PNG"))
    open_photo(page, source)
    panel = open_restore(page)
    line = panel.locator("[data-face-model]")
    assert line.is_visible()
    assert line.inner_text().startswith("Face restoration needs the face model: retouch models pull gfpgan-v1.4.")
    assert panel.locator("[data-faces]").is_hidden() and panel.locator("[data-strength]").is_hidden()
    with page.expect_request(lambda r: r.url.endswith("/api/restore")) as request:
        panel.locator("[data-run]").click()
    body = request.value.post_data_buffer
    assert b'name="faces"\r\n\r\nauto' in body and b'name="strength"' not in body  # no face option that does nothing
    wait_idle(page, 1)
    note = page.locator("#toast")
    assert note.is_visible() and note.inner_text().startswith("Restored: ")
    box = note.bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"]  # in sight, over the image


def test_restore_can_enlarge_and_undo(page: Any, server_url: str, tmp_path: Path) -> None:
    found = scene(240, 160)
    source = tmp_path / "small.png"
    source.write_bytes(encode(found.pixels, "PNG"))
    open_photo(page, source)
    panel = open_restore(page)
    panel.locator("[data-upscale]").select_option("2")
    page.keyboard.press("Enter")
    wait_idle(page, 1)
    assert "480 × 320" in page.locator("#status-file").inner_text()  # noqa: RUF001
    assert working_pixels(server_url, document_id(page)).shape == (320, 480, 3)
    page.keyboard.down("\\")  # hold to compare: the original over the enlarged photo's whole extent
    assert_original_covers_the_image(page, found, 480, 320)
    page.keyboard.up("\\")
    page.locator("#compare").fill("100")  # the split slider all the way: the same
    assert_original_covers_the_image(page, found, 480, 320)
    page.locator("#compare").fill("0")
    page.keyboard.press("Control+z")
    wait_idle(page, 0)
    np.testing.assert_array_equal(working_pixels(server_url, document_id(page)), decode(encode(found.pixels, "PNG")))
