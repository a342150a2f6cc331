"""Restore's progress: per stage, the non-local means in bands of rows (the same pixels as one call), and a
progress callback that raises stops it between bands."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.tools.restore import restore
from retouch.tools.restore.oldphoto import denoise as denoise_module
from retouch.types import Picture


class Stop(Exception):
    pass


def noisy(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur((rng.random((height, width)) * 255).astype(np.uint8), (5, 5), 2)
    return np.clip(smooth.astype(int) + rng.integers(-20, 20, (height, width)), 0, 255).astype(np.uint8)


def test_non_local_means_in_bands_is_one_call_over_the_plane(monkeypatch) -> None:
    monkeypatch.setattr(denoise_module, "NLM_BAND_PIXELS", 40 * 90)  # bands of 40 rows
    plane = noisy(130, 90)
    steps: list[tuple[str, int, int]] = []
    banded = denoise_module._non_local_means(plane, 12.0, lambda *call: steps.append(call))
    whole = cv2.fastNlMeansDenoising(plane, None, h=12.0, templateWindowSize=7, searchWindowSize=21)
    np.testing.assert_array_equal(banded, whole)
    assert steps == [("denoise", done, 4) for done in range(5)]


def test_stages_are_reported_and_a_raising_callback_stops_between_bands(monkeypatch) -> None:
    monkeypatch.setattr(denoise_module, "NLM_BAND_PIXELS", 40 * 90)
    picture = Picture(np.repeat(noisy(130, 90)[:, :, None], 3, axis=2))
    calls: list[tuple[str, int, int]] = []
    restore(picture, faces=False, progress=lambda *call: calls.append(call))
    assert list(dict.fromkeys(stage for stage, _, _ in calls)) == ["colour", "denoise"]

    def stop(stage: str, done: int, total: int) -> None:
        calls.append((stage, done, total))
        if stage == "denoise" and done == 1:
            raise Stop

    calls.clear()
    with pytest.raises(Stop):
        restore(picture, faces=False, progress=stop)
    assert calls[-1] == ("denoise", 1, 4)
