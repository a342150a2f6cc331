"""The Uncrop, Reimagine and Generate panels in headless Chromium, at 1280x800 and on a 390x844 touch phone: with
the tiny random diffusion model (tests/diffusion_tiny.py) registered and in the cache, and without any model
(each panel then says which command gets one and offers no button that can only fail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
from e2e.conftest import ARTIFACTS
from e2e.photos import encode, scene
from e2e.test_editor import document_id, open_photo, wait_idle, working_pixels
from e2e.test_phone import FINGER_PX, off_screen_or_small, overflow


pytestmark = pytest.mark.slow


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"generative-{name}.png"
    page.screenshot(path=str(path))
    return path


def panel_of(page: Any, title: str) -> Any:
    page.locator("#tool-tabs button", has_text=title).click()
    if page.locator("#tool-panels").is_hidden():  # a phone's folded sheet
        page.locator("#tool-tabs button", has_text=title).click()
    panel = page.locator("#tool-panels section:not([hidden])")
    assert panel.locator("h2").inner_text() == title
    return panel


def test_without_a_model_each_panel_names_the_command(only_tiny: Path, page: Any, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(encode(scene(120, 80).pixels, "PNG"))
    command = f"retouch models pull {diffusion_tiny.NAME}"
    page.reload()  # the page asks the server again, now that this test's catalogue is in place
    page.wait_for_function("window.retouch && window.retouch.info !== null")
    generate = panel_of(page, "Generate")
    generate.locator("[data-missing] code").wait_for()
    assert generate.locator("[data-missing] code").inner_text() == command
    assert generate.locator("[data-run]").is_hidden() and generate.locator("[data-prompt]").is_hidden()
    shot(page, "desktop-generate-no-model")
    open_photo(page, source)
    reimagine = panel_of(page, "Reimagine")
    assert reimagine.locator("[data-missing] code").inner_text() == command
    assert reimagine.locator("[data-run]").is_hidden()
    uncrop = panel_of(page, "Uncrop")
    assert uncrop.locator("[data-missing] code").inner_text() == command
    assert "patch engine extends the photo's own textures" in uncrop.locator("[data-patch-note]").inner_text()
    assert uncrop.locator("[data-engine] option[value='model']").is_disabled()
    uncrop.locator("[data-preset='1:1']").click()
    assert uncrop.locator("[data-result-size]").inner_text() == "Result: 120 × 120 pixels"
    uncrop.locator("[data-missing]").scroll_into_view_if_needed()
    shot(page, "desktop-uncrop-no-model")
    uncrop.locator("[data-run]").click()
    wait_idle(page, 1)
    assert "photo.png · 120 × 120" in page.locator("#status-file").inner_text()
    np.testing.assert_array_equal(working_pixels_of(page)[20:100], scene(120, 80).pixels)


def working_pixels_of(page: Any) -> np.ndarray:
    return working_pixels(page.url.rstrip("/"), document_id(page))


def test_the_three_panels_with_a_model_on_the_desktop(tiny: str, page: Any, tmp_path: Path) -> None:
    found = scene(96, 64)
    source = tmp_path / "photo.png"
    source.write_bytes(encode(found.pixels, "PNG"))
    page.reload()
    page.wait_for_function("window.retouch && window.retouch.info !== null")
    open_photo(page, source)

    uncrop = panel_of(page, "Uncrop")
    assert uncrop.locator("[data-missing]").is_hidden() and uncrop.locator("[data-patch-note]").is_hidden()
    uncrop.locator("[data-preset='pixels']").click()
    uncrop.locator("[data-side='left']").fill("16")
    uncrop.locator("[data-prompt]").fill("more of the same")
    assert uncrop.locator("[data-result-size]").inner_text() == "Result: 112 × 64 pixels"
    shot(page, "desktop-uncrop")
    with page.expect_request(lambda r: r.url.endswith("/api/uncrop")) as request:
        uncrop.locator("[data-run]").click()
    body = request.value.post_data_buffer
    assert b'name="left"\r\n\r\n16' in body and b'name="prompt"\r\n\r\nmore of the same' in body
    wait_idle(page, 1)
    np.testing.assert_array_equal(working_pixels_of(page)[:, 16:], found.pixels)

    reimagine = panel_of(page, "Reimagine")
    reimagine.locator("[data-count]").select_option("2")
    reimagine.locator("[data-run]").click()
    reimagine.locator(".variation").nth(1).wait_for()
    wait_idle(page, 1)
    assert reimagine.locator(".variation").count() == 2
    shot(page, "desktop-reimagine-variations")
    reimagine.locator(".variation").nth(1).click()
    wait_idle(page, 2)
    assert reimagine.locator("[data-variations]").is_hidden()  # chosen: the photo is the variation now
    page.keyboard.press("Control+z")
    wait_idle(page, 1)

    generate = panel_of(page, "Generate")
    generate.locator("[data-prompt]").fill("a cat in the sky")
    generate.locator("[data-seed]").fill("5")
    sizes = generate.locator("[data-size] option").all_inner_texts()
    assert sizes == ["Square · 64 × 64", "Landscape · 96 × 64", "Portrait · 64 × 96", "Wide · 80 × 64"]  # never below 64
    shot(page, "desktop-generate")
    generate.locator("[data-run]").click()
    page.wait_for_selector("#unsaved-dialog[open]")  # the photo's edits are not downloaded
    page.locator("#unsaved-dialog button[value='discard']").click()
    page.wait_for_function("document.querySelector('#status-file').textContent.startsWith('generated.png')")
    wait_idle(page, 0)
    assert "generated.png · 64 × 64" in page.locator("#status-file").inner_text()
    shot(page, "desktop-generated")


def test_the_panels_on_a_phone(tiny: str, phone: Any, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(encode(scene(120, 80).pixels, "PNG"))
    phone.reload()
    phone.wait_for_function("window.retouch && window.retouch.info !== null")
    open_photo(phone, source)
    assert overflow(phone) == 0
    assert off_screen_or_small(phone, (".tool-tab",), FINGER_PX) == []  # ten tabs, each finger-sized
    for title in ("Uncrop", "Reimagine", "Generate"):
        panel = panel_of(phone, title)
        assert overflow(phone) == 0, title
        assert off_screen_or_small(phone, ("section.panel:not([hidden]) [data-run]",), FINGER_PX) == [], title
        shot(phone, f"phone-{title.lower()}")
        if title == "Reimagine":
            panel.locator("[data-count]").select_option("3")
            panel.locator("[data-run]").tap()
            panel.locator(".variation").nth(2).wait_for()
            wait_idle(phone, 0)
            shot(phone, "phone-reimagine-variations")
            panel.locator(".variation").first.tap()
            wait_idle(phone, 1)
    phone.set_viewport_size({"width": 844, "height": 390})  # held sideways: the tools as a rail of icons
    assert overflow(phone) == 0
    assert off_screen_or_small(phone, (".tool-tab",), FINGER_PX) == []
    panel_of(phone, "Uncrop")
    shot(phone, "phone-sideways-uncrop")
