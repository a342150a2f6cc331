"""What the server is and what it offers: a health check and the tools with their options and limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from retouch import __version__
from retouch.server.schemas import EngineInfo, OptionInfo, ServerInfo, ToolInfo
from retouch.server.services import Services, get_services

router = APIRouter(prefix="/api", tags=["system"])
ServicesDep = Annotated[Services, Depends(get_services)]


@router.get("/health", summary="Liveness check (never needs the API key)")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/info", response_model=ServerInfo, summary="Version, limits and the tools with their options")
async def info(services: ServicesDep) -> dict[str, Any]:
    settings = services.settings
    tools = [
        ToolInfo(
            name=spec.name,
            title=spec.title,
            summary=spec.summary,
            endpoint=f"/api/{spec.name}",
            uses_mask=spec.uses_mask,
            options=spec.options.model_json_schema(),
            engines=[EngineInfo(name=name, available=usable) for name, usable in spec.engines().items()],
            fields=[OptionInfo(**option.describe()) for option in spec.fields],
        )
        for spec in services.tools.values()
    ]
    return {
        "version": __version__,
        "api_key_required": settings.api_key is not None,
        "limits": {
            "max_upload_bytes": settings.max_upload_bytes,
            "max_megapixels": settings.max_megapixels,
            "queue_size": settings.queue_size,
            "stall_timeout_s": settings.stall_timeout_s,
            "max_history": settings.max_history,
        },
        "tools": tools,
    }
