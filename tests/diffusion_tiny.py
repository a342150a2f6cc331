"""A tiny random latent-diffusion model, written the way ``retouch models pull`` leaves a "diffusers" row in the
cache: one safetensors file per network, a CLIP BPE vocabulary and merges list, and a registry row whose
``arch_params`` carry the configurations (see retouch.tools.generate.backend). Seconds to build and to run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from retouch.models.spec import ModelSpec, UrlSource, WeightFile

NAME = "tiny-diffusion"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_MERGES = ("a t</w>", "c at</w>", "d o", "do g</w>", "s k", "sk y</w>", "w a", "l l</w>", "wa ll</w>")
_SPECIAL = ("<|startoftext|>", "<|endoftext|>")

UNET = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [32, 32],
    "layers_per_block": 1,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
    "norm_num_groups": 8,
}
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": [16, 16],
    "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "sample_size": 16,
}
SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
}
TOKENIZER = {"pad_token": "<|endoftext|>", "model_max_length": 77}
SAFETY_CHECKER = {
    "projection_dim": 16,
    "text_config": {"hidden_size": 16, "intermediate_size": 16, "num_attention_heads": 2, "num_hidden_layers": 1},
    "vision_config": {
        "hidden_size": 16,
        "intermediate_size": 16,
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "image_size": 32,
        "patch_size": 8,
    },
}
FEATURE_EXTRACTOR = {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}}


def vocabulary() -> dict[str, int]:
    tokens = [*_LETTERS, *(c + "</w>" for c in _LETTERS), *(m.replace(" ", "") for m in _MERGES), *_SPECIAL]
    return {token: i for i, token in enumerate(dict.fromkeys(tokens))}


def text_encoder_config() -> dict[str, int]:
    vocab = vocabulary()
    return {
        "vocab_size": len(vocab),
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "max_position_embeddings": 77,
        "projection_dim": 32,
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }


def write_model(folder: Path, seed: int = 0, safety_threshold: float | None = None) -> dict[str, Path]:
    """The files of the tiny model, random weights drawn from ``seed``, written into ``folder``; with
    ``safety_threshold`` a safety checker too, whose concept thresholds are all that value: below -1 it flags
    every image (a cosine is at least -1), above 1 none."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    networks = {
        "unet": UNet2DConditionModel(**UNET),
        "vae": AutoencoderKL(**VAE),
        "text_encoder": CLIPTextModel(CLIPTextConfig(**text_encoder_config())),
    }
    if safety_threshold is not None:
        from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
        from transformers import CLIPConfig

        checker = StableDiffusionSafetyChecker(CLIPConfig(**SAFETY_CHECKER))
        with torch.no_grad():
            checker.concept_embeds_weights.fill_(safety_threshold)
            checker.special_care_embeds_weights.fill_(safety_threshold)
        networks["safety_checker"] = checker
    paths = {}
    for name, network in networks.items():
        state = {k: v.contiguous() for k, v in network.state_dict().items()}
        paths[f"{name}.safetensors"] = folder / f"{name}.safetensors"
        save_file(state, str(paths[f"{name}.safetensors"]))
    paths["vocab.json"] = folder / "vocab.json"
    paths["vocab.json"].write_text(json.dumps(vocabulary()), encoding="utf-8")
    paths["merges.txt"] = folder / "merges.txt"
    paths["merges.txt"].write_text("#version: 0.2\n" + "\n".join(_MERGES) + "\n", encoding="utf-8")
    return paths


def spec_for(
    paths: dict[str, Path], name: str = NAME, sampler: str = "lcm", guidance: float = 0.0
) -> ModelSpec:
    """The registry row of files written by ``write_model``, each pinned by its sha256 and size."""
    files = tuple(
        WeightFile(
            filename=filename,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            size=path.stat().st_size,
            sources=(UrlSource(f"https://example.invalid/{name}/{filename}"),),
        )
        for filename, path in paths.items()
    )
    params = {
        "unet": json.dumps(UNET),
        "vae": json.dumps(VAE),
        "text_encoder": json.dumps(text_encoder_config()),
        "tokenizer": json.dumps(TOKENIZER),
        "scheduler": json.dumps(SCHEDULER),
        "safety_checker": json.dumps(SAFETY_CHECKER),
        "feature_extractor": json.dumps(FEATURE_EXTRACTOR),
        "sampler": sampler,
        "default_steps": 2,
        "guidance": guidance,
    }
    return ModelSpec(
        name=name,
        task="generate",
        format="diffusers",
        architecture="stable-diffusion",
        files=files,
        license="MIT",
        permissive=True,
        description="A tiny random latent-diffusion model for tests.",
        arch_params=params,
    )


def install(home: Path, paths: dict[str, Path], name: str = NAME) -> ModelSpec:
    """The files of ``write_model`` copied into the model cache of the Retouch home ``home``, as ``retouch models
    pull`` leaves them; returns their row (the caller registers it)."""
    spec = spec_for(paths, name)
    folder = home / "models" / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    for filename, path in paths.items():
        (folder / filename).write_bytes(path.read_bytes())
    return spec
