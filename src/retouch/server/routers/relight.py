"""A document's relighting geometry, for a page that shades it live: normals, height, matte and albedo, once.

The geometry is made at the document's full size (exactly what POST /api/relight lights) and sent at a preview
size, so the page's shading of it matches the server's at that size.

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
from retouch.server.routers.select import parse_object_clicks
from retouch.server.routers.tools import ClicksField
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.tools.options.relight import DETAIL, FACES, MODEL, NO_MODEL

router = APIRouter(tags=["tools"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]
PREVIEW_PIXELS = 1_000_000  # the maps' default size: about a megapixel, the page's live preview
MAX_PREVIEW_PIXELS = 4_000_000


@router.post(
    "/api/documents/{doc_id}/relight-geometry",
    response_model=JobInfo,
    status_code=202,
    summary="The relighting geometry of a document (normals, height, matte, albedo) for live shading",
)
async def relight_geometry(
    services: ServicesDep,
    doc_id: str,
    model: Annotated[str, Form(description=MODEL.help, max_length=100)] = MODEL.default,
    faces: Annotated[bool, Form(description=FACES.help)] = FACES.default,
    detail: Annotated[float, Form(description=DETAIL.help, ge=0, le=4)] = DETAIL.default,
    pixels: Annotated[
        int, Form(description="The maps' size in pixels (the aspect ratio is kept).", ge=1, le=MAX_PREVIEW_PIXELS)
    ] = PREVIEW_PIXELS,
    clicks: ClicksField = None,
    wait: Annotated[bool, Form(description="Answer when the job is done.")] = False,
) -> JSONResponse:
    """A job whose result, once done, is the ``RelightGeometry`` schema: the maps' size (``width``, ``height``)
    and ``scale`` (map pixels per document pixel); ``source``, where the subject's matte came from; PNG data URLs
    of the ``normals`` (RGB = (n + 1) / 2 with x right, y up, z to the viewer), the ``height_map`` above the far
    plane (in units of ``height_unit`` map pixels, 16 bits over R, the high byte, and G), the ``subject``'s matte,
    the photo's colours (``albedo``, sRGB) and its ``alpha`` (or null); the ``shadow_map`` that shadows are
    marched over (``width``, ``height``, ``map`` packed the same way, ``unit``); the ``shading`` constants of
    ``retouch.tools.relight.shading``; and each light kind's numbers with their defaults (``lights``).
    With ``clicks``, the subject is the object they select (``retouch.select``, ``source`` "matte"), as
    POST /api/relight selects it from the same clicks."""
    doc = services.store.get(doc_id)
    points = parse_object_clicks(clicks, (doc.width, doc.height)) if clicks and clicks.strip() else []
    if model not in ("auto", NO_MODEL):
        from retouch.tools.cutout.networks import resolve_model

        resolve_model(model)  # an unknown model, or one of another task, is refused now (4xx), not in the job
    job = services.jobs.submit(
        "relight-geometry",
        lambda job: _geometry(services, doc, model, faces, detail, pixels, points, job),
        document=doc.id,
    )
    return await answer(services, job, wait)


def _geometry(
    services: Services,
    doc: Document,
    model: str,
    faces: bool,
    detail: float,
    pixels: int,
    points: list[tuple[int, int, int]],
    job: Job,
) -> dict[str, Any]:
    import cv2

    from retouch.tools.relight import relight_geometry, shading
    from retouch.tools.relight.geometry import downscaled, normal_map_rgb
    from retouch.tools.relight.lights import defaults

    picture, _ = services.store.picture(doc)
    device = services.settings.device
    matte = None
    if points:  # selected as the tool endpoints select (routers.tools.request_mask): Apply lights the same subject
        from retouch.tools.select import select

        from retouch.server.tools.relight import subject_model

        matte = select(picture, points, model=subject_model(model), device=device, progress=job.report)
    geometry = relight_geometry(
        picture, matte=matte, model=model, faces=faces, detail=detail, device=device, progress=job.report
    )
    job.report("encoding", 0, 1)
    small, albedo, scale = downscaled(geometry, picture.rgb_float(), pixels)
    alpha = picture.alpha_float()
    if alpha is not None:
        alpha = cv2.resize(alpha, (small.height.shape[1], small.height.shape[0]), interpolation=cv2.INTER_AREA)
    marched, _ = shading.shadow_field(geometry.height)
    unit, field_unit = _unit(small.height), _unit(marched)
    return {
        "width": int(small.height.shape[1]),
        "height": int(small.height.shape[0]),
        "scale": scale,
        "source": geometry.source,
        "normals": png_data_url(_bytes(normal_map_rgb(small.normals))),
        "height_map": png_data_url(_packed(small.height, unit)),
        "height_unit": unit,
        "subject": png_data_url(_bytes(small.subject)),
        "albedo": png_data_url(_bytes(albedo)),
        "alpha": None if alpha is None else png_data_url(_bytes(alpha)),
        "shadow_map": {
            "width": int(marched.shape[1]),
            "height": int(marched.shape[0]),
            "map": png_data_url(_packed(marched, field_unit)),
            "unit": field_unit,
        },
        "shading": {
            "shininess": shading.SHININESS,
            "shadow_steps": shading.SHADOW_STEPS,
            "shadow_reach": shading.SHADOW_REACH,
            "penumbra": shading.PENUMBRA,
        },
        "lights": defaults(),
    }


def _unit(height: np.ndarray) -> float:
    """The height of one of 65536 levels: 1/256 pixel, or coarser where the heights need more than 256 pixels."""
    return max(1.0 / 256.0, float(height.max()) / 65535.0)


def _packed(height: np.ndarray, unit: float) -> np.ndarray:
    """Heights in ``unit`` as 16 bits split over R (high byte) and G (low byte) of an RGB image."""
    levels = np.clip(np.rint(height / unit), 0, 65535).astype(np.uint16)
    return np.stack([levels >> 8, levels & 255, np.zeros_like(levels)], axis=2).astype(np.uint8)


def _bytes(values: np.ndarray) -> np.ndarray:
    return (np.clip(values, 0.0, 1.0) * np.float32(255) + np.float32(0.5)).astype(np.uint8)

