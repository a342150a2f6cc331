"""Selecting an object by clicking it: the mask the web app's Select mode shows, for the user to erase, cut out or
relight; the tool endpoints take the same clicks themselves.

Annotations here are evaluated at definition time (no ``from __future__ import annotations``): FastAPI reads
them to build the form fields.
"""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse

from retouch.errors import InvalidInput
from retouch.server.errors import ApiError
from retouch.server.imaging import png_data_url
from retouch.server.jobs import Job
from retouch.server.routers.documents import ERRORS
from retouch.server.routers.jobs import answer
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.tools.select.prompts import check_box, check_clicks, parse_labelled

router = APIRouter(tags=["tools"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]
CLICKS_HELP = "Clicks in image pixels, 'x,y,label;x,y,label': label 1 adds the object under it, 0 removes it."
BOX_HELP = "A box around the object in image pixels, 'x,y,w,h'."
MAX_CLICKS = 64


def parse_clicks(text: str | None, size: tuple[int, int]) -> list[tuple[int, int, int]]:
    """The form's clicks, checked against the image of ``size``; ApiError 422 when malformed or outside it."""
    try:
        points = [parse_labelled(part) for part in (text or "").split(";") if part.strip()]
    except InvalidInput as error:
        raise ApiError(422, "invalid_request", f"clicks: {error}") from None
    if len(points) > MAX_CLICKS:
        raise ApiError(
            422,
            "invalid_request",
            f"clicks: at most {MAX_CLICKS} clicks, got {len(points)}",
        )
    try:
        check_clicks(points, size)
    except InvalidInput as error:
        raise ApiError(422, "invalid_request", f"clicks: {error}") from None
    return points


def parse_object_clicks(text: str, size: tuple[int, int]) -> list[tuple[int, int, int]]:
    """Clicks that select an object, as a tool takes them: ``parse_clicks``, at least one of them on the object."""
    points = parse_clicks(text, size)
    if not any(label == 1 for _, _, label in points):
        raise ApiError(422, "invalid_request", "clicks: add a click on the object (x,y,1)")
    return points


def parse_select_box(text: str | None, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    if not text or not text.strip():
        return None
    from retouch.masks import parse_box

    try:
        return check_box(parse_box(text), size)
    except InvalidInput as error:
        raise ApiError(422, "invalid_request", f"box: {error}") from None


@router.post(
    "/api/documents/{doc_id}/select",
    response_model=JobInfo,
    status_code=202,
    summary="Select the object under clicks (or in a box): its mask, nothing changed",
)
async def select_object(
    services: ServicesDep,
    doc_id: str,
    clicks: Annotated[str | None, Form(description=CLICKS_HELP, max_length=2000)] = None,
    box: Annotated[str | None, Form(description=BOX_HELP, max_length=100)] = None,
    wait: Annotated[bool, Form(description="Answer when the job is done.")] = False,
) -> JSONResponse:
    """A job whose result, once done, is ``{"mask": a PNG data URL (white = selected, the document's size),
    "area": the selected pixel count}``."""
    doc = services.store.get(doc_id)
    size = (doc.width, doc.height)
    points, frame = parse_clicks(clicks, size), parse_select_box(box, size)
    if frame is None and not any(label == 1 for _, _, label in points):
        raise ApiError(
            422,
            "invalid_request",
            "send a click on the object (clicks=x,y,1) or a box around it",
        )
    job = services.jobs.submit(
        "select",
        lambda job: _select(services, doc, points, frame, job),
        document=doc.id,
    )
    return await answer(services, job, wait)


def _select(
    services: Services,
    doc: Document,
    points: list[tuple[int, int, int]],
    box: tuple[int, int, int, int] | None,
    job: Job,
) -> dict[str, Any]:
    from retouch.tools.select import select

    picture, _ = services.store.picture(doc)
    mask = select(picture, points, box, device=services.settings.device, progress=job.report)
    job.report("encoding", 0, 1)
    return {
        "mask": png_data_url(mask.astype(np.uint8) * np.uint8(255)),
        "area": int(mask.sum()),
    }
