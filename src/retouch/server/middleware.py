"""ASGI middleware that guards the server before any endpoint runs: request size, the API key, headers."""

from __future__ import annotations

import contextlib
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retouch.server.errors import error_response

API_KEY_HEADER = "X-API-Key"
OPEN_PATHS = frozenset({"/api/health"})
# The web app loads nothing from elsewhere: this policy makes the browser enforce it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; script-src 'self'; style-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)


def key_matches(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 to a request body over ``max_bytes``: at once when Content-Length says so, else as soon as
    the streamed body passes the limit (the endpoint's own answer is then replaced)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        mib = self.max_bytes / (1024 * 1024)
        message = f"the request is larger than the server's upload limit of {mib:g} MiB"
        await error_response(413, "upload_too_large", message, {"Connection": "close"})(scope, receive, send)


class ApiKeyGuard:
    """With an API key set, every /api/ request but the health check needs it in the X-API-Key header."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        guarded = scope["type"] == "http" and path.startswith("/api/") and path not in OPEN_PATHS
        if guarded and scope.get("method") != "OPTIONS" and not key_matches(_header(scope, b"x-api-key"), self.api_key):
            response = error_response(
                401, "unauthorized", f"this server needs an API key: send it in the {API_KEY_HEADER} header"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """No MIME sniffing, no referrer, no framing, and a content security policy that allows only this origin."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1").strip()
    return None
