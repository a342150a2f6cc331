"""The built-in exemplar inpainting engine (`patch`): contract, determinism and fill quality on known content."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.errors import InvalidInput
from retouch.tools.erase.patch import inpaint_patch
from shared_data import KODAK


def _photo_like(h: int, w: int, seed: int = 1) -> np.ndarray:
    """Smooth colour gradients with some texture: a stand-in photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.3 + 0.4 * xx / w, 0.2 + 0.5 * yy / h, 0.5 + 0.2 * np.sin(xx / 9 + yy / 13)], axis=2)
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def _stripes(h: int, w: int, period: int = 8) -> np.ndarray:
    xx = np.arange(w, dtype=np.float32)[None, :].repeat(h, 0)
    yy = np.arange(h, dtype=np.float32)[:, None].repeat(w, 1)
    v = 0.5 + 0.4 * np.sin(2 * np.pi * (xx + 0.5 * yy) / period)
    return np.stack([v, 1 - v, np.full_like(v, 0.3)], axis=2).astype(np.float32)


def _masked_mse(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    return float(np.mean((a[hole] - b[hole]) ** 2))


def test_pixels_outside_the_hole_are_untouched_and_output_is_valid() -> None:
    img = _photo_like(90, 120)
    hole = np.zeros(img.shape[:2], bool)
    hole[30:55, 40:80] = True
    hole[70:74, 5:100] = True
    out = inpaint_patch(img, hole, seed=3)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.array_equal(out[~hole], img[~hole])
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    assert not np.array_equal(out[hole], img[hole])  # the hole really was filled, not passed through


def test_same_seed_same_result() -> None:
    img = _photo_like(80, 100, seed=5)
    hole = np.zeros(img.shape[:2], bool)
    hole[20:60, 30:70] = True
    a = inpaint_patch(img, hole, seed=11)
    b = inpaint_patch(img.copy(), hole.copy(), seed=11)
    assert np.array_equal(a, b)


def test_periodic_stripes_are_continued_into_the_hole() -> None:
    img = _stripes(96, 96)
    hole = np.zeros(img.shape[:2], bool)
    hole[36:60, 36:60] = True
    out = inpaint_patch(img, hole)
    flat = img.copy()
    flat[hole] = img[~hole].mean(axis=0)
    # a flat fill misses the stripes entirely; a patch fill should put them back nearly exactly
    assert _masked_mse(out, img, hole) < 0.1 * _masked_mse(flat, img, hole)


def test_hole_touching_the_image_border() -> None:
    img = _photo_like(70, 90, seed=2)
    hole = np.zeros(img.shape[:2], bool)
    hole[:20, 60:] = True  # the top-right corner
    hole[40:, :6] = True  # a band along the left edge
    out = inpaint_patch(img, hole)
    assert np.array_equal(out[~hole], img[~hole])
    assert np.isfinite(out).all() and 0.0 <= out.min() and out.max() <= 1.0
    flat = img.copy()
    flat[hole] = img[~hole].mean(axis=0)
    assert _masked_mse(out, img, hole) < _masked_mse(flat, img, hole)


def test_single_pixel_hole_takes_its_surroundings() -> None:
    img = _photo_like(40, 40, seed=4)
    hole = np.zeros(img.shape[:2], bool)
    hole[17, 23] = True
    out = inpaint_patch(img, hole)
    neighbours = img[16:19, 22:25].reshape(-1, 3)
    assert np.array_equal(out[~hole], img[~hole])
    assert np.all(np.abs(out[17, 23] - neighbours.mean(axis=0)) < 0.1)


def test_hole_covering_most_of_the_image() -> None:
    img = _photo_like(60, 80, seed=6)
    hole = np.ones(img.shape[:2], bool)
    hole[:4, :5] = False  # only a small corner is known
    out = inpaint_patch(img, hole)
    assert np.isfinite(out).all() and 0.0 <= out.min() and out.max() <= 1.0
    assert np.array_equal(out[~hole], img[~hole])
    # with nothing but a corner to go on, the fill should at least carry that corner's colours
    assert np.abs(out[hole].mean(axis=0) - img[~hole].mean(axis=0)).max() < 0.1


def test_whole_image_hole_and_empty_hole() -> None:
    img = _photo_like(30, 40)
    full = inpaint_patch(img, np.ones(img.shape[:2], bool))
    assert np.isfinite(full).all() and 0.0 <= full.min() and full.max() <= 1.0
    empty = inpaint_patch(img, np.zeros(img.shape[:2], bool))
    assert np.array_equal(empty, img) and empty is not img


def test_progress_moves_after_every_iteration_and_ends_at_its_total() -> None:
    img = _photo_like(96, 96)
    hole = np.zeros(img.shape[:2], bool)
    hole[30:70, 30:70] = True
    calls: list[tuple[str, int, int]] = []
    inpaint_patch(img, hole, progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert {stage for stage, _, _ in calls} == {"patch"} and {total for _, _, total in calls} == {1000}
    done = [d for _, d, _ in calls]
    assert len(done) >= 6, "a report per EM iteration, several per level"
    assert done == sorted(done) and done[-1] == 1000 and done[0] < 500


def test_bad_shapes_are_rejected() -> None:
    img = _photo_like(20, 20)
    with pytest.raises(InvalidInput):
        inpaint_patch(img[:, :, :2], np.zeros((20, 20), bool))
    with pytest.raises(InvalidInput):
        inpaint_patch(img, np.zeros((20, 21), bool))


def _detail(img: np.ndarray) -> np.ndarray:
    """Luminance gradient magnitude, per pixel."""
    grey = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gy, gx = np.gradient(grey)
    return np.hypot(gx, gy)


@pytest.mark.skipif(not (KODAK / "kodim03.png").is_file(), reason=f"Kodak photos not found in {KODAK}")
def test_keeps_more_texture_than_telea_on_a_box_hole_in_a_real_photo() -> None:
    """Telea's diffusion (OpenCV's inpainting) smooths a hole over; the patch engine copies texture into it. Deep
    inside a 64x64 hole it keeps clearly more of the photo's detail than Telea does."""
    cv2 = pytest.importorskip("cv2")
    kept = {"patch": [], "telea": []}
    for name, (y, x) in {"kodim03": (180, 200), "kodim13": (200, 420), "kodim19": (120, 300)}.items():
        bgr = cv2.imread(str(KODAK / f"{name}.png"), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        hole = np.zeros(rgb.shape[:2], bool)
        hole[y : y + 64, x : x + 64] = True
        ours = inpaint_patch(rgb.astype(np.float32) / 255, hole)
        telea = cv2.cvtColor(cv2.inpaint(bgr, hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)
        centre = np.s_[y + 16 : y + 48, x + 16 : x + 48]
        truth = _detail(rgb / 255)[centre].mean()
        kept["patch"].append(_detail(ours)[centre].mean() / truth)
        kept["telea"].append(_detail(telea / 255)[centre].mean() / truth)
    assert np.mean(kept["patch"]) > 1.8 * np.mean(kept["telea"]), kept
