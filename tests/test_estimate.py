"""retouch.tools.estimate: typical figures until this machine has run a tool, then its own speed (kept per
tool, model and device, in $RETOUCH_HOME/timings.json); the work each estimate follows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retouch import masks
from retouch.errors import InvalidInput
from retouch.tools import estimate


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    return tmp_path


def test_typical_until_measured_then_this_machines_speed_persisted(home) -> None:
    plan = estimate.upscale((1200, 800), scale=4)
    assert plan.basis == "typical" and plan.seconds == plan.typical_s > 60  # minutes of x4plus on two cores
    estimate.record(plan, plan.typical_s / 2)  # this machine is twice as fast
    again = estimate.upscale((1200, 800), scale=4)
    assert again.basis == "measured" and again.seconds == pytest.approx(plan.typical_s / 2)
    assert json.loads((home / estimate.TIMINGS_FILE).read_text()) == {plan.key: pytest.approx(0.5)}
    estimate.record(plan, plan.typical_s / 8)  # recent runs weigh half: the factor moves to sqrt(0.5 * 0.125)
    assert estimate.upscale((1200, 800), scale=4).seconds == pytest.approx(plan.typical_s * 0.25)
    other = estimate.upscale((1200, 800), scale=4, model="realesr-animevideov3-x4")
    assert other.basis == "typical" and other.seconds < plan.seconds / 5  # its own key, a much lighter network


def test_what_small_photos_teach_does_not_carry_to_large_tiles(home) -> None:
    """x4plus runs faster per pixel on small inputs (its transformed data stays in the caches): a factor learned
    on them is kept apart from large tiles', which it would make look several times too fast."""
    small = estimate.upscale((192, 192), scale=4, model="realesrgan-x4plus")
    large = estimate.upscale((1200, 800), scale=4, model="realesrgan-x4plus")
    assert small.key != large.key
    estimate.record(small, small.typical_s / 3)
    assert estimate.upscale((1200, 800), scale=4, model="realesrgan-x4plus").basis == "typical"
    assert estimate.upscale((180, 200), scale=4, model="realesrgan-x4plus").basis == "measured"


def test_short_runs_and_outliers_teach_nothing(home) -> None:
    plan = estimate.upscale((1200, 800), scale=4)
    estimate.record(plan, 0.5)  # under a second: overheads
    estimate.record(plan, plan.typical_s * 1000)  # the machine slept
    assert estimate.upscale((1200, 800), scale=4).basis == "typical"
    assert not (home / estimate.TIMINGS_FILE).exists()


def test_a_damaged_timings_file_is_ignored(home) -> None:
    (home / estimate.TIMINGS_FILE).write_text("{not json")
    assert estimate.erase((4000, 3000), engine="patch").basis == "typical"


def test_work_follows_size_options_and_mask(home) -> None:
    small, big = estimate.upscale((600, 400), scale=4), estimate.upscale((2400, 1600), scale=4)
    assert 14 < big.seconds / small.seconds < 24  # sixteen times the pixels, plus the context of more tiles
    size = (4000, 3000)
    one = masks.mask_from_boxes([(100, 100, 50, 50)], size)
    two = masks.mask_from_boxes([(100, 100, 50, 50), (3000, 2000, 400, 400)], size)
    assert estimate.erase(size, one, engine="patch").seconds < estimate.erase(size, two, engine="patch").seconds
    with pytest.raises(InvalidInput, match="empty"):
        estimate.erase(size, np.zeros((3000, 4000), bool), engine="patch")
    assert estimate.restore(size, upscale=2).seconds > estimate.restore(size).seconds
    assert estimate.cutout(size).seconds > estimate.cutout(size, refine=False).seconds


def test_tools_by_name_with_their_keywords(home) -> None:
    assert estimate.for_tool("upscale", (100, 100), {"scale": 2.0, "denoise": None}).key.startswith("upscale|")
    assert estimate.try_for_tool("upscale", (100, 100), {"model": "migan"}) is None
    with pytest.raises(InvalidInput, match="no estimate"):
        estimate.for_tool("mirror", (100, 100), {})
