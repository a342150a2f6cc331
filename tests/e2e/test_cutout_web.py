"""The Remove background and Replace background panels in headless Chromium, with a generated network; without
any model, the panels say what to install instead of offering a menu of models that are not there."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_onnx import install_fake
from cutout_scenes import scene
from e2e.harness import editor_with_photo, live_server
from e2e.test_editor import shown_colour, view_transform

pytestmark = pytest.mark.slow


@pytest.fixture
def cutout_page(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)
    photo = tmp_path / "photo.jpg"
    Image.fromarray((scene().image * 255 + 0.5).astype(np.uint8)).save(photo, quality=95)
    with live_server() as url, editor_with_photo(browser, url, photo) as page:
        yield page, url, tmp_path


def pixels(page, url: str) -> np.ndarray:
    doc = page.evaluate("window.retouch.doc.id")
    data = page.request.get(f"{url}/api/documents/{doc}/preview?format=png").body()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def test_remove_background_panel(cutout_page) -> None:
    page, url, _ = cutout_page
    page.get_by_role("tab", name="Remove background").click()
    panel = page.locator("section.panel:visible")
    assert panel.locator("[data-model]").input_value() == "auto"
    assert panel.locator("[data-model] option[value=auto]").inner_text() == "Auto: u2netp"  # the one installed
    panel.locator("[data-crop]").check()
    panel.get_by_role("button", name="Remove background").click()
    page.wait_for_selector("body[data-busy='false'][data-version='1']", state="attached", timeout=90000)
    doc = page.evaluate("window.retouch.doc")
    assert doc["has_alpha"] and doc["width"] < 256
    rgba = pixels(page, url)
    assert rgba[0, 0, 3] < 20 and rgba[rgba.shape[0] // 2, rgba.shape[1] // 2 - 20, 3] > 230
    assert_compare_shows_the_cropped_part(page, doc)
    page.keyboard.press("Control+z")
    page.wait_for_selector("body[data-busy='false'][data-version='0']", state="attached", timeout=30000)
    assert not page.evaluate("window.retouch.doc.has_alpha")


def assert_compare_shows_the_cropped_part(page, doc: dict) -> None:
    """Holding compare after a crop to the subject shows the original's cropped part over the result, not the
    whole original squeezed into it: at probe points the colour is the original's at the crop's offset."""
    x0, y0, width, height = doc["origin"]
    assert (width, height) == (doc["width"], doc["height"]) and (x0, y0) != (0, 0)
    original = scene().image * 255
    full_h, full_w = original.shape[:2]
    page.keyboard.down("\\")
    view = view_transform(page)
    told_apart = False
    for x, y in ((4, 4), (width - 5, 4), (4, height - 5), (width - 5, height - 5), (width // 2, 4)):
        shown = shown_colour(page, view, x + 0.5, y + 0.5)
        cropped = original[int(y0) + y, int(x0) + x]
        squeezed = original[int(y * full_h / height), int(x * full_w / width)]
        np.testing.assert_allclose(shown, cropped, atol=30)
        told_apart |= np.abs(cropped - squeezed).max() > 60  # the probe could tell the two drawings apart
    page.keyboard.up("\\")
    assert told_apart


def test_replace_background_panel_with_a_colour_and_an_image(cutout_page) -> None:
    page, url, tmp_path = cutout_page
    page.get_by_role("tab", name="Replace background").click()
    panel = page.locator("section.panel:visible")
    panel.locator("[data-color]").fill("#ff00ff")
    panel.get_by_role("button", name="Replace background").click()
    page.wait_for_selector("body[data-busy='false'][data-version='1']", state="attached", timeout=90000)
    rgba = pixels(page, url)
    assert np.abs(rgba[2, 2, :3].astype(int) - [255, 0, 255]).max() < 25

    page.keyboard.press("Control+z")  # back to the photo: the next background replaces the original one
    page.wait_for_selector("body[data-busy='false'][data-version='0']", state="attached", timeout=30000)
    backdrop = tmp_path / "yellow.png"
    Image.new("RGB", (64, 48), (255, 220, 0)).save(backdrop)
    with page.expect_file_chooser() as chooser:
        panel.locator("[data-kind]").select_option("image")
    chooser.value.set_files(str(backdrop))
    panel.locator("[data-harmonize]").uncheck()
    panel.get_by_role("button", name="Replace background").click()
    page.wait_for_selector("body[data-busy='false'][data-version='1']", state="attached", timeout=90000)
    rgba = pixels(page, url)
    assert np.abs(rgba[2, 2, :3].astype(int) - [255, 220, 0]).max() < 25


@pytest.fixture
def no_models(tmp_path, monkeypatch) -> None:
    """An empty model cache for the in-process server, set before the page asks for the tools."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")


def test_without_a_model_the_panels_say_what_to_install(no_models, page) -> None:
    page.get_by_role("tab", name="Remove background").click()
    panel = page.locator("section.panel:visible")
    assert panel.locator("[data-model]").is_hidden()  # no menu of models that are not there
    assert "retouch models pull" in panel.locator("[data-model-hint]").inner_text()
    engines = page.locator("[data-engine] option").all_inner_texts()  # Cleanup: the built-in engine is all there is
    assert engines[0] == "Auto: Patch (built in)" and "not installed" not in engines[0]
    page.set_input_files("#file-input", str(Path(__file__).with_name("photos.py")))  # any file: no image opens
    page.locator("#toast").wait_for(state="visible")
    assert panel.locator("[data-run]").is_disabled()
