"""The optional diffusion backend: a latent-diffusion pipeline (Hugging Face diffusers) built from the files of a
"diffusers" registry row in the model cache, shared by every generative tool.

A row's files, each one network or one tokenizer file, flat in the model's cache folder:
``unet.safetensors``, ``vae.safetensors``, ``text_encoder.safetensors``, ``vocab.json`` and ``merges.txt`` (the CLIP
BPE tokenizer), and, where the model ships one, ``safety_checker.safetensors``. Their configurations are data of
the row (``arch_params``, each a JSON string: ``unet``, ``vae``, ``text_encoder``, ``tokenizer``, ``scheduler``,
``safety_checker``, ``feature_extractor``), so only the weights travel, each pinned by its sha256; nothing is read
from the network here (no ``from_pretrained``). ``arch_params["sampler"]`` names the few-step sampler: "lcm"
(latent consistency models and LCM-LoRA merges) or "euler-ancestral" (adversarially distilled models such as
SD-Turbo), both run with guidance off.

A GPU (CUDA, or MPS) runs in float16, the CPU in bfloat16 where it computes it natively, else float32. A progress
callback is called after every denoising step, and its last report repeated between the networks' layers; when it
raises, the run stops there and the exception propagates (cancellation): nothing is returned.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retouch.errors import BackendUnavailable, InvalidInput, RetouchError, WeightsMissing
from retouch.models.spec import ModelSpec
from retouch.types import ProgressCallback, no_progress

if TYPE_CHECKING:
    import torch

INSTALL_EXTRA = "pip install 'retouch[gen]'"
NETWORKS = ("unet", "vae", "text_encoder")
TOKENIZER_FILES = ("vocab.json", "merges.txt")
SAFETY_FILE = "safety_checker.safetensors"
SAMPLERS = ("lcm", "euler-ancestral")
# Buffers that transformers' CLIP text model builds itself; some checkpoints carry them, some do not.
_OPTIONAL_KEYS = ("text_model.embeddings.position_ids",)

_cache: dict[tuple[ModelSpec, str, tuple[Path, ...]], DiffusionModel] = {}
_cache_lock = threading.Lock()


class UnsafeOutput(RetouchError):
    """The model's own safety checker flagged what it made; nothing is returned."""


def extra_installed() -> bool:
    """True when the ``gen`` extra (diffusers and transformers) is importable."""
    return all(importlib.util.find_spec(name) is not None for name in ("diffusers", "transformers"))


def require_extra() -> None:
    if not extra_installed():
        raise BackendUnavailable(f"the generative tools need the optional diffusion backend; run: {INSTALL_EXTRA}")


def generative_models() -> list[ModelSpec]:
    from retouch.models.registry import list_models

    return list_models("generate")


def resolve_model(model: str = "auto") -> ModelSpec:
    """The row to run: ``model`` by name, or with "auto" the first installed generative model. Raises
    BackendUnavailable without the extra, WeightsMissing (naming the pull command) without the model."""
    from retouch.models.registry import get_spec
    from retouch.models.weights import is_installed

    require_extra()
    if model != "auto":
        spec = get_spec(model)
        if spec.task != "generate":
            raise InvalidInput(f"model '{model}' is a {spec.task} model, not a generative one")
        if not is_installed(spec):
            raise WeightsMissing(spec.name, spec.pull_command)
        return spec
    rows = generative_models()
    for spec in rows:
        if is_installed(spec):
            return spec
    if not rows:
        raise BackendUnavailable(
            "no generative model is in this Retouch's catalogue (retouch models list shows the models it knows)"
        )
    raise WeightsMissing(rows[0].name, rows[0].pull_command, "no generative model is installed")


def load_model(spec: ModelSpec, *, device: str = "auto") -> DiffusionModel:
    """The pipeline of ``spec`` on ``device`` ("auto", "cpu", "cuda"), built once per row, device and files."""
    from retouch.models.runtime import check_device
    from retouch.models.weights import resolve_files

    require_extra()
    check_device(device)
    if spec.format != "diffusers":
        raise InvalidInput(f"model '{spec.name}' is not a diffusion model")
    files = resolve_files(spec, allow_download=False)
    key = (spec, device, tuple(sorted(files.values())))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _build(spec, files, device)
        return _cache[key]


@dataclass(frozen=True)
class DiffusionModel:
    """A loaded pipeline: text to image, and inpainting (the same networks) for the fill tools."""

    name: str
    text2image: Any  # diffusers.StableDiffusionPipeline
    inpainting: Any  # diffusers.StableDiffusionInpaintPipeline sharing its networks
    default_steps: int
    native_size: int  # the side the model was trained at
    # A run sets the scheduler's timesteps on the shared pipeline: one run at a time per loaded model.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def text_to_image(
        self,
        prompt: str,
        *,
        width: int,
        height: int,
        steps: int,
        seed: int,
        progress: ProgressCallback = no_progress,
    ) -> np.ndarray:
        """HxWx3 float32 RGB in [0, 1]. Equal arguments give equal pixels on one machine and device."""
        return self._run(self.text2image, steps, seed, progress, prompt=prompt, width=width, height=height)

    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        prompt: str,
        *,
        steps: int,
        seed: int,
        progress: ProgressCallback = no_progress,
    ) -> np.ndarray:
        """``image`` (HxWx3 float32 in [0, 1], sides multiples of 8) with ``mask`` (HxW bool, True = make) made
        anew; returns the pipeline's whole HxWx3 output (the caller keeps what it did not ask to change)."""
        from PIL import Image

        height, width = mask.shape
        source = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
        hole = Image.fromarray(mask.astype(np.uint8) * 255)
        return self._run(
            self.inpainting, steps, seed, progress,
            prompt=prompt, image=source, mask_image=hole, width=width, height=height, strength=1.0,
        )

    def _run(self, pipe: Any, steps: int, seed: int, progress: ProgressCallback, **arguments: Any) -> np.ndarray:
        import torch

        from retouch.tools.interrupt import Heartbeat, checked

        # A CPU step takes seconds: the last report is repeated before the network's layers (at most every 0.1 s),
        # so a callback that raises to stop the work is heard within a layer, not only between steps.
        beat = Heartbeat(progress)
        beat("generate", 0, steps)  # a callback that raises here stops the work before the first step

        def on_step(_pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            beat("generate", step + 1, steps)
            return tensors

        generator = torch.Generator("cpu").manual_seed(seed)
        with self.lock, checked(beat.beat), torch.inference_mode():
            out = pipe(
                num_inference_steps=steps,
                guidance_scale=0.0,
                generator=generator,
                output_type="np",
                callback_on_step_end=on_step,
                **arguments,
            )
        flagged = getattr(out, "nsfw_content_detected", None)
        if flagged and any(flagged):
            raise UnsafeOutput(
                f"the safety checker of model '{self.name}' flagged the result as not safe for work; nothing was "
                "made (try another prompt or seed)"
            )
        return np.ascontiguousarray(out.images[0], dtype=np.float32)


def _dtype(device: str) -> tuple[str, torch.dtype]:
    """Where the pipeline runs ("auto": CUDA when present) and its precision: float16 on a GPU; on the CPU
    bfloat16 where it computes it natively (SD 1.5's networks, 512x512 in 4 steps: 47 s against 82 s in float32,
    the best of runs on a busy 2-core Xeon with AMX), float32 elsewhere (emulated bfloat16 is slower than float32)."""
    import torch

    from retouch.models.runtime import cpu_has_bf16

    target = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    if target != "cpu":
        return target, torch.float16
    return target, torch.bfloat16 if cpu_has_bf16() else torch.float32


def _config(spec: ModelSpec, key: str) -> dict[str, Any]:
    try:
        return dict(json.loads(spec.arch_params[key]))
    except KeyError:
        raise InvalidInput(f"model '{spec.name}' has no '{key}' configuration in its row") from None


def _load_weights(module: Any, path: Path, name: str) -> Any:
    from safetensors.torch import load_file

    state = load_file(str(path))
    missing, unexpected = module.load_state_dict(state, strict=False)
    wrong = [k for k in [*missing, *unexpected] if k not in _OPTIONAL_KEYS]
    if wrong:
        raise InvalidInput(f"{path.name} does not hold the {name} of its row: {len(wrong)} keys differ ({wrong[0]})")
    return module.eval()


def _build(spec: ModelSpec, files: dict[str, Path], device: str) -> DiffusionModel:
    import torch
    from transformers.utils import logging as transformers_logging

    # Their notices (a config's defaults, a disabled checker, an optional package) are for pipeline authors, not
    # for Retouch's users; set before diffusers is imported, which imports transformers' image processors.
    transformers_logging.set_verbosity_error()
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        LCMScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    for name in (*(f"{n}.safetensors" for n in NETWORKS), *TOKENIZER_FILES):
        if name not in files:
            raise InvalidInput(f"model '{spec.name}' lacks the file {name} a diffusion pipeline needs")
    sampler = spec.arch_params.get("sampler", "lcm")
    if sampler not in SAMPLERS:
        raise InvalidInput(f"model '{spec.name}': unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    target, dtype = _dtype(device)
    unet = _load_weights(UNet2DConditionModel.from_config(_config(spec, "unet")), files["unet.safetensors"], "UNet")
    vae = _load_weights(AutoencoderKL.from_config(_config(spec, "vae")), files["vae.safetensors"], "VAE")
    text_encoder = _load_weights(
        CLIPTextModel(CLIPTextConfig(**_config(spec, "text_encoder"))),
        files["text_encoder.safetensors"],
        "text encoder",
    )
    tokenizer = CLIPTokenizer(str(files["vocab.json"]), str(files["merges.txt"]), **_config(spec, "tokenizer"))
    scheduler_class = LCMScheduler if sampler == "lcm" else EulerAncestralDiscreteScheduler
    scheduler = scheduler_class.from_config(_config(spec, "scheduler"))
    safety_checker, feature_extractor = _safety(spec, files)
    text2image = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=safety_checker,
        feature_extractor=feature_extractor,
        requires_safety_checker=safety_checker is not None,
    )
    text2image = text2image.to(target, dtype) if dtype != torch.float32 else text2image.to(target)
    text2image.set_progress_bar_config(disable=True)
    inpainting = StableDiffusionInpaintPipeline(
        **text2image.components, requires_safety_checker=safety_checker is not None
    )
    inpainting.set_progress_bar_config(disable=True)
    return DiffusionModel(
        name=spec.name,
        text2image=text2image,
        inpainting=inpainting,
        default_steps=int(spec.arch_params.get("default_steps", 4)),
        native_size=int(_config(spec, "unet").get("sample_size", 64)) * 8,
    )


def _safety(spec: ModelSpec, files: dict[str, Path]) -> tuple[Any, Any]:
    """The model's safety checker and its image processor, where the row ships one (then always on)."""
    if SAFETY_FILE not in files:
        return None, None
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    checker = StableDiffusionSafetyChecker(CLIPConfig(**_config(spec, "safety_checker")))
    return _load_weights(checker, files[SAFETY_FILE], "safety checker"), CLIPImageProcessor(
        **_config(spec, "feature_extractor")
    )
