"""Upscaling in small steps: every run reports its steps, and a check that raises stops a run within a fraction of
a second (ONNX Runtime, PyTorch)."""

from __future__ import annotations

import time

import numpy as np
import onnxruntime as ort
import pytest
import torch

from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.tools.interrupt import Heartbeat, checked, terminable
from retouch.tools.upscale import networks
from test_ncnn import random_rrdbnet


class Stop(Exception):
    pass


class Counter:
    def __init__(self) -> None:
        self.steps = 0
        self.checks = 0

    def step(self) -> None:
        self.steps += 1

    def check(self) -> None:
        self.checks += 1


def conv_chain(layers: int, channels: int) -> ort.InferenceSession:
    """An ONNX Runtime session of ``layers`` 3x3 convolutions of ``channels`` channels (random weights)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array((rng.standard_normal((channels, 3 if k == 0 else channels, 3, 3)) * 0.1).astype(np.float32), f"w{k}")
        for k in range(layers)
    ]
    nodes = [
        helper.make_node("Conv", ["x" if k == 0 else f"y{k - 1}", f"w{k}"], [f"y{k}"], pads=[1, 1, 1, 1])
        for k in range(layers)
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info(f"y{layers - 1}", TensorProto.FLOAT, [1, channels, "h", "w"])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def compact(num_conv: int) -> SRVGGNetCompact:
    torch.manual_seed(num_conv)
    network = SRVGGNetCompact(num_feat=8, num_conv=num_conv, upscale=2).eval()
    for p in network.parameters():
        p.data.normal_(0.0, 0.2)
    return network


@pytest.mark.parametrize(
    ("runner", "module"),
    [
        (networks._winograd_runner, lambda: random_rrdbnet(4, blocks=2)),
        (networks._bf16_runner, lambda: random_rrdbnet(4, blocks=2)),
        (networks._winograd_runner, lambda: compact(5)),
        (networks._bf16_runner, lambda: compact(5)),
    ],
)
def test_every_run_makes_its_steps_and_checks_in_between(runner, module) -> None:
    network = module()
    run, steps = runner(network)
    counter = Counter()
    run(np.random.default_rng(2).random((1, 3, 16, 12), dtype=np.float32), counter)
    assert counter.steps == steps >= 4


def test_a_raising_check_stops_onnx_runtime_within_a_fraction_of_a_second() -> None:
    model = conv_chain(16, 32)
    x = np.random.default_rng(3).random((1, 3, 256, 256), dtype=np.float32)
    stop_at = time.monotonic() + 0.3

    def check() -> None:
        if time.monotonic() > stop_at:
            raise Stop

    with pytest.raises(Stop), terminable(check) as options:
        while time.monotonic() < stop_at + 10:
            model.run(None, {"x": x}, options)
    assert time.monotonic() - stop_at < 1.0


def test_a_raising_check_stops_pytorch_before_its_next_layer() -> None:
    network = random_rrdbnet(4, blocks=4)
    x = torch.rand(1, 3, 64, 64)
    stop_at = time.monotonic() + 0.3
    layers: list[object] = []

    def check() -> None:
        if time.monotonic() > stop_at:
            raise Stop

    with pytest.raises(Stop), torch.inference_mode(), checked(check, layers.append):
        while time.monotonic() < stop_at + 10:
            network(x)
    assert time.monotonic() - stop_at < 1.0 and layers
    network(x)  # outside, nothing is checked any more


def test_a_heartbeat_repeats_the_last_report() -> None:
    calls: list[tuple[str, int, int]] = []
    beat = Heartbeat(lambda *call: calls.append(call))
    beat.beat()  # nothing reported yet: nothing to repeat
    beat("upscale", 3, 10)
    beat.beat()
    assert calls == [("upscale", 3, 10), ("upscale", 3, 10)]
