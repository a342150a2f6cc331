"""Cutout's progress: its stages with counts (the segmentation, each matting level, the edge colours), and a
progress callback that raises stops it (the network's run stops as upscaling's does: test_upscale_steps.py)."""

from __future__ import annotations

import numpy as np
import pytest
from cutout_onnx import offline_home_with_fake
from cutout_scenes import scene

from retouch.tools.cutout import cutout
from retouch.types import Picture

MODEL = "u2netp"


class Stop(Exception):
    pass


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    offline_home_with_fake(MODEL, tmp_path, monkeypatch)


def picture() -> Picture:
    return Picture(pixels=(scene().image * 255 + 0.5).astype(np.uint8))


def test_stages_are_reported_with_counts(fake_model) -> None:
    calls: list[tuple[str, int, int]] = []
    cutout(picture(), model=MODEL, progress=lambda *call: calls.append(call))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["segment", "matting", "edge colours"]
    matting = [(done, total) for stage, done, total in calls if stage == "matting"]
    assert matting[0] == (0, matting[0][1]) and matting[-1] == (matting[0][1],) * 2 and matting[0][1] >= 2


def test_a_raising_callback_stops_between_matting_levels(fake_model) -> None:
    seen: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        seen.append(stage)
        if stage == "matting" and done == 1:
            raise Stop

    with pytest.raises(Stop):
        cutout(picture(), model=MODEL, progress=progress)
    assert "edge colours" not in seen
