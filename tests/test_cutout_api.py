"""retouch.cutout and retouch.replace_background end to end, with a generated network (red over green = subject)."""

from __future__ import annotations

import numpy as np
import pytest

from cutout_onnx import offline_home_with_fake
from cutout_scenes import scene
from retouch.errors import InvalidInput, WeightsMissing
from retouch.tools.cutout import cutout, subject_box
from retouch.tools.cutout.replace import replace_background
from retouch.types import Picture

MODEL = "birefnet-general-lite"


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    offline_home_with_fake(MODEL, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def photo():
    s = scene()
    return s, Picture(pixels=(s.image * 255 + 0.5).astype(np.uint8))


def test_cutout_gives_rgba_with_the_subject_opaque_and_the_background_clear(fake_model, photo) -> None:
    s, picture = photo
    result = cutout(picture)
    assert result.size == picture.size and result.alpha is not None and result.pixels.dtype == np.uint8
    alpha = result.alpha_float()
    # Measured: opaque mean 1.0, clear 1.0e-5, the gap 4.7e-5.
    assert alpha[s.alpha >= 1].mean() > 0.999 and alpha[(s.alpha <= 0) & ~s.hole].mean() < 3e-5
    assert alpha[s.hole].mean() < 1.2e-4  # the gap inside the subject is background
    opaque = result.alpha == 255
    np.testing.assert_array_equal(result.pixels[opaque], picture.pixels[opaque])
    assert result.metadata.operations[-1] == f"cutout (model={MODEL})"


def test_mask_only_crop_and_colour(fake_model, photo) -> None:
    s, picture = photo
    mask = cutout(picture, mask_only=True)
    assert mask.pixels.shape == (picture.height, picture.width, 1) and mask.alpha is None

    cropped = cutout(picture, crop=6)
    x, y, w, h = subject_box(cutout(picture).alpha_float(), 6)
    assert cropped.size == (w, h) and (w, h) != picture.size and x > 0 and y > 0

    on_white = cutout(picture, background="white")
    assert on_white.alpha is None
    corner = on_white.pixels[:8, :8].reshape(-1, 3)
    assert corner.min() >= 250  # the old green background is gone


def test_sixteen_bit_stays_sixteen_bit(fake_model, photo) -> None:
    s, picture = photo
    deep = Picture(pixels=picture.pixels.astype(np.uint16) * 257)
    result = cutout(deep)
    assert result.pixels.dtype == np.uint16 and result.alpha.dtype == np.uint16


def test_bad_arguments_are_refused(fake_model, photo) -> None:
    _, picture = photo
    with pytest.raises(InvalidInput, match="unknown colour"):
        cutout(picture, background="not-a-colour")
    with pytest.raises(InvalidInput, match="crop"):
        cutout(picture, crop=-1)
    with pytest.raises(InvalidInput, match="fit"):
        replace_background(picture, "white", fit="stretch")
    with pytest.raises(InvalidInput, match="neither a colour"):
        replace_background(picture, "no/such/file.png")


def test_without_any_model_the_error_names_the_pull_commands(tmp_path, monkeypatch, photo) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    with pytest.raises(WeightsMissing, match="retouch models pull birefnet-general-lite"):
        cutout(photo[1])


def test_replace_with_a_colour_is_opaque_and_keeps_the_subject(fake_model, photo) -> None:
    s, picture = photo
    result = replace_background(picture, "#1e90ff", harmonize=False)
    assert result.alpha is None and result.size == picture.size
    bg = (s.alpha <= 0) & ~s.hole
    np.testing.assert_allclose(result.pixels[bg].mean(axis=0), [30, 144, 255], atol=3)
    core = s.alpha >= 1
    assert np.abs(result.pixels[core].astype(int) - picture.pixels[core]).mean() < 2


def test_harmonize_pulls_the_subject_towards_the_background(fake_model, photo) -> None:
    s, picture = photo
    plain = replace_background(picture, "#2040ff", harmonize=False).to_float()
    tuned = replace_background(picture, "#2040ff").to_float()
    core = s.alpha >= 1
    assert tuned[core][:, 2].mean() > plain[core][:, 2].mean() + 0.02  # bluer
    assert tuned[core][:, 0].mean() < plain[core][:, 0].mean()


def test_blur_transparent_image_and_shadow(fake_model, photo, tmp_path) -> None:
    s, picture = photo
    blurred = replace_background(picture, "blur", harmonize=False)
    bg = (s.alpha <= 0) & ~s.hole
    # Portrait mode: the background keeps its colours but loses its grain; no red glow from the subject.
    assert blurred.to_float()[bg].std(axis=0).mean() < picture.to_float()[bg].std(axis=0).mean()
    assert blurred.to_float()[bg][:, 0].mean() < picture.to_float()[bg][:, 0].mean() + 0.03

    clear = replace_background(picture, "transparent")
    assert clear.alpha is not None

    from retouch.io import save_image

    stripes = np.zeros((50, 400, 3), np.uint8)
    stripes[:, ::2] = 255
    path = save_image(Picture(pixels=stripes), tmp_path / "bg.png")
    filled = replace_background(picture, str(path), fit="fill", harmonize=False)
    fitted = replace_background(picture, path, fit="fit", harmonize=False)
    assert filled.size == fitted.size == picture.size
    assert not np.array_equal(filled.pixels, fitted.pixels)

    shaded = replace_background(picture, "white", harmonize=False, shadow=True)
    unshaded = replace_background(picture, "white", harmonize=False)
    bottom = int(np.flatnonzero((s.alpha > 0.5).any(axis=1))[-1])
    below = slice(bottom + 1, min(bottom + 6, picture.height))
    assert shaded.to_float()[below].mean() < unshaded.to_float()[below].mean() - 0.01
