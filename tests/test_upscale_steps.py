"""Upscaling in small steps: the networks cut into pieces compute what the whole networks compute, every run
reports its steps, and a check that raises stops a run within a fraction of a second (ONNX Runtime, PyTorch)."""

from __future__ import annotations

import time

import numpy as np
import onnxruntime as ort
import pytest
import torch

from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.tools.interrupt import Heartbeat, checked, terminable
from retouch.tools.upscale import networks
from retouch.tools.upscale.onnx_graph import FEATURES, INPUT, OUTPUT, compact_parts, to_onnx, trunk_parts
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


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def compact(num_conv: int) -> SRVGGNetCompact:
    torch.manual_seed(num_conv)
    network = SRVGGNetCompact(num_feat=8, num_conv=num_conv, upscale=2).eval()
    for p in network.parameters():
        p.data.normal_(0.0, 0.2)
    return network


@pytest.mark.parametrize("scale", [4, 2, 1])
def test_the_trunk_in_dense_block_pieces_is_the_whole_trunk(scale: int) -> None:
    network = random_rrdbnet(scale, blocks=2)
    x = np.random.default_rng(0).random((1, 3, 24, 20), dtype=np.float32)
    parts = trunk_parts(network)
    assert len(parts) == 6  # three dense blocks per residual block
    counter = Counter()
    pieces = networks._Pieces(parts).run(x, counter, None)
    assert counter.steps == 6 and set(pieces) == {INPUT, FEATURES}  # what is no longer read is dropped
    whole = session(to_onnx(network, "trunk")).run(None, {INPUT: x})[0]
    np.testing.assert_allclose(pieces[FEATURES], whole, atol=1e-5)


@pytest.mark.parametrize(("num_conv", "pieces"), [(1, 2), (2, 2), (5, 4)])
def test_a_compact_network_in_pieces_is_the_whole_network(num_conv: int, pieces: int) -> None:
    network = compact(num_conv)  # num_conv + 2 convolutions, two per piece
    x = np.random.default_rng(1).random((1, 3, 10, 14), dtype=np.float32)
    parts = compact_parts(network, 2)
    assert len(parts) == pieces
    result = networks._Pieces(parts).run(x, Counter(), None)[OUTPUT]
    np.testing.assert_allclose(result, session(to_onnx(network)).run(None, {INPUT: x})[0], atol=1e-5)


@pytest.mark.parametrize("runner", [networks._onnx_runner, networks._bf16_runner])
@pytest.mark.parametrize("module", [lambda: random_rrdbnet(4, blocks=2), lambda: compact(5)])
def test_every_run_makes_its_steps_and_checks_in_between(runner, module) -> None:
    network = module()
    run, steps = runner(network)
    counter = Counter()
    run(np.random.default_rng(2).random((1, 3, 16, 12), dtype=np.float32), counter)
    assert counter.steps == steps >= 4


def test_a_raising_check_stops_onnx_runtime_within_a_fraction_of_a_second() -> None:
    model = session(to_onnx(random_rrdbnet(4, blocks=4)))
    x = np.random.default_rng(3).random((1, 3, 96, 96), dtype=np.float32)
    stop_at = time.monotonic() + 0.3

    def check() -> None:
        if time.monotonic() > stop_at:
            raise Stop

    with pytest.raises(Stop), terminable(check) as options:
        while time.monotonic() < stop_at + 10:
            model.run(None, {INPUT: x}, options)
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
