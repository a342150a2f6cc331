"""The CPU forms of our networks: the ONNX graphs written from them compute what the PyTorch modules compute
(random weights), whole or as RRDBNet's trunk and head, the head in strips; the bfloat16 forms come close."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.tools.upscale import networks
from retouch.models.runtime import cpu_has_bf16
from retouch.tools.upscale.bf16 import Bf16RRDBNet, Bf16SRVGGNetCompact
from retouch.tools.upscale.onnx_graph import FEATURES, INPUT, to_onnx
from test_ncnn import random_rrdbnet


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def torch_output(network: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return network(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("scale", [4, 2, 1])
def test_rrdbnet_graph_matches_the_module(scale: int) -> None:
    network = random_rrdbnet(scale)
    x = np.random.default_rng(0).random((1, 3, 24, 32), dtype=np.float32)
    result = session(to_onnx(network)).run(None, {INPUT: x})[0]
    assert result.shape == (1, 3, 24 * scale, 32 * scale)
    np.testing.assert_allclose(result, torch_output(network, x), atol=2e-5)


@pytest.mark.parametrize("act", ["prelu", "relu", "leakyrelu"])
@pytest.mark.parametrize("upscale", [4, 3, 2])
def test_srvgg_graph_matches_the_module(act: str, upscale: int) -> None:
    torch.manual_seed(upscale)
    network = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=upscale, act_type=act).eval()
    for p in network.parameters():
        p.data.normal_(0.0, 0.2)
    x = np.random.default_rng(1).random((1, 3, 10, 14), dtype=np.float32)
    np.testing.assert_allclose(session(to_onnx(network)).run(None, {INPUT: x})[0], torch_output(network, x), atol=1e-5)


def test_the_head_in_strips_is_the_whole_network(monkeypatch) -> None:
    network = random_rrdbnet(4, blocks=1)
    x = np.random.default_rng(2).random((1, 3, 37, 29), dtype=np.float32)
    features = session(to_onnx(network, "trunk")).run(None, {INPUT: x})[0]
    assert features.shape == (1, 16, 37, 29)
    head = session(to_onnx(network, "head"))
    monkeypatch.setattr(networks, "HEAD_STRIP_PIXELS", 5 * 29)  # strips of 5 rows, each with 2 rows of context
    stitched = networks.in_strips(lambda part: head.run(None, {FEATURES: part})[0], features, 4)
    np.testing.assert_allclose(stitched, torch_output(network, x), atol=2e-5)


def test_compact_networks_have_no_stages() -> None:
    with pytest.raises(ValueError, match="no ONNX stage 'trunk'"):
        to_onnx(SRVGGNetCompact(num_feat=4, num_conv=1), "trunk")


def test_the_pytorch_runner_for_gpus_computes_the_same_as_onnx_runtime() -> None:
    network = random_rrdbnet(2, blocks=1)
    x = np.random.default_rng(3).random((1, 3, 20, 18), dtype=np.float32)
    on_cpu = networks._onnx_runner(network)[0](x, networks.NoSteps())
    on_gpu_path = networks._torch_runner(network, torch.device("cpu"))(x, networks.NoSteps())
    np.testing.assert_allclose(on_gpu_path, on_cpu, atol=2e-5)


def test_bfloat16_forms_stay_close_to_float32_and_leave_the_network_alone() -> None:
    rrdb = random_rrdbnet(2, blocks=2)
    before = {k: v.clone() for k, v in rrdb.state_dict().items()}
    x = np.random.default_rng(4).random((1, 3, 22, 30), dtype=np.float32)
    expected = torch_output(rrdb, x)
    with torch.inference_mode():
        fast = Bf16RRDBNet(rrdb)(torch.from_numpy(x)).numpy()
    assert fast.shape == expected.shape and np.abs(fast - expected).max() < 0.02
    assert all(torch.equal(before[k], v) for k, v in rrdb.state_dict().items())  # 0.2 folded into a copy

    torch.manual_seed(5)
    compact = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=3).eval()
    expected = torch_output(compact, x)
    with torch.inference_mode():
        fast = Bf16SRVGGNetCompact(compact)(torch.from_numpy(x)).numpy()
    assert np.abs(fast - expected).max() < 0.02
    assert isinstance(cpu_has_bf16(), bool)
