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
2.2 times the reference's speed on CPUs that multiply bfloat16 natively, 49 dB or more against float32), "fp32"
runs it in ONNX Runtime on a graph written from the loaded weights (``onnx_graph``: the reference's float32
results, 1.2 to 1.5 times its speed); "auto" picks bf16 where the CPU has native bfloat16, else fp32. On CUDA it
runs in PyTorch in half precision (as Real-ESRGAN does on GPUs); on Apple MPS in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True)
class Network:
    """A loaded network. ``run``: float32 HxWx3 RGB in [0, 1], any size -> float32 (s*H)x(s*W)x3 in [0, 1] with
    s = ``size.scale``, the network's own factor (padding to ``size`` is inside ``run``).

    Stateless after loading: concurrent calls are safe.
    """

    model: str
    size: SizeRequirements  # the network's own factor and the input sides it needs
    output_scale: float  # the row's nominal factor: the default of ``upscale(scale=...)``
    context: int  # input pixels the network should see beyond a tile for the tile to come out as untiled
    run: Callable[[np.ndarray], np.ndarray]


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


def _ready(spec: ModelSpec, module: nn.Module, device: torch.device, precision: str) -> Network:
    from torch import nn

    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.models.runtime import cpu_has_bf16

    size = SizeRequirements(multiple=int(module.size_multiple), scale=int(module.scale), pad="reflect")
    if isinstance(module, RRDBNet):
        context = RRDBNET_CONTEXT * size.multiple
    else:  # a plain stack of 3x3 convolutions sees one more pixel per convolution: tiles come out exact
        context = sum(isinstance(layer, nn.Conv2d) for layer in module.modules())
    if device.type != "cpu":
        run = _torch_runner(module, device)
    elif precision == "bf16" or (precision == "auto" and cpu_has_bf16()):
        run = _bf16_runner(module)
    else:
        run = _onnx_runner(module)
    return Network(model=spec.name, size=size, output_scale=output_scale(spec), context=context, run=_rgb(run, size))


Runner = Callable[[np.ndarray], np.ndarray]  # float32 1x3xHxW -> float32 1x3x(sH)x(sW)


def _onnx_runner(module: nn.Module) -> Runner:
    """ONNX Runtime on the CPU. RRDBNet runs as its trunk on the whole tile, then its head on strips of the
    trunk's features (the head's 4x-resolution maps are most of the memory)."""
    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.tools.upscale.onnx_graph import FEATURES, INPUT, to_onnx

    if not isinstance(module, RRDBNet):
        session = _session(to_onnx(module))
        return lambda batch: session.run(None, {INPUT: batch})[0]
    trunk, head = _session(to_onnx(module, "trunk")), _session(to_onnx(module, "head"))

    def run(batch: np.ndarray) -> np.ndarray:
        features = trunk.run(None, {INPUT: batch})[0]
        return in_strips(lambda strip: head.run(None, {FEATURES: strip})[0], features, HEAD_FACTOR)

    return run


def _bf16_runner(module: nn.Module) -> Runner:
    """PyTorch on the CPU, the network's bfloat16 form; RRDBNet's head in strips, as with ONNX Runtime."""
    import torch

    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.tools.upscale.bf16 import Bf16RRDBNet, Bf16SRVGGNetCompact

    if not isinstance(module, RRDBNet):
        compact = Bf16SRVGGNetCompact(module).eval()

        def run_compact(batch: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return compact(torch.from_numpy(batch)).numpy()

        return run_compact
    network = Bf16RRDBNet(module).eval()

    def head(strip: np.ndarray) -> np.ndarray:
        return network.head(torch.from_numpy(strip)).numpy()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            features = network.trunk(torch.from_numpy(batch)).numpy()
            return in_strips(head, features, HEAD_FACTOR)

    return run


def in_strips(head: Runner, features: np.ndarray, factor: int) -> np.ndarray:
    """``head`` over horizontal strips of NCHW ``features`` (each with the rows of context it needs), assembled:
    the same as ``head(features)`` at a fraction of the memory."""
    from retouch.tools.upscale.onnx_graph import HEAD_REACH

    height, width = features.shape[2:]
    rows = max(HEAD_REACH, HEAD_STRIP_PIXELS // width)
    out: np.ndarray | None = None
    for y0 in range(0, height, rows):
        y1 = min(height, y0 + rows)
        top, bottom = max(0, y0 - HEAD_REACH), min(height, y1 + HEAD_REACH)
        strip = head(np.ascontiguousarray(features[:, :, top:bottom]))
        if out is None:
            out = np.empty((*strip.shape[:2], height * factor, width * factor), np.float32)
        out[:, :, y0 * factor : y1 * factor] = strip[:, :, (y0 - top) * factor : (y1 - top) * factor]
    assert out is not None
    return out


def _session(model: bytes) -> Any:
    from retouch.models.runtime import onnx_session

    # Without the arena, a run's buffers go back to the system: with it, RRDBNet's trunk and head each kept
    # their peak and the trunk's grew on later tiles (4.2 GB instead of 1.8 GB at 640-pixel tiles).
    return onnx_session(model, "cpu", memory_arena=False)


def _torch_runner(module: nn.Module, device: torch.device) -> Runner:
    import torch

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    network = module.to(device=device, dtype=dtype)

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = network(torch.from_numpy(batch).to(device=device, dtype=dtype))
            return out.float().cpu().numpy()

    return run


def _rgb(run: Runner, size: SizeRequirements) -> Callable[[np.ndarray], np.ndarray]:
    """``run`` over HxWx3 images of any size: (s*H)x(s*W)x3 out, clamped to [0, 1]."""

    def network(image: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
        return run(batch)[0].transpose(1, 2, 0)

    def upscale_rgb(image: np.ndarray) -> np.ndarray:
        return np.clip(run_padded(network, (image,), size), 0.0, 1.0)

    return upscale_rgb
