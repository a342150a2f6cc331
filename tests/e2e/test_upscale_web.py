"""The Upscale panel in headless Chromium: pick a model and a factor, see the size it will make, enlarge the
photo, see it at its new size and compared with the original stretched to it, undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from e2e.photos import encode, scene
from e2e.test_editor import assert_original_covers_the_image, document_id, open_photo, wait_idle, working_pixels
from retouch.io import load_image
from retouch.tools.upscale import upscale
from test_ncnn import random_srvgg
from test_upscale_weights import home, install_pth  # noqa: F401  (home is a fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny(home, monkeypatch) -> str:
    """A small network in the official .pth layout, registered before the page asks the server for its tools."""
    install_pth(monkeypatch, home, "tiny-srvgg", random_srvgg())
    return "tiny-srvgg"


def test_upscale_a_photo_from_the_panel(tiny: str, page: Any, server_url: str, screenshot, tmp_path: Path) -> None:
    found = scene(90, 60)
    source = tmp_path / "small.png"
    source.write_bytes(encode(found.pixels, "PNG"))
    open_photo(page, source)
    page.locator("#tool-tabs button", has_text="Upscale").click()
    panel = page.locator("#tool-panels section:not([hidden])")
    assert panel.locator("h2").inner_text() == "Upscale"

    model = panel.locator("[data-model]")
    assert model.locator("option[value='realesrgan-x2plus']").is_disabled()  # a download, not installed here
    assert "not installed" in model.locator("option[value='realesrgan-x2plus']").inner_text()
    model.select_option(tiny)
    panel.locator("[data-preset]").select_option("custom")
    panel.locator("[data-custom]").fill("2.5")
    assert panel.locator("[data-result-size]").inner_text() == "Result: 225 × 150 pixels"  # noqa: RUF001
    panel.locator("[data-preset]").select_option("2")
    assert panel.locator("[data-result-size]").inner_text() == "Result: 180 × 120 pixels"  # noqa: RUF001
    assert panel.locator("[data-denoise-field]").is_hidden()

    with page.expect_request(lambda r: r.url.endswith("/api/upscale")) as request:
        panel.locator("[data-run]").click()
    body = request.value.post_data_buffer
    assert b'name="model"\r\n\r\ntiny-srvgg' in body and b'name="scale"\r\n\r\n2' in body
    wait_idle(page, 1)
    screenshot("upscaled")
    assert "small.png · 180 × 120" in page.locator("#status-file").inner_text()  # noqa: RUF001
    assert page.evaluate("[window.retouch.viewer.width, window.retouch.viewer.height]") == [180, 120]
    page.keyboard.down("\\")  # compare: the original over the whole enlarged photo
    assert_original_covers_the_image(page, found, 180, 120)
    page.keyboard.up("\\")
    expected = upscale(load_image(source), model=tiny, scale=2).pixels
    np.testing.assert_array_equal(working_pixels(server_url, document_id(page)), expected)

    page.keyboard.press("Control+z")
    wait_idle(page, 0)
    assert "small.png · 90 × 60" in page.locator("#status-file").inner_text()  # noqa: RUF001
    assert panel.locator("[data-result-size]").inner_text() == "Result: 180 × 120 pixels"  # noqa: RUF001


def test_the_denoise_strength_shows_for_the_model_that_has_it(tiny: str, page: Any, tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    source.write_bytes(encode(scene(40, 30).pixels, "PNG"))
    open_photo(page, source)
    page.locator("#tool-tabs button", has_text="Upscale").click()
    panel = page.locator("#tool-panels section:not([hidden])")
    page.evaluate(
        """() => { const select = document.querySelector('#tool-panels section:not([hidden]) [data-model]');
                   select.querySelector("option[value='realesr-general-x4v3']").disabled = false;
                   select.value = 'realesr-general-x4v3';
                   select.dispatchEvent(new Event('input')); }"""
    )
    assert panel.locator("[data-denoise-field]").is_visible()
    with page.expect_request(lambda r: r.url.endswith("/api/upscale")) as request:
        panel.locator("[data-run]").click()
    assert b'name="denoise"\r\n\r\n0.5' in request.value.post_data_buffer
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "retouch models pull realesr-general-x4v3" in toast.inner_text()  # the server names the fix
