"""Jobs: the progress and outcome of tool runs on documents and of model installs; poll until the state is done,
failed or cancelled."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from retouch.server.errors import ApiError
from retouch.server.jobs import Job
from retouch.server.routers.documents import ERRORS
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]
CANCEL_WAIT_S = 3.0  # tools stop within about 2 s of a cancel


async def answer(services: Services, job: Job, wait: bool) -> JSONResponse:
    """The answer to a request that started ``job`` on a document: 202 with where to poll it, or, when the client
    asked to ``wait``, the job's info once it has ended (it runs to its end either way)."""
    if not wait:
        return JSONResponse(job.info(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})
    await services.jobs.wait(job)
    return JSONResponse(job.info())


@router.get("/{job_id}", response_model=JobInfo, summary="A job's state, progress and result")
async def get_job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    return services.find_job(job_id)[1].info()


@router.delete("/{job_id}", response_model=JobInfo, summary="Cancel a job")
async def cancel_job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    """A queued job never starts; a running one stops within a second or two. The answer comes once it has
    stopped (state "cancelled"), or after CANCEL_WAIT_S with the job as it is then; a job that had already
    ended is answered as it ended."""
    queue, job = services.find_job(job_id)
    queue.cancel(job)
    try:
        await queue.wait(job, CANCEL_WAIT_S)
    except ApiError:  # the job's own outcome (cancelled, or failed meanwhile) is in its info
        pass
    return job.info()
