"""Finding a document's text without erasing it: the mask the Remove text panel shows, for the user to correct
with the brush before erasing it with POST /api/erase.

Annotations here are evaluated at definition time (no ``from __future__ import annotations``): FastAPI reads
them to build the form fields.
"""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse

from retouch.server.imaging import png_data_url
from retouch.server.jobs import Job
from retouch.server.routers.documents import ERRORS
from retouch.server.routers.jobs import answer
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.tools.options.detext import GROW, KEEP

router = APIRouter(tags=["tools"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]


@router.post(
    "/api/documents/{doc_id}/text",
    response_model=JobInfo,
    status_code=202,
    summary="Find the text in a document: its mask and lines, nothing erased",
)
async def find_text(
    services: ServicesDep,
    doc_id: str,
    keep: Annotated[str | None, Form(description=KEEP.help, max_length=KEEP.max_length)] = None,
    grow: Annotated[int | None, Form(description=GROW.help, ge=0, le=int(GROW.bounds.high))] = None,  # type: ignore[union-attr]
    wait: Annotated[bool, Form(description="Answer when the job is done.")] = False,
) -> JSONResponse:
    """A job whose result, once done, is ``{"mask": a PNG data URL (white = text to erase, the document's size),
    "lines": [{"box": [x, y, w, h], "text": ... or null}], "kept": [...]}``."""
    doc = services.store.get(doc_id)
    job = services.jobs.submit("find-text", lambda job: _find(services, doc, keep, grow, job), document=doc.id)
    return await answer(services, job, wait)


def _find(services: Services, doc: Document, keep: str | None, grow: int | None, job: Job) -> dict[str, Any]:
    from retouch.tools.detext import find_text as find

    picture, _ = services.store.picture(doc)
    found = find(picture, keep=keep, grow=grow, device=services.settings.device, progress=job.report)
    job.report("encoding", 0, 1)
    return {
        "mask": png_data_url(found.mask.astype(np.uint8) * np.uint8(255)),
        "lines": [line.as_dict() for line in found.erased],
        "kept": [line.as_dict() for line in found.kept],
    }
