"""Pydantic models of what the HTTP API takes and answers; they are also its OpenAPI documentation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retouch.masks import MAX_STROKE_COORDINATE

MAX_STROKES = 2000
# Points in all strokes of one request: 100,000 CSS pixels of dragging at the web app's 2-pixel step.
MAX_STROKE_POINTS = 50_000
Coordinate = Annotated[float, Field(ge=-MAX_STROKE_COORDINATE, le=MAX_STROKE_COORDINATE)]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. 'document_not_found', 'queue_full'.")
    message: str = Field(description="What went wrong and, where possible, how to fix it.")


class ErrorBody(BaseModel):
    """The body of every failed request."""

    error: ErrorDetail


class RegionModel(BaseModel):
    x: int
    y: int
    width: int
    height: int


class DocumentInfo(BaseModel):
    id: str = Field(description="Random token naming the document in later requests.")
    filename: str
    format: str | None = Field(description="The uploaded file's format; downloads are encoded in it.")
    width: int
    height: int
    channels: int = Field(description="1 (greyscale) or 3 (RGB).")
    bit_depth: int
    has_alpha: bool
    has_icc_profile: bool
    has_exif: bool
    version: int = Field(description="How many edits are applied (0: as uploaded).")
    history: int = Field(description="How many edits the history holds (undone ones included).")
    can_undo: bool
    can_redo: bool
    operations: list[str] = Field(description="Operations applied so far, as recorded in the provenance XMP.")
    origin: list[float] = Field(
        description="[x, y, width, height]: the part of the image as uploaded that the current state shows (all "
        "of it, or what a crop kept), for lining up a before/after comparison."
    )


class DocumentChange(BaseModel):
    document: DocumentInfo
    changed: RegionModel = Field(description="The rectangle whose pixels changed; fetch it from /preview.")


class JobProgress(BaseModel):
    stage: str = Field(description="What the job is doing now (empty before its first report).")
    done: int = Field(description="Units of work done, of total.")
    total: int
    elapsed_s: float = Field(description="Seconds since the job started running; 0 while it is queued.")
    eta_s: float | None = Field(
        description="Estimated seconds left: from the pre-start estimate until the first unit is measured, then "
        "from the measured rate. null when nothing can be estimated, and once the job has ended."
    )
    updated: float = Field(description="Unix time of the last progress report (of the job's creation before one).")


class FoundLine(BaseModel):
    box: tuple[int, int, int, int] = Field(description="x, y, width, height in image pixels.")
    text: str | None = Field(description="What the recogniser read, where the line was read.")


class FoundText(BaseModel):
    """What POST /api/documents/{id}/text found."""

    mask: str = Field(description="A PNG data URL of the document's size: white = text to erase.")
    lines: list[FoundLine] = Field(description="The lines in the mask.")
    kept: list[FoundLine] = Field(description="The lines spared by 'keep'.")


class SelectedMask(BaseModel):
    """What POST /api/documents/{id}/select selected."""

    mask: str = Field(description="A PNG data URL of the document's size: white = the selected object.")
    area: int = Field(description="The number of selected pixels.")


class ShadowMap(BaseModel):
    width: int
    height: int
    map: str = Field(description="A PNG data URL: heights in units of 'unit' pixels, 16 bits over R (high), G (low).")
    unit: float = Field(description="The height of one level, in pixels.")


class RelightGeometry(BaseModel):
    """What POST /api/documents/{id}/relight-geometry made: a document's shape for shading it in the page."""

    width: int = Field(description="The maps' width.")
    height: int = Field(description="The maps' height.")
    scale: float = Field(description="Map pixels per document pixel.")
    source: str = Field(description="Where the subject's matte came from: a cutout model, 'alpha' or 'none'.")
    normals: str = Field(description="A PNG data URL: RGB = (n + 1) / 2, x right, y up, z to the viewer.")
    height_map: str = Field(description="A PNG data URL: the height in units of height_unit, R high, G low byte.")
    height_unit: float = Field(description="The height of one level of height_map, in map pixels.")
    subject: str = Field(description="A grey PNG data URL: the subject's matte.")
    albedo: str = Field(description="A PNG data URL: the photo's colours (sRGB).")
    alpha: str | None = Field(description="A grey PNG data URL: the photo's alpha; null when it has none.")
    shadow_map: ShadowMap = Field(description="The height field shadows are marched over, at its own size.")
    shading: dict[str, float] = Field(description="The shading's constants.")
    lights: dict[str, dict[str, float]] = Field(description="Each light kind's numbers and their defaults.")


class ModelInstalled(BaseModel):
    model: str
    installed: bool = Field(description="Whether every file is now on this machine, checked against its sha256.")
    path: str = Field(description="Where the model's primary file is.")


class GeneratedDocument(BaseModel):
    document: DocumentInfo = Field(description="The new document that holds the generated picture.")


class Variation(BaseModel):
    index: int = Field(description="What POST /api/reimagine/{job}/choose takes to make this one the document.")
    seed: int
    width: int
    height: int
    preview: str = Field(description="A thumbnail, as a PNG data URL.")


class Variations(BaseModel):
    document: str = Field(description="The id of the document they were made from (not changed until a choice).")
    variations: list[Variation]


class JobInfo(BaseModel):
    id: str
    tool: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: JobProgress
    created: float = Field(description="Unix time.")
    started: float | None
    finished: float | None
    result: (
        DocumentChange
        | FoundText
        | SelectedMask
        | RelightGeometry
        | ModelInstalled
        | GeneratedDocument
        | Variations
        | None
    ) = Field(
        description="When done: a tool run on a document gives its new state; finding its text gives the mask; "
        "a selection gives its mask; a relighting geometry gives its maps; a model install names the model; "
        "generate gives its new document; reimagine gives its variations to choose from."
    )
    error: ErrorDetail | None = Field(
        description="When failed or cancelled: why (a cancelled job has code 'cancelled'; a job that made no "
        "progress for the server's stall limit has code 'stalled')."
    )


class EstimateInfo(BaseModel):
    """How long a tool is expected to take on a document with given options, on this server."""

    seconds: float = Field(description="Expected seconds of work, from start to finish.")
    basis: Literal["measured", "typical"] = Field(
        description="measured: from this machine's earlier runs of the tool and model; typical: built-in figures."
    )


class Stroke(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    points: list[tuple[Coordinate, Coordinate]] = Field(
        min_length=1, max_length=MAX_STROKE_POINTS, description="The brush path, as (x, y) pairs."
    )
    radius: float = Field(
        gt=0,
        le=100_000,
        description="Brush radius, in the same units as the points. A radius larger than needed to cover the whole "
        "image from the stroke paints as that one does: the work does not grow with it.",
    )
    mode: Literal["paint", "erase"] = Field("paint", description="paint adds to the mask, erase removes from it.")


class StrokeMask(BaseModel):
    """Brush strokes drawn over a canvas of width x height (display size or image size): the server scales
    them to the full image. At most MAX_STROKES strokes and MAX_STROKE_POINTS points in all; strokes whose drawing
    would visit more than retouch.masks.MAX_STROKE_ROWS (segment, image row) pairs are refused (413)."""

    width: int = Field(gt=0, le=1_000_000)
    height: int = Field(gt=0, le=1_000_000)
    strokes: list[Stroke] = Field(min_length=1, max_length=MAX_STROKES)

    @model_validator(mode="after")
    def _bounded(self) -> StrokeMask:
        if sum(len(s.points) for s in self.strokes) > MAX_STROKE_POINTS:
            raise ValueError(f"at most {MAX_STROKE_POINTS:,} stroke points in all strokes of a request")
        return self


class EngineInfo(BaseModel):
    name: str
    available: bool = Field(description="Whether its weights are installed ('auto' and 'patch' always are).")


class OptionInfo(BaseModel):
    """One option of a tool, as the web app builds its panel from it."""

    name: str = Field(description="The form field.")
    type: Literal["bool", "int", "float", "str"]
    default: Any
    label: str = Field(description="The panel's caption.")
    help: str
    choices: list[str] = Field(description="The values it takes, when they are a closed set.")
    labels: dict[str, str] = Field(description="Captions of values (choices, or names such as models).")
    minimum: float | None
    maximum: float | None
    when: list[str] | None = Field(description="[other field, value]: the option applies only then.")


class ToolInfo(BaseModel):
    name: str
    title: str
    summary: str
    endpoint: str
    uses_mask: bool
    options: dict[str, Any] = Field(description="JSON schema of the tool's options (form fields).")
    engines: list[EngineInfo] = Field(default_factory=list)
    fields: list[OptionInfo] = Field(default_factory=list, description="The options with their labels and choices.")


class Limits(BaseModel):
    max_upload_bytes: int
    max_megapixels: float
    queue_size: int
    stall_timeout_s: float = Field(description="A running job that reports no progress for this long is stopped.")
    max_history: int


class ServerInfo(BaseModel):
    name: Literal["retouch"] = "retouch"
    version: str
    api_key_required: bool
    limits: Limits
    tools: list[ToolInfo]


class ModelRow(BaseModel):
    name: str
    task: str
    architecture: str
    description: str
    size: int | None = Field(description="Bytes of the model's files, when known.")
    license: str
    license_url: str | None
    permissive: bool = Field(description="False: opt-in; installing needs accept_license.")
    installed: bool
    removable: bool = Field(description="Whether the cache holds files of it that remove would delete.")
    install_job: str | None = Field(description="The id of the model's install job while one is queued or running.")


class ModelList(BaseModel):
    models: list[ModelRow]
    better: dict[str, str] = Field(description="Per task, the model that gives the best results when installed.")


class ModelRemoved(BaseModel):
    model: str
    removed: list[str] = Field(description="The names of the files deleted from the cache.")
    installed: bool = Field(description="Still installed (its files come from an installed Python package).")
