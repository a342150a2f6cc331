"""Load test of the HTTP API: rounds of concurrent erase requests on 1-megapixel photos against a real server.

Each round sends CONCURRENCY requests at once: half edit a document (upload, erase with wait=true, download,
delete), half send the photo straight to POST /api/erase. Every request must succeed, and the server process's
resident memory must level off: after the first rounds (caches, compiled kernels, allocator pools) it may not keep
growing round after round.

    .venv/bin/python bench/load.py [--rounds 4] [--concurrency 20] [--workers 2]

Prints per-round timings and the server's RSS (Linux /proc); exits 1 on any failed request or on growth of more
than --max-growth-mb between the second and the last round. (With glibc, RSS drifts by some tens of MB as
threads get malloc arenas of their own; MALLOC_ARENA_MAX=2 shows the server's own memory flat.)
"""

from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

RETOUCH = str(Path(sys.executable).with_name("retouch"))


def start_server(port: int, queue: int, workers: int, **popen: object) -> subprocess.Popen:
    """The server as users run it: `retouch serve` on localhost."""
    command = [RETOUCH, "--quiet", "serve", "--port", str(port), "--queue-size", str(queue), "--workers", str(workers)]
    return subprocess.Popen(command, **popen)  # type: ignore[call-overload]


def photo(seed: int, width: int = 1200, height: int = 840) -> bytes:
    """A 1-megapixel JPEG: gradients, grain and a dark object to erase."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([90 + 60 * y / height, 140 + 40 * x / width, 200 - 80 * y / height], axis=2)
    pixels = np.clip(base + rng.normal(0, 4, (height, width, 1)), 0, 255).astype(np.uint8)
    pixels[380:460, 700:780] = (30, 25, 20)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen, limit_s: float = 60) -> None:
    """Return once the server at ``base`` answers /api/health; SystemExit if it dies or takes over ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            httpx.get(base + "/api/health", timeout=2).raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.2)


def document_session(client: httpx.Client, data: bytes) -> None:
    upload = client.post("/api/documents", files={"file": ("photo.jpg", data, "image/jpeg")})
    upload.raise_for_status()
    doc = upload.json()["id"]
    job = client.post("/api/erase", data={"document": doc, "boxes": "690,370,100,100", "wait": "true"})
    job.raise_for_status()
    assert job.json()["state"] == "done", job.text
    download = client.get(f"/api/documents/{doc}/download")
    download.raise_for_status()
    assert download.headers["content-type"] == "image/jpeg"
    client.delete(f"/api/documents/{doc}").raise_for_status()


def file_request(client: httpx.Client, data: bytes) -> None:
    response = client.post(
        "/api/erase", files={"image": ("photo.jpg", data, "image/jpeg")}, data={"boxes": "690,370,100,100"}
    )
    response.raise_for_status()
    assert response.content[:2] == b"\xff\xd8"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-growth-mb", type=float, default=150.0)
    args = parser.parse_args()

    port = free_port()
    server = start_server(
        port,
        args.concurrency + 4,
        args.workers,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        photos = [photo(seed) for seed in range(args.concurrency)]
        print(f"server pid {server.pid}, RSS at start {rss_mb(server.pid):.0f} MB")
        print(f"{args.rounds} rounds x {args.concurrency} concurrent 1.0-MP erase requests, {args.workers} workers")
        rss = []
        failures = 0
        with httpx.Client(base_url=base, timeout=600) as client, ThreadPoolExecutor(args.concurrency) as pool:
            for round_no in range(1, args.rounds + 1):
                started = time.monotonic()
                tasks = [
                    pool.submit(document_session if i % 2 == 0 else file_request, client, data)
                    for i, data in enumerate(photos)
                ]
                errors = [t.exception() for t in tasks if t.exception() is not None]
                failures += len(errors)
                rss.append(rss_mb(server.pid))
                elapsed = time.monotonic() - started
                print(
                    f"round {round_no}: {len(tasks) - len(errors)}/{len(tasks)} ok in {elapsed:.1f} s "
                    f"({elapsed / len(tasks):.2f} s per request), server RSS {rss[-1]:.0f} MB"
                )
                for error in errors[:3]:
                    print(f"  error: {error!r}")
        base_round = min(2, len(rss))
        growth = rss[-1] - rss[base_round - 1]
        print(f"RSS growth from round {base_round} to round {len(rss)}: {growth:+.0f} MB; failed requests: {failures}")
        ok = failures == 0 and growth <= args.max_growth_mb
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    sys.exit(main())
