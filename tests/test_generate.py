"""Text to image on the optional diffusion backend, with a tiny random model built here (tests/diffusion_tiny.py)
and put in a temporary model cache as if pulled: the real loading code, the API and the CLI, end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
from retouch.cli import _run
from retouch.errors import BackendUnavailable, InvalidInput, WeightsMissing
from retouch.io import load_image
from retouch.io.credentials_read import read_credentials
from retouch.io.xmp import read_provenance
from retouch.models import registry
from retouch.tools.generate import backend, generate
from retouch.tools.generate.backend import UnsafeOutput
from retouch.tools.generate.refusals import PromptRefused

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


class Stop(Exception):
    pass


def test_same_seed_same_image_and_another_seed_another(tiny: str) -> None:
    first = generate("a cat in the sky", size=(96, 64), seed=7)
    again = generate("a cat in the sky", size=(96, 64), seed=7)
    other = generate("a cat in the sky", size=(96, 64), seed=8)
    assert first.pixels.shape == (64, 96, 3) and first.pixels.dtype == np.uint8
    assert np.array_equal(first.pixels, again.pixels)
    assert not np.array_equal(first.pixels, other.pixels)
    assert first.metadata.operations == (f"generate (model={tiny}, steps=2, seed=7)",)


def test_progress_reports_each_step_and_a_raise_after_step_one_stops_it(tiny: str) -> None:
    seen: list[tuple[str, int, int]] = []

    def record(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))

    generate("a dog", size=(64, 64), steps=3, progress=record)
    # in order, each report possibly repeated between layers (that is how a stop is heard inside a step)
    assert list(dict.fromkeys(seen)) == [("generate", step, 3) for step in range(4)]
    assert seen == sorted(seen)

    steps: list[int] = []

    def stop_after_one(stage: str, done: int, total: int) -> None:
        steps.append(done)
        if done >= 1:
            raise Stop

    with pytest.raises(Stop):
        generate("a dog", size=(64, 64), steps=3, progress=stop_after_one)
    assert steps[-1] == 1 and set(steps) == {0, 1}  # stopped at the first report of step 1: step 2 never ran


def test_the_cli_writes_the_image_with_generated_provenance(tiny: str, tmp_path: Path) -> None:
    out = tmp_path / "cat.png"
    assert _run(["generate", "a cat", "--size", "64x64", "--seed", "3", "-o", str(out)]) == 0
    picture = load_image(out)
    assert picture.size == (64, 64)
    provenance = read_provenance(picture.metadata.xmp)
    assert provenance is not None and provenance.digital_source_type == TRAINED
    credentials = read_credentials(out.read_bytes())
    assert credentials is not None
    assert [(a.action, a.digital_source_type) for a in credentials.actions] == [
        ("c2pa.created", "trainedAlgorithmicMedia")
    ]
    assert credentials.ingredients == ()
    # the API and the CLI make the same pixels for the same seed
    assert np.array_equal(picture.pixels, generate("a cat", size=(64, 64), seed=3).pixels)


def test_a_cancelled_cli_run_writes_nothing(tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retouch.cli import running

    calls = 0

    def stop_on_second_report() -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:  # after step 1 was reported
            raise KeyboardInterrupt

    monkeypatch.setattr(running, "raise_if_stopping", stop_on_second_report)
    out = tmp_path / "never.png"
    assert _run(["generate", "a cat", "--size", "64x64", "-o", str(out)]) == 130
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_a_refused_prompt_stops_before_anything_is_loaded(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(PromptRefused, match="nudity"):
        generate("a n.u.d.e woman on a beach", size=(64, 64))
    out = tmp_path / "x.png"
    assert _run(["generate", "Undress her", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["retouch: error: this prompt is refused: Retouch does not make undressing (matched 'undress')"]
    assert not out.exists()


def test_without_a_model_the_error_names_the_pull_command(
    home: Path, tiny_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = diffusion_tiny.spec_for(tiny_files)
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)  # registered, not pulled
    for name in [n for n, s in registry._REGISTRY.items() if s.task == "generate" and n != spec.name]:
        monkeypatch.delitem(registry._REGISTRY, name)
    with pytest.raises(WeightsMissing, match=f"retouch models pull {spec.name}"):
        generate("a cat", size=(64, 64))
    assert _run(["generate", "a cat", "-o", str(home.parent / "x.png")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"run: retouch models pull {spec.name}")


def test_without_the_extra_the_error_names_the_pip_command(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(backend, "extra_installed", lambda: False)
    with pytest.raises(BackendUnavailable, match=r"run: pip install 'retouch\[gen\]'"):
        generate("a cat", size=(64, 64))
    assert _run(["generate", "a cat", "-o", str(home.parent / "x.png")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("size", "steps", "seed"), [((60, 64), None, 0), ((64, 4096), None, 0), ((64, 64), 0, 0), ((64, 64), 51, 0),
                                ((64, 64), None, -1)]
)
def test_bad_options_are_refused(tiny: str, size: tuple[int, int], steps: int | None, seed: int) -> None:
    with pytest.raises(InvalidInput):
        generate("a cat", size=size, steps=steps, seed=seed)


def test_a_damaged_weight_file_is_not_loaded(tiny: str, home: Path) -> None:
    unet = home / "models" / tiny / "unet.safetensors"
    data = bytearray(unet.read_bytes())
    data[-1] ^= 0xFF
    unet.write_bytes(bytes(data))
    from retouch.models.weights import verify

    bad = [r for r in verify(tiny) if not r.ok]
    assert [r.filename for r in bad] == ["unet.safetensors"]
    assert hashlib.sha256(bytes(data)).hexdigest() == bad[0].actual


@pytest.mark.parametrize(("threshold", "flagged"), [(-2.0, True), (2.0, False)])
def test_the_models_safety_checker_is_on_and_a_flagged_result_is_never_returned(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: float, flagged: bool
) -> None:
    paths = diffusion_tiny.write_model(home / "models" / "tiny-checked", safety_threshold=threshold)
    assert "safety_checker.safetensors" in paths
    spec = diffusion_tiny.spec_for(paths, name="tiny-checked")
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)
    out = tmp_path / "checked.png"
    if flagged:
        with pytest.raises(UnsafeOutput, match="safety checker of model 'tiny-checked' flagged"):
            generate("a cat", size=(64, 64), model=spec.name)
        assert _run(["generate", "a cat", "--size", "64x64", "--model", spec.name, "-o", str(out)]) == 2
        assert not out.exists()
    else:
        picture = generate("a cat", size=(64, 64), model=spec.name)
        assert picture.pixels.any()  # not the black image a flagged result is replaced by


def test_import_retouch_loads_no_diffusion_library() -> None:
    import subprocess
    import sys

    code = "import sys, retouch; print([m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_cpu_precision_is_honoured_and_auto_is_float32_without_native_bfloat16(
    tiny: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from retouch.models import runtime

    spec = registry.get_spec(tiny)
    fp32 = backend.load_model(spec, device="cpu", precision="fp32")
    bf16 = backend.load_model(spec, device="cpu", precision="bf16")
    for model, dtype in ((fp32, torch.float32), (bf16, torch.bfloat16)):
        pipe = model.text2image
        assert {pipe.unet.dtype, pipe.vae.dtype, pipe.text_encoder.dtype} == {dtype}
    # a CPU without AVX-512 BF16 or AMX (an AVX2-only EPYC) runs float32 by default
    monkeypatch.setattr(runtime, "cpu_has_bf16", lambda: False)
    assert backend.load_model(spec, device="cpu").text2image.unet.dtype == torch.float32
    image = fp32.text_to_image("a dog", width=64, height=64, steps=1, seed=3)
    assert image.shape == (64, 64, 3) and np.isfinite(image).all()


def test_an_unknown_precision_is_one_clear_error(tiny: str) -> None:
    with pytest.raises(InvalidInput, match=r"^unknown precision 'fp16'; choose one of: auto, fp32, bf16$"):
        backend.load_model(registry.get_spec(tiny), device="cpu", precision="fp16")
