"""The Relight panel in headless Chromium: the photo's shape is fetched once, a click adds a light and a drag moves
it, the preview (WebGL in the page) changes as it moves, and "Apply" renders at full size on the server what the
preview showed: PSNR 40 dB or more at the preview's size (54.7 and 55.3 dB measured on a portrait and a plush toy
of 2 MP from ../shared/eval with two lights each, one a rim light). With "Click selects the subject" on, a click
(or a tap on a phone) chooses which of two objects the rim light traces, in the preview and in what Apply renders."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from cutout_onnx import install_fake
from PIL import Image
from relight_scenes import sphere, two_disks

from e2e.conftest import ARTIFACTS, PHONE, editor_page
from e2e.harness import live_server
from e2e.photos import encode
from e2e.test_editor import document_id, download, open_photo, to_page, view_transform, wait_idle, working_pixels

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 1500, 1000  # 1.5 MP: the preview is made at about 1 MP, so the page and the server see other sizes


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def preview(page: Any) -> np.ndarray:
    """The preview of the panel's lights as they are, RGBA."""
    shown = page.evaluate("() => window.retouch.tools.find((t) => t.name === 'relight').preview()")
    pixels = np.frombuffer(base64.b64decode(shown["pixels"]), np.uint8)
    return pixels.reshape(shown["height"], shown["width"], 4)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A warm ball on a blue ground, cut out: its alpha (the ball opaque, the ground transparent) is the matte."""
    ball = sphere(WIDTH, HEIGHT, 320).matte > 0.5
    rng = np.random.default_rng(4)
    pixels = np.where(ball[..., None], (190, 140, 100), (60, 80, 120)).astype(np.int16)
    pixels += rng.integers(-12, 13, pixels.shape, dtype=np.int16)  # some texture for the detail normals
    alpha = np.where(ball, 255, 0).astype(np.uint8)
    path = tmp_path / "ball.png"
    path.write_bytes(encode(np.dstack([np.clip(pixels, 0, 255).astype(np.uint8), alpha]), "PNG"))
    return path


def test_place_drag_and_apply_lights(page: Any, server_url: str, photo: Path, screenshot) -> None:
    open_photo(page, photo)
    page.locator("#tool-tabs button", has_text="Relight").click()
    panel = page.locator("#tool-panels section:not([hidden])")
    assert panel.locator("h2").inner_text() == "Relight"
    page.wait_for_selector("#tool-panels section[data-ready='true']", state="attached", timeout=120_000)
    assert panel.locator("[data-run]").is_disabled()  # nothing to apply yet
    unlit = preview(page)

    view = view_transform(page)

    def at(x: float, y: float) -> tuple[float, float]:  # fractions of the frame to page pixels
        return view["left"] + x * WIDTH * view["scale"], view["top"] + y * HEIGHT * view["scale"]

    page.mouse.click(*at(0.95, 0.5))  # a light behind the ball's right edge
    assert panel.get_attribute("data-lights") == "1"
    panel.locator("[data-colour]").fill("#ff6010")
    panel.locator("[data-intensity]").fill("4")
    panel.locator("[data-rim]").check()
    rim_lit = preview(page)
    page.mouse.click(*at(0.2, 0.15))  # a second light, in front, up on the left
    panel.locator("[data-colour]").fill("#ffffff")
    panel.locator("[data-height]").fill("50")
    before_drag = preview(page)
    page.mouse.move(*at(0.2, 0.15))
    page.mouse.down()
    page.mouse.move(*at(0.3, 0.1), steps=6)
    page.mouse.up()
    assert panel.get_attribute("data-lights") == "2"  # the drag moved the light, added none
    moved = preview(page)
    assert not np.array_equal(moved, before_drag)  # the preview followed the light
    screenshot("live")

    # the rim light alone: orange on the ball's right rim, nothing inside it, on its left or on the ground
    h, w = moved.shape[:2]
    cy, cx, r = h // 2, w // 2, round(320 * w / WIDTH)
    added = rim_lit[..., :3].astype(int) - unlit[..., :3].astype(int)
    assert added[cy, cx + r - 4, 0] > 40 and added[cy, cx + r - 4, 0] > added[cy, cx + r - 4, 2] + 20
    assert np.abs(added[cy, cx + r // 3]).max() <= 1 and np.abs(added[cy, cx - r + 4]).max() <= 1
    assert np.abs(added[cy, cx + r + 20]).max() <= 1

    frames_per_second = page.evaluate("() => window.retouch.tools.find((t) => t.name === 'relight').benchmark(5)")
    assert frames_per_second > 0
    print(f"preview {w}x{h}: {frames_per_second:.1f} frames per second in this browser")

    shown = preview(page)
    with page.expect_request(lambda r: r.url.endswith("/api/relight")) as request:
        panel.locator("[data-run]").click()
    body = request.value.post_data_buffer
    assert b"color=#ff6010,rim" in body and b"color=#ffffff" in body
    wait_idle(page, 1, timeout_s=120)
    applied = working_pixels(server_url, document_id(page))
    assert applied.shape[:2] == (HEIGHT, WIDTH)
    at_preview = cv2.resize(applied[..., :3], (w, h), interpolation=cv2.INTER_AREA)
    assert psnr(at_preview, shown[..., :3]) >= 40.0
    assert panel.get_attribute("data-lights") == "0"  # applied: the lights are in the photo now
    screenshot("applied")


DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SIDEWAYS = {**PHONE, "viewport": {"width": 844, "height": 390}}
STATE = "document.querySelector('#tool-panels section:not([hidden]) [data-state]').textContent.includes('{}')"


def right_edges(mask: np.ndarray) -> np.ndarray:
    """The rightmost 4 pixels of each row of ``mask``: where a rim light from the right falls."""
    return mask & ~np.roll(mask, -4, axis=1)


@pytest.mark.parametrize(("size", "context"), [("desktop", DESKTOP), ("390x844", PHONE), ("844x390", SIDEWAYS)])
def test_a_click_chooses_the_subject_the_rim_light_traces(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: str, context: dict[str, Any]
) -> None:
    """Two red disks, which the generated network takes together for the subject; selecting the left one makes
    it the subject alone: the preview and the downloaded result light its rim and not the right disk's. Clearing
    the selection gives the automatic subject back."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    install_fake("u2netp", monkeypatch)
    pixels, left, right = two_disks()
    height, width = left.shape
    source = tmp_path / "disks.png"
    source.write_bytes(encode(pixels, "PNG"))
    touch = context.get("has_touch", False)
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server() as url, editor_page(browser, url, **context) as page:

        def press(x: float, y: float) -> None:  # a tap on a phone, a click on the desktop, at image pixel (x, y)
            view = view_transform(page)
            page.touchscreen.tap(*to_page(view, x, y)) if touch else page.mouse.click(*to_page(view, x, y))

        def rims() -> tuple[float, float]:
            """The red the preview adds on the right rims of the left and the right disk."""
            added = preview(page)[..., 0].astype(int) - pixels[..., 0]
            return added[right_edges(left)].mean(), added[right_edges(right)].mean()

        open_photo(page, source)
        page.locator(".tool-tab[aria-label='Relight']").click()
        panel = page.locator("#tool-panels section:not([hidden])")
        page.wait_for_selector("#tool-panels section[data-ready='true']", state="attached", timeout=120_000)
        panel.locator("[data-ambient]").fill("100")  # the photo's own light as it is: what is added shows alone
        press(width * 0.97, height * 0.5)  # a light at the right: a sun from the right
        assert panel.get_attribute("data-lights") == "1"
        panel.locator("[data-kind]").select_option("dir")
        panel.locator("[data-colour]").fill("#ff8000")
        panel.locator("[data-intensity]").fill("4")
        panel.locator("[data-rim]").check()
        found_left, found_right = rims()
        assert found_left > 20 and found_right > 20  # the automatic subject: both disks

        switch = panel.get_by_label("Click selects the subject")
        switch.scroll_into_view_if_needed()
        box = switch.locator("xpath=..").bounding_box()  # the label, the switch's target
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"], box
        assert box["height"] >= (44 if touch else 15), box
        switch.tap() if touch else switch.check()
        assert switch.is_checked()

        def select_left_disk() -> None:
            press(69, 96)  # the left disk's centre
            page.wait_for_function("window.retouch.viewer.maskLayer !== null", timeout=60_000)
            page.wait_for_function(STATE.format("the selected subject"), timeout=120_000)
            page.wait_for_selector("#tool-panels section[data-ready='true']", state="attached", timeout=120_000)

        select_left_disk()
        assert "of the photo selected" in panel.locator("[data-selected]").inner_text()
        shown = page.evaluate(
            """() => { const m = window.retouch.viewer.maskLayer;
                       return Array.from(m.getContext("2d").getImageData(0, 0, m.width, m.height).data); }"""
        )
        mask = np.array(shown, np.uint8).reshape(height, width, 4)[..., 3] > 127
        assert mask[left].mean() > 0.9 and not mask[right].any()  # the selection shown: the left disk
        selected_left, selected_right = rims()
        assert selected_left > 20 and selected_right < 0.2 * selected_left  # the preview lights it alone
        page.screenshot(path=str(ARTIFACTS / f"relight-selected-{size}.png"))

        clear = panel.get_by_role("button", name="Clear selection")
        clear.tap() if touch else clear.click()  # back to the automatic subject: both disks
        page.wait_for_function(STATE.format("(subject found)"), timeout=120_000)
        page.wait_for_selector("#tool-panels section[data-ready='true']", state="attached", timeout=120_000)
        page.wait_for_function("window.retouch.viewer.maskLayer === null")  # drawn on the next frame
        assert clear.is_hidden()
        assert min(rims()) > 20

        select_left_disk()
        switch.tap() if touch else switch.uncheck()  # clicks place lights again; the selection stays the subject
        page.wait_for_function("window.retouch.viewer.maskLayer === null")  # the mask shows only while selecting
        assert rims() == (selected_left, selected_right)
        page.screenshot(path=str(ARTIFACTS / f"relight-lit-{size}.png"))

        with page.expect_request(lambda r: r.url.endswith("/api/relight")) as request:
            panel.locator("[data-run]").click()
        assert b'name="clicks"' in request.value.post_data_buffer
        wait_idle(page, 1, timeout_s=120)
        with Image.open(download(page, tmp_path)) as image:
            result = np.asarray(image.convert("RGB"))
    lift = result[..., 0].astype(int) - pixels[..., 0]
    assert lift[right_edges(left)].mean() > 20, lift[right_edges(left)].mean()
    assert lift[right_edges(right)].mean() < 0.2 * lift[right_edges(left)].mean()
