"""RRDBNet's float32 CPU path with Winograd convolutions: the same results as the PyTorch module, whatever the size
or channel counts, with its progress steps and its stop."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from retouch.models.arch.rrdbnet import RRDBNet
from retouch.ops import _winograd
from retouch.tools.upscale import networks
from retouch.ops.winograd import Buffers
from retouch.tools.upscale.winograd import WinogradRRDBNet


def rrdbnet(scale: int, features: int, grow: int, blocks: int = 2, seed: int = 0) -> RRDBNet:
    torch.manual_seed(seed)
    network = RRDBNet(scale=scale, num_feat=features, num_block=blocks, num_grow_ch=grow)
    for parameter in network.parameters():
        parameter.data.normal_(0.0, 0.05)
    return network.eval()


def expected(network: RRDBNet, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return network(torch.from_numpy(x)).numpy()


class Steps:
    def __init__(self, stop_after: int | None = None) -> None:
        self.steps, self.checks, self.stop_after = 0, 0, stop_after

    def step(self) -> None:
        self.steps += 1

    def check(self) -> None:
        self.checks += 1
        if self.stop_after is not None and self.steps >= self.stop_after:
            raise InterruptedError


@pytest.mark.parametrize(
    ("scale", "features", "grow", "rows", "cols"),
    [
        (4, 64, 32, 21, 18),  # the real networks' channels; sides that are not multiples of 4
        (4, 16, 8, 9, 13),  # channels that are not multiples of the transforms' 16 lanes
        (2, 24, 12, 14, 10),  # pixel-unshuffled input (x2plus), tiny sides
        (1, 16, 16, 4, 8),
    ],
)
def test_the_winograd_runner_computes_the_network(scale: int, features: int, grow: int, rows: int, cols: int) -> None:
    network = rrdbnet(scale, features, grow)
    x = np.random.default_rng(1).random((1, 3, rows, cols), dtype=np.float32)
    run, step_count = networks._winograd_runner(network)
    steps = Steps()
    result = run(x, steps)
    np.testing.assert_allclose(result, expected(network, x), atol=2e-5)
    assert steps.steps == step_count == 6 + networks.HEAD_STEPS
    assert steps.checks >= 6


def test_the_head_in_strips_is_the_whole_head() -> None:
    """Strips of a few rows, sharing their buffers, against the module's head on the whole map."""
    network = rrdbnet(4, 16, 8, blocks=1)
    winograd = WinogradRRDBNet(network)
    features = np.random.default_rng(2).standard_normal((1, 16, 23, 11), dtype=np.float32)
    head = functools.partial(winograd.head, buffers=Buffers())
    result = networks.in_strips(head, features, 4, None, strip_pixels=5 * 11)
    with torch.inference_mode():
        whole = network.head(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(result, whole, atol=2e-5)


def test_stale_buffers_do_not_leak_into_a_result() -> None:
    """Buffers reused after holding NaNs (what uninitialised memory may hold) give the same output."""
    network = rrdbnet(4, 16, 8, blocks=1)
    winograd = WinogradRRDBNet(network)
    features = np.random.default_rng(3).standard_normal((1, 16, 8, 8), dtype=np.float32)
    buffers = Buffers()
    clean = winograd.head(features, buffers)
    for slot in range(5):
        buffers.get(slot, 1 << 16).fill_(float("nan"))
    np.testing.assert_array_equal(winograd.head(features, buffers), clean)


def test_a_stop_is_seen_before_the_next_dense_block() -> None:
    network = rrdbnet(4, 16, 8, blocks=3)
    x = np.random.default_rng(4).random((1, 3, 12, 12), dtype=np.float32)
    run, _ = networks._winograd_runner(network)
    steps = Steps(stop_after=2)
    with pytest.raises(InterruptedError):
        run(x, steps)
    assert steps.steps == 2


def test_the_float32_precision_on_a_cpu_takes_the_winograd_path_for_rrdbnet() -> None:
    network = rrdbnet(4, 16, 8, blocks=1)
    spec = networks.upscale_spec("realesrgan-x4plus")
    ready = networks._ready(spec, network, torch.device("cpu"), "fp32")
    image = np.random.default_rng(5).random((10, 12, 3), dtype=np.float32)
    result = ready.run(image, networks.NoSteps())
    batch = np.ascontiguousarray(image.transpose(2, 0, 1)[None])
    np.testing.assert_allclose(result, np.clip(expected(network, batch)[0].transpose(1, 2, 0), 0, 1), atol=2e-5)


def test_the_transforms_refuse_maps_of_the_wrong_shape() -> None:
    data = np.zeros((36, 4, 16), np.float32)
    with pytest.raises(ValueError, match="feature map"):
        _winograd.input_transform(np.zeros((9, 10, 16), np.float32), data, 0)  # sides not 4n + 2
    with pytest.raises(ValueError, match="feature map"):
        _winograd.input_transform(np.zeros((10, 10, 8), np.float32), data, 0)  # channels not 16k
    with pytest.raises(ValueError, match="transformed data"):
        _winograd.input_transform(np.zeros((10, 10, 16), np.float32), data, 16)  # columns past the end
    with pytest.raises(ValueError, match="disagree"):
        _winograd.output_transform(
            data, np.zeros(16, np.float32), np.ones(16, np.float32), np.zeros((10, 10, 16), np.float32), 9, 8, 1, None
        )
