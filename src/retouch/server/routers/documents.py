"""Documents: upload an image once, edit it with any tool, undo and redo, download it in its own format."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from retouch.io.credentials import Parent
from retouch.server import imaging
from retouch.server.errors import ApiError
from retouch.server.schemas import DocumentChange, DocumentInfo, ErrorBody
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.types import Rect

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 415, 422, 429, 500, 503)
}
router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]


@router.post("", status_code=201, response_model=DocumentInfo, summary="Upload an image to edit")
async def upload(
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="The image: JPEG, PNG, WebP, TIFF, HEIC, AVIF, ...")],
) -> dict[str, Any]:
    """Decode the image once into a lossless working copy; every edit applies to it and downloads encode it
    once, in the uploaded format, with its metadata."""
    data = await file.read()
    picture = await services.run_io(imaging.decode, data, services.settings.max_pixels, file.filename or "")
    doc = await services.run_io(services.store.create, picture, file.filename or "image", data)
    return doc.info()


@router.get("/{doc_id}", response_model=DocumentInfo, summary="Describe a document")
async def info(services: ServicesDep, doc_id: str) -> dict[str, Any]:
    return services.store.get(doc_id).info()


@router.delete("/{doc_id}", status_code=204, summary="Forget a document and delete its files")
async def delete(services: ServicesDep, doc_id: str) -> Response:
    """Its queued and running jobs are cancelled (state "cancelled"; a running one stops at its next progress
    report) and its files are deleted at once."""
    await services.run_io(services.delete_document, doc_id)
    return Response(status_code=204)


@router.get(
    "/{doc_id}/download",
    summary="Download the edited image in its original format",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The image file."}},
)
async def download(
    services: ServicesDep,
    doc_id: str,
    quality: Annotated[int | None, Query(ge=1, le=100, description="JPEG/WebP/HEIC quality.")] = None,
) -> Response:
    """Encoded once from the lossless working copy (no generational loss), with the original ICC profile, EXIF
    and XMP, the provenance XMP that marks it as AI-edited, and Content Credentials: a signed C2PA manifest of
    every edit, with the uploaded file as its parent ingredient (unless the server runs with --no-provenance)."""
    doc = services.store.get(doc_id)

    def encode() -> tuple[bytes, str, str]:
        picture, _ = services.store.picture(doc)
        data, fmt = imaging.encode(picture, quality, services.settings.provenance)
        name = imaging.download_name(doc.filename, fmt, "retouched")
        with services.store.upload(doc) as upload:
            parent = None if upload is None else Parent(PurePath(doc.filename).name, upload)
            return services.credentials.attach(data, fmt, picture, name, parent), fmt, name

    content, fmt, name = await services.run_io(encode)
    return Response(
        content, media_type=imaging.media_type(fmt), headers={"Content-Disposition": imaging.attachment(name)}
    )


@router.get(
    "/{doc_id}/preview",
    summary="The current pixels of a rectangle, for display",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "An 8-bit preview."}},
)
async def preview(
    services: ServicesDep,
    doc_id: str,
    x: Annotated[int, Query(ge=0)] = 0,
    y: Annotated[int, Query(ge=0)] = 0,
    width: Annotated[int | None, Query(gt=0, description="Default: to the right edge.")] = None,
    height: Annotated[int | None, Query(gt=0, description="Default: to the bottom edge.")] = None,
    format: Annotated[Literal["auto", "png", "jpeg"], Query(description="auto: PNG up to 2 MP, else JPEG.")] = "auto",
) -> Response:
    """At full resolution, 8 bits, tagged with the image's ICC profile. The page fetches the whole image once and
    then only the rectangles that tools, undo and redo change."""
    doc = services.store.get(doc_id)
    region = _region(doc, x, y, width, height)

    def render() -> tuple[bytes, str]:
        pixels, alpha = services.store.region(doc, region)
        return imaging.preview(pixels, alpha, doc.metadata.icc_profile, format)

    content, media = await services.run_io(render)
    return Response(content, media_type=media, headers={"Cache-Control": "no-store"})


@router.post("/{doc_id}/undo", response_model=DocumentChange, summary="Undo the last edit")
async def undo(services: ServicesDep, doc_id: str) -> dict[str, Any]:
    doc = services.store.get(doc_id)
    changed = await services.run_io(services.store.undo, doc)
    return {"document": doc.info(), "changed": changed.to_dict()}


@router.post("/{doc_id}/redo", response_model=DocumentChange, summary="Redo the last undone edit")
async def redo(services: ServicesDep, doc_id: str) -> dict[str, Any]:
    doc = services.store.get(doc_id)
    changed = await services.run_io(services.store.redo, doc)
    return {"document": doc.info(), "changed": changed.to_dict()}


def _region(doc: Document, x: int, y: int, width: int | None, height: int | None) -> Rect:
    width = doc.width - x if width is None else width
    height = doc.height - y if height is None else height
    if width <= 0 or height <= 0 or x + width > doc.width or y + height > doc.height:
        raise ApiError(
            400,
            "invalid_region",
            f"the rectangle {x},{y} {width}x{height} is not inside the {doc.width}x{doc.height} image",
        )
    return Rect(x, y, width, height)
