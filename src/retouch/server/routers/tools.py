"""One endpoint per tool, made from its ``ToolSpec``: POST /api/<tool>.

Annotations here are evaluated at definition time (no ``from __future__ import annotations``): FastAPI reads
each tool's options model from the endpoint's signature.
"""

import asyncio
import inspect
import time
from pathlib import PurePath
from typing import Annotated, Any

import numpy as np
import pydantic
from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from retouch import masks as mask_ops
from retouch.errors import InvalidInput
from retouch.io.credentials import Parent
from retouch.server import imaging
from retouch.server.errors import ApiError
from retouch.server.jobs import Job
from retouch.server.options import tool_arguments
from retouch.server.routers.documents import ERRORS
from retouch.server.routers.jobs import answer
from retouch.server.routers.select import CLICKS_HELP, parse_clicks, parse_object_clicks
from retouch.server.schemas import JobInfo, StrokeMask
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.server.tools import ToolSpec
from retouch.tools import estimate
from retouch.types import Picture

MASK_PARAMETERS = ("mask", "strokes", "boxes")
# The mask fields, as the tool endpoints and the estimate endpoints take them.
MaskField = Annotated[UploadFile | None, File(description="Mask image, any size: white/opaque = change.")]
StrokesField = Annotated[str | None, Form(description="Brush strokes as JSON (see the StrokeMask schema).")]
BoxesField = Annotated[str | None, Form(description="Rectangles in image pixels: 'x,y,w,h;x,y,w,h'.")]
ClicksField = Annotated[str | None, Form(description=CLICKS_HELP, max_length=2000)]
ServicesField = Annotated[Services, Depends(get_services)]


def drop_mask_parameters(endpoint: Any, names: tuple[str, ...] = MASK_PARAMETERS) -> None:
    """Remove the mask fields from an endpoint's signature: FastAPI then neither takes nor documents them."""
    signature = inspect.signature(endpoint)
    kept = [p for p in signature.parameters.values() if p.name not in names]
    endpoint.__signature__ = signature.replace(parameters=kept)


def tool_router(spec: ToolSpec) -> APIRouter:
    router = APIRouter(tags=["tools"], responses=ERRORS)
    Options = spec.options

    async def run_tool(
        options: Annotated[Options, Form()],  # type: ignore[valid-type]
        services: ServicesField,
        document: Annotated[
            str | None, Form(description="Edit this document (an id from POST /api/documents).")
        ] = None,
        image: Annotated[
            UploadFile | None, File(description="Or edit this image file and get the result back.")
        ] = None,
        mask: MaskField = None,
        strokes: StrokesField = None,
        boxes: BoxesField = None,
        clicks: ClicksField = None,
        wait: Annotated[bool, Form(description="With a document: answer when the job is done.")] = False,
        quality: Annotated[int | None, Form(ge=1, le=100, description="With an image: JPEG/WebP quality.")] = None,
    ) -> Response:
        if (document is None) == (image is None):
            raise ApiError(422, "invalid_request", "send exactly one of 'document' (an id) or 'image' (a file)")
        stroke_mask = parse_strokes(strokes)
        clicked = bool(clicks and clicks.strip())
        if spec.uses_mask and mask is None and stroke_mask is None and not boxes and not clicked:
            raise ApiError(422, "invalid_request", "send a mask: 'mask' (an image), 'strokes', 'boxes' or 'clicks'")
        if clicked:  # the format and labels now; whether they fall inside the image once it is decoded
            parse_object_clicks(clicks, (2**31 - 1, 2**31 - 1))
        mask_file = await mask.read() if mask is not None else None
        masks = {"mask_file": mask_file, "strokes": stroke_mask, "boxes": boxes} if spec.uses_mask else None
        if clicked:
            masks = {**(masks or {}), "clicks": clicks}

        if document is not None:
            doc = services.store.get(document)
            if clicked:
                parse_clicks(clicks, (doc.width, doc.height))
            plan = quiet_estimate(spec, (doc.width, doc.height), options, None, services.settings.device)
            job = services.jobs.submit(
                spec.name,
                lambda job: _edit_document(services, spec, doc, options, masks, job),
                None if plan is None else plan.seconds,
                document=doc.id,
            )
            # the edit is committed to the document whether or not this client is still there to see it
            return await answer(services, job, wait)

        assert image is not None
        data = await image.read()
        filename = image.filename or "image"
        job = services.jobs.submit(
            spec.name, lambda job: _edit_file(services, spec, data, filename, options, masks, quality, job)
        )
        await _wait_for_file(services, job)
        content, fmt = job.take_result()
        name = imaging.download_name(filename, fmt, spec.name)
        return Response(
            content, media_type=imaging.media_type(fmt), headers={"Content-Disposition": imaging.attachment(name)}
        )

    run_tool.__doc__ = (
        f"{spec.summary}\n\nWith `document`, the edit is a job on that document (202 and the job; poll "
        "GET /api/jobs/{id}, or send wait=true). With `image`, the answer is the edited file, in its format."
    )
    dropped = (() if spec.uses_mask else MASK_PARAMETERS) + (() if spec.takes_clicks else ("clicks",))
    if dropped:
        drop_mask_parameters(run_tool, dropped)

    router.add_api_route(
        f"/api/{spec.name}",
        run_tool,
        methods=["POST"],
        summary=f"{spec.title}: run the '{spec.name}' tool",
        operation_id=f"run_{spec.name}",
        response_class=Response,
        responses={
            200: {
                "content": {"image/*": {}},
                "description": "With an image: the edited file. With a document and wait=true: the finished job.",
            },
            202: {"model": JobInfo, "description": "The job, queued (with a document)."},
        },
    )
    return router


def parse_strokes(strokes: str | None) -> StrokeMask | None:
    if not strokes:
        return None
    try:
        return StrokeMask.model_validate_json(strokes)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(422, "invalid_request", f"strokes{'.' + where if where else ''}: {first['msg']}") from None


async def _wait_for_file(services: Services, job: Job) -> None:
    try:
        await services.jobs.wait(job)
    except asyncio.CancelledError:  # the client went away: nobody can collect the edited file
        job.abandon()
        raise


def _run_timed(
    services: Services, spec: ToolSpec, picture: Picture, mask: np.ndarray | None, options: Any, job: Job
) -> Picture:
    """Run the tool with the job's progress, its estimate made from the picture and mask; the time it took is
    recorded for later estimates."""
    plan = quiet_estimate(spec, picture.size, options, mask, services.settings.device)
    if plan is not None:
        job.expect(plan.seconds)
    started = time.monotonic()
    result = spec.run(picture, mask, options, services.settings.device, job.report, services.settings.max_pixels)
    if plan is not None:
        estimate.record(plan, time.monotonic() - started)
    return result


def _edit_document(
    services: Services,
    spec: ToolSpec,
    doc: Document,
    options: Any,
    masks: dict[str, Any] | None,
    job: Job,
) -> dict[str, Any]:
    picture, revision = services.store.picture(doc)
    mask = request_mask(services, picture, masks, job, _click_model(spec, options))
    result = _run_timed(services, spec, picture, mask, options, job)
    job.report("saving", 0, 1)
    changed = services.store.commit(doc, result, spec.name, revision)
    return {"document": doc.info(), "changed": changed.to_dict()}


def _edit_file(
    services: Services,
    spec: ToolSpec,
    data: bytes,
    filename: str,
    options: Any,
    masks: dict[str, Any] | None,
    quality: int | None,
    job: Job,
) -> tuple[bytes, str]:
    picture = imaging.decode(data, services.settings.max_pixels, filename)
    mask = request_mask(services, picture, masks, job, _click_model(spec, options))
    result = _run_timed(services, spec, picture, mask, options, job)
    job.report("encoding", 0, 1)
    content, fmt = imaging.encode(result, quality, services.settings.provenance)
    title = imaging.download_name(filename, fmt, spec.name)
    parent = Parent(PurePath(filename).name, data)  # the request's own bytes: no copy
    return services.credentials.attach(content, fmt, result, title, parent), fmt


def _click_model(spec: ToolSpec, options: Any) -> str | None:
    return None if spec.click_model is None else spec.click_model(options)


def request_mask(
    services: Services,
    picture: Picture,
    masks: dict[str, Any] | None,
    job: Job,
    click_model: str | None = None,
) -> np.ndarray | None:
    """The request's mask: what was drawn (mask image, strokes, boxes) and the object its clicks select
    (``retouch.select`` with ``click_model``, None for its default), together; None when the request has
    neither."""
    if masks is None:
        return None
    drawn = {name: value for name, value in masks.items() if name != "clicks"}
    parts = []
    if any(value for value in drawn.values()):
        parts.append(build_mask(picture.size, services.settings.max_pixels, **drawn))
    if masks.get("clicks"):
        from retouch.tools.select import select

        points = parse_clicks(masks["clicks"], picture.size)
        parts.append(
            select(picture, points, model=click_model, device=services.settings.device, progress=job.report)
        )
    return mask_ops.combine(parts) if parts else None


def tool_estimate(
    spec: ToolSpec, size: tuple[int, int], options: Any, mask: np.ndarray | None, device: str
) -> estimate.Estimate:
    """The pre-start estimate of ``spec``'s tool on a picture of ``size`` with the validated form ``options``."""
    arguments = tool_arguments(spec.fields, options)
    return estimate.for_tool(spec.name, size, arguments, mask=mask, device=device)


def quiet_estimate(
    spec: ToolSpec, size: tuple[int, int], options: Any, mask: np.ndarray | None, device: str
) -> estimate.Estimate | None:
    """The estimate, or None for a tool without one or wrong options (the tool itself then says what is wrong)."""
    arguments = tool_arguments(spec.fields, options)
    return estimate.try_for_tool(spec.name, size, arguments, mask=mask, device=device)


def build_mask(
    size: tuple[int, int],
    max_pixels: int,
    *,
    mask_file: bytes | None = None,
    strokes: StrokeMask | None = None,
    boxes: str | None = None,
) -> np.ndarray:
    """The union of the request's masks at the image's full size: a mask image (any size: it is scaled to the
    image), brush strokes (over a canvas of any size) and boxes in image pixels."""
    parts = []
    if mask_file:
        parts.append(imaging.decode_mask(mask_file, size, max_pixels))
    if strokes is not None:
        drawn = [mask_ops.Stroke(s.points, s.radius, s.mode) for s in strokes.strokes]
        parts.append(mask_ops.mask_from_strokes(drawn, size, canvas=(strokes.width, strokes.height)))
    if boxes:
        parsed = [mask_ops.parse_box(text) for text in boxes.split(";") if text.strip()]
        parts.append(mask_ops.mask_from_boxes(parsed, size))
    if not parts:
        raise InvalidInput("no mask: send a mask image, brush strokes or boxes over what to change")
    return mask_ops.combine(parts)
