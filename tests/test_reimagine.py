"""Reimagine: variations of a photo with a tiny random diffusion model built here (tests/diffusion_tiny.py) and put
in a temporary model cache as if pulled: the real loading code, the API and the CLI, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
from retouch.cli import _run
from retouch.errors import BackendUnavailable, InvalidInput, WeightsMissing
from retouch.io import load_image, save_image
from retouch.io.credentials_read import read_credentials
from retouch.io.xmp import read_provenance
from retouch.models import registry
from retouch.tools.generate import backend
from retouch.tools.reimagine import reimagine, working_size
from retouch.types import Picture

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


class Stop(Exception):
    pass


def gradient(width: int = 64, height: int = 64) -> Picture:
    """Smooth colour ramps: a photo the model's autoencoder can carry."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x / (width - 1), y / (height - 1), 1 - x * y / ((width - 1) * (height - 1))], axis=2)
    return Picture(pixels=(rgb * 255 + 0.5).astype(np.uint8))


def autoencoded(name: str, picture: Picture) -> np.ndarray:
    """The photo as the model sees it at no noise: through its VAE and back (the tiny VAE is random, so this, not
    the photo itself, is what a small strength stays close to)."""
    import torch

    vae = backend.load_model(registry.get_spec(name)).image2image.vae
    x = torch.from_numpy(picture.rgb_float()).permute(2, 0, 1)[None].to(vae.dtype) * 2 - 1
    with torch.inference_mode():
        made = vae.decode(vae.encode(x).latent_dist.mean).sample
    return ((made[0].float().permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1) * 255


def test_equal_seeds_give_equal_pixels_and_each_variation_takes_the_next_seed(tiny: str) -> None:
    photo = gradient(90, 60)
    first = reimagine(photo, strength=0.6, seed=4, count=3)
    assert [v.size for v in first] == [(90, 60)] * 3  # back at the photo's size
    assert all(v.pixels.dtype == np.uint8 and v.pixels.shape[2] == 3 for v in first)
    again = reimagine(photo, strength=0.6, seed=4, count=3)
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0].pixels, first[1].pixels)
    alone = reimagine(photo, strength=0.6, seed=5)  # variation 2 remade on its own
    assert np.array_equal(alone[0].pixels, first[1].pixels)
    assert [v.metadata.operations for v in first] == [
        (f"reimagine (model={tiny}, strength=0.6, steps=2, seed={seed})",) for seed in (4, 5, 6)
    ]


def test_the_steps_recorded_are_the_steps_that_ran(tiny: str) -> None:
    """At a low strength the schedule reaches its 50-step cap before 8 steps fit in it: 5 run, and the
    provenance and the progress say 5, not the 8 asked for."""
    seen: list[tuple[str, int, int]] = []
    (variation,) = reimagine(gradient(), strength=0.1, steps=8, progress=lambda *r: seen.append(r))
    assert variation.metadata.operations == (f"reimagine (model={tiny}, strength=0.1, steps=5, seed=0)",)
    assert seen[-1] == ("generate", 5, 5)


def test_a_small_strength_stays_close_and_a_large_one_moves_further(tiny: str) -> None:
    photo = gradient()
    seen = autoencoded(tiny, photo)

    def distance(strength: float) -> float:
        made = reimagine(photo, strength=strength, seed=1, count=3)
        return float(np.mean([np.abs(v.pixels.astype(np.float64) - seen).mean() for v in made]))

    near, far = distance(0.05), distance(1.0)
    assert near + 1.5 < far, (near, far)


def test_the_working_size_keeps_the_aspect_at_the_models_side() -> None:
    assert working_size(4000, 3000, 512) == (512, 384)
    assert working_size(1000, 1500, 512) == (344, 512)
    assert working_size(5000, 100, 512) == (512, 64)  # never below 64


def test_progress_per_step_and_a_raise_stops_it(tiny: str) -> None:
    seen: list[tuple[str, int, int]] = []
    reimagine(gradient(), strength=0.5, steps=3, count=2, progress=lambda *report: seen.append(report))
    # the two variations' steps as one run: 0..3 of the first, then 3..6 of the second
    assert list(dict.fromkeys(seen)) == [("generate", step, 6) for step in range(7)]
    assert seen == sorted(seen)

    def stop_at_one(stage: str, done: int, total: int) -> None:
        if done >= 1:
            raise Stop

    with pytest.raises(Stop):
        reimagine(gradient(), strength=0.5, steps=3, count=2, progress=stop_at_one)


@pytest.mark.parametrize(
    "arguments",
    [{"strength": 0.0}, {"strength": 1.5}, {"strength": float("nan")}, {"count": 0}, {"count": 9}, {"steps": 51},
     {"seed": -1}, {"seed": 2**63 - 1, "count": 2}],
)
def test_bad_options_are_refused(tiny: str, arguments: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        reimagine(gradient(), **arguments)  # type: ignore[arg-type]


def test_the_cli_writes_k_numbered_variations_with_generated_provenance(tiny: str, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    save_image(gradient(72, 48), source, provenance=False)
    out = tmp_path / "new.png"
    assert _run(["reimagine", str(source), "--strength", "0.5", "--seed", "3", "-n", "2", "-o", str(out)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png")
    assert names == ["new-1.png", "new-2.png", "photo.png"]
    made = reimagine(load_image(source), strength=0.5, seed=3, count=2)
    for index, variation in enumerate(made, start=1):
        written = load_image(tmp_path / f"new-{index}.png")
        assert written.size == (72, 48)
        assert np.array_equal(written.pixels, variation.pixels)  # the CLI and the API agree
        provenance = read_provenance(written.metadata.xmp)
        assert provenance is not None and provenance.digital_source_type == TRAINED
    credentials = read_credentials((tmp_path / "new-1.png").read_bytes())
    assert credentials is not None
    assert [(a.action, a.digital_source_type) for a in credentials.actions] == [
        ("c2pa.opened", None),
        ("c2pa.edited", "trainedAlgorithmicMedia"),
    ]
    assert [i.title for i in credentials.ingredients] == ["photo.png"]  # the photo it was made from

    one = tmp_path / "one.png"
    assert _run(["reimagine", str(source), "-o", str(one)]) == 0  # one variation: the name as given
    assert load_image(one).size == (72, 48)


def test_an_existing_output_is_refused_before_any_work(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "photo.png"
    save_image(gradient(), source, provenance=False)
    (tmp_path / "new-3.png").write_bytes(b"keep me")
    monkeypatch.setattr(backend, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    assert _run(["reimagine", str(source), "-n", "3", "-o", str(tmp_path / "new.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("retouch: error:") and "new-3.png" in err[0]
    assert not (tmp_path / "new-1.png").exists() and (tmp_path / "new-3.png").read_bytes() == b"keep me"
    assert _run(["reimagine", str(source), "--strength", "2", "-o", str(tmp_path / "x.png")]) == 2
    assert "--strength must be between 0.05 and 1, got 2" in capsys.readouterr().err


def test_a_cancelled_cli_run_writes_nothing(tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retouch.cli import running

    calls = 0

    def stop_on_third_report() -> None:
        nonlocal calls
        calls += 1
        if calls >= 3:  # within the first variation
            raise KeyboardInterrupt

    source = tmp_path / "photo.png"
    save_image(gradient(), source, provenance=False)
    monkeypatch.setattr(running, "raise_if_stopping", stop_on_third_report)
    assert _run(["reimagine", str(source), "-n", "2", "-o", str(tmp_path / "new.png")]) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "photo.png"]


def test_without_a_model_or_the_extra_the_error_names_the_command(
    home: Path, tiny_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = diffusion_tiny.spec_for(tiny_files)
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)  # registered, not pulled
    for name in [n for n, s in registry._REGISTRY.items() if s.task == "generate" and n != spec.name]:
        monkeypatch.delitem(registry._REGISTRY, name)
    with pytest.raises(WeightsMissing, match=f"retouch models pull {spec.name}"):
        reimagine(gradient())
    source = home.parent / "photo.png"
    save_image(gradient(), source, provenance=False)
    assert _run(["reimagine", str(source), "-o", str(home.parent / "x.png")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"run: retouch models pull {spec.name}")
    monkeypatch.setattr(backend, "extra_installed", lambda: False)
    with pytest.raises(BackendUnavailable, match=r"run: pip install 'retouch\[gen\]'"):
        reimagine(gradient())
