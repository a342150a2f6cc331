"""How fast the server answers GET /api/health while one heavy request runs: the promise is within 100 ms under
any single request, since the tools run in worker threads and the drawing, decoding and encoding off the event
loop.

Starts `retouch serve` with one worker (its default), then for each heavy request polls
/api/health every 20 ms from another connection until the request has ended, and prints the latencies' median,
95th percentile and maximum:

- upload of a 12-megapixel JPEG (decoded in an I/O thread);
- the strokes request that once stalled the server for two minutes: 4 strokes of 10 points, radius 100000;
- erase of a 400x400 box in the 12-megapixel photo, then its JPEG download;
- upscale x4 of a 0.3-megapixel photo (the default model: a job of several seconds).

    .venv/bin/python bench/health.py

Exits 1 when any maximum is 100 ms or more.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable

import httpx
import numpy as np
from load import free_port, start_server, wait_until_up
from PIL import Image

LIMIT_S = 0.1
POLL_S = 0.02


def jpeg(width: int, height: int, seed: int = 0) -> bytes:
    """A photo-like JPEG: gradients, grain, a dark object."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([90 + 60 * y / height, 140 + 40 * x / width, 200 - 80 * y / height], axis=2)
    pixels = np.clip(base + rng.normal(0, 6, (height, width, 1)), 0, 255).astype(np.uint8)
    pixels[height // 2 - 150 : height // 2 + 150, width // 2 - 150 : width // 2 + 150] = (30, 25, 20)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92)
    return out.getvalue()


def latencies_during(client: httpx.Client, heavy: Callable[[], None]) -> list[float]:
    """Health latencies measured while ``heavy`` runs in another thread."""
    done = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            heavy()
        except BaseException as error:  # reported below
            failure.append(error)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    seen = []
    begun = time.perf_counter()
    while not done.is_set():
        started = time.perf_counter()
        client.get("/api/health").raise_for_status()
        seen.append(time.perf_counter() - started)
        if seen[-1] > LIMIT_S / 2:
            print(f"    slow answer {seen[-1] * 1000:.0f} ms at {started - begun:.2f} s")
        time.sleep(POLL_S)
    if failure:
        raise failure[0]
    return seen


def main() -> int:
    port = free_port()
    server = start_server(port, queue=8, workers=1)
    base = f"http://127.0.0.1:{port}"
    big, small = jpeg(4000, 3000), jpeg(640, 480, 1)
    try:
        wait_until_up(base, server)
        with httpx.Client(base_url=base, timeout=600) as heavy, httpx.Client(base_url=base, timeout=30) as probe:
            document: list[str] = []

            def upload() -> None:
                answer = heavy.post("/api/documents", files={"file": ("big.jpg", big, "image/jpeg")})
                answer.raise_for_status()
                document.append(answer.json()["id"])

            def strokes() -> None:
                rng = np.random.default_rng(2)
                drawn = [{"points": rng.uniform(0, [4000, 3000], (10, 2)).round(1).tolist(), "radius": 100000}]
                drawn = drawn * 4 + [{"points": [[2000, 1500]], "radius": 300, "mode": "erase"}]
                body = json.dumps({"width": 4000, "height": 3000, "strokes": drawn})
                answer = heavy.post("/api/erase", data={"document": document[0], "strokes": body, "wait": "true"})
                if answer.status_code >= 500:
                    answer.raise_for_status()
                heavy.post(f"/api/documents/{document[0]}/undo")

            def erase() -> None:
                answer = heavy.post(
                    "/api/erase", data={"document": document[0], "boxes": "1800,1300,400,400", "wait": "true"}
                )
                answer.raise_for_status()
                heavy.get(f"/api/documents/{document[0]}/download").raise_for_status()

            def upscale() -> None:
                answer = heavy.post(
                    "/api/upscale", files={"image": ("small.jpg", small, "image/jpeg")}, data={"scale": "4"}
                )
                answer.raise_for_status()

            worst = 0.0
            print(f"GET /api/health every {POLL_S * 1000:.0f} ms while one request runs (server: 1 worker)")
            for name, work in (
                ("upload 12 MP JPEG", upload),
                ("strokes radius 100000", strokes),
                ("erase 400x400 in 12 MP + download", erase),
                ("upscale x4 0.3 MP, first", upscale),
                ("upscale x4 0.3 MP, again", upscale),
            ):
                started = time.perf_counter()
                seen = latencies_during(probe, work)
                took = time.perf_counter() - started
                p95 = statistics.quantiles(seen, n=20, method="inclusive")[-1] if len(seen) > 1 else seen[0]
                print(
                    f"  {name:36s} {took:6.1f} s, {len(seen):4d} answers: median {statistics.median(seen) * 1000:5.1f}"
                    f" ms, p95 {p95 * 1000:5.1f} ms, max {max(seen) * 1000:5.1f} ms"
                )
                worst = max(worst, max(seen))
    finally:
        server.terminate()
        server.wait(30)
    verdict = "PASS" if worst < LIMIT_S else "FAIL"
    print(f"{verdict}: slowest answer {worst * 1000:.1f} ms (limit {LIMIT_S * 1000:.0f} ms)")
    return 0 if worst < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
