"""`retouch serve`: starts the web app and the API on localhost; a busy port is one clear error line."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

RETOUCH = str(Path(sys.executable).with_name("retouch"))


def test_serve_starts_on_localhost_and_serves_the_app_and_the_api() -> None:
    server = subprocess.Popen(
        [RETOUCH, "serve", "--port", "0", "--api-key", "k", "--queue-size", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(url + "api/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        assert "<title>Retouch</title>" in httpx.get(url, timeout=5).text
        assert httpx.get(url + "api/info", timeout=5).status_code == 401
        info = httpx.get(url + "api/info", headers={"X-API-Key": "k"}, timeout=5).json()
        assert info["limits"]["queue_size"] == 3
    finally:
        server.terminate()
        server.wait(15)
    assert server.returncode is not None


def test_a_busy_port_is_one_error_line_and_exit_code_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([RETOUCH, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("retouch: error:") and len(result.stderr.strip().splitlines()) == 1
    assert "--port" in result.stderr


def test_bad_settings_are_one_error_line() -> None:
    result = subprocess.run([RETOUCH, "serve", "--port", "99999"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "port" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_serve_command_module_imports_nothing_heavy() -> None:
    """`retouch --help` stays quick: FastAPI, uvicorn and numpy load only when the server starts."""
    code = (
        "import sys, retouch.cli.serve; print(sorted(m for m in ('fastapi', 'uvicorn', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
