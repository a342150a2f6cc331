"""`retouch serve`: the HTTP API and the web app, on this machine (localhost) by default."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from retouch.cli.common import DeviceOption, state
from retouch.server.settings import ServerSettings

DEFAULTS = ServerSettings()  # light: the settings module imports nothing heavy
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Seconds the server waits, once stopping, for requests under way: jobs are cancelled first, so they end at once.
GRACEFUL_S = 2


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; the default serves this machine only.")
    ] = DEFAULTS.host,
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on (0: any free port).")] = DEFAULTS.port,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the web app in the browser once started.")] = False,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="RETOUCH_API_KEY", help="Require this key in the X-API-Key header of API calls."
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin", help="Allow browser calls from this origin (repeatable; CORS is off by default)."
        ),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", envvar="RETOUCH_MAX_UPLOAD_MB", min=0.001, help="Largest request body.")
    ] = DEFAULTS.max_upload_bytes / (1024 * 1024),
    max_megapixels: Annotated[
        float, typer.Option("--max-megapixels", envvar="RETOUCH_MAX_MEGAPIXELS", min=0.001, help="Largest image.")
    ] = DEFAULTS.max_megapixels,
    queue_size: Annotated[
        int, typer.Option("--queue-size", envvar="RETOUCH_QUEUE_SIZE", min=1, help="Jobs queued or running at once.")
    ] = DEFAULTS.queue_size,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Jobs run in parallel.")] = DEFAULTS.workers,
    stall_timeout: Annotated[
        float,
        typer.Option(
            "--stall-timeout",
            "--timeout",  # its name before jobs were limited by stalls instead of total time
            envvar="RETOUCH_STALL_TIMEOUT",
            min=1,
            help="Stop a job that reports no progress for this many seconds (a job making progress is never "
            "stopped).",
        ),
    ] = DEFAULTS.stall_timeout_s,
    device: Annotated[str, DeviceOption] = DEFAULTS.device,
    insecure_public: Annotated[
        bool,
        typer.Option(
            "--insecure-public",
            help="Serve a --host beyond this machine without an API key: anyone who can reach the address can "
            "upload images, run every tool and download every document. Without it such a host needs --api-key.",
        ),
    ] = False,
    no_provenance: Annotated[
        bool,
        typer.Option(
            "--no-provenance",
            help="Hand out edited images without the AI-edit marks: no provenance XMP, no Content Credentials.",
        ),
    ] = False,
) -> None:
    """Serve the web editor and the HTTP API (OpenAPI at /api/openapi.json).

    Ctrl+C or SIGTERM stops it within a few seconds: running jobs are cancelled, the documents' temporary folder
    is removed, one line says so and the exit code is 130 or 143."""
    import uvicorn

    from retouch.server import ServerSettings, create_app
    from retouch.server.services import preload_libraries

    settings = ServerSettings(
        host=host,
        port=port,
        api_key=api_key or None,
        cors_origins=tuple(cors_origin or ()),
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_megapixels=max_megapixels,
        queue_size=queue_size,
        workers=workers,
        stall_timeout_s=stall_timeout,
        device=device,
        insecure_public=insecure_public,
        provenance=not no_provenance,
    )
    quiet = state(ctx).quiet
    if not settings.is_loopback and settings.api_key is None:
        typer.echo(
            f"retouch: warning: serving on {host} without an API key (--insecure-public): anyone who can reach it "
            "can use it",
            err=True,
        )
    listener = _bind(host, port)
    preload_libraries()  # before the first request: importing them later would hold up /api/health meanwhile
    url = f"http://{'[' + host + ']' if ':' in host else host}:{listener.getsockname()[1]}/"
    app = create_app(settings)
    services = app.state.services
    if settings.provenance:  # an unusable signing setup is one error line now, not a failed download later
        try:
            services.credentials.pair()
        except BaseException:
            services.close()
            listener.close()
            raise
    config = uvicorn.Config(app, log_level="warning" if quiet else "info", timeout_graceful_shutdown=GRACEFUL_S)
    server = _make_server(config, services.jobs.shutdown)
    if not quiet:
        typer.echo(f"Retouch is running at {url} (press Ctrl+C to stop)")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _: received.append(signum)) for signum in STOP_SIGNALS}
    try:
        # uvicorn handles the signals while it runs, then raises each again for the handlers it found: ours
        server.run(sockets=[listener])
    finally:
        services.close()  # already done by the app's shutdown, unless a second Ctrl+C cut that short
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        name = "interrupted" if received[0] == signal.SIGINT else "terminated"
        sys.stderr.write(f"retouch: {name}; the server stopped, its jobs cancelled and its temporary files removed\n")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(128 + received[0])  # the exit code of a command stopped by that signal; a stuck job thread ends too


def _make_server(config: Any, cancel_jobs: Callable[[], object]) -> Any:
    """A uvicorn server that cancels every job as soon as it is asked to stop: the requests waiting on jobs then
    end at once, and the shutdown does not wait out the graceful timeout for them."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            cancel_jobs()
            await super().shutdown(sockets)

    return Server(config)


def _bind(host: str, port: int) -> socket.socket:
    """Bind before starting, so a busy port is one clear error line rather than a server log."""
    from retouch.errors import InvalidInput

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as error:
        raise InvalidInput(
            f"cannot listen on {host}:{port} ({error.strerror or error}); pick another --port or --host"
        ) from None
    return listener


def _open_when_started(server: object, url: str, limit_s: float = 30.0) -> None:
    import webbrowser

    deadline = time.monotonic() + limit_s
    while not getattr(server, "started", False) and time.monotonic() < deadline:
        time.sleep(0.1)
    webbrowser.open(url)
