"""Estimates: how long a tool would take on a document with given options, asked before running it.

POST /api/estimate/<tool> takes the form fields of POST /api/<tool> (the document and the tool's options; for a
tool with a mask, the mask fields are optional and, when sent, the estimate follows its regions). Nothing heavy
runs: no model is loaded (``retouch.tools.estimate``).

Annotations here are evaluated at definition time (no ``from __future__ import annotations``): FastAPI reads
each tool's options model from the endpoint's signature.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form

from retouch.errors import InvalidInput
from retouch.server.errors import ApiError
from retouch.server.routers.documents import ERRORS
from retouch.server.routers.tools import (
    BoxesField,
    MaskField,
    ServicesField,
    StrokesField,
    build_mask,
    drop_mask_parameters,
    parse_strokes,
    tool_estimate,
)
from retouch.server.schemas import EstimateInfo
from retouch.server.tools import ToolSpec


def estimate_router(spec: ToolSpec) -> APIRouter:
    router = APIRouter(tags=["estimates"], responses=ERRORS)
    Options = spec.options

    async def estimate_tool(
        options: Annotated[Options, Form()],  # type: ignore[valid-type]
        services: ServicesField,
        document: Annotated[str, Form(description="The document the tool would edit.")],
        mask: MaskField = None,
        strokes: StrokesField = None,
        boxes: BoxesField = None,
    ) -> dict[str, Any]:
        doc = services.store.get(document)
        size = (doc.width, doc.height)
        stroke_mask = parse_strokes(strokes)
        mask_file = await mask.read() if mask is not None else None
        drawn = None
        if spec.uses_mask and (mask_file or stroke_mask is not None or boxes):
            drawn = await services.run_io(
                lambda: build_mask(
                    size, services.settings.max_pixels, mask_file=mask_file, strokes=stroke_mask, boxes=boxes
                )
            )
        try:
            plan = tool_estimate(spec, size, options, drawn, services.settings.device)
        except InvalidInput as error:
            raise ApiError(422, "invalid_options", " ".join(str(error).split())) from None
        return {"seconds": plan.seconds, "basis": plan.basis}

    estimate_tool.__doc__ = (
        f"How long '{spec.name}' is expected to take on the document with these options, on this server: from "
        "this machine's earlier runs of the tool and model (basis 'measured'), else built-in typical figures."
    )
    if not spec.uses_mask:
        drop_mask_parameters(estimate_tool)

    router.add_api_route(
        f"/api/estimate/{spec.name}",
        estimate_tool,
        methods=["POST"],
        response_model=EstimateInfo,
        summary=f"{spec.title}: how long the '{spec.name}' tool would take",
        operation_id=f"estimate_{spec.name}",
    )
    return router
