"""Running the server in tests: an in-process client for API tests, a live uvicorn server for the browser."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from PIL import Image

from retouch.server import ServerSettings, create_app


@contextmanager
def api_client(**settings: Any) -> Iterator[Any]:
    """A TestClient of a fresh app (its lifespan runs, so its documents are deleted afterwards)."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(ServerSettings(**settings))) as client:
        yield client


@contextmanager
def live_server(**settings: Any) -> Iterator[str]:
    """The real app under uvicorn in a thread, on a free localhost port; yields its base URL."""
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(ServerSettings(**settings)), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@contextmanager
def editor_with_photo(browser: Any, url: str, photo: Any, timeout_s: float = 60) -> Iterator[Any]:
    """A desktop-sized page of the web app at ``url`` with ``photo`` (a path) open; on leaving, no script error
    may have happened in the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "/")
    page.wait_for_function("window.retouch && window.retouch.info !== null")
    page.set_input_files("#file-input", str(photo))
    page.wait_for_selector("body[data-busy='false'][data-version='0']", state="attached", timeout=timeout_s * 1000)
    yield page
    context.close()
    assert errors == [], errors


def upload(client: Any, data: bytes, name: str = "photo.jpg") -> dict[str, Any]:
    response = client.post("/api/documents", files={"file": (name, data, "application/octet-stream")})
    assert response.status_code == 201, response.text
    return response.json()


def erase(client: Any, doc_id: str, **fields: Any) -> Any:
    """Erase on a document and wait for the job (engine 'patch' unless given)."""
    data = {"document": doc_id, "wait": "true", "engine": "patch", **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/erase", data=data)


def working_pixels(client: Any, doc_id: str, **region: int) -> np.ndarray:
    """The document's current pixels, losslessly (PNG preview)."""
    response = client.get(f"/api/documents/{doc_id}/preview", params={"format": "png", **region})
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as image:
        return np.asarray(image.convert("RGB"))


def assert_error(response: Any, status: int, code: str) -> str:
    """The stable error shape: {"error": {"code": ..., "message": ...}} and nothing else; returns the message."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["message"])
