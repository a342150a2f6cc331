"""How long and how far, in headless Chromium: the estimate next to a tool's run button (and nothing when the server
cannot estimate), a job's stage, count, time left and bar, and Cancel, which ends in a neutral notice. The estimate
and the job are the server's answers faked with page.route, so timings are exact and no job runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from e2e.photos import encode, scene
from e2e.test_editor import open_photo

pytestmark = pytest.mark.slow

JOB = "job-under-test"


def json_reply(route: Any, body: dict[str, Any], status: int = 200) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


def job(state: str, **progress: Any) -> dict[str, Any]:
    error = {"code": "cancelled", "message": "the job was cancelled"} if state == "cancelled" else None
    timing = {"stage": "", "done": 0, "total": 0, "elapsed_s": 0.0, "eta_s": None, "updated": time.time()}
    return {
        "id": JOB, "tool": "restore", "state": state, "progress": {**timing, **progress},
        "created": time.time(), "started": None, "finished": None, "result": None, "error": error,
    }  # fmt: skip


def open_restore(page: Any, tmp_path: Path) -> Any:
    source = tmp_path / "p.png"
    source.write_bytes(encode(scene(120, 80).pixels, "PNG"))
    open_photo(page, source)
    page.locator(".tool-tab", has_text="Restore").click()
    return page.locator("section.panel:not([hidden])")


def test_the_estimate_shows_next_to_the_run_button(page: Any, tmp_path: Path) -> None:
    answer: dict[str, Any] = {"status": 200, "seconds": 42.0}
    asked: list[bytes] = []

    def estimate(route: Any) -> None:
        asked.append(route.request.post_data_buffer)
        json_reply(route, {"seconds": answer["seconds"], "basis": "typical"}, answer["status"])

    page.route("**/api/estimate/restore", estimate)
    panel = open_restore(page, tmp_path)
    shown = panel.locator("[data-estimate]")
    shown.wait_for(state="visible")
    assert shown.inner_text() == "about 40 s"
    assert b'name="document"' in asked[-1] and b'name="upscale"\r\n\r\n1' in asked[-1]  # the run's own fields

    answer["seconds"] = 150.0
    panel.locator("[data-upscale]").select_option("4")  # a changed option asks again
    page.wait_for_function("() => document.querySelector('section.panel:not([hidden]) [data-estimate]').textContent === 'about 3 min'")
    assert b'name="upscale"\r\n\r\n4' in asked[-1]

    answer["seconds"] = 1.5  # quick work: nothing worth saying
    panel.locator("[data-upscale]").select_option("2")
    shown.wait_for(state="hidden")
    answer.update(status=404, seconds=0)  # a server without estimates
    panel.locator("[data-upscale]").select_option("3")
    page.wait_for_timeout(700)
    assert shown.is_hidden() and len(asked) == 4


def test_progress_time_left_and_a_neutral_cancel(page: Any, tmp_path: Path) -> None:
    state = {"cancel_asked": False, "ended": False}

    def job_route(route: Any) -> None:
        if route.request.method == "DELETE":
            state["cancel_asked"] = True
            json_reply(route, job("running", stage="upscale", done=1, total=4, elapsed_s=20.0, eta_s=75.0))
        elif state["ended"]:
            json_reply(route, job("cancelled", stage="upscale", done=1, total=4, elapsed_s=21.0))
        else:
            json_reply(route, job("running", stage="upscale", done=1, total=4, elapsed_s=20.0, eta_s=75.0))

    page.route(f"**/api/jobs/{JOB}", job_route)
    page.route("**/api/restore", lambda route: json_reply(route, job("queued"), 202))
    panel = open_restore(page, tmp_path)
    panel.locator("[data-run]").click()
    pill = page.locator("#busy")
    pill.wait_for(state="visible")
    page.wait_for_function("document.getElementById('busy-eta').textContent !== ''")
    assert page.locator("#busy-label").inner_text() == "Restoring…"
    assert page.locator("#busy-stage").inner_text() == "upscale"
    assert page.locator("#busy-count").inner_text() == "1/4"
    assert page.locator("#busy-eta").inner_text() == "about 1 min left"
    width = page.evaluate("document.getElementById('busy-bar').style.width")
    assert width == f"{round(20 / 95 * 100)}%"  # elapsed over elapsed + left

    cancel = page.locator("#busy-cancel")
    cancel.click()
    page.wait_for_function("() => document.getElementById('busy-cancel').textContent === 'Cancelling…'")
    assert cancel.is_disabled() and state["cancel_asked"] and pill.is_visible()
    scale = page.evaluate("window.retouch.viewer.scale")
    page.locator("#zoom-in").click()  # the editor is usable while the job winds down
    assert page.evaluate("window.retouch.viewer.scale") > scale

    state["ended"] = True
    notice = page.locator("#toast")
    notice.wait_for(state="visible")
    assert notice.inner_text().startswith("Cancelled.")
    assert "error" not in notice.get_attribute("class")
    shown = notice.evaluate("(box) => getComputedStyle(box).backgroundColor")
    notice.evaluate("(box) => box.classList.add('error')")  # the error style, for comparison
    assert notice.evaluate("(box) => getComputedStyle(box).backgroundColor") != shown
    assert pill.is_hidden() and page.evaluate("document.body.dataset.busy") == "false"
    assert panel.locator("[data-run]").is_enabled() and page.evaluate("document.body.dataset.version") == "0"


def test_progress_without_timing_shows_the_count(page: Any, tmp_path: Path) -> None:
    """An older server's progress (no elapsed_s, eta_s): the count and a bar, no time left."""
    polls: list[int] = []

    def job_route(route: Any) -> None:
        polls.append(1)
        body = job("running" if len(polls) < 8 else "failed", stage="tiles", done=2, total=4)
        for field in ("elapsed_s", "eta_s", "updated"):
            del body["progress"][field]
        if body["state"] == "failed":
            body["error"] = {"code": "engine_failed", "message": "the engine stopped"}
        json_reply(route, body)

    page.route(f"**/api/jobs/{JOB}", job_route)
    page.route("**/api/restore", lambda route: json_reply(route, job("queued"), 202))
    panel = open_restore(page, tmp_path)
    panel.locator("[data-run]").click()
    page.wait_for_function("document.getElementById('busy-count').textContent === '2/4'")
    assert page.locator("#busy-eta").is_hidden()
    assert page.evaluate("document.getElementById('busy-bar').style.width") == "50%"
    notice = page.locator("#toast")
    notice.wait_for(state="visible")
    assert notice.inner_text().startswith("The engine stopped.") and "error" in notice.get_attribute("class")
