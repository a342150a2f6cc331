"""The catalogue's generative model and what the backend needs to run it: the Stable Diffusion 1.5 row (its
configurations describe the pinned files exactly), the guided sampler it uses, and the loading of files whose
keys carry diffusers' older attention names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
import torch
from retouch.errors import WeightsMissing
from retouch.models import registry
from retouch.tools.generate import backend, generate

SD15 = "stable-diffusion-1.5"


def test_the_stable_diffusion_row_is_opt_in_and_pinned_to_one_commit() -> None:
    spec = registry.get_spec(SD15)
    assert spec.task == "generate" and spec.format == "diffusers"
    assert not spec.permissive and spec.pull_command == f"retouch models pull {SD15} --accept-license"
    names = {f.filename for f in spec.files}
    assert {f"{n}.safetensors" for n in backend.NETWORKS} | set(backend.TOKENIZER_FILES) <= names
    assert backend.SAFETY_FILE in names  # the model ships a safety checker: the row carries it
    for file in spec.files:
        (source,) = file.sources
        assert source.url.startswith(
            "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/"
            "451f4fe16113bff5a5d2269ed5ad43b0592e9a14/"
        )
        assert file.size is not None and len(file.sha256) == 64
    assert spec.arch_params["sampler"] == "dpm-solver" and float(spec.arch_params["guidance"]) > 1


def test_its_configurations_describe_the_pinned_files() -> None:
    """Each network built (without memory, on the meta device) from the row's configuration holds 4 bytes per
    parameter of float32 weights: the pinned file is that plus its JSON header (tens of KB). A wrong width, depth
    or head size anywhere would be megabytes off."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPTextConfig, CLIPTextModel

    spec = registry.get_spec(SD15)

    def config(key: str) -> dict:
        return json.loads(spec.arch_params[key])

    with torch.device("meta"):
        networks = {
            "unet.safetensors": UNet2DConditionModel.from_config(config("unet")),
            "vae.safetensors": AutoencoderKL.from_config(config("vae")),
            "text_encoder.safetensors": CLIPTextModel(CLIPTextConfig(**config("text_encoder"))),
            "safety_checker.safetensors": StableDiffusionSafetyChecker(CLIPConfig(**config("safety_checker"))),
        }
    sizes = {f.filename: f.size for f in spec.files}
    for name, network in networks.items():
        weights = 4 * sum(t.numel() for t in network.state_dict().values())
        assert 0 < sizes[name] - weights < 128 * 1024, (name, sizes[name], weights)
    assert backend.native_size(spec) == 512


def test_without_its_files_the_tools_name_the_pull_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    with pytest.raises(WeightsMissing) as caught:
        generate("a lighthouse at dusk")
    assert f"retouch models pull {SD15} --accept-license" in str(caught.value)


@pytest.fixture
def guided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Two rows of the same tiny files: one sampled like Stable Diffusion 1.5 (DPM-Solver++ with guidance), one
    with guidance off."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    paths = diffusion_tiny.write_model(tmp_path / "files")
    names = []
    for name, guidance in (("tiny-guided", 7.5), ("tiny-unguided", 0.0)):
        spec = diffusion_tiny.spec_for(paths, name=name, sampler="dpm-solver", guidance=guidance)
        folder = tmp_path / "home" / "models" / name
        folder.mkdir(parents=True)
        for filename, path in paths.items():
            (folder / filename).write_bytes(path.read_bytes())
        monkeypatch.setitem(registry._REGISTRY, name, spec)
        names.append(name)
    return names[0], names[1]


def test_the_guided_sampler_runs_the_prompt_twice_and_is_deterministic(guided: tuple[str, str]) -> None:
    with_guidance, without = guided
    model = backend.load_model(registry.get_spec(with_guidance))
    assert model.guidance == 7.5
    assert type(model.text2image.scheduler).__name__ == "DPMSolverMultistepScheduler"
    first = generate("a red boat", size=(64, 64), steps=6, seed=3, model=with_guidance)
    again = generate("a red boat", size=(64, 64), steps=6, seed=3, model=with_guidance)
    plain = generate("a red boat", size=(64, 64), steps=6, seed=3, model=without)
    assert np.array_equal(first.pixels, again.pixels)
    # guidance pushes the prediction away from the unconditioned one: another picture from the same noise
    assert np.abs(first.pixels.astype(int) - plain.pixels).mean() > 1


def test_files_with_the_older_attention_names_load(tmp_path: Path) -> None:
    """SD 1.5's VAE file names its mid-block attention query/key/value/proj_attn, as diffusers did before 0.14;
    the loader renames them as diffusers' own from_pretrained does."""
    from diffusers import AutoencoderKL
    from safetensors.torch import save_file

    torch.manual_seed(0)
    vae = AutoencoderKL(**diffusion_tiny.VAE)
    renamed = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
    state = {}
    for key, tensor in vae.state_dict().items():
        for new, old in renamed.items():
            key = key.replace(new, old)
        state[key] = tensor.contiguous()
    assert any(".query." in key for key in state)  # the tiny VAE has a mid-block attention to rename
    save_file(state, str(tmp_path / "vae.safetensors"))
    loaded = backend._load_weights(
        AutoencoderKL(**diffusion_tiny.VAE), tmp_path / "vae.safetensors", "VAE"
    )
    for key, tensor in vae.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key
