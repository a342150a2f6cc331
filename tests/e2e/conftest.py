"""Browser tests: headless Debian Chromium driven by Playwright against the real server on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# The session's browser (the `browser` fixture) is defined in tests/conftest.py, so tests outside e2e/ share it.


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with live_server() as url:
        yield url


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@contextmanager
def editor_page(browser: Any, url: str, **context_options: Any) -> Iterator[Any]:
    """The editor loaded in a fresh browser context (1280x800 unless told otherwise), its info fetched; fails the
    test on any error in the page."""
    # The tests evaluate scripts in the page, which its Content-Security-Policy forbids; one test runs the page
    # under its policy.
    options = {"viewport": {"width": 1280, "height": 800}, "accept_downloads": True, "bypass_csp": True}
    context = browser.new_context(**{**options, **context_options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "/")
    page.wait_for_function("window.retouch && window.retouch.info !== null")
    yield page
    context.close()
    assert errors == [], f"errors in the page: {errors}"


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    with editor_page(browser, server_url) as page:
        yield page


@pytest.fixture
def phone(browser: Any, server_url: str) -> Iterator[Any]:
    """The editor on a 390x844 touch phone."""
    with editor_page(browser, server_url, **PHONE) as page:
        yield page


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest):
    """Save a screenshot of the page as a test artifact: artifacts/<test>-<label>.png."""

    def take(label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{label}.png"
        page.screenshot(path=str(path))
        return path

    return take
