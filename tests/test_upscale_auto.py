"""What users rely on in the faster upscale paths: ``--model auto`` picks x4plus for small outputs and a compact
model for large ones on a CPU, and says which and why (CLI stderr, the progress note, the recorded operation);
(generated weights, as the other tests)."""

from __future__ import annotations

import pytest

import retouch.tools.upscale as tool
from retouch.tools.upscale import choose_model, upscale
from retouch.types import Picture
from test_ncnn import random_srvgg
from test_upscale_api import photo
from test_upscale_cli import cli
from test_upscale_weights import home, install_pth  # noqa: F401  (home is a fixture)


@pytest.fixture
def installed(monkeypatch) -> dict[str, bool]:
    models = {"realesrgan-x4plus": True, "realesr-general-x4v3": False, "realesr-animevideov3-x4": True}
    monkeypatch.setattr(tool, "available_models", lambda: models)
    return models


def test_auto_keeps_x4plus_for_small_outputs_and_says_so(installed) -> None:
    model, why = choose_model("auto", (400, 225), 4, "cpu")  # 1.4 MP out
    assert model == "realesrgan-x4plus" and why is not None and "1.4 MP" in why and "auto" in why


def test_auto_takes_a_compact_model_for_large_outputs_on_a_cpu(installed) -> None:
    model, why = choose_model("auto", (1200, 800), 4, "cpu")  # 15.4 MP out
    assert model == "realesr-animevideov3-x4"
    assert why is not None and "15.4 MP" in why and "realesrgan-x4plus" in why  # what it did not pick, and how
    installed["realesr-general-x4v3"] = True  # the photo-trained compact model goes first when installed
    assert choose_model("auto", (1200, 800), None, "cpu")[0] == "realesr-general-x4v3"
    assert choose_model("auto", (1200, 800), 1.5, "cpu")[0] == "realesrgan-x4plus"  # 2.2 MP out


def test_auto_without_a_compact_model_keeps_x4plus_and_warns(installed) -> None:
    installed["realesr-animevideov3-x4"] = False
    model, why = choose_model("auto", (1200, 800), 4, "cpu")
    assert model == "realesrgan-x4plus" and "slow" in why and "retouch models pull" in why


def test_the_estimate_of_auto_is_the_estimate_of_the_model_it_picks(installed, tmp_path, monkeypatch) -> None:
    from retouch.tools import estimate

    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))  # no learned timings: the built-in figures
    for size in ((400, 225), (1200, 800)):
        picked = choose_model("auto", size, 4, "cpu")[0]
        assert estimate.upscale(size, scale=4, model="auto", device="cpu").seconds == pytest.approx(
            estimate.upscale(size, scale=4, model=picked, device="cpu").seconds
        )
    small = estimate.upscale((1200, 800), scale=4, model="auto", device="cpu").seconds
    assert small < estimate.upscale((1200, 800), scale=4, model="realesrgan-x4plus", device="cpu").seconds / 5


def test_a_named_model_is_never_replaced(installed) -> None:
    assert choose_model("realesrgan-x4plus", (4000, 3000), 4, "cpu") == ("realesrgan-x4plus", None)


@pytest.fixture
def tiny_pair(home, monkeypatch, installed) -> None:
    """Two tiny networks registered as what auto chooses between."""
    install_pth(monkeypatch, home, "tiny-big", random_srvgg(), key="params")
    install_pth(monkeypatch, home, "tiny-compact", random_srvgg(), key="params")
    monkeypatch.setattr(tool, "DEFAULT_MODEL", "tiny-big")
    monkeypatch.setattr(tool, "AUTO_COMPACT_MODELS", ("tiny-compact",))
    monkeypatch.setattr(tool, "AUTO_MAX_X4PLUS_OUTPUT_MP", 0.01)  # 10,000 output pixels
    installed["tiny-compact"] = True


def test_upscale_auto_reports_its_choice_and_records_it(tiny_pair) -> None:
    reports = []
    result = upscale(Picture(photo(30, 40)), model="auto", progress=lambda *r: reports.append(r))  # 19,200 out
    notes = [stage for stage, _, total in reports if total == 0]
    assert len(notes) == 1 and notes[0].startswith("note: model auto: tiny-compact")
    assert result.metadata.operations == ("upscale (model=tiny-compact, chosen by auto, scale=4)",)
    small = upscale(Picture(photo(10, 12)), model="auto")  # 1,920 out
    assert small.metadata.operations == ("upscale (model=tiny-big, chosen by auto, scale=4)",)


def test_the_cli_defaults_to_auto_and_prints_the_choice(tiny_pair, tmp_path, capsys) -> None:
    from retouch.io import save_image

    source = save_image(Picture(photo(30, 40)), tmp_path / "p.png")
    code, _, err = cli(capsys, "upscale", str(source), "-o", str(tmp_path / "o.png"))
    assert code == 0, err
    assert "retouch: model auto: tiny-compact" in err and "tiny-big" in err
