"""Size requirements of a network and the one wrapper that pads, runs and crops."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.models.descriptor import SizeRequirements, run_padded
from retouch.ops.pad import pad_bottom_right


@pytest.mark.parametrize(
    ("size", "shape", "padded"),
    [
        (SizeRequirements(multiple=8, minimum=16), (10, 7), (16, 16)),
        (SizeRequirements(multiple=8, minimum=16), (37, 45), (40, 48)),
        (SizeRequirements(multiple=8, square=True), (33, 21), (40, 40)),
        (SizeRequirements(multiple=4), (8, 12), (8, 12)),
        (SizeRequirements(), (5, 3), (5, 3)),
    ],
)
def test_padded_size_meets_every_requirement(size: SizeRequirements, shape: tuple[int, int], padded) -> None:
    assert size.padded_size(*shape) == padded


def test_pad_modes_fill_the_bottom_and_right() -> None:
    rows = np.arange(4, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    assert pad_bottom_right(rows, (4, 4), "reflect") is rows  # nothing to add: the array itself
    np.testing.assert_array_equal(pad_bottom_right(rows, (6, 4), "symmetric")[4:, 0], [3, 2])
    np.testing.assert_array_equal(pad_bottom_right(rows, (6, 4), "reflect")[4:, 0], [2, 1])
    np.testing.assert_array_equal(pad_bottom_right(rows, (6, 4), "zeros")[4:, 0], [0, 0])
    # A reflection as wide as the side is impossible: symmetric instead (as Real-ESRGAN's small inputs get).
    np.testing.assert_array_equal(pad_bottom_right(rows[:2], (6, 4), "reflect")[:, 0], [0, 1, 1, 0, 0, 1])


def test_run_padded_gives_the_network_its_size_and_crops_its_output() -> None:
    size = SizeRequirements(multiple=4, scale=2, pad="zeros")
    image = np.ones((5, 3, 3), np.float32)
    mask = np.ones((5, 3), bool)
    seen: list[tuple[int, ...]] = []

    def network(picture: np.ndarray, hole: np.ndarray) -> np.ndarray:
        seen.extend([picture.shape, hole.shape])
        return np.repeat(np.repeat(picture, 2, axis=0), 2, axis=1)

    out = run_padded(network, (image, mask), size)
    assert seen == [(8, 4, 3), (8, 4)]
    assert out.shape == (10, 6, 3) and np.all(out == 1)  # the zero padding's output is cropped away
