"""The upscaling networks: building one from its registry row, loading its weights, and running it.

Weights come in two official layouts, both read into our own modules (``retouch.models.arch``):

- ``pth``: a Real-ESRGAN release checkpoint, a dict whose ``params_ema`` (preferred, as Real-ESRGAN's inference
  prefers it) or ``params`` entry is the state dict (``retouch.models.checkpoint``). A row with two files and a
  ``denoise_default`` convention (realesr-general-x4v3) mixes them as Real-ESRGAN's deep network interpolation does:
  ``strength * files[0] + (1 - strength) * files[1]``.
- ``ncnn``: a ``.param`` / ``.bin`` pair (``retouch.models.ncnn``). An export whose graph ends with a resize (the
  x2 and x3 variants of a x4 network) must agree with the row's ``scale``; that resize is done by the tool.

Each network's size needs (a multiple of 4 or 2 for RRDBNet's pixel-unshuffled inputs, its scale) are its
``SizeRequirements``: inputs are padded by reflection, as Real-ESRGAN's ``mod_pad``, and the output cropped back.

Precision and runtime, by device. On the CPU, "bf16" runs the network's bfloat16 form in PyTorch (``bf16``: about
2.2 times the reference's speed on CPUs that multiply bfloat16 natively, 49 dB or more against float32); "fp32"
runs it with Winograd convolutions (``winograd``: the reference's float32 results within rounding, about 2 times
its speed); "auto" picks bf16 where the CPU has native bfloat16, else fp32. On CUDA it runs in PyTorch in
half precision (as Real-ESRGAN does on GPUs); on Apple MPS in float32.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from retouch.errors import InvalidInput
from retouch.models.conventions import UpscaleConventions
from retouch.models.descriptor import SizeRequirements, run_padded
from retouch.tools.options.upscale import PRECISIONS

if TYPE_CHECKING:
    import torch
    from torch import nn

    from retouch.models.spec import ModelSpec

ARCHITECTURES = ("rrdbnet", "srvgg-compact")
HEAD_FACTOR = 4  # RRDBNet's head enlarges its trunk's features 4 times
# Trunk pixels RRDBNet sees beyond each tile. Its outputs depend on far context (350 convolutions); measured
# on x4plus against untiled runs: Set14 img_011 (x4 input) in 64-pixel tiles: 16 -> 45.1 dB, 24 -> 50.7 dB,
# 32 -> 57.1 dB; a 192-pixel crop of img_010 (a sharp photo) in 96-pixel tiles: 32 -> 48.4 dB, 48 -> 58.8 dB.
RRDBNET_CONTEXT = 48
HEAD_STRIP_PIXELS = 32_768  # trunk pixels per head strip: about 150 MB per 64-channel map at 4x
HEAD_REACH = 2  # trunk pixels of context the head needs around a strip (1.25 rounded up)
# Progress steps of one run, each about 3.5 s of a 640-pixel tile on two cores (Xeon @ 2.60GHz, float32):
# RRDBNet's 69 dense blocks, and its head in as many steps as its share of the work (8%, five dense blocks); a
# compact network cut after every COMPACT_CONVS convolutions.
HEAD_STEPS = 5
COMPACT_CONVS = 2


class Steps(Protocol):
    """What a network run reports to: ``step`` when one of its ``Network.steps`` is done, ``check`` in between
    (either may raise to stop the run)."""

    def step(self) -> None: ...

    def check(self) -> None: ...


class NoSteps:
    def step(self) -> None:
        pass

    def check(self) -> None:
        pass


@dataclass(frozen=True)
class Network:
    """A loaded network. ``run(image, steps)``: float32 HxWx3 RGB in [0, 1], any size -> float32 (s*H)x(s*W)x3 in
    [0, 1] with s = ``size.scale``, the network's own factor (padding to ``size`` is inside ``run``); it calls
    ``steps.step()`` ``Network.steps`` times, after each piece of its work, and ``steps.check()`` often between.

    Stateless after loading: concurrent calls are safe.
    """

    model: str
    size: SizeRequirements  # the network's own factor and the input sides it needs
    output_scale: float  # the row's nominal factor: the default of ``upscale(scale=...)``
    context: int  # input pixels the network should see beyond a tile for the tile to come out as untiled
    steps: int  # progress steps per run
    run: Callable[[np.ndarray, Steps], np.ndarray]


def upscale_spec(model: str) -> ModelSpec:
    """The registry row of an upscaling model; InvalidInput for other names."""
    from retouch.models.registry import get_spec, list_models

    spec = get_spec(model)
    if spec.task != "upscale":
        known = ", ".join(s.name for s in list_models("upscale"))
        raise InvalidInput(f"model '{model}' is not an upscaling model; upscaling models: {known}")
    if spec.architecture not in ARCHITECTURES:
        raise InvalidInput(f"model '{model}' has an architecture Retouch cannot run ({spec.architecture})")
    return spec


def load_network(
    model: str, *, device: str = "auto", denoise: float | None = None, precision: str = "auto"
) -> Network:
    """The network of ``model`` on ``device``, loaded once per (model, files, device, denoise, precision) and
    shared. ``precision`` (CPU only): "auto", "fp32" or "bf16", see the module's docstring.

    Weights are never downloaded here: a missing file is WeightsMissing, naming ``retouch models pull MODEL``.
    """
    from retouch.models.runtime import cached_model
    from retouch.models.weights import resolve_files

    if precision not in PRECISIONS:
        raise InvalidInput(f"unknown precision '{precision}'; choose one of: {', '.join(PRECISIONS)}")
    spec = upscale_spec(model)
    strength = _denoise_strength(spec, denoise)
    files = resolve_files(spec, allow_download=False)

    def build(_primary: Path, torch_device: torch.device) -> Network:
        module = build_module(spec, meta=True)
        try:
            module.load_state_dict(read_state(spec, files, strength), strict=True, assign=True)
        except RuntimeError as error:
            detail = str(error).splitlines()[0]
            raise InvalidInput(f"the weights of model '{spec.name}' do not fit its network ({detail})") from None
        return _ready(spec, module.eval(), torch_device, precision)

    paths = [files[wf.filename] for wf in spec.files]  # all of them: replacing any one is a new cache entry
    return cached_model(paths, device, build, key=f"{spec.name}|{strength}|{precision}")


def build_module(spec: ModelSpec, *, meta: bool = False) -> nn.Module:
    """The row's architecture with its hyperparameters: randomly initialised, or with shapes only (``meta``)."""
    import torch

    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.models.arch.srvgg import SRVGGNetCompact

    params = dict(spec.arch_params)
    with torch.device("meta" if meta else "cpu"):
        if spec.architecture == "rrdbnet":
            return RRDBNet(**params)
        params["act_type"] = params.pop("act", "prelu")
        return SRVGGNetCompact(**params)


def read_state(spec: ModelSpec, files: dict[str, Path], denoise: float | None) -> dict[str, Any]:
    """The state dict of the row's network from its files (``denoise``: the mixing strength, when the row mixes)."""
    from retouch.models.checkpoint import BASICSR_KEYS, read_checkpoint

    paths = [files[wf.filename] for wf in spec.files]
    if spec.format == "ncnn":
        return _ncnn_state(spec, paths)
    if spec.format != "pth":
        raise InvalidInput(f"model '{spec.name}': upscaling reads .pth or ncnn weights, not {spec.format}")
    state = read_checkpoint(paths[0], BASICSR_KEYS)
    if denoise is None or denoise == 1.0:
        return state
    other = read_checkpoint(paths[1], BASICSR_KEYS)
    if other.keys() != state.keys():
        raise InvalidInput(f"{paths[1].name} and {paths[0].name} do not hold the same network")
    return {key: denoise * value + (1.0 - denoise) * other[key] for key, value in state.items()}


def _denoise_strength(spec: ModelSpec, denoise: float | None) -> float | None:
    default = spec.conventions_as(UpscaleConventions).denoise_default
    if default is None:
        if denoise is not None:
            raise InvalidInput(f"model '{spec.name}' has no denoise strength (realesr-general-x4v3 has)")
        return None
    strength = float(default if denoise is None else denoise)
    if not 0.0 <= strength <= 1.0:
        raise InvalidInput(f"denoise strength must be between 0 and 1, got {strength}")
    return strength


def _ncnn_state(spec: ModelSpec, paths: list[Path]) -> dict[str, Any]:
    from retouch.models import ncnn

    param = next((p for p in paths if p.suffix == ".param"), None)
    weights = next((p for p in paths if p.suffix == ".bin"), None)
    if param is None or weights is None:
        raise InvalidInput(f"model '{spec.name}': an ncnn model needs a .param and a .bin file")
    graph = ncnn.read_param(param)
    state = ncnn.state_dict_for(build_module(spec, meta=True), graph, ncnn.read_weights(graph, weights))
    factor = ncnn.output_resize(graph) or 1.0
    native = spec.arch_params.get("scale", spec.arch_params.get("upscale"))
    if abs(native * factor - output_scale(spec)) > 1e-6:
        raise InvalidInput(
            f"{param.name} upscales by {native * factor:g} but model '{spec.name}' declares {output_scale(spec):g}"
        )
    return state


def output_scale(spec: ModelSpec) -> float:
    """The row's nominal factor (its UpscaleConventions.scale)."""
    return float(spec.conventions_as(UpscaleConventions).scale)


def geometry(spec: ModelSpec) -> tuple[int, int, int]:
    """(context, size multiple, own scale) of the row's network, from its hyperparameters (nothing loaded).

    RRDBNet's input is pixel-unshuffled by 4 / scale; a plain stack of 3x3 convolutions (the compact networks)
    sees one more pixel per convolution, so its tiles come out exact with that context."""
    params = spec.arch_params
    if spec.architecture == "rrdbnet":
        scale = int(params.get("scale", 4))
        multiple = 4 // scale
        return RRDBNET_CONTEXT * multiple, multiple, scale
    return int(params.get("num_conv", 16)) + 2, 1, int(params.get("upscale", 4))


def _ready(spec: ModelSpec, module: nn.Module, device: torch.device, precision: str) -> Network:
    from retouch.models.runtime import cpu_has_bf16

    context, multiple, scale = geometry(spec)
    size = SizeRequirements(multiple=multiple, scale=scale, pad="reflect")
    if device.type != "cpu":
        run, steps = _torch_runner(module, device), 1
    elif precision == "bf16" or (precision == "auto" and cpu_has_bf16()):
        run, steps = _bf16_runner(module)
    else:
        run, steps = _winograd_runner(module)
    return Network(
        model=spec.name,
        size=size,
        output_scale=output_scale(spec),
        context=context,
        steps=steps,
        run=_rgb(run, size),
    )


Runner = Callable[[np.ndarray, Steps], np.ndarray]  # float32 1x3xHxW -> float32 1x3x(sH)x(sW)


def _winograd_runner(module: nn.Module) -> tuple[Runner, int]:
    """The network in float32 with Winograd convolutions (``winograd``); each run stops at the next check once
    ``steps.check`` raises. RRDBNet: a step after every dense block and the check before each, the head in
    strips; a compact network: a step after every COMPACT_CONVS convolutions, the check before each."""
    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.ops.winograd import Buffers
    from retouch.tools.upscale.winograd import WinogradCompact, WinogradRRDBNet, head_strip_pixels

    if not isinstance(module, RRDBNet):
        compact = WinogradCompact(module)
        count = -(-len(compact.convs) // COMPACT_CONVS)

        def run_compact(batch: np.ndarray, steps: Steps) -> np.ndarray:
            every = _Every(steps, COMPACT_CONVS)
            out = compact(batch, every, steps.check)
            every.finish(count)
            return out

        return run_compact, count
    network = WinogradRRDBNet(module)

    def run(batch: np.ndarray, steps: Steps) -> np.ndarray:
        features = network.trunk(batch, steps.step, steps.check)
        head = functools.partial(network.head, buffers=Buffers())
        strip = head_strip_pixels(features.shape[3])
        return in_strips(head, features, HEAD_FACTOR, _Spread(steps, HEAD_STEPS), strip)

    return run, 3 * len(module.body) + HEAD_STEPS


class _Spread:
    """``count`` progress steps spread over ``parts`` calls of ``advance(done, parts)``."""

    def __init__(self, steps: Steps, count: int) -> None:
        self.steps, self.count, self.reported = steps, count, 0

    def __call__(self, done: int, parts: int) -> None:
        due = self.count * done // parts
        while self.reported < due:
            self.reported += 1
            self.steps.step()


def _bf16_runner(module: nn.Module) -> tuple[Runner, int]:
    """PyTorch on the CPU, the network's bfloat16 form; RRDBNet's head in strips, as in float32. A step
    after every dense block (RRDBNet) or every COMPACT_CONVS convolutions; the check before every layer."""
    import torch

    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.tools.interrupt import checked
    from retouch.tools.upscale.bf16 import Bf16RRDBNet, Bf16SRVGGNetCompact

    if not isinstance(module, RRDBNet):
        compact = Bf16SRVGGNetCompact(module).eval()
        convs = sum(isinstance(layer, torch.nn.Conv2d) for layer in module.body)

        def run_compact(batch: np.ndarray, steps: Steps) -> np.ndarray:
            every = _Every(steps, COMPACT_CONVS)
            with torch.inference_mode(), checked(steps.check):
                out = compact(torch.from_numpy(batch), every).numpy()
            every.finish(-(-convs // COMPACT_CONVS))
            return out

        return run_compact, -(-convs // COMPACT_CONVS)
    network = Bf16RRDBNet(module).eval()

    def head(strip: np.ndarray) -> np.ndarray:
        return network.head(torch.from_numpy(strip)).numpy()

    def run(batch: np.ndarray, steps: Steps) -> np.ndarray:
        with torch.inference_mode(), checked(steps.check):
            features = network.trunk(torch.from_numpy(batch), steps.step).numpy()
            return in_strips(head, features, HEAD_FACTOR, _Spread(steps, HEAD_STEPS))

    return run, 3 * len(module.body) + HEAD_STEPS


class _Every:
    """A step after every ``n`` calls; ``finish`` makes up the steps of a last, shorter group."""

    def __init__(self, steps: Steps, n: int) -> None:
        self.steps, self.n, self.calls, self.made = steps, n, 0, 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls % self.n == 0:
            self.made += 1
            self.steps.step()

    def finish(self, total: int) -> None:
        while self.made < total:
            self.made += 1
            self.steps.step()


def in_strips(
    head: Callable[[np.ndarray], np.ndarray],
    features: np.ndarray,
    factor: int,
    advance: Callable[[int, int], None] | None = None,
    strip_pixels: int = HEAD_STRIP_PIXELS,
) -> np.ndarray:
    """``head`` over horizontal strips of NCHW ``features`` (each with the rows of context it needs), assembled:
    the same as ``head(features)`` at a fraction of the memory. ``advance(done, count)`` follows each strip."""
    height, width = features.shape[2:]
    rows = max(HEAD_REACH, strip_pixels // width)
    starts = range(0, height, rows)
    out: np.ndarray | None = None
    for done, y0 in enumerate(starts, 1):
        y1 = min(height, y0 + rows)
        top, bottom = max(0, y0 - HEAD_REACH), min(height, y1 + HEAD_REACH)
        strip = head(np.ascontiguousarray(features[:, :, top:bottom]))
        if out is None:
            out = np.empty((*strip.shape[:2], height * factor, width * factor), np.float32)
        out[:, :, y0 * factor : y1 * factor] = strip[:, :, (y0 - top) * factor : (y1 - top) * factor]
        if advance is not None:
            advance(done, len(starts))
    assert out is not None
    return out


def _torch_runner(module: nn.Module, device: torch.device) -> Runner:
    """PyTorch on a GPU (half precision on CUDA): a tile takes well under a second, one step per run."""
    import torch

    from retouch.tools.interrupt import checked

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    network = module.to(device=device, dtype=dtype)

    def run(batch: np.ndarray, steps: Steps) -> np.ndarray:
        with torch.inference_mode(), checked(steps.check):
            out = network(torch.from_numpy(batch).to(device=device, dtype=dtype))
            result = out.float().cpu().numpy()
        steps.step()
        return result

    return run


def _rgb(run: Runner, size: SizeRequirements) -> Callable[[np.ndarray, Steps], np.ndarray]:
    """``run`` over HxWx3 images of any size: (s*H)x(s*W)x3 out, clamped to [0, 1]."""

    def upscale_rgb(image: np.ndarray, steps: Steps) -> np.ndarray:
        def network(padded: np.ndarray) -> np.ndarray:
            batch = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)
            return run(batch, steps)[0].transpose(1, 2, 0)

        return np.clip(run_padded(network, (image,), size), 0.0, 1.0)

    return upscale_rgb
