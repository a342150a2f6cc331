"""Click to select in the Cleanup panel, in headless Chromium with a generated network: a click selects the object
under it and shows its mask, Shift-click adds another, and the selection is erased or cut out."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_onnx import install_fake
from e2e.harness import editor_with_photo, live_server
from e2e.test_editor import to_page, view_transform

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_select import two_objects

pytestmark = pytest.mark.slow
SQUARE = (195, 95)  # the centres of the scene's square and disk
DISK = (70, 96)


def selected_at(page, x: int, y: int) -> bool:
    """Whether the shown selection covers image pixel (x, y)."""
    return page.evaluate(
        """([x, y]) => { const m = window.retouch.viewer.maskLayer; if (!m) return false;
                         return m.getContext("2d").getImageData(x, y, 1, 1).data[3] > 127; }""",
        [x, y],
    )


def preview(page, url: str) -> np.ndarray:
    doc = page.evaluate("window.retouch.doc.id")
    data = page.request.get(f"{url}/api/documents/{doc}/preview?format=png").body()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def settled(page, version: int) -> None:
    page.wait_for_selector(f"body[data-busy='false'][data-version='{version}']", state="attached", timeout=90000)


def test_click_select_then_erase_and_cut_out(browser, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)
    picture, disk, square = two_objects()
    photo = tmp_path / "objects.png"
    Image.fromarray(picture.pixels).save(photo)
    with live_server() as url, editor_with_photo(browser, url, photo) as page:
        panel = page.locator("section.panel:visible")  # Cleanup, the first tool
        assert panel.get_by_role("button", name="Cut out").is_hidden()  # only while clicks select
        panel.get_by_label("Click selects an object").check()
        assert panel.get_by_role("button", name="Erase", exact=True).is_disabled()  # nothing selected yet
        view = view_transform(page)

        page.mouse.click(*to_page(view, *SQUARE))
        page.wait_for_function("window.retouch.viewer.maskLayer !== null", timeout=60000)
        settled(page, 0)
        assert selected_at(page, *SQUARE) and not selected_at(page, *DISK)
        assert "of the photo selected" in panel.locator("[data-selected]").inner_text()

        page.keyboard.down("Shift")  # Shift-click adds the disk
        page.mouse.click(*to_page(view, *DISK))
        page.keyboard.up("Shift")
        page.wait_for_selector("section.panel[data-clicks='2']", state="attached")
        page.wait_for_function(
            "([x, y]) => { const m = window.retouch.viewer.maskLayer;"
            " return m && m.getContext('2d').getImageData(x, y, 1, 1).data[3] > 127; }",
            arg=list(DISK),
            timeout=60000,
        )
        settled(page, 0)
        assert selected_at(page, *SQUARE)

        page.mouse.click(*to_page(view, *SQUARE))  # a plain click starts over: the square alone
        page.wait_for_selector("section.panel[data-clicks='1']", state="attached")
        page.wait_for_function(
            "([x, y]) => { const m = window.retouch.viewer.maskLayer;"
            " return m && m.getContext('2d').getImageData(x, y, 1, 1).data[3] < 128; }",
            arg=list(DISK),
            timeout=60000,
        )
        settled(page, 0)
        panel.get_by_role("button", name="Erase", exact=True).click()
        settled(page, 1)
        after = preview(page, url)
        red = (after[:, :, 0].astype(int) - after[:, :, 1]) > 100
        assert not red[square].any() and red[disk].mean() > 0.95  # the square erased, the disk kept
        assert page.evaluate("window.retouch.viewer.maskLayer") is None

        page.keyboard.press("Control+z")
        settled(page, 0)
        page.mouse.click(*to_page(view, *DISK))
        page.wait_for_function("window.retouch.viewer.maskLayer !== null", timeout=60000)
        settled(page, 0)
        panel.get_by_role("button", name="Cut out").click()
        settled(page, 1)
        alpha = preview(page, url)[:, :, 3] > 127
        assert alpha[disk].mean() > 0.9 and not alpha[square].any()  # only the clicked disk is kept


def test_erasing_a_selection_also_erases_the_strokes_painted_beside_it(browser, tmp_path, monkeypatch) -> None:
    """Strokes painted before switching to clicks stayed on screen but were left out of the erase (and, with
    "Erase when I release", the next stroke erased the selection and not itself)."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)
    picture, disk, square = two_objects()
    photo = tmp_path / "objects.png"
    Image.fromarray(picture.pixels).save(photo)
    with live_server() as url, editor_with_photo(browser, url, photo) as page:
        panel = page.locator("section.panel:visible")
        panel.get_by_label("Erase when I release").uncheck()
        before = preview(page, url)
        view = view_transform(page)
        page.mouse.move(*to_page(view, 20, 170))  # a stroke along the bottom, away from both objects
        page.mouse.down()
        page.mouse.move(*to_page(view, 120, 170), steps=8)
        page.mouse.up()
        panel.get_by_label("Click selects an object").check()
        page.mouse.click(*to_page(view, *SQUARE))
        page.wait_for_function("window.retouch.viewer.maskLayer !== null", timeout=60000)
        settled(page, 0)
        panel.get_by_role("button", name="Erase", exact=True).click()
        settled(page, 1)
        after = preview(page, url)
        red = (after[:, :, 0].astype(int) - after[:, :, 1]) > 100
        assert red[square].mean() < 0.05  # the selection erased (the fill may copy a speck of the disk)...
        changed = np.abs(after[160:181, 30:111, :3].astype(int) - before[160:181, 30:111, :3]).max(axis=2) > 0
        assert changed.mean() > 0.5  # ...and the stroke beside it
        assert page.evaluate("window.retouch.viewer.strokes.length") == 0


def test_on_a_phone_the_next_click_buttons_add_and_take_out(browser, tmp_path, monkeypatch) -> None:
    """A phone has no Shift or Alt: "Next click" Add and Take out do their work for taps (390x844, touch)."""
    from e2e.conftest import ARTIFACTS, PHONE, editor_page
    from e2e.test_editor import open_photo

    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)
    picture, _, _ = two_objects()
    photo = tmp_path / "objects.png"
    Image.fromarray(picture.pixels).save(photo)
    with live_server() as url, editor_page(browser, url, **PHONE) as page:
        open_photo(page, photo)
        panel = page.locator("section.panel:visible")
        roles = panel.locator("[data-click-roles]")
        assert roles.is_hidden()  # only while clicks select
        panel.get_by_label("Click selects an object").tap()
        assert roles.is_visible()

        def tap(x: int, y: int, clicks: int) -> None:
            page.touchscreen.tap(*to_page(view_transform(page), x, y))
            page.wait_for_selector(f"section.panel[data-clicks='{clicks}']", state="attached")
            page.wait_for_function("window.retouch.viewer.maskLayer !== null", timeout=60000)
            settled(page, 0)

        tap(*SQUARE, clicks=1)
        assert selected_at(page, *SQUARE) and not selected_at(page, *DISK)
        add = roles.get_by_role("button", name="Add")
        box = add.bounding_box()
        assert box is not None and box["height"] >= 44, box  # a finger's target
        add.tap()
        tap(*DISK, clicks=2)
        assert selected_at(page, *SQUARE) and selected_at(page, *DISK)
        page.screenshot(path=str(ARTIFACTS / "select-phone-added.png"))
        roles.get_by_role("button", name="Take out").tap()
        tap(*DISK, clicks=3)
        assert selected_at(page, *SQUARE) and not selected_at(page, *DISK)
