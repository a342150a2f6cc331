"""retouch.progress: elapsed time and time left from progress reports (a fake clock), and parts of a run."""

from __future__ import annotations

import pytest

from retouch.progress import ProgressTracker, scaled


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_before_any_unit_the_time_left_is_the_estimate_less_the_time_elapsed() -> None:
    clock = Clock()
    tracker = ProgressTracker(expected_s=30.0, clock=clock)
    assert tracker.snapshot().eta_s == 30.0  # not started: the whole estimate
    tracker.start()
    clock.now += 10
    tracker.report("upscale", 0, 4)
    snap = tracker.snapshot()
    assert snap.elapsed_s == 10.0 and snap.eta_s == 20.0
    clock.now += 40
    assert tracker.snapshot().eta_s == 0.0  # late: never negative


def test_without_an_estimate_nothing_is_known_until_a_unit_is_done() -> None:
    clock = Clock()
    tracker = ProgressTracker(clock=clock)
    tracker.start()
    tracker.report("tiles", 0, 10)
    assert tracker.snapshot().eta_s is None
    clock.now += 2
    tracker.report("tiles", 1, 10)
    assert tracker.snapshot().eta_s == pytest.approx(18.0)  # one unit's own time, nine left


def test_the_rate_is_measured_from_the_first_unit_so_a_slow_start_does_not_count() -> None:
    clock = Clock()
    tracker = ProgressTracker(expected_s=5.0, clock=clock)
    tracker.start()
    tracker.report("upscale", 0, 10)
    clock.now += 60  # the first unit includes loading a model
    tracker.report("upscale", 1, 10)
    clock.now += 2
    tracker.report("upscale", 2, 10)
    clock.now += 2
    tracker.report("upscale", 3, 10)
    assert tracker.snapshot().eta_s == pytest.approx(14.0)  # 2 s a unit, 7 left
    clock.now += 1
    assert tracker.snapshot().eta_s == pytest.approx(13.0)  # falls with the clock between reports


def test_repeats_and_warnings_are_not_progress_and_a_new_stage_starts_over() -> None:
    clock = Clock()
    tracker = ProgressTracker(clock=clock)
    tracker.start()
    assert tracker.report("a", 0, 4)
    clock.now += 1
    assert tracker.report("a", 1, 4)
    updated = tracker.snapshot().updated
    clock.now += 5
    assert not tracker.report("a", 1, 4)  # a liveness check
    assert not tracker.report("warning: no faces", 0, 0)
    assert tracker.snapshot().updated == updated and tracker.snapshot().stage == "a"
    assert tracker.report("b", 0, 2)
    assert tracker.snapshot().eta_s is None  # b has no rate yet, and there is no estimate


def test_a_part_of_a_run_reports_its_share_of_the_whole_count() -> None:
    calls: list[tuple[str, int, int]] = []
    part = scaled(lambda *call: calls.append(call), "erase", 100, 100, 300)
    part("patch", 0, 7)
    part("patch", 7, 7)
    part("warning: x", 0, 0)
    assert calls == [("erase", 100, 300), ("erase", 200, 300), ("warning: x", 0, 0)]
