"""Reading ncnn models (a ``.param`` text graph and a ``.bin`` of weights) into our PyTorch modules.

Formats, as ncnn's ``Net::load_param`` / ``ParamDict::load_param`` and ``ModelBinFromDataReader::load`` read them:

- ``.param``: the magic number 7767517, then "layer_count blob_count", then one line per layer:
  ``Type name n_inputs n_outputs input... output... key=value...``. A key below -23300 is an array
  (``-23310=2,0.5,1.0`` is param 10 = [0.5, 1.0], the first number being the count); a value with '.' or 'e' is a
  float, otherwise an int.
- ``.bin``: the weights of the layers that have some, in ``.param`` order, with no header and no names. What each
  layer stores is fixed by its type; ``Convolution`` stores its weight (``out x in x kh x kw``, "type 0": a 4-byte
  tag then the data) and, when ``5=1``, its bias (``num_output`` float32, "type 1": no tag); ``PReLU`` stores its
  slopes (type 1). A type-0 tag is 0x01306B47 (float16 follows, padded to 4 bytes), 0x000D4B38 (int8), 0x0002C056
  or 0 (float32 follows), or else a quantisation table: 256 float32 then one uint8 index per value (padded to 4).

Weights map onto a module by order: the n-th ``Convolution`` / ``PReLU`` of the graph is the n-th ``Conv2d`` /
``PReLU`` of ``module.modules()``, every shape checked. That holds for networks whose modules are registered in the
order the forward pass uses them, as ``retouch.models.arch``'s are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retouch.errors import InvalidInput

if TYPE_CHECKING:
    import torch

MAGIC = 7767517
TAG_FLOAT16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FLOAT32 = 0x0002C056
ARRAY_KEY_BASE = -23300

# Layer types that carry no weights in the .bin. A type outside this set and WEIGHTED is not supported.
WEIGHTLESS = frozenset(
    {
        "Input", "Split", "Concat", "Eltwise", "BinaryOp", "UnaryOp", "Interp", "PixelShuffle", "Reshape", "Permute",
        "ReLU", "Sigmoid", "TanH", "Clip", "Crop", "Padding", "Slice", "Flatten", "Noop", "Dropout",
    }
)  # fmt: skip
WEIGHTED = frozenset({"Convolution", "PReLU"})

Value = int | float | tuple[int | float, ...]
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Layer:
    type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[int, Value]

    def get(self, key: int, default: Value) -> Value:
        return self.params.get(key, default)

    def int_param(self, key: int, default: int) -> int:
        value = self.params.get(key, default)
        if not isinstance(value, int):
            raise InvalidInput(f"ncnn layer {self.name}: param {key} should be an integer, got {value!r}")
        return value


@dataclass(frozen=True)
class Graph:
    layers: tuple[Layer, ...]
    blob_count: int

    def of_type(self, kind: str) -> list[Layer]:
        return [layer for layer in self.layers if layer.type == kind]

    def producer(self, blob: str) -> Layer:
        for layer in self.layers:
            if blob in layer.outputs:
                return layer
        raise InvalidInput(f"ncnn graph: no layer produces blob {blob!r}")

    @property
    def final_outputs(self) -> list[str]:
        """Blobs produced and never consumed: the graph's outputs."""
        consumed = {blob for layer in self.layers for blob in layer.inputs}
        return [blob for layer in self.layers for blob in layer.outputs if blob not in consumed]


def read_param(path: Path) -> Graph:
    """Parse a text ``.param`` file."""
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path.name} is not a readable ncnn .param file ({error})") from None
    if len(lines) < 2 or lines[0] != [str(MAGIC)]:
        raise InvalidInput(f"{path.name} is not an ncnn .param file (no magic number {MAGIC} on its first line)")
    try:
        layer_count, blob_count = (int(v) for v in lines[1])
    except ValueError:
        raise InvalidInput(f"{path.name}: the second line must be 'layer_count blob_count'") from None
    layers = tuple(_parse_layer(fields, path, number) for number, fields in enumerate(lines[2:], start=3))
    if len(layers) != layer_count:
        raise InvalidInput(f"{path.name} declares {layer_count} layers but lists {len(layers)}")
    return Graph(layers, blob_count)


def read_weights(graph: Graph, path: Path) -> dict[str, dict[str, np.ndarray]]:
    """The weights of every weighted layer as float32 arrays: layer name -> {"weight", "bias"} or {"slope"}.

    The whole file must be consumed exactly: a .bin that does not belong to this .param is an error.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read ncnn weights {path} ({error})") from None
    reader = _Reader(data, path.name)
    weights: dict[str, dict[str, np.ndarray]] = {}
    for layer in graph.layers:
        if layer.type == "Convolution":
            weights[layer.name] = _convolution(layer, reader)
        elif layer.type == "PReLU":
            weights[layer.name] = {"slope": reader.raw(layer.int_param(0, 1))}
        elif layer.type not in WEIGHTLESS:
            raise InvalidInput(f"{path.name}: ncnn layer type {layer.type} ({layer.name}) is not supported")
    if reader.offset != len(data):
        raise InvalidInput(
            f"{path.name} has {len(data) - reader.offset} bytes after the last layer's weights: "
            "it does not belong to this .param"
        )
    return weights


def state_dict_for(module: torch.nn.Module, graph: Graph, weights: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """A state dict for ``module`` from the graph's weights, matched by order and checked shape by shape."""
    import torch
    from torch import nn

    targets = [(name, m) for name, m in module.named_modules() if isinstance(m, (nn.Conv2d, nn.PReLU))]
    sources = [layer for layer in graph.layers if layer.type in WEIGHTED]
    if len(targets) != len(sources):
        raise InvalidInput(
            f"the ncnn model has {len(sources)} convolution/PReLU layers but the network has {len(targets)}"
        )
    state: dict[str, torch.Tensor] = {}
    for (name, target), layer in zip(targets, sources, strict=True):
        found = weights[layer.name]
        if isinstance(target, nn.Conv2d):
            if layer.type != "Convolution":
                raise InvalidInput(f"ncnn layer {layer.name} is a {layer.type} where the network has a convolution")
            _check_conv(layer, target, found)
            state[f"{name}.weight"] = torch.from_numpy(found["weight"].reshape(target.weight.shape))
            if target.bias is not None:
                state[f"{name}.bias"] = torch.from_numpy(found["bias"])
        else:
            if layer.type != "PReLU" or found["slope"].size != target.weight.numel():
                raise InvalidInput(f"ncnn layer {layer.name} does not match the network's PReLU {name}")
            state[f"{name}.weight"] = torch.from_numpy(found["slope"])
    return state


def output_resize(graph: Graph) -> float | None:
    """The factor of an ``Interp`` that resizes the graph's output last (ncnn exports of x2/x3 variants of x4
    networks end with one), or None when the network's own output is the graph's output."""
    outputs = graph.final_outputs
    if len(outputs) != 1:
        raise InvalidInput(f"the ncnn graph has {len(outputs)} outputs; one is expected")
    last = graph.producer(outputs[0])
    if last.type != "Interp":
        return None
    height, width = last.get(1, 1.0), last.get(2, 1.0)
    if not isinstance(height, float | int) or height != width:
        raise InvalidInput(f"ncnn layer {last.name} resizes height and width differently")
    return float(height)


# --------------------------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.offset = 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise InvalidInput(f"{self.name} ends early: it does not hold the weights its .param describes")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def raw(self, count: int) -> np.ndarray:
        """Type 1: ``count`` float32, no tag."""
        return np.frombuffer(self.take(4 * count), dtype="<f4").copy()

    def tagged(self, count: int) -> np.ndarray:
        """Type 0: a tag, then the values in the encoding it names."""
        tag_bytes = self.take(4)
        tag = int.from_bytes(tag_bytes, "little")
        if tag == TAG_FLOAT16:
            values = np.frombuffer(self.take(_aligned(2 * count)), dtype="<f2")[:count]
            return values.astype(np.float32)
        if tag == TAG_INT8:
            raise InvalidInput(f"{self.name}: int8-quantized ncnn weights are not supported")
        if tag in (TAG_FLOAT32, 0):
            return self.raw(count)
        table = np.frombuffer(self.take(4 * 256), dtype="<f4")
        indices = np.frombuffer(self.take(_aligned(count)), dtype=np.uint8)[:count]
        return table[indices].astype(np.float32)


def _aligned(size: int) -> int:
    return -(-size // 4) * 4


def _convolution(layer: Layer, reader: _Reader) -> dict[str, np.ndarray]:
    if layer.int_param(8, 0):
        raise InvalidInput(f"ncnn layer {layer.name}: int8 convolutions are not supported")
    found = {"weight": reader.tagged(layer.int_param(6, 0))}
    if layer.int_param(5, 0):
        found["bias"] = reader.raw(layer.int_param(0, 0))
    return found


def _check_conv(layer: Layer, conv: Any, found: dict[str, np.ndarray]) -> None:
    out_ch, in_ch, kh, kw = conv.weight.shape
    kernel_w = layer.int_param(1, 0)
    geometry = {
        "outputs": (layer.int_param(0, 0), out_ch),
        "kernel": ((layer.int_param(11, kernel_w), kernel_w), (kh, kw)),
        "dilation": (layer.int_param(2, 1), conv.dilation[1]),
        "stride": (layer.int_param(3, 1), conv.stride[1]),
        "padding": (layer.int_param(4, 0), conv.padding[1]),
        "bias": (bool(layer.int_param(5, 0)), conv.bias is not None),
        "weights": (found["weight"].size, conv.weight.numel()),
    }
    for what, (theirs, ours) in geometry.items():
        if theirs != ours:
            raise InvalidInput(f"ncnn layer {layer.name} does not match the network's convolution ({what})")


def _parse_layer(fields: list[str], path: Path, number: int) -> Layer:
    where = f"{path.name} line {number}"
    try:
        kind, name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        raise InvalidInput(f"{where}: expected 'Type name n_inputs n_outputs ...'") from None
    blobs = fields[4 : 4 + n_in + n_out]
    if len(blobs) != n_in + n_out:
        raise InvalidInput(f"{where}: layer {name} lists fewer blobs than it declares")
    params: dict[int, Value] = {}
    for item in fields[4 + n_in + n_out :]:
        key_text, sep, value_text = item.partition("=")
        try:
            key = int(key_text)
        except ValueError:
            key = None
        if not sep or key is None:
            raise InvalidInput(f"{where}: bad parameter {item!r}")
        if key <= ARRAY_KEY_BASE:
            count_text, *values = value_text.split(",")
            if not count_text.isdigit() or int(count_text) != len(values):
                raise InvalidInput(f"{where}: bad array parameter {item!r}")
            params[ARRAY_KEY_BASE - key] = tuple(_number(v, where) for v in values)
        else:
            params[key] = _number(value_text, where)
    return Layer(kind, name, tuple(blobs[:n_in]), tuple(blobs[n_in:]), params)


def _number(text: str, where: str) -> int | float:
    if not _NUMBER.match(text):
        raise InvalidInput(f"{where}: {text!r} is not a number")
    return float(text) if any(c in text for c in ".eE") else int(text)
