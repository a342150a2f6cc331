"""The Remove text panel in headless Chromium: find the text, see its mask, take a line out of it with the mask
eraser and add a stroke with the brush, erase, undo."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from e2e.harness import editor_with_photo, live_server

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_detext import LINES, draw_lines, textured  # noqa: E402

pytestmark = pytest.mark.slow


def pixels(page, url: str) -> np.ndarray:
    doc = page.evaluate("window.retouch.doc.id")
    data = page.request.get(f"{url}/api/documents/{doc}/preview?format=png").body()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_find_correct_and_erase_text(browser, tmp_path) -> None:
    clean = textured(800, 520)
    with_text, drawn = draw_lines(clean, LINES)
    photo = tmp_path / "poster.png"
    Image.fromarray(with_text).save(photo)
    with live_server() as url, editor_with_photo(browser, url, photo) as page:
        page.get_by_role("tab", name="Remove text").click()
        panel = page.locator("section.panel:visible")
        assert panel.get_by_role("button", name="Erase text").is_disabled()  # nothing to erase yet
        panel.get_by_role("button", name="Find text").click()
        page.wait_for_selector("section.panel[data-lines='4']", state="attached", timeout=60000)
        assert "4 lines of text found" in panel.locator("[data-found]").inner_text()
        view = page.evaluate(
            """() => { const v = window.retouch.viewer; const r = v.canvas.getBoundingClientRect();
                       return {scale: v.scale, left: r.left + v.ox, top: r.top + v.oy}; }"""
        )

        def at(x: float, y: float) -> tuple[float, float]:
            return float(view["left"] + x * view["scale"]), float(view["top"] + y * view["scale"])

        assert page.evaluate("window.retouch.viewer.maskLayer !== null")  # the found mask is shown

        # the mask eraser, wide enough, takes the caption (the last line) out of the mask
        panel.get_by_role("button", name="Mask eraser").click()
        panel.locator("[data-size]").fill(str(round(70 * view["scale"])))
        ys3, xs3 = np.nonzero(drawn[3])
        page.mouse.move(*at(xs3.min() - 12, (ys3.min() + ys3.max()) / 2))
        page.mouse.down()
        page.mouse.move(*at(xs3.max() + 12, (ys3.min() + ys3.max()) / 2), steps=12)
        page.mouse.up()
        # and the brush adds a dot the detector would not have found
        panel.get_by_role("button", name="Brush").click()
        panel.locator("[data-size]").fill(str(round(16 * view["scale"])))
        page.mouse.click(*at(700, 470))

        panel.get_by_role("button", name="Erase text").click()
        page.wait_for_selector("body[data-busy='false'][data-version='1']", state="attached", timeout=90000)
        after = pixels(page, url)
        assert np.array_equal(after[drawn[3]], with_text[drawn[3]])  # the caption taken out of the mask stays
        changed = np.abs(after.astype(int) - with_text).max(axis=2) > 30
        assert changed[drawn[2]].mean() > 0.5  # the big word is gone
        assert changed[460:480, 690:710].any()  # where the brush added a dot
        assert page.evaluate("window.retouch.viewer.maskLayer") is None  # the mask is cleared after the erase

        page.keyboard.press("Control+z")
        page.wait_for_selector("body[data-busy='false'][data-version='0']", state="attached", timeout=30000)
        assert np.array_equal(pixels(page, url), with_text)
