"""The prompt controls of the Cleanup and Replace background panels in headless Chromium, on the desktop
(1280x800) and on a 390x844 touch phone, with the tiny random diffusion model (tests/diffusion_tiny.py) and a
generated cutout network; without the generative extra, the same controls say which command gets one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cutout_onnx import install_fake
from e2e.conftest import ARTIFACTS, PHONE, editor_page
from e2e.harness import live_server
from e2e.photos import encode, scene
from e2e.test_editor import document_id, open_photo, painted_mask, sent_strokes, view_transform, wait_idle, working_pixels
from e2e.test_phone import touch
from retouch import masks
from retouch.tools.erase import default_grow

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")
pytestmark = pytest.mark.slow

LAYOUTS = {"desktop": {}, "phone": PHONE}
# the backend's line, as the generative panels' notice shows it (tools/generative.js)
PIP_NOTICE = "the generative tools need the optional diffusion backend. Get it with: pip install 'retouch[gen]'"


@pytest.fixture
def models(tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private offline home holding the tiny diffusion model (the only generative row) and a cutout network,
    as ``retouch models pull`` leaves them; the in-process server sees them."""
    install_fake("u2netp", monkeypatch)


@pytest.fixture(params=list(LAYOUTS))
def editor(request: pytest.FixtureRequest, browser: Any, models: None) -> Iterator[tuple[Any, str, str]]:
    """(page, server URL, layout name): the editor on the desktop or a touch phone, against a fresh server."""
    with live_server() as url, editor_page(browser, url, **LAYOUTS[request.param]) as page:
        yield page, url, request.param


def shot(page: Any, name: str, show: Any = None) -> Path:
    """A screenshot of the page in artifacts/, ``show`` (a locator) scrolled into view first."""
    if show is not None:  # to the middle: the panel's sticky button row would cover it at the bottom
        show.evaluate("element => element.scrollIntoView({block: 'center'})")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{page.viewport_size['width']}x{page.viewport_size['height']}.png"
    page.screenshot(path=str(path))
    return path


def press(page: Any, layout: str, locator: Any) -> None:
    """A click on the desktop, a tap on the phone."""
    if layout == "phone":
        locator.tap()
    else:
        locator.click()


def stroke(page: Any, layout: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """One painted stroke from ``start`` to ``end`` (page pixels): the mouse, or one finger."""
    if layout == "phone":
        cdp = page.context.new_cdp_session(page)
        touch(cdp, "touchStart", {0: start})
        for step in range(1, 9):
            touch(cdp, "touchMove", {0: (start[0] + (end[0] - start[0]) * step / 8, start[1])})
        touch(cdp, "touchEnd", {})
        return
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def test_the_fill_and_background_prompts(editor: tuple[Any, str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page, url, layout = editor
    found = scene(600, 400, radius=30)
    source = tmp_path / "photo.png"
    source.write_bytes(encode(found.pixels, "PNG"))
    open_photo(page, source)
    sent: list[str] = []
    page.on("request", lambda request: request.method == "POST" and "/api/erase" in request.url and sent.append(1))

    panel = page.locator("section.panel:visible")
    prompt = panel.locator("[data-prompt]")
    expect(prompt).to_be_enabled()  # once the server said a diffusion model can run
    assert panel.locator("[data-missing]").is_hidden()
    assert panel.locator("[data-run]").inner_text() == "Erase"
    prompt.fill("a red brick wall")
    assert panel.locator("[data-run]").inner_text() == "Fill"
    assert panel.locator("[data-engine]").is_disabled()  # a prompt is the diffusion model's
    panel.locator("[data-size]").fill("40")
    view = view_transform(page)
    cx, cy = found.center
    start = (view["left"] + (cx - 40) * view["scale"], view["top"] + cy * view["scale"])
    end = (view["left"] + (cx + 40) * view["scale"], view["top"] + cy * view["scale"])
    stroke(page, layout, start, end)
    page.wait_for_timeout(300)
    assert sent == []  # with a prompt, releasing the stroke does not run the fill: its button does
    shot(page, f"fill-prompt-{layout}", prompt)
    with page.expect_request(lambda request: request.url.endswith("/api/erase")) as request:
        press(page, layout, panel.get_by_role("button", name="Fill"))
    wait_idle(page, 1, 120)
    body = request.value.post_data_buffer
    assert b'name="prompt"\r\n\r\na red brick wall' in body and b'name="engine"\r\n\r\nauto' in body
    filled = working_pixels(url, document_id(page))
    painted = painted_mask(sent_strokes(request.value), 600, 400)
    grown = masks.grow(painted, default_grow(600, 400))
    np.testing.assert_array_equal(filled[~grown], found.pixels[~grown])  # the photo outside the grown stroke
    assert np.any(filled[painted] != found.pixels[painted], axis=1).mean() > 0.9
    assert panel.locator(".ran-with").inner_text().startswith("Last run: erase (engine=model, model=tiny-diffusion")
    assert panel.locator("[data-better]").count() == 0  # no erase engine offered as better than a prompt's fill
    shot(page, f"fill-done-{layout}", prompt)

    press(page, layout, page.get_by_role("tab", name="Replace background"))
    panel = page.locator("section.panel:visible")
    panel.locator("[data-kind]").select_option("prompt")
    run = panel.get_by_role("button", name="Replace background")
    expect(panel.locator("[data-prompt]")).to_be_enabled()
    assert run.is_disabled() and panel.locator("[data-missing]").is_hidden()  # nothing described yet
    panel.locator("[data-prompt]").fill("a beach at sunset")
    assert run.is_enabled()
    shot(page, f"background-prompt-{layout}", panel.locator("[data-prompt]"))
    with page.expect_request(lambda request: request.url.endswith("/api/replace-bg")) as request:
        press(page, layout, run)
    wait_idle(page, 2, 120)
    body = request.value.post_data_buffer
    assert b'name="background"\r\n\r\nprompt' in body and b'name="prompt"\r\n\r\na beach at sunset' in body
    assert not np.array_equal(working_pixels(url, document_id(page)), filled)
    shot(page, f"background-done-{layout}")


@pytest.fixture(params=list(LAYOUTS))
def without_extra(request: pytest.FixtureRequest, browser: Any, models: None, monkeypatch: pytest.MonkeyPatch):
    from retouch.tools.generate import backend

    monkeypatch.setattr(backend, "extra_installed", lambda: False)
    with live_server() as url, editor_page(browser, url, **LAYOUTS[request.param]) as page:
        yield page, request.param


def test_without_the_extra_the_controls_name_the_command(without_extra: tuple[Any, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page, layout = without_extra
    source = tmp_path / "photo.png"
    source.write_bytes(encode(scene(600, 400).pixels, "PNG"))
    open_photo(page, source)
    panel = page.locator("section.panel:visible")
    notice = panel.locator("[data-missing]")
    expect(notice).to_have_text(PIP_NOTICE)
    assert notice.is_visible() and panel.locator("[data-prompt]").is_disabled()
    assert panel.locator("[data-run]").inner_text() == "Erase"
    shot(page, f"fill-missing-{layout}", notice)
    press(page, layout, page.get_by_role("tab", name="Replace background"))
    panel = page.locator("section.panel:visible")
    panel.locator("[data-kind]").select_option("prompt")
    hint = panel.locator("[data-missing]")
    expect(hint).to_have_text(PIP_NOTICE)
    assert hint.is_visible() and panel.locator("[data-prompt]").is_disabled()
    assert panel.get_by_role("button", name="Replace background").is_disabled()
    shot(page, f"background-missing-{layout}", hint)
    panel.locator("[data-kind]").select_option("color")  # the other backgrounds still work
    assert panel.get_by_role("button", name="Replace background").is_enabled()
