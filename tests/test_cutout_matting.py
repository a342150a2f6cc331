"""Full-resolution matting, foreground colours and the band system, on generated images with a known matte."""

from __future__ import annotations

import numpy as np
import pytest

from cutout_scenes import network_guess, scene
from retouch.tools.cutout.foreground import estimate_foreground
from retouch.tools.cutout.laplacian import assemble_band, solve_band
from retouch.tools.cutout.matting import enclosed_background, refine_alpha, trimap


def dense_laplacian(image: np.ndarray, epsilon: float) -> np.ndarray:
    """Levin et al.'s matting Laplacian written out window by window (small images only)."""
    h, w, _ = image.shape
    n = h * w
    lap = np.zeros((n, n))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            ids = np.array([(y + dy) * w + (x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
            colours = image.reshape(-1, 3)[ids].astype(np.float64)
            mean = colours.mean(axis=0)
            cov = (colours - mean).T @ (colours - mean) / 9 + epsilon / 9 * np.eye(3)
            centred = colours - mean
            g = (1 + centred @ np.linalg.inv(cov) @ centred.T) / 9
            lap[np.ix_(ids, ids)] += np.eye(9) - g
    return lap


def test_band_system_is_the_matting_laplacian_restricted_to_the_band() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((9, 11, 3))
    alpha = rng.random((9, 11))
    unknown = np.zeros((9, 11), dtype=bool)
    unknown[2:6, 3:9] = True
    unknown[0, 0] = True
    system = assemble_band(image, alpha, unknown, epsilon=1e-4)
    matrix, rhs = system.matrix(), system.rhs
    lap = dense_laplacian(image, 1e-4)
    u, k = unknown.ravel(), ~unknown.ravel()
    np.testing.assert_allclose(matrix.toarray(), lap[u][:, u], atol=1e-9)
    np.testing.assert_allclose(rhs, -lap[u][:, k] @ alpha.ravel()[k], atol=1e-9)


def test_two_colour_edge_is_solved_exactly() -> None:
    # A pure two-colour image obeys the colour-line model, so the solved band must equal the true matte.
    h, w = 24, 40
    truth = np.clip((np.arange(w, dtype=np.float64) - 15) / 10, 0, 1)[None, :].repeat(h, axis=0)
    fg, bg = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.4, 0.8])
    image = truth[:, :, None] * fg + (1 - truth[:, :, None]) * bg
    unknown = (truth > 0) & (truth < 1)
    unknown[:, 12:30] = True
    start = np.where(unknown, 0.5, truth)
    solved = solve_band(image, start, unknown, epsilon=1e-7, tolerance=1e-12, max_iterations=20000)
    assert np.abs(solved - truth).max() < 1e-3


def sad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).sum())


def test_refined_matte_is_much_closer_to_the_truth_than_the_network_guess() -> None:
    s = scene()
    guess = network_guess(s.alpha)
    refined = refine_alpha(s.image, guess)
    assert refined.shape == s.alpha.shape and refined.dtype == np.float32
    assert 0.0 <= refined.min() and refined.max() <= 1.0
    assert sad(refined, s.alpha) < 0.05 * sad(guess, s.alpha)  # measured 0.018
    assert np.mean((refined - s.alpha) ** 2) < 0.0015 * np.mean((guess - s.alpha) ** 2)  # measured 0.0005


def test_background_enclosed_by_the_subject_is_cleared() -> None:
    s = scene()
    guess = network_guess(s.alpha)
    guess[s.hole] = np.maximum(guess[s.hole], 0.3)  # the network hedges inside the gap
    refined = refine_alpha(s.image, guess)
    assert np.mean(refined[s.hole]) < 7e-4  # measured 2.3e-4
    assert np.mean(guess[s.hole]) > 0.3 - 1e-6  # what the network hedged
    assert enclosed_background(guess, 5)[s.hole].mean() > 0.7


def test_trimap_keeps_the_middle_of_thin_confident_regions() -> None:
    coarse = np.zeros((60, 60), dtype=np.float32)
    coarse[10:50, 10:50] = 1.0
    coarse[28:32, 20:40] = 0.0  # a background slit 4 pixels high inside the subject
    fg, bg = trimap(coarse, radius=5)
    assert fg[30, 30] == False and bg[29:31, 25:35].all()  # noqa: E712 - the slit keeps background seeds
    assert fg[15:20, 15:45].any() and not fg[10:14, 10:50].any()  # the outer edge is left to the matting


def test_foreground_colours_carry_no_background() -> None:
    s = scene()
    estimate = estimate_foreground(s.image, s.alpha)
    soft = (s.alpha > 0.1) & (s.alpha < 0.9)
    naive = np.abs(s.image[soft] - s.foreground[soft]).mean()
    ours = np.abs(estimate[soft] - s.foreground[soft]).mean()
    assert ours < 0.4 * naive
    opaque = s.alpha >= 1
    np.testing.assert_array_equal(estimate[opaque], s.image[opaque])


@pytest.mark.parametrize("shape", [(5, 7), (300, 2)])
def test_refine_handles_tiny_and_thin_images(shape) -> None:
    rng = np.random.default_rng(1)
    image = rng.random((*shape, 3), dtype=np.float32)
    coarse = rng.random(shape, dtype=np.float32)
    refined = refine_alpha(image, coarse)
    assert refined.shape == shape and np.isfinite(refined).all()
