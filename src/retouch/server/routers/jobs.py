"""Jobs: the progress and outcome of tool runs on documents; poll until the state is done or failed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from retouch.server.routers.documents import ERRORS
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]


@router.get("/{job_id}", response_model=JobInfo, summary="A job's state, progress and result")
async def get_job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    return services.jobs.get(job_id).info()


@router.delete("/{job_id}", response_model=JobInfo, summary="Cancel a job")
async def cancel_job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    """A queued job never starts; a running one stops at its next progress report."""
    job = services.jobs.get(job_id)
    job.stop("cancelled")
    return job.info()
