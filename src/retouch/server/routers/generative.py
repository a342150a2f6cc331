"""The generative tools that are not one-picture edits of a document: Generate makes a new document from a prompt,
and Reimagine makes K variations of a document for the page to show and choose from. (Uncrop is a plain tool:
``server.tools.uncrop``.) GET /api/generative says whether a diffusion model can run here, and if not, the one
line that says what gets one.

Annotations here are evaluated at definition time (no ``from __future__ import annotations``): FastAPI reads
them to build the form fields.
"""

import threading
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse

from retouch.errors import InvalidInput, RetouchError
from retouch.server.errors import ApiError
from retouch.server.imaging import png_data_url
from retouch.server.jobs import DONE, Job
from retouch.server.routers.documents import ERRORS
from retouch.server.routers.jobs import answer
from retouch.server.schemas import JobInfo
from retouch.server.services import Services, get_services
from retouch.server.store import Document
from retouch.tools.options.generate import (
    COUNT,
    MAX_SIDE,
    MAX_STEPS,
    MIN_SIDE,
    MODEL,
    PROMPT,
    SEED,
    STEPS,
    STRENGTH,
)
from retouch.types import Picture

router = APIRouter(tags=["tools"], responses=ERRORS)
ServicesDep = Annotated[Services, Depends(get_services)]
THUMBNAIL_SIDE = 320  # the variations' previews: the page shows them as thumbnails to choose from
# Reimagine runs whose variations are kept for a choice, the oldest forgotten first; each holds up to MAX_COUNT
# pictures of the photo's size in 8-bit RGB (36 MB each for a 12 MP photo), so only the last few are kept.
HELD_RUNS = 3
GENERATED_NAME = "generated.png"
MAX_COUNT = int(COUNT.http_range.high)  # variations per request: each is a whole diffusion run

SeedField = Annotated[int, Form(description=SEED.help, ge=0, le=2**31 - 1)]
StepsField = Annotated[int | None, Form(description=STEPS.help, ge=1, le=MAX_STEPS)]
ModelField = Annotated[str, Form(description=MODEL.help, max_length=100)]
WaitField = Annotated[bool, Form(description="Answer when the job is done.")]


class HeldVariations:
    """The variations of the last few reimagine runs, by job id, until one is chosen (thread-safe: jobs add,
    requests take)."""

    def __init__(self, size: int = HELD_RUNS) -> None:
        self._size = size
        self._runs: OrderedDict[str, tuple[str, int, list[Picture]]] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, job_id: str, doc_id: str, revision: int, variations: list[Picture]) -> None:
        with self._lock:
            self._runs[job_id] = (doc_id, revision, variations)
            while len(self._runs) > self._size:
                self._runs.popitem(last=False)

    def get(self, job_id: str) -> tuple[str, int, list[Picture]]:
        with self._lock:
            held = self._runs.get(job_id)
        if held is None:
            raise ApiError(404, "variations_not_found", "no variations of that job are kept any more; run it again")
        return held


HELD = HeldVariations()


def generative_status() -> dict[str, Any]:
    """Whether a diffusion model can run here: its name and native side, or the one line (the backend's own)
    that says which command gets one."""
    from retouch.tools.generate.backend import native_size, resolve_model

    try:
        spec = resolve_model("auto")
    except RetouchError as error:
        return {"ready": False, "model": None, "native_size": None, "missing": str(error)}
    return {"ready": True, "model": spec.name, "native_size": native_size(spec), "missing": None}


def _require_model(model: str) -> None:
    """The extra and the model, checked before a job is queued: their absence is the request's answer (503 with
    the command that fixes it), not a failed job."""
    from retouch.tools.generate.backend import resolve_model

    resolve_model(model)


@router.get("/api/generative", summary="Whether the generative tools have a diffusion model here")
async def status() -> dict[str, Any]:
    """``ready``: a model can run; ``model``: the one "auto" uses, ``native_size``: the side it was trained at
    (sizes near it work best); ``missing``: otherwise, what to install (the pip command for the extra, or the
    models command for a model)."""
    return generative_status()


@router.post(
    "/api/generate", response_model=JobInfo, status_code=202, summary="Generate: a new image from a text prompt"
)
async def generate(
    services: ServicesDep,
    prompt: Annotated[str, Form(description=PROMPT.help, min_length=1, max_length=PROMPT.max_length)],
    width: Annotated[int, Form(description="Width in pixels, a multiple of 8.", ge=MIN_SIDE, le=MAX_SIDE)] = 512,
    height: Annotated[int, Form(description="Height in pixels, a multiple of 8.", ge=MIN_SIDE, le=MAX_SIDE)] = 512,
    seed: SeedField = SEED.default,
    steps: StepsField = STEPS.default,
    model: ModelField = MODEL.default,
    wait: WaitField = False,
) -> JSONResponse:
    """A job whose result, once done, is ``{"document": DocumentInfo}``: a new document holding the picture
    (its provenance says trainedAlgorithmicMedia). A refused prompt or a size that is not a multiple of 8 is
    answered 400 at once; a missing extra or model 503, with the command that gets it."""
    from retouch.tools.generate.refusals import check_prompt

    if not prompt.strip():
        raise InvalidInput("give a prompt: what the picture should show")
    check_prompt(prompt)
    for name, side in (("width", width), ("height", height)):
        if side % 8:
            raise InvalidInput(f"{name} must be a multiple of 8, got {side}")
    _require_model(model)
    job = services.jobs.submit(
        "generate", lambda job: _generate(services, prompt, width, height, seed, steps, model, job)
    )
    return await answer(services, job, wait)


def _generate(
    services: Services, prompt: str, width: int, height: int, seed: int, steps: int | None, model: str, job: Job
) -> dict[str, Any]:
    import dataclasses

    from retouch.tools.generate import generate as make

    picture = make(
        prompt, size=(width, height), seed=seed, steps=steps, model=model, device=services.settings.device,
        progress=job.report,
    )
    job.report("saving", 0, 1)
    picture = picture.replace(metadata=dataclasses.replace(picture.metadata, source_format="PNG"))
    return {"document": services.store.create(picture, GENERATED_NAME).info()}


@router.post(
    "/api/reimagine", response_model=JobInfo, status_code=202, summary="Reimagine: variations of a document"
)
async def reimagine(
    services: ServicesDep,
    document: Annotated[str, Form(description="The document (an id from POST /api/documents).")],
    strength: Annotated[
        float, Form(description=STRENGTH.help, ge=STRENGTH.bounds.low, le=STRENGTH.bounds.high)
    ] = STRENGTH.default,
    count: Annotated[int, Form(description=COUNT.help, ge=1, le=MAX_COUNT)] = COUNT.default,
    seed: SeedField = SEED.default,
    steps: StepsField = STEPS.default,
    model: ModelField = MODEL.default,
    wait: WaitField = False,
) -> JSONResponse:
    """A job whose result, once done, is ``{"document": id, "variations": [{"index", "seed", "width", "height",
    "preview"}]}``: ``count`` variations at the document's size (previews: PNG data URLs at most THUMBNAIL_SIDE
    pixels), kept until one is chosen with POST /api/reimagine/{job}/choose; the document is not changed until
    then."""
    doc = services.store.get(document)
    _require_model(model)
    job = services.jobs.submit(
        "reimagine",
        lambda job: _reimagine(services, doc, strength, count, seed, steps, model, job),
        document=doc.id,
    )
    return await answer(services, job, wait)


def _reimagine(
    services: Services,
    doc: Document,
    strength: float,
    count: int,
    seed: int,
    steps: int | None,
    model: str,
    job: Job,
) -> dict[str, Any]:
    from retouch.tools.reimagine import reimagine as remake

    picture, revision = services.store.picture(doc)
    variations = remake(
        picture, strength=strength, seed=seed, count=count, steps=steps, model=model,
        device=services.settings.device, progress=job.report,
    )
    job.report("encoding", 0, 1)
    previews = [
        {"index": index, "seed": seed + index, "width": v.width, "height": v.height, "preview": _thumbnail(v)}
        for index, v in enumerate(variations)
    ]
    HELD.keep(job.id, doc.id, revision, variations)
    return {"document": doc.id, "variations": previews}


def _thumbnail(picture: Picture) -> str:
    import cv2

    scale = min(1.0, THUMBNAIL_SIDE / max(picture.width, picture.height))
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return png_data_url(cv2.resize(picture.pixels, size, interpolation=cv2.INTER_AREA))


@router.post("/api/reimagine/{job_id}/choose", summary="Reimagine: make one variation the document's new state")
async def choose(
    services: ServicesDep,
    job_id: str,
    index: Annotated[int, Form(description="The variation's index in the job's result.", ge=0, le=MAX_COUNT - 1)],
) -> dict[str, Any]:
    """One undoable edit of the document: the chosen variation replaces it. 409 when the document changed since
    the job read it (an undo, another edit): run it again."""
    job = services.jobs.get(job_id)
    if job.tool != "reimagine" or job.state != DONE:
        raise ApiError(409, "not_ready", "that job is not a finished reimagine run")
    doc_id, revision, variations = HELD.get(job.id)
    if index >= len(variations):
        raise InvalidInput(f"the job made {len(variations)} variations; index {index} is not one of them")
    doc = services.store.get(doc_id)
    changed = await services.run_io(services.store.commit, doc, variations[index], "reimagine", revision)
    return {"document": doc.info(), "changed": changed.to_dict()}
