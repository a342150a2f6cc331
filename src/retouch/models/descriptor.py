"""What a network needs of its input's size, declared once per network, and the one wrapper that enforces it.

Each network states its needs in a ``SizeRequirements`` (sides a multiple of N, a minimum side, a square input,
its scale and how to pad); ``run_padded`` pads the inputs to the nearest size that meets them, runs the network
and crops its output back to the input's size times the scale. Networks whose output is an image go through it;
a detector, whose outputs are boxes in the padded frame, pads with its requirements' ``padded_size`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from retouch.ops.pad import PadMode, pad_bottom_right


@dataclass(frozen=True)
class SizeRequirements:
    """A network's size contract.

    multiple: both input sides must be multiples of it. minimum: the smallest side it takes (a multiple of
    ``multiple``). square: height and width must be equal. scale: output pixels per input pixel, per side.
    pad: how the added rows and columns are filled (``retouch.ops.pad.PadMode``).
    """

    multiple: int = 1
    minimum: int = 1
    square: bool = False
    scale: int = 1
    pad: PadMode = "symmetric"

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """The smallest (height, width) at least (height, width) that meets the requirements."""
        padded_h = max(self.minimum, -(-height // self.multiple) * self.multiple)
        padded_w = max(self.minimum, -(-width // self.multiple) * self.multiple)
        if self.square:
            padded_h = padded_w = max(padded_h, padded_w)
        return padded_h, padded_w


def run_padded(
    run: Callable[..., np.ndarray], inputs: Sequence[np.ndarray], size: SizeRequirements
) -> np.ndarray:
    """``run(*padded_inputs)`` cropped back: ``inputs`` are HxW or HxWxC arrays of one height and width, padded
    at the bottom and right to ``size.padded_size``; ``run`` returns an (s*H')x(s*W')[xC] array for padded sides
    H', W' and s = ``size.scale``. Returns its top-left (s*H)x(s*W)[xC] part, the output of the input's pixels."""
    height, width = inputs[0].shape[:2]
    target = size.padded_size(height, width)
    output = run(*(pad_bottom_right(array, target, size.pad) for array in inputs))
    return output[: height * size.scale, : width * size.scale]
