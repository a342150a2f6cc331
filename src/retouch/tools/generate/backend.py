"""The optional diffusion backend: a latent-diffusion pipeline (Hugging Face diffusers) built from the files of a
"diffusers" registry row in the model cache, shared by every generative tool.

A row's files, each one network or one tokenizer file, flat in the model's cache folder:
``unet.safetensors``, ``vae.safetensors``, ``text_encoder.safetensors``, ``vocab.json`` and ``merges.txt`` (the CLIP
BPE tokenizer), and, where the model ships one, ``safety_checker.safetensors``. Their configurations are data of
the row (``arch_params``, each a JSON string: ``unet``, ``vae``, ``text_encoder``, ``tokenizer``, ``scheduler``,
``safety_checker``, ``feature_extractor``), so only the weights travel, each pinned by its sha256; nothing is read
from the network here (no ``from_pretrained``). ``arch_params["sampler"]`` names the sampler: the few-step "lcm"
(latent consistency models and LCM-LoRA merges) or "euler-ancestral" (adversarially distilled models such as
SD-Turbo), both run with guidance off, or "dpm-solver" for a base model (Stable Diffusion 1.5) run with
classifier-free guidance at ``arch_params["guidance"]`` in about 20 steps.

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
from retouch.tools.options import PRECISIONS
from retouch.types import ProgressCallback, no_progress

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch

INSTALL_EXTRA = "pip install 'retouch[gen]'"
NETWORKS = ("unet", "vae", "text_encoder")
TOKENIZER_FILES = ("vocab.json", "merges.txt")
SAFETY_FILE = "safety_checker.safetensors"
SAMPLERS = ("lcm", "euler-ancestral", "dpm-solver")
IMAGE_SCHEDULE_MAX = 50  # LCMScheduler's original_inference_steps: no schedule may be longer
# Buffers that transformers' CLIP models build themselves (the text encoder's, the safety checker's vision tower's);
# some checkpoints carry them, some do not.
_OPTIONAL_SUFFIX = "embeddings.position_ids"

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


def load_model(spec: ModelSpec, *, device: str = "auto", precision: str = "auto") -> DiffusionModel:
    """The pipeline of ``spec`` on ``device`` ("auto", "cpu", "cuda"), built once per row, device, precision and
    files. ``precision`` (CPU only; a GPU always runs float16): "auto" (bfloat16 where the CPU computes it natively,
    else float32), "fp32" or "bf16"."""
    from retouch.models.runtime import check_device
    from retouch.models.weights import resolve_files

    require_extra()
    check_device(device)
    if precision not in PRECISIONS:
        raise InvalidInput(f"unknown precision '{precision}'; choose one of: {', '.join(PRECISIONS)}")
    if spec.format != "diffusers":
        raise InvalidInput(f"model '{spec.name}' is not a diffusion model")
    files = resolve_files(spec, allow_download=False)
    key = (spec, device, precision, tuple(sorted(files.values())))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _build(spec, files, device, precision)
        return _cache[key]


@dataclass(frozen=True)
class DiffusionModel:
    """A loaded pipeline: text to image, inpainting (the same networks) for the fill tools, and image to image
    (the same networks) for reimagine."""

    name: str
    text2image: Any  # diffusers.StableDiffusionPipeline
    inpainting: Any  # diffusers.StableDiffusionInpaintPipeline sharing its networks
    image2image: Any  # diffusers.StableDiffusionImg2ImgPipeline sharing its networks
    default_steps: int
    native_size: int  # the side the model was trained at
    guidance: float = 0.0  # classifier-free guidance scale: 0 for the few-step samplers (distilled without it)
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

    def image_to_image(
        self,
        image: np.ndarray,
        *,
        strength: float,
        steps: int,
        seed: int,
        prompt: str = "",
        progress: ProgressCallback = no_progress,
    ) -> np.ndarray:
        """A new picture made from ``image`` (HxWx3 float32 in [0, 1], sides multiples of 8), of the same size:
        its latent noised to the level ``strength`` (0 to 1: how far the result may move from it), then ``steps``
        denoising steps run from there. Returns HxWx3 float32 RGB in [0, 1]."""
        from PIL import Image

        scheduled, runs = image_schedule(steps, strength)
        source = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
        return self._run(
            self.image2image, runs, seed, progress, scheduled=scheduled, prompt=prompt, image=source, strength=strength
        )

    def _run(
        self,
        pipe: Any,
        steps: int,
        seed: int,
        progress: ProgressCallback,
        scheduled: int | None = None,
        **arguments: Any,
    ) -> np.ndarray:
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
                num_inference_steps=steps if scheduled is None else scheduled,
                guidance_scale=self.guidance,
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


def image_schedule(steps: int, strength: float) -> tuple[int, int]:
    """(the schedule's length, the steps that run) of image to image asked for ``steps`` at ``strength``:
    diffusers runs int(schedule x strength) of a schedule's steps, so the schedule is made long enough that
    ``steps`` run, but at most the LCM schedule's 50 (then fewer run: 8 steps at strength 0.1 run 5)."""
    scheduled = min(max(steps, int(np.ceil(steps / strength - 1e-9))), IMAGE_SCHEDULE_MAX)
    runs = min(int(scheduled * strength), scheduled)
    if runs < 1:
        raise InvalidInput(f"strength {strength:g} leaves no denoising step to run; give a larger strength")
    return scheduled, runs


def _dtype(device: str, *, precision: str = "auto") -> tuple[str, torch.dtype]:
    """Where the pipeline runs ("auto": CUDA when present) and its precision: float16 on a GPU; on the CPU
    ``precision``, where "auto" is bfloat16 if the CPU computes it natively (SD 1.5's networks, 512x512 in 4 steps:
    47 s against 82 s in float32, the best of runs on a busy 2-core Xeon with AMX; bench/generate.py measures
    every family), float32 elsewhere (emulated bfloat16 is slower than float32)."""
    import torch

    from retouch.models.runtime import cpu_has_bf16

    target = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    if target != "cpu":
        return target, torch.float16
    if precision == "auto":
        precision = "bf16" if cpu_has_bf16() else "fp32"
    return target, torch.bfloat16 if precision == "bf16" else torch.float32


def native_size(spec: ModelSpec) -> int:
    """The side, in pixels, that the row's model was trained at (its UNet's latent side times the VAE's 8)."""
    return int(_config(spec, "unet").get("sample_size", 64)) * 8


def _config(spec: ModelSpec, key: str) -> dict[str, Any]:
    try:
        return dict(json.loads(spec.arch_params[key]))
    except KeyError:
        raise InvalidInput(f"model '{spec.name}' has no '{key}' configuration in its row") from None


def _network(build: Callable[[], Any], path: Path, name: str, dtype: torch.dtype) -> Any:
    """The network ``build`` makes, holding the weights of ``path``. It is built on the meta device (no memory and
    no random initialisation, which the weights would overwrite: 5 s of SD 1.5's UNet on a 2-core CPU) and takes
    the file's tensors as they are, unless it keeps buffers that no file carries (CLIP's position ids): those would
    stay empty, so such a network is built in memory. Answers it in ``dtype``."""
    import torch

    with torch.device("meta"):
        module = build()
    if any(part._non_persistent_buffers_set for part in module.modules()):
        return _load_weights(build(), path, name).to(dtype)
    # cast straight from the file's dtype (float32, or float16) to the pipeline's, with no float32 copy between
    return _load_weights(module, path, name, assign=True).to(dtype)


def _load_weights(module: Any, path: Path, name: str, *, assign: bool = False) -> Any:
    from safetensors.torch import load_file

    state = load_file(str(path))
    if hasattr(module, "_fix_state_dict_keys_on_load"):
        # diffusers' own rename of the attention keys older files carry (SD 1.5's VAE: query/key/value/proj_attn
        # for to_q/to_k/to_v/to_out.0), the step its from_pretrained takes, which this loader does not call
        state = module._fix_state_dict_keys_on_load(state)
    missing, unexpected = module.load_state_dict(state, strict=False, assign=assign)
    wrong = [k for k in [*missing, *unexpected] if not k.endswith(_OPTIONAL_SUFFIX)]
    if wrong:
        raise InvalidInput(f"{path.name} does not hold the {name} of its row: {len(wrong)} keys differ ({wrong[0]})")
    return module.eval()


def _build(spec: ModelSpec, files: dict[str, Path], device: str, precision: str) -> DiffusionModel:
    import torch
    from transformers.utils import logging as transformers_logging

    # Their notices (a config's defaults, a disabled checker, an optional package) are for pipeline authors, not
    # for Retouch's users; set before diffusers is imported, which imports transformers' image processors.
    transformers_logging.set_verbosity_error()
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    from diffusers import (
        AutoencoderKL,
        StableDiffusionImg2ImgPipeline,
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
    target, dtype = _dtype(device, precision=precision)
    unet = _network(
        lambda: UNet2DConditionModel.from_config(_config(spec, "unet")), files["unet.safetensors"], "UNet", dtype
    )
    vae = _network(lambda: AutoencoderKL.from_config(_config(spec, "vae")), files["vae.safetensors"], "VAE", dtype)
    text_encoder = _load_weights(
        CLIPTextModel(CLIPTextConfig(**_config(spec, "text_encoder"))),
        files["text_encoder.safetensors"],
        "text encoder",
    )
    tokenizer = CLIPTokenizer(str(files["vocab.json"]), str(files["merges.txt"]), **_config(spec, "tokenizer"))
    scheduler = _scheduler(sampler, _config(spec, "scheduler"))
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
    image2image = StableDiffusionImg2ImgPipeline(
        **text2image.components, requires_safety_checker=safety_checker is not None
    )
    image2image.set_progress_bar_config(disable=True)
    return DiffusionModel(
        name=spec.name,
        text2image=text2image,
        inpainting=inpainting,
        image2image=image2image,
        default_steps=int(spec.arch_params.get("default_steps", 4)),
        native_size=native_size(spec),
        guidance=float(spec.arch_params.get("guidance", 0.0)),
    )


def _scheduler(sampler: str, config: dict[str, Any]) -> Any:
    """The sampler named by the row, over its training noise schedule ``config``."""
    from diffusers import DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, LCMScheduler

    if sampler == "lcm":
        return LCMScheduler.from_config(config)
    if sampler == "euler-ancestral":
        return EulerAncestralDiscreteScheduler.from_config(config)
    # a base model sampled with guidance: DPM-Solver++ (2nd order, multistep) on Karras sigmas, good in 20 steps
    return DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++", solver_order=2, use_karras_sigmas=True
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
