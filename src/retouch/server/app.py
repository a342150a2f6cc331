"""The app factory: routers, error handlers, middleware and the shared services, from one ServerSettings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader

from retouch import __version__
from retouch.server.errors import ApiError, install_error_handlers
from retouch.server.middleware import API_KEY_HEADER, ApiKeyGuard, BodyLimit, SecurityHeaders, key_matches
from retouch.server.routers import documents, generative, jobs, models, relight, select, system, text
from retouch.server.routers.estimates import estimate_router
from retouch.server.routers.tools import tool_router
from retouch.server.routers.web import load_assets, web_router
from retouch.server.services import Services, get_services
from retouch.server.settings import ServerSettings
from retouch.server.tools import all_tools

DESCRIPTION = """Retouch's HTTP API: the same tools as the Python API and the `retouch` command.

Upload an image as a document (`POST /api/documents`), run tools on it (`POST /api/<tool>` with `document`),
poll the job, undo and redo, and download the result in its original format with its metadata. Or send an
image straight to a tool and get the edited file back. Every error answers `{"error": {"code", "message"}}`.
"""

_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Needed when the server has a key.")


def _require_key(
    key: Annotated[str | None, Security(_api_key_header)], services: Annotated[Services, Depends(get_services)]
) -> None:
    """Checked by middleware before the body is read; declared here too so that OpenAPI documents it."""
    expected = services.settings.api_key
    if expected is not None and not key_matches(key, expected):
        raise ApiError(401, "unauthorized", f"this server needs an API key: send it in the {API_KEY_HEADER} header")


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """A ready FastAPI app. Its documents and jobs are released when the app shuts down (the lifespan)."""
    settings = settings or ServerSettings()
    tools = all_tools()
    services = Services.start(settings, tools)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="Retouch",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the stock docs pages load scripts from a CDN; the server works offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)

    guarded = [Depends(_require_key)] if settings.api_key else []
    app.include_router(system.router)
    tool_routers = [router for tool in tools for router in (tool_router(tool), estimate_router(tool))]
    routers = (
        documents.router, jobs.router, models.router, text.router, select.router, relight.router, generative.router
    )
    for router in (*routers, *tool_routers):
        app.include_router(router, dependencies=guarded)
    app.include_router(web_router(load_assets()))

    # Added innermost first: CORS (when enabled) sees every request first, then the headers, key and size.
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    if settings.api_key:
        app.add_middleware(ApiKeyGuard, api_key=settings.api_key)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[API_KEY_HEADER, "Content-Type"],
        )
    return app
