"""GFPGAN v1.4: our architecture on checkpoints written in the official layout ({"params_ema": state_dict}) with
random weights, loaded by the real loading code; the full-size layout matches the official file's."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from retouch.errors import InvalidInput, WeightsMissing
from retouch.models import registry
from retouch.models.arch.gfpgan import GFPGANConfig, GFPGANv1Clean
from retouch.models.spec import ModelSpec, UrlSource, WeightFile
from retouch.models.checkpoint import BASICSR_KEYS, read_checkpoint
from retouch.tools.restore.faces.restore import FaceRestorer, load_face_restorer, load_gfpgan

# The official layout (the same tensor names per level) at a fraction of the width and 128 px, for speed.
SMALL = GFPGANConfig(out_size=128, num_style_feat=32, channel_multiplier=2, num_mlp=2, narrow=1 / 16)
CPU = torch.device("cpu")


def random_network(config: GFPGANConfig, seed: int = 0) -> GFPGANv1Clean:
    """Random weights everywhere, zero-initialised ones (noise strengths, biases) included."""
    torch.manual_seed(seed)
    network = GFPGANv1Clean(config).eval()
    with torch.no_grad():
        for parameter in network.parameters():
            if not parameter.abs().any():
                parameter.normal_(0, 0.05)
    return network


def write_checkpoint(path: Path, network: GFPGANv1Clean, key: str = "params_ema") -> Path:
    torch.save({key: network.state_dict(), "iter": 1}, path)  # the training script saves extras beside it
    return path


def face_row(name: str, weights: Path, config: GFPGANConfig) -> ModelSpec:
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    return ModelSpec(
        name=name,
        task="face-restore",
        format="pth",
        architecture="gfpgan-v1-clean",
        files=(WeightFile(weights.name, digest, weights.stat().st_size, (UrlSource("https://example.invalid/x"),)),),
        license="Apache-2.0",
        permissive=True,
        description="test row",
        arch_params={
            "out_size": config.out_size,
            "num_style_feat": config.num_style_feat,
            "channel_multiplier": config.channel_multiplier,
            "num_mlp": config.num_mlp,
            "narrow": config.narrow,
        },
    )


def test_full_size_layout_is_the_official_one() -> None:
    # GFPGANv1.4.pth's params_ema: 285 tensors, 87,143,276 values (checked against the official GFPGANv1Clean).
    with torch.device("meta"):
        state = GFPGANv1Clean().state_dict()
    assert len(state) == 285
    assert sum(t.numel() for t in state.values()) == 87_143_276
    assert state["final_linear.weight"].shape == (16 * 512, 256 * 4 * 4)  # one latent per decoder layer
    assert state["condition_scale.6.2.weight"].shape == (32, 32, 3, 3)  # SFT on half of the 512 px features
    assert state["stylegan_decoder.style_mlp.15.weight"].shape == (512, 512)  # kept for the strict load
    assert state["stylegan_decoder.noises.noise14"].shape == (1, 1, 512, 512)
    assert state["stylegan_decoder.style_convs.0.modulated_conv.weight"].shape == (1, 512, 512, 3, 3)


def test_checkpoint_in_the_official_layout_loads_and_runs(tmp_path: Path) -> None:
    original = random_network(SMALL)
    loaded = load_gfpgan(write_checkpoint(tmp_path / "GFPGANv1.4.pth", original), CPU, SMALL)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.inference_mode():
        expected, got = original(x), loaded(x)
        again = loaded(x)
    assert got.shape == (1, 3, 128, 128)
    assert torch.equal(expected, got) and torch.equal(got, again)  # the stored noise: the same face, the same result
    with torch.inference_mode():
        drawn = loaded(x, noise="random")
    assert not torch.equal(drawn, got)  # the official default draws fresh noise; it matters


def test_params_key_is_accepted_and_wrong_files_are_clear_errors(tmp_path: Path) -> None:
    network = random_network(SMALL)
    assert set(read_checkpoint(write_checkpoint(tmp_path / "a.pth", network, key="params"), BASICSR_KEYS)) == set(
        network.state_dict()
    )
    torch.save({"state_dict": network.state_dict()}, tmp_path / "other.pth")
    with pytest.raises(InvalidInput, match="no 'params_ema' or 'params'"):
        read_checkpoint(tmp_path / "other.pth", BASICSR_KEYS)
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(InvalidInput, match="not a readable PyTorch checkpoint"):
        read_checkpoint(tmp_path / "text.pth", BASICSR_KEYS)
    wider = GFPGANConfig(out_size=128, num_style_feat=32, channel_multiplier=2, num_mlp=2, narrow=1 / 8)
    with pytest.raises(InvalidInput, match="expected shape"):
        load_gfpgan(tmp_path / "a.pth", CPU, wider)


def test_restorer_from_the_registry_maps_unit_range_crops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    small = GFPGANConfig(out_size=64, num_style_feat=16, channel_multiplier=1, num_mlp=1, narrow=1 / 16)
    weights = write_checkpoint(tmp_path / "gfpgan-test.pth", random_network(small))
    monkeypatch.setitem(registry._REGISTRY, "gfpgan-test", face_row("gfpgan-test", weights, small))
    with pytest.raises(WeightsMissing, match="retouch models pull gfpgan-test"):
        load_face_restorer("gfpgan-test", device="cpu")
    cached = tmp_path / "home" / "models" / "gfpgan-test" / weights.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(weights.read_bytes())
    restorer = load_face_restorer("gfpgan-test", device="cpu")
    assert isinstance(restorer, FaceRestorer) and restorer.size == 64
    crop = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    out = restorer(crop)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.std() > 0.01
    with pytest.raises(InvalidInput, match="64x64x3"):
        restorer(crop[:32])
    with pytest.raises(InvalidInput, match="not a face restoration model"):
        load_face_restorer("migan")
