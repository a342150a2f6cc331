"""Upscale: enlarge a picture with a super-resolution network (Real-ESRGAN class), any size, any scale.

validate > load the network > cut the input into overlapping tiles > per tile: the network at its own scale
(alpha enlarged bicubically beside it), then resampled to the requested scale > feathered blending of the
overlaps > finished rows quantized into the output as they come (``retouch.ops.tiles``). Memory stays bounded
by the tile and one band of output rows, whatever the image size.
"""

from __future__ import annotations

import math

import numpy as np

from retouch.errors import InvalidInput, TooLarge
from retouch.io.limits import check_output, pixel_limit
from retouch.ops.tiles import TileJob, TilePlan, plan_tiles, run_tiles
from retouch.tools.interrupt import Heartbeat
from retouch.tools.options import check_options
from retouch.tools.options.upscale import (
    AUTO_MAX_X4PLUS_OUTPUT_MP,
    AUTO_MODEL,
    DEFAULT_MODEL,
    DENOISE,
    MAX_SCALE,
    MIN_TILE,
    TILE,
)
from retouch.tools.upscale.networks import Network, Steps, load_network, output_scale, upscale_spec
from retouch.tools.upscale.resample import axis_weights, resample
from retouch.types import Picture, ProgressCallback, no_progress

__all__ = ["AUTO_MODEL", "DEFAULT_MODEL", "MAX_SCALE", "available_models", "choose_model", "upscale"]

# What "auto" picks above AUTO_MAX_X4PLUS_OUTPUT_MP on a CPU: the first installed of these compact networks
# (realesr-general-x4v3 is trained for photos; realesr-animevideov3-x4 ships with the default install).
AUTO_COMPACT_MODELS = ("realesr-general-x4v3", "realesr-animevideov3-x4")
NOTE_PREFIX = "note: "  # a progress report with total 0 whose stage starts so is a line for the user

MAX_OUTPUT_PIXELS = 2_000_000_000  # 6 GB of 8-bit RGB: beyond this the output itself would not fit in memory
# Tile side in input pixels. Larger tiles waste less work on their context (with RRDBNet's 48 pixels, 1.39x the
# pixels at 640, 1.50x at 512); the memory of RRDBNet's trunk grows with the tile's area (its head runs in
# strips): about 2.2 GB for a 640-pixel tile in float32 (Winograd). The compact networks need far less.
DEFAULT_TILE = 640
OVERLAP = 16  # input pixels shared by neighbouring tiles, blended with linear weights
STAGE = "upscale"


def upscale(
    picture: Picture,
    *,
    scale: float | None = None,
    model: str = DEFAULT_MODEL,
    tile: int | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
    denoise: float | None = None,
    precision: str = "auto",
    max_pixels: int | None = None,
) -> Picture:
    """Enlarge ``picture`` by ``scale`` with the super-resolution network ``model``.

    picture: HxWx1 or HxWx3, uint8 or uint16, alpha (HxW, same dtype) optional. scale: any factor from 1 to 16
    (default: the model's own, 4 for the default model); the network runs at its own scale and the result is
    resampled to the exact output size round(width * scale) x round(height * scale) (area averaging below the
    network's scale, bicubic above). model: an upscaling model of the registry (see
    ``retouch.list_models("upscale")``), or "auto" (``choose_model``: x4plus for small outputs, a compact model
    for large ones on a CPU; the choice is reported as a progress note, stage "note: ...", total 0). tile: tile side in input pixels, at least 32 (default 640; smaller tiles
    use less memory). device: "auto", "cpu" or "cuda". progress: called with ("upscale", done, total) in steps
    of a tile (``Network.steps`` per tile: a few seconds each on a CPU), and repeated in between; it may raise
    to stop the work (within a fraction of a second). denoise: for realesr-general-x4v3 only, the strength in
    [0, 1], from 0 (keep noise) to 1 (default 0.5). precision (CPU): "auto" (bfloat16 where the CPU computes it natively, else float32), "fp32" (the
    reference's results) or "bf16".
    Returns a new Picture of round(height * scale) x round(width * scale), in the input's bit depth and channels
    (greyscale stays greyscale), alpha enlarged too (bicubic), with "upscale (model=..., scale=...)" recorded for
    the provenance XMP. max_pixels: the most pixels the output may have, checked before any work (default:
    $RETOUCH_MAX_PIXELS, else 150 megapixels, as for decoding; 0 = no limit).
    Raises InvalidInput (scale outside [1, 16], tile outside [32, 2048], an unknown device, an unknown or non-upscaling model, denoise
    for another model or outside [0, 1], an unknown precision), WeightsMissing (the model's weights are not
    installed; it names the pull command), TooLarge (an output over max_pixels, or over 2 gigapixels) or
    BackendUnavailable (a device that is not there).
    """
    from retouch.models.runtime import check_device

    factor = _checked_scale(scale)
    if tile is not None and tile < MIN_TILE:
        raise InvalidInput(f"tile must be at least {MIN_TILE} pixels, got {tile}")
    check_options(((TILE, tile), (DENOISE, denoise)))
    check_device(device)
    model, why = choose_model(model, picture.size, factor, device)
    factor = output_scale(upscale_spec(model)) if factor is None else factor
    out_size = (max(1, round(picture.height * factor)), max(1, round(picture.width * factor)))
    # before the network is loaded or any memory is taken for the output
    check_output(f"{picture.width}x{picture.height} x{factor:g}", out_size[1], out_size[0], pixel_limit(max_pixels))
    if out_size[0] * out_size[1] > MAX_OUTPUT_PIXELS:
        raise TooLarge(
            f"{picture.width}x{picture.height} x{factor:g} would be {out_size[1]}x{out_size[0]} "
            f"({out_size[0] * out_size[1] / 1e9:.1f} gigapixels), over the {MAX_OUTPUT_PIXELS / 1e9:g} gigapixel "
            "limit; use a smaller scale"
        )
    if why:
        progress(NOTE_PREFIX + why, 0, 0)
    network = load_network(model, device=device, denoise=denoise, precision=precision)

    plan = tile_plan(picture.size, out_size, tile, context=network.context, align=network.size.multiple)
    pixels = np.empty((*out_size, picture.pixels.shape[2]), picture.pixels.dtype)
    alpha = None if picture.alpha is None else np.empty(out_size, picture.alpha.dtype)

    def write(y0: int, y1: int, rows: np.ndarray) -> None:
        colour = rows[:, :, :3].mean(axis=2, keepdims=True) if picture.is_grey else rows[:, :, :3]
        pixels[y0:y1] = picture.quantize(colour)
        if alpha is not None:
            alpha[y0:y1] = picture.quantize(rows[:, :, 3])

    report = Heartbeat(progress)
    total = plan.count * network.steps

    def tiles_started(stage: str, done: int, count: int) -> None:
        if done == 0:  # later tile counts were reported already, by each tile's last network step
            report(STAGE, 0, total)

    def process(job: TileJob) -> np.ndarray:
        return _tile(picture, network, job, out_size, _TileSteps(report, job.index * network.steps, total))

    run_tiles(plan, process, write, progress=tiles_started, stage=STAGE)
    chosen = f"{network.model}, chosen by auto" if why else network.model
    label = f"upscale (model={chosen}, scale={factor:g})"
    return picture.replace(pixels=pixels, alpha=alpha).with_operation(label)


def choose_model(
    model: str, size: tuple[int, int], scale: float | None = None, device: str = "auto"
) -> tuple[str, str | None]:
    """The model to run for ``model`` on a ``size`` = (width, height) picture enlarged ``scale`` times (None: x4),
    and, for "auto", a sentence saying what was picked and why (None for any other name, returned unchanged).

    "auto": DEFAULT_MODEL (realesrgan-x4plus) on a GPU or up to AUTO_MAX_X4PLUS_OUTPUT_MP megapixels of output;
    above that on a CPU the first installed of AUTO_COMPACT_MODELS (about 25 times faster; x4plus would take
    about 3 minutes per input megapixel on 2 cores in float32), or x4plus when none is installed."""
    if model != AUTO_MODEL:
        return model, None
    from retouch.models.runtime import select_device

    usable = scale is not None and math.isfinite(scale) and 1.0 <= scale <= MAX_SCALE  # else refused later
    factor = float(scale) if usable else 4.0  # type: ignore[arg-type]
    megapixels = round(size[0] * factor) * round(size[1] * factor) / 1e6
    if select_device(device).type != "cpu":
        return DEFAULT_MODEL, f"model auto: {DEFAULT_MODEL} (on the GPU)"
    if megapixels <= AUTO_MAX_X4PLUS_OUTPUT_MP:
        return DEFAULT_MODEL, (
            f"model auto: {DEFAULT_MODEL} (output {megapixels:.1f} MP, within the {AUTO_MAX_X4PLUS_OUTPUT_MP:g} MP "
            "it does in reasonable time on a CPU)"
        )
    installed = available_models()
    compact = next((name for name in AUTO_COMPACT_MODELS if installed.get(name)), None)
    if compact is None:
        return DEFAULT_MODEL, (
            f"model auto: {DEFAULT_MODEL} (output {megapixels:.1f} MP; no compact model is installed, this will be "
            f"slow on a CPU: retouch models pull {AUTO_COMPACT_MODELS[-1]})"
        )
    return compact, (
        f"model auto: {compact}, the fast compact model (output {megapixels:.1f} MP, over the "
        f"{AUTO_MAX_X4PLUS_OUTPUT_MP:g} MP up to which {DEFAULT_MODEL} runs on a CPU; it would take about 25 times "
        f"as long; choose it with --model {DEFAULT_MODEL})"
    )


def available_models() -> dict[str, bool]:
    """Every upscaling model of the registry, and whether its weights are on this machine."""
    from retouch.models.registry import list_models
    from retouch.models.weights import is_installed

    return {spec.name: is_installed(spec) for spec in list_models("upscale")}


def tile_plan(
    in_size: tuple[int, int], out_size: tuple[int, int], tile: int | None, *, context: int, align: int
) -> TilePlan:
    """The tiles of an input of ``in_size`` = (width, height) enlarged to ``out_size`` = (height, width), for a
    network that needs ``context`` pixels around a tile and tile starts at multiples of ``align``."""
    side = tile or DEFAULT_TILE
    return plan_tiles(
        (in_size[1], in_size[0]), out_size, tile=side, overlap=min(OVERLAP, side // 4), context=context, align=align
    )


class _TileSteps:
    """One tile's network steps as the run's overall count; ``check`` repeats the last report."""

    def __init__(self, report: Heartbeat, base: int, total: int) -> None:
        self.report, self.done, self.total = report, base, total

    def step(self) -> None:
        self.done += 1
        self.report(STAGE, self.done, self.total)

    def check(self) -> None:
        self.report.beat()


def _checked_scale(scale: float | None) -> float | None:
    if scale is None:
        return None
    if not math.isfinite(scale) or not 1.0 <= scale <= MAX_SCALE:
        raise InvalidInput(f"scale must be between 1 and {MAX_SCALE:g}, got {scale}")
    return float(scale)


def _tile(
    picture: Picture, network: Network, job: TileJob, out_size: tuple[int, int], steps: Steps
) -> np.ndarray:
    """The output pixels ``job.target`` (float32, RGB plus alpha when the picture has it)."""
    import cv2

    read, scale = job.read, network.size.scale
    crop = picture.pixels[read.slices].astype(np.float32) / np.float32(picture.max_value)
    if picture.is_grey:
        crop = np.repeat(crop, 3, axis=2)
    channels = [network.run(crop, steps)]
    if picture.alpha is not None:
        transparency = picture.alpha[read.slices].astype(np.float32) / np.float32(picture.max_value)
        height, width = transparency.shape
        size = (width * scale, height * scale)
        channels.append(cv2.resize(transparency, size, interpolation=cv2.INTER_CUBIC)[:, :, None])
    samples = np.concatenate(channels, axis=2) if len(channels) > 1 else channels[0]
    rows = axis_weights((job.target.y0, job.target.y1), out_size[0], picture.height, (read.y0, read.y1), scale)
    cols = axis_weights((job.target.x0, job.target.x1), out_size[1], picture.width, (read.x0, read.x1), scale)
    return resample(samples, rows, cols)
