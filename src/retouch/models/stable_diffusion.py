"""Stable Diffusion 1.5 as a "diffusers" registry row (``retouch.tools.generate.backend`` reads it).

The files are those of the official repository, stable-diffusion-v1-5/stable-diffusion-v1-5 on Hugging Face,
pinned at one commit: its networks' safetensors (CreativeML OpenRAIL-M, so the row is opt-in), the CLIP BPE
tokenizer and the safety checker the model ships. Where each digest comes from, since the hub cannot be reached
from where this row was written:
- the UNet, VAE and text encoder: published by refiners (finegrain-ai/refiners, its conversion recipes, which
  check them on download) and, with the sizes, by ModelScope's file list of the same repository;
- the safety checker: ModelScope's list and the hub's own X-Linked-Etag/X-Linked-Size headers for the file;
- vocab.json and merges.txt (small files kept in git, so the hub publishes their git blob ids, not a sha256):
  copies whose git blob ids equal the official ones (469be27c... and 76e821f1..., as Hugging Face caches name
  them) were hashed; a git blob id is a SHA-1 of the exact bytes.
The configurations are the repository's config.json files, reduced to the fields that differ from diffusers' and
transformers' defaults where that keeps them readable.
"""

from __future__ import annotations

import json

REPOSITORY = "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5"
REVISION = "451f4fe16113bff5a5d2269ed5ad43b0592e9a14"
LICENSE_URL = "https://huggingface.co/spaces/CompVis/stable-diffusion-license"  # the card links the license here

# (file in the cache, path in the repository, sha256, bytes)
FILES = (
    (
        "unet.safetensors",
        "unet/diffusion_pytorch_model.safetensors",
        "19da7aaa4b880e59d56843f1fcb4dd9b599c28a1d9d9af7c1143057c8ffae9f1",
        3_438_167_540,
    ),
    (
        "vae.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
        "a2b5134f4dbc140d9c11f11cba3233099e00af40f262f136c691fb7d38d2194c",
        334_643_276,
    ),
    (
        "text_encoder.safetensors",
        "text_encoder/model.safetensors",
        "d008943c017f0092921106440254dbbe00b6a285f7883ec8ba160c3faad88334",
        492_265_874,
    ),
    (
        "vocab.json",
        "tokenizer/vocab.json",
        "e089ad92ba36837a0d31433e555c8f45fe601ab5c221d4f607ded32d9f7a4349",
        1_059_962,
    ),
    (
        "merges.txt",
        "tokenizer/merges.txt",
        "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a",
        524_619,
    ),
    (
        "safety_checker.safetensors",
        "safety_checker/model.safetensors",
        "9d6a233ff6fd5ccb9f76fd99618d73369c52dd3d8222376384d0e601911089e8",
        1_215_981_830,
    ),
)

UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
TEXT_ENCODER = {  # OpenAI's CLIP ViT-L/14 text tower
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "max_position_embeddings": 77,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}
TOKENIZER = {"pad_token": "<|endoftext|>", "model_max_length": 77}
SCHEDULER = {  # the training noise schedule; the sampler is the row's "sampler"
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
    "prediction_type": "epsilon",
    "clip_sample": False,
    "set_alpha_to_one": False,
}
SAFETY_CHECKER = {  # CLIP ViT-L/14; the checker uses its vision tower and projection
    "projection_dim": 768,
    "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12},
    "vision_config": {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_attention_heads": 16,
        "num_hidden_layers": 24,
        "patch_size": 14,
        "image_size": 224,
    },
}
FEATURE_EXTRACTOR = {
    "size": {"shortest_edge": 224},
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
}


def arch_params(sampler: str, default_steps: int, guidance: float) -> dict[str, str | int | float]:
    """The row's ``arch_params``: each configuration as the JSON string the backend reads, and the sampler."""
    configs = {
        "unet": UNET,
        "vae": VAE,
        "text_encoder": TEXT_ENCODER,
        "tokenizer": TOKENIZER,
        "scheduler": SCHEDULER,
        "safety_checker": SAFETY_CHECKER,
        "feature_extractor": FEATURE_EXTRACTOR,
    }
    return {
        **{name: json.dumps(config) for name, config in configs.items()},
        "sampler": sampler,
        "default_steps": default_steps,
        "guidance": guidance,
    }
