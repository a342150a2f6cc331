"""The web app's static files. They are read into memory at start-up from the package's ``web`` directory, and
requests only look names up in that table: no path from a request reaches the file system."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from retouch.server.errors import ApiError

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str
    etag: str


def load_assets(directory: Path = WEB_DIR) -> dict[str, Asset]:
    """Every servable file under ``directory``, by its path relative to it (with forward slashes)."""
    assets = {}
    for path in sorted(directory.rglob("*")):
        media = MEDIA_TYPES.get(path.suffix)
        if path.is_file() and media is not None:
            content = path.read_bytes()
            etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
            assets[path.relative_to(directory).as_posix()] = Asset(content, media, etag)
    return assets


def web_router(assets: dict[str, Asset]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def serve(name: str, request: Request) -> Response:
        asset = assets.get(name)
        if asset is None:
            raise ApiError(404, "not_found", "no such page or file")
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.content, media_type=asset.media_type, headers=headers)

    @router.get("/")
    async def index(request: Request) -> Response:
        return serve("index.html", request)

    @router.get("/favicon.ico")
    async def favicon(request: Request) -> Response:
        return serve("favicon.svg", request)

    @router.get("/static/{name:path}")
    async def static(name: str, request: Request) -> Response:
        return serve(name, request)

    return router
