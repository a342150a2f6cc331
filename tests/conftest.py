"""Suite-wide: in CI a test may not skip because ``../shared`` or Chromium is missing (see ``shared_data``); the
one headless browser of a session, for the browser tests wherever they are; a signing certificate and key for the
Content Credentials every edited output gets, so that no test creates one in the user's Retouch home (nor
prints the notice that goes with it); the tiny random diffusion model of the generative tools' tests.

The tests that use the shared photos and weights skip with a reason naming the folder; with ``CI`` set the hook
below turns exactly those skips into failures. The browser fixture calls ``shared_data.unavailable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared_data import in_ci, is_missing_requirement, unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session", autouse=True)
def signing_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(certificate chain, key) PEM files named by RETOUCH_SIGN_CERT and RETOUCH_SIGN_KEY for the whole session,
    commands run as subprocesses included (tests of the local key remove the variables)."""
    from retouch.io.signing import CERT_VARIABLE, KEY_VARIABLE, new_local_pair

    folder = tmp_path_factory.mktemp("signing")
    chain, key = new_local_pair()
    (folder / "chain.pem").write_bytes(chain)
    (folder / "key.pem").write_bytes(key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CERT_VARIABLE, str(folder / "chain.pem"))
        patch.setenv(KEY_VARIABLE, str(folder / "key.pem"))
        yield folder / "chain.pem", folder / "key.pem"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser build)."""
    if not CHROMIUM.exists():
        unavailable("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("browser tests need the playwright package")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or not in_ci():
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if is_missing_requirement(reason):
        report.outcome = "failed"
        report.longrepr = f"CI is set, so this cannot be skipped: {reason}"


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny random diffusion model's files (tests/diffusion_tiny.py), written once per run."""
    import diffusion_tiny

    return diffusion_tiny.write_model(tmp_path_factory.mktemp("tiny-diffusion"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, offline Retouch home, tmp_path / "home" (modules may define their own)."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    return tmp_path / "home"


@pytest.fixture
def only_tiny(home: Path, tiny_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, offline Retouch home whose catalogue's only generative row is the tiny model, not pulled yet;
    answers the home."""
    import diffusion_tiny

    from retouch.models import registry

    for name in [n for n, s in registry._REGISTRY.items() if s.task == "generate"]:
        monkeypatch.delitem(registry._REGISTRY, name)
    monkeypatch.setitem(registry._REGISTRY, diffusion_tiny.NAME, diffusion_tiny.spec_for(tiny_files))
    return home


@pytest.fixture
def tiny(only_tiny: Path, tiny_files: dict[str, Path]) -> str:
    """The tiny model in that home as ``retouch models pull`` leaves it; answers its name."""
    import diffusion_tiny

    diffusion_tiny.install(only_tiny, tiny_files)
    return diffusion_tiny.NAME
