"""The Models panel in headless Chromium, against a local HTTP server standing in for the official host: a model is
installed with a moving progress bar and becomes "installed"; an opt-in model names and links its license and
installs only once its box is ticked (on a 390x844 touch phone); and a tool's panel says which engine ran and
offers the better model, opening the panel at it."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import ARTIFACTS, PHONE, editor_page
from e2e.harness import live_server
from e2e.photos import encode, scene
from e2e.test_editor import open_photo, paint, to_page, view_transform, wait_idle

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_models_server import register, serve_slowly
from test_models_weights import payload

from retouch.models import download

pytestmark = pytest.mark.slow
SIZE = 3_000_000  # about 3 s from the throttled hub: time to watch the bar move and to take its picture


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A private model cache, the throttled hub serving a permissive and an opt-in test model."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "0")
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(download, "CHUNK", 64 * 1024)
    serving = serve_slowly(0.03)
    state = next(serving)
    register(monkeypatch, state, payload(SIZE))
    register(monkeypatch, state, payload(SIZE, seed=2), name="test-optin", permissive=False)
    yield state
    next(serving, None)


def watch_install(page: Any, row: Any, shot: str | None = None) -> set[int]:
    """The percentages the row's bar showed until the model was installed (a screenshot midway when asked)."""
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, row.inner_text()
        state, percent, text = row.evaluate(  # read at once: the row is drawn anew when the install ends
            """(item) => [item.dataset.state, item.dataset.percent,
                          item.querySelector(".progress-text").textContent]"""
        )
        if state == "installed":
            return seen
        if state == "installing" and percent is not None:
            seen.add(int(percent))
            assert re.fullmatch(r"(\d+(\.\d)? MiB of 2\.9 MiB|Checking sha256) · \d+%|Waiting to start…", text), text
            if shot and 20 <= int(percent) <= 80:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / shot))
                shot = None
        time.sleep(0.05)


def test_install_from_the_models_panel_with_a_progress_bar(browser: Any, hub: Any, tmp_path: Path) -> None:
    home = tmp_path / "home" / "models"
    with live_server() as url, editor_page(browser, url) as page:
        page.get_by_role("button", name="Models").click()
        dialog = page.locator("#models-dialog")
        row = dialog.locator("[data-model='test-model']")
        assert row.get_attribute("data-state") == "missing"
        assert "2.9 MiB" in row.inner_text() and "MIT" in row.inner_text() and "erase" in row.inner_text()

        optin = dialog.locator("[data-model='test-optin']")
        license_link = optin.get_by_role("link", name="AGPL-3.0 (opt-in)")
        assert license_link.get_attribute("href") == "https://www.gnu.org/licenses/agpl-3.0.html"
        assert optin.get_by_role("button", name="Install").is_disabled()

        row.get_by_role("button", name="Install").click()
        row.scroll_into_view_if_needed()
        seen = watch_install(page, row, shot="models-panel-1280x800.png")

        assert len([p for p in seen if 0 < p < 100]) >= 3, seen  # the bar moved
        assert row.locator(".model-state").inner_text() == "Installed"
        assert row.get_by_role("button", name="Remove").is_visible()
        assert (home / "test-model" / "w.bin").stat().st_size == SIZE
        assert optin.get_attribute("data-state") == "missing"

        row.get_by_role("button", name="Remove").click()
        page.wait_for_selector("[data-model='test-model'][data-state='missing']")
        assert not (home / "test-model").exists()


def test_opt_in_model_on_a_phone_needs_its_license_ticked(browser: Any, hub: Any, tmp_path: Path) -> None:
    with live_server() as url, editor_page(browser, url, **PHONE) as phone:
        models = phone.locator("#models")
        box = models.bounding_box()
        assert box is not None and box["width"] >= 44 and box["x"] + box["width"] <= 390
        models.tap()
        row = phone.locator("#models-dialog [data-model='test-optin']")
        row.scroll_into_view_if_needed()
        install = row.get_by_role("button", name="Install")
        assert install.is_disabled()
        row.get_by_role("checkbox").tap()
        assert install.is_enabled()
        install.tap()
        seen = watch_install(phone, row, shot="models-panel-390x844.png")

        assert len([p for p in seen if 0 < p < 100]) >= 3, seen
        assert phone.evaluate("document.scrollingElement.scrollWidth - innerWidth") == 0
        assert (tmp_path / "home" / "models" / "test-optin" / "w.bin").stat().st_size == SIZE


def test_a_tool_says_which_engine_ran_and_offers_the_better_model(browser: Any, hub: Any, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(scene(320, 240).pixels, "PNG"))
    with live_server() as url, editor_page(browser, url) as page:
        open_photo(page, photo)
        panel = page.locator("section.panel:visible")  # Cleanup
        panel.get_by_label("Engine").select_option("patch")
        view = view_transform(page)
        paint(page, [to_page(view, 100, 100), to_page(view, 140, 120)])
        wait_idle(page, 1)

        note = panel.locator(".ran-with")
        note.get_by_text("Last run: erase (engine=patch)").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "engine-note-1280x800.png"))
        note.get_by_text("better with big-lama").wait_for()
        note.get_by_role("button", name="Get it (196 MiB)").click()

        wanted = page.locator("#models-dialog .model.wanted")
        wanted.wait_for()
        assert wanted.get_attribute("data-model") == "big-lama"
        assert wanted.get_by_role("button", name="Install").is_visible()
