"""From a tile's network output (the network's own scale) to the output pixels the tile owns, at any scale.

Each output axis is resampled with a sparse matrix built in absolute coordinates, so that an output pixel gets
the same weights whichever tile computes it: output pixel X of an axis of input length L and output length N
covers input [X L / N, (X + 1) L / N). Shrinking (below the network's scale) averages the network's samples over
that interval (area resampling, no aliasing); enlarging beyond it interpolates them bicubically (OpenCV's
a = -0.75 kernel, centres aligned as ``cv2.resize`` aligns them). At the network's own scale it is a crop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

CUBIC_A = -0.75


def axis_weights(
    target: tuple[int, int], out_length: int, in_length: int, read: tuple[int, int], scale: int
) -> csr_matrix | slice:
    """Weights from the network's samples of input [read[0], read[1]) (``scale`` per input pixel) to output
    pixels [target[0], target[1]): a slice when they are a crop of those samples, else a sparse matrix."""
    if out_length == in_length * scale:
        offset = read[0] * scale
        return slice(target[0] - offset, target[1] - offset)
    from scipy.sparse import csr_matrix

    samples = (read[1] - read[0]) * scale
    step = in_length / out_length  # input pixels per output pixel
    outputs = np.arange(target[0], target[1], dtype=np.float64)
    if out_length < in_length * scale:
        first = (outputs * step - read[0]) * scale  # the interval [first, last) in sample units
        last = ((outputs + 1) * step - read[0]) * scale
        width = math.ceil(step * scale) + 2
        index = np.floor(first)[:, None] + np.arange(width)[None, :]
        weight = np.clip(np.minimum(last[:, None], index + 1) - np.maximum(first[:, None], index), 0.0, None)
        weight /= (last - first)[:, None]
    else:
        position = ((outputs + 0.5) * step - read[0]) * scale - 0.5
        base = np.floor(position)
        index = base[:, None] + np.arange(-1, 3)[None, :]
        weight = _cubic(position[:, None] - index)
    index = np.clip(index, 0, samples - 1).astype(np.int64)
    rows = np.repeat(np.arange(len(outputs)), index.shape[1])
    matrix = csr_matrix(
        (weight.astype(np.float32).ravel(), (rows, index.ravel())), shape=(len(outputs), samples), dtype=np.float32
    )
    return matrix


def resample(samples: np.ndarray, rows: csr_matrix | slice, cols: csr_matrix | slice) -> np.ndarray:
    """Apply row and column weights to HxWxC samples."""
    if isinstance(rows, slice):
        out = samples[rows]
    else:
        height, width, channels = samples.shape
        out = (rows @ samples.reshape(height, width * channels)).reshape(-1, width, channels)
    if isinstance(cols, slice):
        return np.ascontiguousarray(out[:, cols])
    height, width, channels = out.shape
    swapped = np.ascontiguousarray(out.transpose(1, 0, 2)).reshape(width, height * channels)
    return np.ascontiguousarray((cols @ swapped).reshape(-1, height, channels).transpose(1, 0, 2))


def _cubic(distance: np.ndarray) -> np.ndarray:
    x = np.abs(distance)
    near = ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1
    far = ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))
