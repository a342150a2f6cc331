"""The MI-GAN engine on an ONNX file with the official pipeline's signature."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from migan_onnx import write_fake_migan
from retouch.models import runtime
from retouch.tools.erase.migan import load_migan


@pytest.fixture(scope="module")
def migan(tmp_path_factory: pytest.TempPathFactory):
    path = Path(tmp_path_factory.mktemp("migan")) / "migan_pipeline_v2.onnx"
    model = write_fake_migan(path)
    return model, load_migan(path, "cpu")


def test_follows_the_pipeline_conventions(migan) -> None:
    model, engine = migan
    rng = np.random.default_rng(1)
    image = rng.random((96, 160, 3), dtype=np.float32)
    hole = np.zeros((96, 160), dtype=bool)
    hole[30:60, 40:100] = True

    filled = engine(image, hole)

    assert filled.shape == image.shape and filled.dtype == np.float32
    # Reference: the pipeline itself on the square-padded uint8 input with mask 255 = keep.
    square = np.pad(image, ((0, 64), (0, 0), (0, 0)), mode="symmetric")
    keep = np.pad(np.where(hole, 0, 255), ((0, 64), (0, 0)), mode="symmetric").astype(np.uint8)
    rgb = (square * 255 + 0.5).astype(np.uint8)
    with torch.no_grad():
        expected = model(torch.from_numpy(rgb.transpose(2, 0, 1)[None].copy()), torch.from_numpy(keep[None, None]))
    expected = expected[0].numpy().transpose(1, 2, 0)[:96].astype(np.float32) / 255
    np.testing.assert_array_equal(filled, expected)
    # The known pixels come back (quantised to 8 bits), the hole is filled by the network.
    assert np.abs(filled[~hole] - image[~hole]).max() <= 0.5 / 255 + 1e-6
    assert np.abs(filled[hole] - image[hole]).mean() > 0.05


def test_sessions_come_from_the_runtime_cache(tmp_path: Path) -> None:
    path = tmp_path / "migan_pipeline_v2.onnx"
    write_fake_migan(path)
    first = load_migan(path, "cpu", max_side=512)
    assert load_migan(path, "cpu").session is first.session and first.max_side == 512
    runtime.clear_cache()  # frees the erase networks too
    second = load_migan(path, "cpu")
    assert second.session is not first.session
    os.utime(path, ns=(0, 0))  # as if pulled again: a new mtime is a new file
    assert load_migan(path, "cpu").session is not second.session
