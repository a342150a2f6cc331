"""The CPU forms of our networks: float32 with Winograd convolutions computes what the PyTorch modules compute
(random weights), as the GPU path does; the bfloat16 forms come close."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.tools.upscale import networks
from retouch.models.runtime import cpu_has_bf16
from retouch.tools.upscale.bf16 import Bf16RRDBNet, Bf16SRVGGNetCompact
from test_ncnn import random_rrdbnet


def torch_output(network: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return network(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("act", ["prelu", "relu", "leakyrelu"])
@pytest.mark.parametrize("upscale", [4, 3, 2])
def test_the_compact_network_in_winograd_form_matches_the_module(act: str, upscale: int) -> None:
    torch.manual_seed(upscale)
    network = SRVGGNetCompact(num_feat=24, num_conv=2, upscale=upscale, act_type=act).eval()  # 24: padded to 32
    for p in network.parameters():
        p.data.normal_(0.0, 0.2)
    x = np.random.default_rng(1).random((1, 3, 10, 14), dtype=np.float32)
    run, _ = networks._winograd_runner(network)
    np.testing.assert_allclose(run(x, networks.NoSteps()), torch_output(network, x), rtol=2e-5, atol=5e-5)


def test_the_pytorch_runner_for_gpus_computes_the_same_as_the_cpu_runner() -> None:
    network = random_rrdbnet(2, blocks=1)
    x = np.random.default_rng(3).random((1, 3, 20, 18), dtype=np.float32)
    on_cpu = networks._winograd_runner(network)[0](x, networks.NoSteps())
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
