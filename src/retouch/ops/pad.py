"""Padding an array at the bottom and right to the size a network needs."""

from __future__ import annotations

from typing import Literal

import numpy as np

# symmetric: the edge row repeated, then the rows before it (the official LaMa code's pad_img_to_modulo); works
# for pads wider than the side. reflect: the rows before the edge, not the edge (Real-ESRGAN's mod_pad); where a
# pad is as wide as the shortest side or wider, symmetric instead. zeros: black (YuNet, as cv2.FaceDetectorYN).
PadMode = Literal["symmetric", "reflect", "zeros"]


def pad_bottom_right(array: np.ndarray, size: tuple[int, int], mode: PadMode) -> np.ndarray:
    """``array`` (HxW or HxWxC, any dtype) padded at the bottom and right to ``size`` = (height, width), each at
    least the array's own side. The array itself when it already has that size."""
    height, width = array.shape[:2]
    pad_h, pad_w = size[0] - height, size[1] - width
    if pad_h == 0 and pad_w == 0:
        return array
    if mode == "reflect" and min(height, width) <= max(pad_h, pad_w):
        mode = "symmetric"
    pad = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad, mode="constant" if mode == "zeros" else mode)
