"""The LaMa engine: our ``LamaGenerator`` on the official big-lama weights, from either distributed file.

- ``best.ckpt``: the LaMa authors' PyTorch-Lightning checkpoint (big-lama.zip). ``state_dict`` holds the generator
  under ``generator.`` beside the discriminator and loss networks, which are ignored. The file also pickles
  Lightning and OmegaConf objects; ``retouch.models.checkpoint`` reads them as inert placeholders.
- ``big-lama.pt``: the TorchScript trace that lama-cleaner / IOPaint distribute (made by the LaMa repository's
  bin/to_jit.py). Only its parameters and buffers are taken; the generator's are found by their names (under
  ``generator.``, or ``model.generator.`` as to_jit.py's wrapper names them).

Conventions of the official inference (bin/predict.py, the training module's forward, IOPaint's LaMa): the image
and mask are padded at the bottom and right by symmetric reflection to a multiple of 8 (``SIZE``), the hole is
zeroed in the image, the mask (1 = hole) is concatenated as a fourth channel, and the result is
``mask * prediction + (1 - mask) * image``, cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retouch.errors import InvalidInput
from retouch.models.descriptor import SizeRequirements, run_padded
from retouch.tools.interrupt import Heartbeat, checked
from retouch.tools.options import PRECISIONS
from retouch.types import ProgressCallback, no_progress

if TYPE_CHECKING:
    import torch

    from retouch.models.arch.lama import FastLama, LamaGenerator

# Sides a multiple of 8 (three stride-2 downsamplings), at least 16 (below it the 3x3 reflect padding at the 1/8
# scale has nothing to reflect).
SIZE = SizeRequirements(multiple=8, minimum=16, pad="symmetric")
GENERATOR_PROBE = "model.1.ffc.convl2l.weight"  # the first convolution: present in every LaMa generator
# Lightning checkpoints hold the weights under state_dict; TorchScript archives and bare state dicts at the top.
STATE_KEYS = ("state_dict", None)


@dataclass(frozen=True)
class LamaEngine:
    """Fills holes with LaMa. Stateless after loading: concurrent calls are safe."""

    network: FastLama
    device: torch.device
    # The longest side to give it (the row's EraseConventions.max_side); None: any size.
    max_side: int | None = None
    name: str = "lama"

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: ProgressCallback = no_progress) -> np.ndarray:
        """image: HxWx3 float32 RGB in [0, 1]; mask: HxW bool, True = hole. Returns HxWx3 float32: the input
        outside the hole, LaMa's fill inside it. progress: ("lama", done, ``steps``), repeated between steps
        (it may raise to stop the fill, which then stops before its next layer)."""
        report = Heartbeat(progress)
        # progress steps: the residual blocks' Fourier convolutions, where nearly all the work is
        convs = [conv for pair in getattr(self.network, "blocks", ()) for conv in pair]
        steps = {id(conv): index for index, conv in enumerate(convs)}

        def on_layer(module: object) -> None:
            index = steps.get(id(module))
            if index is not None:
                report("lama", index, total)

        total = max(1, len(steps))
        report("lama", 0, total)
        with checked(report.beat, on_layer):
            filled = run_padded(self._fill, _checked(image, mask), SIZE)
        report("lama", total, total)
        return filled

    def _fill(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            rgb = torch.from_numpy(image.transpose(2, 0, 1).copy())[None].to(self.device)
            hole = torch.from_numpy(mask.astype(np.float32))[None, None].to(self.device)
            predicted = self.network(torch.cat((rgb * (1 - hole), hole), dim=1))
            result = hole * predicted + (1 - hole) * rgb
            return result[0].permute(1, 2, 0).float().cpu().numpy()


def load_lama(
    path: Path, device: str | torch.device = "auto", *, precision: str = "auto", max_side: int | None = None
) -> LamaEngine:
    """big-lama from ``best.ckpt`` or ``big-lama.pt`` (detected from the file's contents) on ``device``, loaded
    once per (file, device, precision) by the runtime's cache and shared.

    precision: "fp32", "bf16" (convolutions in bfloat16: about twice as fast on CPUs that compute it natively,
    PSNR against fp32 near 60 dB), or "auto": bf16 on such CPUs (x86 AVX512-BF16 or AMX), fp32 elsewhere.
    max_side: see ``LamaEngine``.
    """
    from retouch.models.runtime import cached_model, cpu_has_bf16, select_device

    if precision not in PRECISIONS:
        raise InvalidInput(f"unknown LaMa precision '{precision}'; choose one of: {', '.join(PRECISIONS)}")

    def fused(file: Path, torch_device: torch.device) -> FastLama:
        bf16 = precision == "bf16" or (precision == "auto" and torch_device.type == "cpu" and cpu_has_bf16())
        return load_generator(file).fused(bf16=bf16).to(torch_device).eval()

    network = cached_model(path, str(device), fused, key=precision)
    return LamaEngine(network=network, device=select_device(str(device)), max_side=max_side)


def load_generator(path: Path) -> LamaGenerator:
    """The official generator weights in our ``LamaGenerator`` (float32, CPU, eval mode)."""
    import torch

    from retouch.models.arch.lama import LamaConfig, LamaGenerator
    from retouch.models.checkpoint import read_checkpoint

    state = generator_state(read_checkpoint(path, STATE_KEYS), path)
    with torch.device("meta"):  # no random initialisation of weights that are replaced at once
        generator = LamaGenerator(LamaConfig(n_blocks=_count_blocks(state)))
    try:
        generator.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        raise InvalidInput(f"{path.name} is not a big-lama generator: {str(error).splitlines()[0]}") from None
    return generator.eval()


def generator_state(state: dict[str, Any], path: Path) -> dict[str, Any]:
    """The generator's tensors with the prefix its container gave them removed.

    The prefix is whatever precedes ``model.1.ffc.convl2l.weight``: "generator." (Lightning checkpoint, and the
    traced training module), "model.generator." (to_jit.py's wrapper) or nothing (a bare generator). Prefixes of
    other copies, such as "generator_average.", are not taken.
    """
    prefixes = sorted(
        {key[: -len(GENERATOR_PROBE)] for key in state if key.endswith(GENERATOR_PROBE)},
        key=len,
    )
    prefixes = [p for p in prefixes if p == "" or p == "generator." or p.endswith(".generator.")]
    if not prefixes:
        raise InvalidInput(f"{path.name} holds no LaMa generator (no '{GENERATOR_PROBE}' tensor)")
    prefix = prefixes[0]
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix + "model.")}


def _count_blocks(state: dict[str, Any]) -> int:
    return len({key.split(".")[1] for key in state if key.split(".")[2:3] == ["conv1"]})


def _checked(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    mask = np.asarray(mask)
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInput(f"LaMa needs an HxWx3 RGB image, got shape {image.shape}")
    if mask.shape != image.shape[:2]:
        raise InvalidInput(f"the mask is {mask.shape} but the image is {image.shape[:2]}")
    return image.astype(np.float32, copy=False), mask.astype(bool, copy=False)
