"""Our upscaling networks as ONNX graphs, written directly from their weights (no tracing, well under a second).

Why: on x86 CPUs ONNX Runtime's blocked-layout convolutions (MLAS, NCHWc) run these networks about three times
faster than PyTorch's float32 convolutions, with the same float32 results. The graphs compute exactly what
``retouch.models.arch.rrdbnet.RRDBNet.forward`` and ``...srvgg.SRVGGNetCompact.forward`` compute; the tests run
both on random weights and compare. Two rewrites that do not change the function:

- a dense block's residual ``x + 0.2 * conv5(...)`` becomes ``x + conv5'(...)`` with conv5's weights and bias
  scaled by 0.2 (one multiplication fewer per block);
- pixel-unshuffle (x2plus, x1 networks) becomes ONNX SpaceToDepth, whose output channels come in another order
  (block position major, colour minor); conv_first's input channels are permuted to match.

Input "image": float32 1x3xHxW RGB in [0, 1] (H, W multiples of the network's size multiple); output "upscaled":
float32 1x3x(sH)x(sW), not clamped.

RRDBNet can also be cut in two stages (``stage``): the "trunk" (image -> "features", 64 channels at the trunk's
resolution: nearly all the work) and the "head" (features -> upscaled: two enlargements and four convolutions at
up to 4x that resolution: most of the memory). Running the head on strips of the features bounds the memory of
large tiles; each output pixel depends on features within 1.25 trunk pixels (``HEAD_REACH``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch import nn

OPSET = 17
INPUT = "image"
FEATURES = "features"
OUTPUT = "upscaled"
STAGES = ("whole", "trunk", "head")
HEAD_REACH = 2  # trunk pixels of context the head needs around a strip (1.25 rounded up)


def to_onnx(network: nn.Module, stage: str = "whole") -> bytes:
    """The serialized ONNX model of an RRDBNet or SRVGGNetCompact, or of one stage of an RRDBNet (float32,
    dynamic height and width)."""
    from onnx import TensorProto, helper

    from retouch.models.arch.rrdbnet import RRDBNet
    from retouch.models.arch.srvgg import SRVGGNetCompact

    graph = _Graph()
    channels = {INPUT: 3, OUTPUT: 3}
    if isinstance(network, SRVGGNetCompact) and stage == "whole":
        source, sink = INPUT, OUTPUT
        _srvgg(graph, network)
    elif isinstance(network, RRDBNet) and stage in STAGES:
        source = FEATURES if stage == "head" else INPUT
        sink = FEATURES if stage == "trunk" else OUTPUT
        channels[FEATURES] = network.conv_body.out_channels
        features = FEATURES if stage == "head" else _rrdbnet_trunk(graph, network, sink if stage == "trunk" else None)
        if stage != "trunk":
            _rrdbnet_head(graph, network, features)
    else:
        raise ValueError(f"no ONNX stage {stage!r} for {type(network).__name__}")
    inputs = [helper.make_tensor_value_info(source, TensorProto.FLOAT, [1, channels[source], "height", "width"])]
    outputs = [helper.make_tensor_value_info(sink, TensorProto.FLOAT, [1, channels[sink], "out_height", "out_width"])]
    name = f"{type(network).__name__}-{stage}"
    onnx_graph = helper.make_graph(graph.nodes, name, inputs, outputs, graph.initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="retouch")
    model.ir_version = 8
    return bytes(model.SerializeToString())


class _Graph:
    """Nodes and initializers, with unique names handed out in order."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, array: np.ndarray, hint: str) -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attributes: Any) -> str:
        from onnx import helper

        out = output or self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    def conv(
        self,
        x: str,
        conv: Any,
        *,
        scale: float = 1.0,
        permute_inputs: np.ndarray | None = None,
        output: str | None = None,
    ) -> str:
        weight = conv.weight.detach().float().numpy() * np.float32(scale)
        if permute_inputs is not None:
            weight = weight[:, permute_inputs]
        bias = conv.bias.detach().float().numpy() * np.float32(scale)
        pad = conv.padding[0]
        return self.node(
            "Conv",
            [x, self.constant(weight, "w"), self.constant(bias, "b")],
            output,
            kernel_shape=list(conv.kernel_size),
            pads=[pad, pad, pad, pad],
        )

    def leaky(self, x: str, slope: float) -> str:
        return self.node("LeakyRelu", [x], alpha=slope)

    def nearest(self, x: str, factor: int) -> str:
        # torch's "nearest" reads source pixel floor(dst / factor): ONNX's asymmetric mapping with floor.
        scales = self.constant(np.array([1, 1, factor, factor], np.float32), "scales")
        return self.node(
            "Resize",
            [x, "", scales],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )


def _rrdbnet_trunk(graph: _Graph, net: Any, output: str | None) -> str:
    first = _rrdbnet_first(graph, net, INPUT)
    trunk = first
    for block in net.body:
        inner = trunk
        for rdb in (block.rdb1, block.rdb2, block.rdb3):
            inner = _dense_block(graph, rdb, inner)
        trunk = _block_residual(graph, trunk, inner)
    return _rrdbnet_last(graph, net, first, trunk, output)


def _rrdbnet_first(graph: _Graph, net: Any, x: str, output: str | None = None) -> str:
    permutation = None
    if net.unshuffle > 1:
        x = graph.node("SpaceToDepth", [x], blocksize=net.unshuffle)
        permutation = _unshuffle_permutation(net.conv_first.in_channels // net.unshuffle**2, net.unshuffle)
    return graph.conv(x, net.conv_first, permute_inputs=permutation, output=output)


def _dense_block(graph: _Graph, rdb: Any, inner: str, output: str | None = None) -> str:
    from retouch.models.arch.rrdbnet import NEGATIVE_SLOPE, RESIDUAL_SCALE

    features = [inner]
    for conv in (rdb.conv1, rdb.conv2, rdb.conv3, rdb.conv4):
        joined = features[0] if len(features) == 1 else graph.node("Concat", features, axis=1)
        features.append(graph.leaky(graph.conv(joined, conv), NEGATIVE_SLOPE))
    last = graph.conv(graph.node("Concat", features, axis=1), rdb.conv5, scale=RESIDUAL_SCALE)
    return graph.node("Add", [inner, last], output)


def _block_residual(graph: _Graph, trunk: str, inner: str, output: str | None = None) -> str:
    from retouch.models.arch.rrdbnet import RESIDUAL_SCALE

    residual_scale = graph.constant(np.array(RESIDUAL_SCALE, np.float32), "scale")
    return graph.node("Add", [trunk, graph.node("Mul", [inner, residual_scale])], output)


def _rrdbnet_last(graph: _Graph, net: Any, first: str, trunk: str, output: str | None) -> str:
    return graph.node("Add", [first, graph.conv(trunk, net.conv_body)], output)


@dataclass(frozen=True)
class Part:
    """One piece of a network cut into consecutive graphs: run in order, each reads named values that earlier
    pieces (or the caller: ``INPUT``) produced and adds its ``outputs``; ``units``: the progress steps it is
    worth (dense blocks, groups of convolutions)."""

    model: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    units: int = 1


def trunk_parts(network: nn.Module, group: int = 1) -> list[Part]:
    """RRDBNet's trunk cut after every ``group`` dense blocks (three per residual block; the last piece may hold
    fewer), so that a long tile can report progress and stop between them; run in order they compute what
    ``to_onnx(network, "trunk")`` computes (``FEATURES``). The first piece also runs conv_first, the last
    conv_body. Fewer, larger pieces cost less (each piece's layout conversions and thread wake-ups): on a
    128x128 input x4plus's trunk in 69 pieces took 12.6 s, as one graph 11.3 s (2 shared cores)."""
    count = len(network.body)
    channels = network.conv_body.out_channels
    units = [(b, r) for b in range(count) for r in range(3)]
    # What each dense block reads and writes, by name, to know which values cross a cut.
    reads: list[list[str]] = []
    writes: list[list[str]] = []
    for b, r in units:
        stream, after = ("first" if b == 0 else f"stream{b}"), f"stream{b + 1}"
        source = stream if r == 0 else f"inner{b}.{r}"
        read = [INPUT] if (b, r) == (0, 0) else [source]
        write = ["first"] if (b, r) == (0, 0) else []
        if r < 2:
            write.append(f"inner{b}.{r + 1}")
        elif b + 1 < count:
            read.append(stream)
            write.append(after)
        else:
            read += [stream, "first"]
            write.append(FEATURES)
        reads.append(read)
        writes.append(write)
    parts = []
    for start in range(0, len(units), max(1, group)):
        stop = min(len(units), start + max(1, group))
        graph = _Graph()
        inputs: dict[str, int] = {}
        made: set[str] = set()
        for k in range(start, stop):
            for name in reads[k]:
                if name not in made and name not in inputs:
                    inputs[name] = 3 if name == INPUT else channels
            _trunk_unit(graph, network, *units[k], count)
            made.update(writes[k])
        later = {name for k in range(stop, len(units)) for name in reads[k]} | {FEATURES}
        outputs = [name for k in range(start, stop) for name in writes[k] if name in later]
        parts.append(_part(graph, inputs, dict.fromkeys(outputs, channels), f"trunk-{start}-{stop}", stop - start))
    return parts


def _trunk_unit(graph: _Graph, network: Any, b: int, r: int, count: int) -> None:
    """Dense block ``r`` of residual block ``b``, with what comes before (conv_first) or after (the block's
    residual, conv_body) it, writing the names ``trunk_parts`` expects."""
    block = network.body[b]
    rdb = (block.rdb1, block.rdb2, block.rdb3)[r]
    stream, after = ("first" if b == 0 else f"stream{b}"), f"stream{b + 1}"
    if (b, r) == (0, 0):
        source = _rrdbnet_first(graph, network, INPUT, output="first")
    else:
        source = stream if r == 0 else f"inner{b}.{r}"
    if r < 2:
        _dense_block(graph, rdb, source, output=f"inner{b}.{r + 1}")
    elif b + 1 < count:
        _block_residual(graph, stream, _dense_block(graph, rdb, source), output=after)
    else:
        result = _block_residual(graph, stream, _dense_block(graph, rdb, source))
        _rrdbnet_last(graph, network, "first", result, FEATURES)


def compact_parts(network: nn.Module, convs: int) -> list[Part]:
    """SRVGGNetCompact cut after every ``convs`` convolutions (with their activations); the last piece also
    reads ``INPUT`` for the enlarged input it adds. Run in order they compute what ``to_onnx(network)`` does."""
    from torch import nn

    layers = list(network.body)
    cuts = [i + 2 for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)][convs - 1 :: convs]
    cuts = sorted({c for c in cuts if c < len(layers)})
    bounds = [0, *cuts, len(layers)]
    channels = network.body[0].out_channels
    parts = []
    for k, (start, stop) in enumerate(zip(bounds, bounds[1:], strict=False)):
        graph = _Graph()
        source = INPUT if k == 0 else f"body{k}"
        x = _srvgg_layers(graph, layers[start:stop], source)
        inputs = {source: 3 if k == 0 else channels}
        if stop < len(layers):
            outputs = {graph.node("Identity", [x], f"body{k + 1}"): channels}
        else:
            inputs[INPUT] = 3
            _srvgg_output(graph, network, x)
            outputs = {OUTPUT: 3}
        parts.append(_part(graph, inputs, outputs, f"compact-{k}"))
    return parts


def _part(graph: _Graph, inputs: dict[str, int], outputs: dict[str, int], name: str, units: int = 1) -> Part:
    from onnx import TensorProto, helper

    def values(named: dict[str, int], size: tuple[str, str]) -> list[Any]:
        return [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c, *size]) for n, c in named.items()]

    onnx_graph = helper.make_graph(
        graph.nodes,
        name,
        values(inputs, ("height", "width")),
        values(outputs, ("out_height", "out_width")),
        graph.initializers,
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="retouch")
    model.ir_version = 8
    return Part(bytes(model.SerializeToString()), tuple(inputs), tuple(outputs), units)


def _rrdbnet_head(graph: _Graph, net: Any, feat: str) -> None:
    from retouch.models.arch.rrdbnet import NEGATIVE_SLOPE

    feat = graph.leaky(graph.conv(graph.nearest(feat, 2), net.conv_up1), NEGATIVE_SLOPE)
    feat = graph.leaky(graph.conv(graph.nearest(feat, 2), net.conv_up2), NEGATIVE_SLOPE)
    feat = graph.leaky(graph.conv(feat, net.conv_hr), NEGATIVE_SLOPE)
    graph.conv(feat, net.conv_last, output=OUTPUT)


def _srvgg(graph: _Graph, net: Any) -> None:
    _srvgg_output(graph, net, _srvgg_layers(graph, list(net.body), INPUT))


def _srvgg_layers(graph: _Graph, layers: list[Any], x: str) -> str:
    from torch import nn

    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            x = graph.conv(x, layer)
        elif isinstance(layer, nn.PReLU):
            slope = layer.weight.detach().float().numpy().reshape(-1, 1, 1)
            x = graph.node("PRelu", [x, graph.constant(slope, "slope")])
        elif isinstance(layer, nn.LeakyReLU):
            x = graph.leaky(x, layer.negative_slope)
        else:
            x = graph.node("Relu", [x])
    return x


def _srvgg_output(graph: _Graph, net: Any, x: str) -> None:
    # torch's PixelShuffle orders sub-pixels colour-major: ONNX DepthToSpace in CRD mode.
    shuffled = graph.node("DepthToSpace", [x], blocksize=net.upscale, mode="CRD")
    graph.node("Add", [shuffled, graph.nearest(INPUT, net.upscale)], OUTPUT)


def _unshuffle_permutation(colours: int, factor: int) -> np.ndarray:
    """For each SpaceToDepth output channel, the pixel-unshuffle channel holding the same sample.

    pixel-unshuffle: channel c * f^2 + i * f + j; SpaceToDepth: channel (i * f + j) * colours + c.
    """
    order = np.empty(colours * factor * factor, dtype=np.int64)
    for c in range(colours):
        for offset in range(factor * factor):
            order[offset * colours + c] = c * factor * factor + offset
    return order
