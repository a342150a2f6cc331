"""Erase's progress and stopping: one count per crop that moves with each engine's own steps (the patch
engine's pyramid levels weighted by their size, LaMa's residual blocks, MI-GAN's run), and a progress callback
that raises stops the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retouch import masks
from retouch.tools.erase import erase
from retouch.tools.erase.hd import BOX_STEPS
from retouch.tools.erase.lama import load_lama
from retouch.tools.erase.migan import load_migan
from retouch.types import Picture
from migan_onnx import write_fake_migan
from test_erase_lama import random_generator, sample, write_lightning_checkpoint


class Stop(Exception):
    pass


def photo(height: int, width: int) -> Picture:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 200 // width, y * 200 // height, (x + y) % 64], axis=2)
    return Picture((base + rng.integers(0, 40, (height, width, 3))).astype(np.uint8))


def test_the_count_moves_within_each_crop_and_ends_at_the_total() -> None:
    picture = photo(300, 900)  # wider than the crop trigger: one crop per separate region
    hole = masks.mask_from_boxes([(100, 100, 60, 60), (700, 120, 50, 50)], picture.size)
    calls: list[tuple[str, int, int]] = []
    erase(picture, hole, engine="patch", progress=lambda *call: calls.append(call))
    assert {stage for stage, _, _ in calls} == {"erase (patch)"}
    counts = [done for _, done, _ in calls]
    assert calls[0][2] == 2 * BOX_STEPS and counts[-1] == 2 * BOX_STEPS
    assert counts == sorted(counts) and len(set(counts)) > 4  # levels inside each crop, not only crop ends


def test_a_raising_callback_stops_the_patch_engine() -> None:
    picture = photo(200, 200)
    hole = masks.mask_from_boxes([(60, 60, 80, 80)], picture.size)
    seen: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        seen.append(done)
        if done > 0:
            raise Stop

    with pytest.raises(Stop):
        erase(picture, hole, engine="patch", progress=progress)
    assert seen[-1] < BOX_STEPS  # stopped after its first level, not at the end


def test_lama_reports_its_blocks_and_stops_before_its_next_layer(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    write_lightning_checkpoint(path, random_generator())
    engine = load_lama(path, "cpu")
    image, mask = sample(64, 64)
    calls: list[tuple[str, int, int]] = []
    engine(image, mask, progress=lambda *call: calls.append(call))
    counts = [done for _, done, _ in calls]
    new = [done for k, done in enumerate(counts) if k == 0 or done != counts[k - 1]]  # repeats are only checks
    assert calls[0][2] == 4 and new == [0, 1, 2, 3, 4]  # 2 residual blocks of 2 Fourier units

    def stop(stage: str, done: int, total: int) -> None:
        if done >= 1:
            raise Stop

    with pytest.raises(Stop):
        engine(image, mask, progress=stop)


def test_migan_reports_its_run_and_a_stop_is_raised_in_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "migan_pipeline_v2.onnx"
    write_fake_migan(path)
    engine = load_migan(path, "cpu")
    image, mask = sample(40, 40)
    calls: list[tuple[str, int, int]] = []
    engine(image, mask, progress=lambda *call: calls.append(call))
    assert calls == [("migan", 0, 1), ("migan", 1, 1)]

    def stop(stage: str, done: int, total: int) -> None:
        if done == 1:
            raise Stop

    with pytest.raises(Stop):
        engine(image, mask, progress=stop)
