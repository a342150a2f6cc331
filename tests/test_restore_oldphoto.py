"""Old photos: scratches and dust drawn on Kodak photos are found and erased; noise and colour casts added to them
are reduced; the noise estimator reads synthetic noise right."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import KODAK

from retouch.io import load_image
from retouch.tools.erase import erase
from retouch.tools.restore.oldphoto.colour import cast_gains, correct_colour_cast, linear_to_srgb, srgb_to_linear
from retouch.tools.restore.oldphoto.denoise import denoise, estimate_noise
from retouch.tools.restore.oldphoto.scratches import detect_scratches
from retouch.types import Picture


def kodak(number: int) -> np.ndarray:
    path = KODAK / f"kodim{number:02d}.png"
    if not path.exists():
        pytest.skip(f"Kodak photo {path} is absent")
    return load_image(path).rgb_float()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def scratched(clean: np.ndarray, seed: int, lines: int = 8, specks: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Long thin bright and dark lines (1-3 px, slightly curved) and round specks drawn anti-aliased on the photo;
    returns the damaged photo and the truth mask (drawn pixels)."""
    import cv2

    rng = np.random.default_rng(seed)
    height, width = clean.shape[:2]
    layers = [np.zeros((height, width), np.uint8), np.zeros((height, width), np.uint8)]  # bright, dark
    for index in range(lines):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        angle, length = rng.uniform(0, np.pi), rng.uniform(0.2, 0.7) * height
        bend = rng.uniform(-0.1, 0.1) * length
        t = np.linspace(0, 1, 40)
        xs = x0 + np.cos(angle) * length * t - np.sin(angle) * bend * 4 * t * (1 - t)
        ys = y0 + np.sin(angle) * length * t + np.cos(angle) * bend * 4 * t * (1 - t)
        points = np.round(np.stack([xs, ys], axis=1) * 16).astype(np.int32)
        cv2.polylines(layers[index % 2], [points], False, 255, int(rng.integers(1, 4)), cv2.LINE_AA, shift=4)
    for index in range(specks):
        centre = (int(rng.uniform(0, width) * 16), int(rng.uniform(0, height) * 16))
        cv2.circle(layers[index % 2], centre, int(rng.uniform(1, 3) * 16), 255, -1, cv2.LINE_AA, shift=4)
    bright, dark = (layer.astype(np.float32)[:, :, None] / 255 for layer in layers)
    damaged = clean * (1 - bright) + np.float32(0.95) * bright
    damaged = damaged * (1 - dark) + np.float32(0.06) * dark
    return damaged.astype(np.float32), (layers[0] > 64) | (layers[1] > 64)


def recall_precision(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Recall: drawn pixels within 1 px of a found one. Precision: found pixels within 2 px of a drawn one."""
    import cv2

    near_found = cv2.dilate(found.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return float(near_found[truth].mean()), float(near_truth[found].mean()) if found.any() else 0.0


def test_drawn_scratches_and_dust_are_found() -> None:
    # Measured with the default sensitivity (0.5): recall 0.76 / 0.59 / 0.83, precision 0.64 / 0.67 / 0.78, and
    # 0.6 % / 0.4 % / 0.6 % of the clean photos' pixels flagged (thin real lines: ropes, wires, specular dots).
    recalls, precisions = [], []
    for number in (3, 15, 23):
        clean = kodak(number)
        damaged, truth = scratched(clean, seed=number)
        recall, precision = recall_precision(detect_scratches(damaged), truth)
        recalls.append(recall)
        precisions.append(precision)
        assert recall > 0.5 and precision > 0.5, (number, recall, precision)
        assert detect_scratches(clean).mean() < 0.01
    assert np.mean(recalls) > 0.65 and np.mean(precisions) > 0.6, (recalls, precisions)


def test_found_scratches_are_erased_and_the_photo_gets_closer_to_the_clean_one() -> None:
    clean = kodak(3)
    damaged, _ = scratched(clean, seed=3)
    picture = Picture((damaged * 255 + 0.5).astype(np.uint8))
    mask = detect_scratches(picture.to_float())
    repaired = erase(picture, mask, engine="patch", grow=2).to_float()
    before, after = psnr(picture.to_float(), clean), psnr(repaired, clean)
    assert after > before + 4, (before, after)  # measured: 22.7 dB -> 29.5 dB


def test_noise_estimate_reads_synthetic_noise() -> None:
    rng = np.random.default_rng(0)
    for sigma in (3.0, 10.0, 25.0):
        plane = rng.normal(128, sigma, (256, 256)).astype(np.float32)
        assert estimate_noise(plane) == pytest.approx(sigma, rel=0.05)


def test_denoise_brings_a_noisy_photo_closer_and_leaves_a_clean_one_nearly_alone() -> None:
    clean = kodak(23)
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 0.04, clean.shape), 0, 1).astype(np.float32)
    light, full = denoise(noisy, 0.5), denoise(noisy, 1.0)
    assert psnr(full, clean) > psnr(light, clean) > psnr(noisy, clean) + 2  # measured: 28.0 -> 30.9 -> 35.0 dB
    assert psnr(denoise(clean, 0.3), clean) > 45
    np.testing.assert_array_equal(denoise(noisy, 0.0), noisy)


def test_colour_cast_is_reduced_and_strength_scales_it() -> None:
    clean = kodak(15)
    cast = linear_to_srgb(srgb_to_linear(clean) * np.array([1.3, 1.0, 0.65], np.float32))
    half, full = correct_colour_cast(cast, 0.5), correct_colour_cast(cast, 1.0)

    def mean_error(image: np.ndarray) -> float:
        return float(np.abs(image.reshape(-1, 3).mean(axis=0) - clean.reshape(-1, 3).mean(axis=0)).mean())

    assert mean_error(full) < mean_error(half) < mean_error(cast)
    assert mean_error(full) < 0.5 * mean_error(cast)
    gains = cast_gains(cast)
    assert gains[0] < 1 < gains[2]  # less red, more blue
    np.testing.assert_array_equal(correct_colour_cast(cast, 0.0), cast)


def test_a_grey_picture_has_no_cast() -> None:
    grey = np.repeat(np.linspace(0.05, 0.9, 64 * 64, dtype=np.float32).reshape(64, 64, 1), 3, axis=2)
    np.testing.assert_allclose(cast_gains(grey), 1.0, atol=1e-4)
