"""Every cutout network of the registry, run through its row's conventions on an ONNX file with its signature."""

from __future__ import annotations

import numpy as np
import pytest

from cutout_onnx import GAIN, SIGNATURES, install_fake
from retouch.errors import InvalidInput, WeightsMissing
from retouch.models.registry import list_models
from retouch.tools.cutout.networks import AUTO_ORDER, load_segmenter, resolve_model
from retouch.tools.cutout.segment import network_input


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    return tmp_path


def test_every_cutout_row_has_a_signature_here() -> None:
    assert {spec.name for spec in list_models("cutout")} == set(SIGNATURES)


def expected_map(rgb: np.ndarray, conventions) -> np.ndarray:
    """The documented conventions, written out independently for an image already at the network's size."""
    x = rgb.astype(np.float32)
    if conventions.scale_to_max:
        x = x / x.max()
    x = (x - np.float32(conventions.mean)) / np.float32(conventions.std)
    logit = GAIN * (x[:, :, 0] - x[:, :, 1])
    prob = 1 / (1 + np.exp(-logit))
    if conventions.stretch:
        prob = (prob - prob.min()) / (prob.max() - prob.min())
    return prob


@pytest.mark.parametrize("model", sorted(SIGNATURES))
def test_runs_each_network_with_its_conventions(model: str, home, monkeypatch) -> None:
    install_fake(model, monkeypatch)
    segmenter = load_segmenter(model, "cpu")
    side = SIGNATURES[model][2]
    rng = np.random.default_rng(3)
    rgb = rng.random((side, side, 3), dtype=np.float32) * 0.8

    prob = segmenter(rgb)

    assert prob.shape == (side, side) and prob.dtype == np.float32
    np.testing.assert_allclose(prob, expected_map(rgb, segmenter.spec.conventions), atol=2e-5)


def test_input_is_resized_to_the_network_and_normalized() -> None:
    spec = resolve_model("birefnet-general-lite")
    rgb = np.full((600, 900, 3), 0.5, dtype=np.float32)
    tensor = network_input(rgb, spec.conventions)
    assert tensor.shape == (1, 3, 1024, 1024) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, :, 10, 10], (0.5 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225], rtol=1e-5)


def test_auto_picks_the_best_installed_permissive_model(home, monkeypatch) -> None:
    install_fake("u2netp", monkeypatch)
    install_fake("isnet-imgly", monkeypatch)  # opt-in: never the default
    assert resolve_model(None).name == "u2netp"
    install_fake("isnet-general-use", monkeypatch)
    assert resolve_model("auto").name == "isnet-general-use"
    assert AUTO_ORDER[0] == "birefnet-general-lite"


def test_with_nothing_installed_the_error_names_every_pull_command(home) -> None:
    with pytest.raises(WeightsMissing) as caught:
        resolve_model(None)
    message = str(caught.value)
    assert "retouch models pull birefnet-general-lite" in message
    for name in ("isnet-general-use", "u2net", "u2netp", "birefnet-portrait"):
        assert f"retouch models pull {name}" in message
    assert "retouch models pull isnet-imgly --accept-license" in message and "AGPL-3.0" in message
    assert "\n" not in message


def test_an_installed_opt_in_model_is_offered_by_name_only(home, monkeypatch) -> None:
    install_fake("isnet-imgly", monkeypatch)
    with pytest.raises(WeightsMissing, match="--model isnet-imgly"):
        resolve_model(None)
    assert resolve_model("isnet-imgly").name == "isnet-imgly"


def test_a_model_of_another_task_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a cutout model"):
        resolve_model("migan")
