"""How long a tool will take, before it starts: for a picture size and the tool's options, on this machine.

Each tool has a cost model in "typical seconds": built-in figures measured on a 2-core CPU ("Intel(R) Xeon(R)
Processor @ 2.60GHz", AVX-512 without bfloat16, ONNX Runtime 1.32 and PyTorch 2.13 float32, two threads). What a
run on this machine actually took, divided by its typical seconds, is a speed factor kept per tool, model and
device (an average weighted towards recent runs), in memory and in ``$RETOUCH_HOME/timings.json`` beside the
cached models (written atomically). An estimate is the typical seconds times that factor ("measured"), or the typical seconds alone
where this machine has not run that tool and model yet ("typical").

Nothing heavy happens here: no model is loaded, no network runs; masks are only measured (bounding boxes).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from retouch.errors import InvalidInput, RetouchError, WeightsMissing

if TYPE_CHECKING:
    import numpy as np

Basis = Literal["measured", "typical"]
TIMINGS_FILE = "timings.json"
RECENT_WEIGHT = 0.5  # weight of the newest run in the speed factor
FACTOR_LIMITS = (0.02, 50.0)  # a run this far off typical is an outlier (a paused machine), not a speed
MIN_RECORD_S = 1.0  # shorter runs measure start-up overheads, not speed: they are not recorded (nor written)

# Measured on the CPU above while other work shared it (load average 4 to 10), the faster of the runs.
# Upscale: realesrgan-x4plus in float32 with Winograd convolutions (upscale.winograd) on 256 and 512-pixel
# inputs, 2 quiet cores of an Intel Xeon (Sapphire Rapids class): 132 and 124 s per trunk megapixel, the head
# about a sixth of it; tiles under RRDB_SMALL_TILE trunk pixels keep their transformed data in the caches and ran
# at 81 s per megapixel (128x128), so they are their own class, whose learned factor does not carry over to large
# tiles. realesr-animevideov3 the same way, a 1224x816 photo x4 (6.6 s):
RRDB_DENSE_BLOCK_S = 1.55  # seconds per trunk megapixel of one of RRDBNet's dense blocks (69 in x4plus)
RRDB_HEAD_S = 21.0  # seconds per trunk megapixel of RRDBNet's head (its output is 4x the trunk's size)
RRDB_SMALL_TILE = 40_000  # trunk pixels
RRDB_SMALL_SPEEDUP = 0.65
COMPACT_CONV_S = 0.3  # seconds per input megapixel of one 64-channel convolution of a compact network
UPSCALE_LOAD_S = {"rrdbnet": 1.0, "srvgg-compact": 0.5}  # weights read and transformed, sessions built (once)
# Erase: the patch engine on kodim01 (80 and 200 pixel boxes) and a 12 MP tiling of it (40 and 400 pixel boxes)
# at load average 8, halved as a 12 MP erase of two holes ran at load average 3; its time split between the hole
# and the crop around it (the two grow together). LaMa on 512x512, big-lama's layout with random weights, float32
# (load average 8).
PATCH_HOLE_S = 2.35  # seconds per megapixel of hole
PATCH_CROP_S = 0.24  # seconds per megapixel of crop around it
LAMA_S = 126.0  # seconds per megapixel of crop seen by LaMa
LAMA_LOAD_S = 5.0  # reading 200 MB and fusing its layers
MIGAN_S = 1.5  # one 512x512 pipeline run (not measurable here: its weights cannot be had; a quarter of LaMa's
# compute at 512 pixels, as the MI-GAN paper reports, at this machine's LaMa rate)
ERASE_PIXEL_S = 0.0075  # per image megapixel: the copy, mask growth and feathering around the holes
# Cutout: the matte solved at 1024x768 (MATTING_S), then per megapixel at full size: guided upsampling, edge
# colours and compositing (measured at 12 MP).
MATTING_S = 0.75
CUTOUT_PIXEL_S = 0.11
# A segmentation network's run by its square input side. Its weights cannot be had here: derived from the
# networks' compute (U2-Net 320: about 50 GFLOP; ISNet and BiRefNet-lite 1024: 150 to 500 GFLOP) at this
# machine's convolution rate (about 60 GFLOP/s, from the upscaling figures); the first run corrects them.
SEGMENT_S = {320: 1.0, 1024: 6.0}
# Relight: a 12 MP portrait (3000x4000) with a given matte, RetinaFace and two lights, at load average 4.4:
# geometry 3.3 to 3.9 s, lighting 1.2 s.
RELIGHT_PIXEL_S = 0.3  # per megapixel: the subject's shape, its detail and the face relief
RELIGHT_LIGHT_S = 0.05  # per megapixel and light: shading, shadow and encoding
# Restore: colour and denoise at their defaults on kodim01 enlarged to 12 MP (load average 4); on kodim04
# (0.39 MP, load average 8): scratches found and erased, the face detector (RetinaFace), GFPGAN v1.4's network at
# 512x512 with random weights.
RESTORE_PIXEL_S = 2.2  # per megapixel, colour and denoise (non-local means)
SCRATCH_PIXEL_S = 8.8  # per megapixel, finding scratches and erasing them
FACE_S = 16.0  # one face through GFPGAN, aligned and pasted
FACE_DETECT_S = 0.3
# Remove text: the detector's passes, reading the lines and erasing their letters, per image megapixel, plus
# sessions and start (session 6, Intel Xeon with AVX-512, from the command: 0.39 MP 0.9 s, 2.1 MP 2.7 s).
DETEXT_PIXEL_S = 1.0
DETEXT_FIXED_S = 0.6
ASSUMED_HOLE_SHARE = 0.02  # erase estimated without a mask: one hole of 2% of the photo
ASSUMED_FACES = 1  # restore estimated before faces are detected


@dataclass(frozen=True)
class Estimate:
    key: str  # tool, model and device: what the speed factor is kept for
    typical_s: float  # the built-in figure for this work
    seconds: float  # expected on this machine
    basis: Basis


class _Factors:
    """Speed factors by key, loaded from the timings file on first use and written back after each record."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._factors: dict[str, float] = {}
        self._source: tuple[Path, float | None] | None = None  # the file read, and its mtime then

    def get(self, key: str) -> float | None:
        with self._lock:
            return self._load().get(key)

    def update(self, key: str, factor: float) -> None:
        with self._lock:
            factors = self._load()
            old = factors.get(key)
            factors[key] = factor if old is None else math.exp(
                RECENT_WEIGHT * math.log(factor) + (1 - RECENT_WEIGHT) * math.log(old)
            )
            self._save(factors)

    def _load(self) -> dict[str, float]:
        """The factors, read again when the file changed (another process recorded a run) or RETOUCH_HOME did."""
        path = _timings_path()
        source = (path, _mtime(path))
        if source != self._source:
            self._source, self._factors = source, _read(path)
        return self._factors

    def _save(self, factors: dict[str, float]) -> None:
        from retouch.io.atomic import write_atomically

        path = _timings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(factors, indent=1, sort_keys=True).encode(), overwrite=True)
        except (OSError, InvalidInput):  # a read-only cache: the figures stay in memory for this process
            return
        self._source = (path, _mtime(path))


_factors = _Factors()


def _timings_path() -> Path:
    from retouch.models.cache import retouch_home

    return retouch_home() / TIMINGS_FILE


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _read(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and math.isfinite(v) and v > 0}


def record(estimate: Estimate, seconds: float) -> None:
    """What the work of ``estimate`` actually took here: its key's speed factor learns from it."""
    if estimate.typical_s <= 0 or not math.isfinite(seconds) or seconds < MIN_RECORD_S:
        return
    factor = seconds / estimate.typical_s
    if FACTOR_LIMITS[0] <= factor <= FACTOR_LIMITS[1]:
        _factors.update(estimate.key, factor)


def _finish(key: str, typical_s: float) -> Estimate:
    factor = _factors.get(key)
    if factor is None:
        return Estimate(key, typical_s, typical_s, "typical")
    return Estimate(key, typical_s, typical_s * factor, "measured")


def _device(device: str) -> str:
    return "cpu" if device in ("auto", "cpu") else device.split(":")[0]


def upscale(
    size: tuple[int, int],
    *,
    scale: float | None = None,
    model: str | None = None,
    tile: int | None = None,
    device: str = "auto",
) -> Estimate:
    """``retouch.tools.upscale.upscale`` on a ``size`` = (width, height) picture ("auto" as the tool resolves it)."""
    from retouch.tools.options.upscale import DEFAULT_MODEL
    from retouch.tools.upscale import choose_model, tile_plan
    from retouch.tools.upscale.networks import geometry, upscale_spec

    chosen, _ = choose_model(model or DEFAULT_MODEL, size, scale, device)
    spec = upscale_spec(chosen)
    context, multiple, own_scale = geometry(spec)
    factor = float(scale) if scale is not None else float(spec.conventions.scale)  # type: ignore[union-attr]
    width, height = size
    out_size = (max(1, round(height * factor)), max(1, round(width * factor)))
    plan = tile_plan(size, out_size, tile, context=context, align=multiple)
    read_mp = sum(
        (row.read_stop - row.read_start) * (col.read_stop - col.read_start) for row in plan.rows for col in plan.cols
    ) / 1e6
    params = spec.arch_params
    size_class = ""
    if spec.architecture == "rrdbnet":
        trunk_mp = read_mp / multiple**2
        per_trunk_mp = 3 * int(params.get("num_block", 23)) * RRDB_DENSE_BLOCK_S + RRDB_HEAD_S
        largest = max(r.read_stop - r.read_start for r in plan.rows) * max(c.read_stop - c.read_start for c in plan.cols)
        if largest / multiple**2 < RRDB_SMALL_TILE:
            per_trunk_mp *= RRDB_SMALL_SPEEDUP
            size_class = "|small-tiles"
        typical = trunk_mp * per_trunk_mp
    else:
        typical = read_mp * (int(params.get("num_conv", 16)) + 2) * COMPACT_CONV_S
    typical += UPSCALE_LOAD_S.get(spec.architecture, 0.0) + out_size[0] * out_size[1] / 1e6 * ERASE_PIXEL_S
    return _finish(f"upscale|{spec.name}{size_class}|{_device(device)}", typical)


_upscale_estimate = upscale  # for restore, whose ``upscale`` keyword hides the function


def erase(
    size: tuple[int, int],
    mask: np.ndarray | None = None,
    *,
    engine: str = "auto",
    grow: int | None = None,
    strategy: str = "auto",
    device: str = "auto",
) -> Estimate:
    """``retouch.tools.erase.erase``; without a mask, one hole of ASSUMED_HOLE_SHARE of the photo."""
    from retouch.tools.erase.engines import resolve_engine_name

    name = resolve_engine_name(engine)
    width, height = size
    holes = _hole_boxes(size, mask, grow)
    typical = width * height / 1e6 * ERASE_PIXEL_S
    for hole_mp, crop_w, crop_h in holes:
        if name == "patch":
            typical += hole_mp * PATCH_HOLE_S + crop_w * crop_h / 1e6 * PATCH_CROP_S
        elif name == "lama":
            side = max(crop_w, crop_h)
            shrink = min(1.0, 2048 / side) if strategy != "whole" else 1.0
            typical += crop_w * crop_h * shrink**2 / 1e6 * LAMA_S
        else:
            typical += MIGAN_S
    if name == "lama":
        typical += LAMA_LOAD_S
    return _finish(f"erase|{name}|{_device(device)}", typical)


def _hole_boxes(size: tuple[int, int], mask: np.ndarray | None, grow: int | None) -> list[tuple[float, int, int]]:
    """(hole megapixels, crop width, crop height) per crop the HD strategy would make (context as ``hd``)."""
    from retouch.tools.erase.hd import CONTEXT_RATIO, MIN_CONTEXT

    width, height = size
    if mask is None:
        side = round(math.sqrt(ASSUMED_HOLE_SHARE * width * height))
        boxes = [(0, 0, min(side, width), min(side, height))]
        hole_px = [float(boxes[0][2] * boxes[0][3])]
    else:
        from retouch import masks

        regions = masks.regions(mask)
        if not regions:
            raise InvalidInput("the mask is empty: paint or give a box over what to erase")
        boxes = [(r.x, r.y, r.width, r.height) for r in regions]
        hole_px = [float(mask[r.slices].sum()) for r in regions]
    extra = 2 * (grow if grow is not None else max(3, round(max(width, height) / 500)))
    result = []
    for (_, _, w, h), pixels in zip(boxes, hole_px, strict=True):
        margin = max(MIN_CONTEXT, round(CONTEXT_RATIO * max(w, h)))
        crop_w, crop_h = min(width, w + extra + 2 * margin), min(height, h + extra + 2 * margin)
        result.append((pixels / 1e6, crop_w, crop_h))
    return result


def cutout(size: tuple[int, int], *, model: str | None = None, refine: bool = True, device: str = "auto") -> Estimate:
    """``retouch.tools.cutout.cutout`` and ``replace_background`` (the same extraction, then compositing)."""
    from retouch.models.conventions import CutoutConventions
    from retouch.tools.cutout.networks import resolve_model

    try:
        spec = resolve_model(model)
    except WeightsMissing:  # nothing installed yet: the run will say so; estimated at the usual input size
        spec = None
    side = 1024 if spec is None else max(spec.conventions_as(CutoutConventions).input_size)
    width, height = size
    segment = SEGMENT_S.get(side, SEGMENT_S[1024] * (side / 1024) ** 2)  # other sides: by their pixel count
    matting = MATTING_S * min(1.0, (max(width, height) / 1024) ** 2) if refine else 0.0
    typical = segment + matting + width * height / 1e6 * CUTOUT_PIXEL_S
    return _finish(f"cutout|{'auto' if spec is None else spec.name}|{_device(device)}", typical)


def relight(
    size: tuple[int, int], *, model: str | None = None, lights: Any = None, device: str = "auto"
) -> Estimate:
    """``retouch.tools.relight.relight``: the subject found by a cutout network (none for model "none"), its
    geometry, then each light."""
    from retouch.models.conventions import CutoutConventions
    from retouch.tools.cutout.networks import resolve_model
    from retouch.tools.relight.lights import parse_lights

    count = len(parse_lights(lights))
    segment, name = 0.0, "none"
    if model != "none":
        try:
            spec = resolve_model(model)
        except WeightsMissing:  # lit flat, with a warning
            spec = None
        if spec is not None:
            side = max(spec.conventions_as(CutoutConventions).input_size)
            segment, name = SEGMENT_S.get(side, SEGMENT_S[1024] * (side / 1024) ** 2), spec.name
    width, height = size
    typical = segment + width * height / 1e6 * (RELIGHT_PIXEL_S + count * RELIGHT_LIGHT_S)
    return _finish(f"relight|{name}|{_device(device)}", typical)


def restore(
    size: tuple[int, int],
    *,
    faces: bool | None = None,
    scratches: bool = False,
    denoise: float = 0.3,
    colour: float = 0.5,
    upscale: int = 1,
    device: str = "auto",
) -> Estimate:
    """``retouch.tools.restore.restore``, with ASSUMED_FACES face(s) when faces are looked for."""
    width, height = size
    megapixels = width * height / 1e6
    typical = megapixels * RESTORE_PIXEL_S * (denoise > 0 or colour > 0)
    if scratches:
        typical += megapixels * SCRATCH_PIXEL_S
    if faces is not False:
        typical += FACE_DETECT_S + ASSUMED_FACES * FACE_S
    if upscale > 1:
        typical += _upscale_estimate(size, scale=upscale, device=device).typical_s
    return _finish(f"restore|{_device(device)}", typical)


def detext(size: tuple[int, int], *, device: str = "auto") -> Estimate:
    """``retouch.tools.detext.detext`` on a photo with a typical amount of text."""
    width, height = size
    return _finish(f"detext|{_device(device)}", DETEXT_FIXED_S + width * height / 1e6 * DETEXT_PIXEL_S)


# The server's and CLI's way in: a tool's name and the keywords its function takes (others are ignored).
ToolEstimate = Callable[..., Estimate]
_TOOLS: dict[str, tuple[ToolEstimate, tuple[str, ...]]] = {
    "upscale": (upscale, ("scale", "model", "tile")),
    "erase": (erase, ("engine", "grow", "strategy")),
    "cutout": (cutout, ("model", "refine")),
    "replace-bg": (cutout, ("model", "refine")),
    "restore": (restore, ("faces", "scratches", "denoise", "colour", "upscale")),
    "detext": (detext, ()),
    "relight": (relight, ("model", "lights")),
}
TOOLS = tuple(_TOOLS)


def for_tool(
    tool: str,
    size: tuple[int, int],
    options: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    device: str = "auto",
) -> Estimate:
    """The estimate of ``tool`` (a name of ``TOOLS``) with its function's keyword ``options``."""
    if tool not in _TOOLS:
        raise InvalidInput(f"no estimate for tool '{tool}'; tools: {', '.join(TOOLS)}")
    if options.get("prompt"):  # a diffusion run's time is not modelled here: no estimate rather than a wrong one
        raise InvalidInput(f"no estimate for {tool} with a prompt (a diffusion model's run)")
    function, names = _TOOLS[tool]
    keywords: dict[str, Any] = {name: options[name] for name in names if name in options}
    if tool == "erase" and mask is not None:
        keywords["mask"] = mask
    return function(size, **keywords, device=device)


def try_for_tool(
    tool: str,
    size: tuple[int, int],
    options: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    device: str = "auto",
) -> Estimate | None:
    """``for_tool``, or None where it cannot estimate (wrong options, missing weights): the tool then says why."""
    try:
        return for_tool(tool, size, options, mask=mask, device=device)
    except RetouchError:
        return None
