"""The LaMa engine: our ``LamaGenerator`` on the official big-lama weights, from either distributed file.

- ``best.ckpt``: the LaMa authors' PyTorch-Lightning checkpoint (big-lama.zip). ``state_dict`` holds the generator
  under ``generator.`` beside the discriminator and loss networks, which are ignored. The file also pickles
  Lightning and OmegaConf objects (hyper-parameters, callback states); they are read as inert placeholders, so
  neither package is needed and nothing in the file is executed.
- ``big-lama.pt``: the TorchScript trace that lama-cleaner / IOPaint distribute (made by the LaMa repository's
  bin/to_jit.py). Only its parameters and buffers are taken; the generator's are found by their names (under
  ``generator.``, or ``model.generator.`` as to_jit.py's wrapper names them).

Conventions of the official inference (bin/predict.py, the training module's forward, IOPaint's LaMa): the image
and mask are padded at the bottom and right by symmetric reflection to a multiple of 8, the hole is zeroed in
the image, the mask (1 = hole) is concatenated as a fourth channel, and the result is
``mask * prediction + (1 - mask) * image``, cropped back.
"""

from __future__ import annotations

import pickle
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retouch.errors import InvalidInput

if TYPE_CHECKING:
    import torch

    from retouch.models.arch.lama import FastLama, LamaGenerator

PAD_MULTIPLE = 8  # three stride-2 downsamplings
MIN_SIDE = 16  # below this the 3x3 reflect padding at the 1/8 scale has nothing to reflect
GENERATOR_PROBE = "model.1.ffc.convl2l.weight"  # the first convolution: present in every LaMa generator
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class LamaEngine:
    """Fills holes with LaMa. Stateless after loading: concurrent calls are safe."""

    network: FastLama
    device: torch.device
    name: str = "lama"
    # LaMa generalises from its 256-512 px training crops to about 2k; beyond that the HD strategy shrinks crops.
    max_side: int | None = 2048

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """image: HxWx3 float32 RGB in [0, 1]; mask: HxW bool, True = hole. Returns HxWx3 float32: the input
        outside the hole, LaMa's fill inside it."""
        import torch

        image, mask = _checked(image, mask)
        height, width = mask.shape
        target = (_padded_side(height), _padded_side(width))
        with torch.inference_mode():
            rgb = torch.from_numpy(_pad(image, target).transpose(2, 0, 1).copy())[None].to(self.device)
            hole = torch.from_numpy(_pad(mask, target).astype(np.float32))[None, None].to(self.device)
            predicted = self.network(torch.cat((rgb * (1 - hole), hole), dim=1))
            result = hole * predicted + (1 - hole) * rgb
            return result[0, :, :height, :width].permute(1, 2, 0).float().cpu().numpy()


def load_lama(path: Path, device: torch.device, *, precision: str = "auto") -> LamaEngine:
    """Load big-lama from ``best.ckpt`` or ``big-lama.pt`` (detected from the file's contents) onto ``device``.

    precision: "fp32", "bf16" (convolutions in bfloat16: about twice as fast on CPUs that compute it natively,
    PSNR against fp32 near 60 dB), or "auto": bf16 on such CPUs (x86 AVX512-BF16 or AMX), fp32 elsewhere.
    """
    import torch

    from retouch.models.runtime import cpu_has_bf16

    if precision not in PRECISIONS:
        raise InvalidInput(f"unknown LaMa precision '{precision}'; choose one of: {', '.join(PRECISIONS)}")
    generator = load_generator(path)
    bf16 = precision == "bf16" or (precision == "auto" and torch.device(device).type == "cpu" and cpu_has_bf16())
    network = generator.fused(bf16=bf16).to(device).eval()
    return LamaEngine(network=network, device=torch.device(device))


def load_generator(path: Path) -> LamaGenerator:
    """The official generator weights in our ``LamaGenerator`` (float32, CPU, eval mode)."""
    import torch

    from retouch.models.arch.lama import LamaConfig, LamaGenerator

    state = generator_state(read_state_dict(path), path)
    with torch.device("meta"):  # no random initialisation of weights that are replaced at once
        generator = LamaGenerator(LamaConfig(n_blocks=_count_blocks(state)))
    try:
        generator.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        raise InvalidInput(f"{path.name} is not a big-lama generator: {str(error).splitlines()[0]}") from None
    return generator.eval()


def read_state_dict(path: Path) -> dict[str, Any]:
    """Every named tensor of a TorchScript archive, or the ``state_dict`` of a (Lightning) checkpoint."""
    import torch

    if not path.is_file():
        raise InvalidInput(f"LaMa weights {path} do not exist")
    if is_torchscript(path):
        return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_inert_pickle())
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise InvalidInput(f"{path.name} is not a readable PyTorch checkpoint ({error})") from None
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict):
        raise InvalidInput(f"{path.name} holds no state_dict")
    return state


def is_torchscript(path: Path) -> bool:
    """TorchScript archives carry their code (``<archive>/code/``); torch.save checkpoints do not."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/")[1:2] == ["code"] for name in archive.namelist())


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


def _padded_side(side: int) -> int:
    return max(MIN_SIDE, -(-side // PAD_MULTIPLE) * PAD_MULTIPLE)


def _pad(array: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Bottom/right symmetric padding, as the official ``pad_img_to_modulo`` (works for pads wider than the side)."""
    pad = [(0, target[0] - array.shape[0]), (0, target[1] - array.shape[1])] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad, mode="symmetric")


def _checked(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    mask = np.asarray(mask)
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInput(f"LaMa needs an HxWx3 RGB image, got shape {image.shape}")
    if mask.shape != image.shape[:2]:
        raise InvalidInput(f"the mask is {mask.shape} but the image is {image.shape[:2]}")
    return image.astype(np.float32, copy=False), mask.astype(bool, copy=False)


# --------------------------------------------------------------------------------------------------------------
# Reading Lightning checkpoints without Lightning


class _Inert:
    """Stands in for any pickled object whose class is not a tensor building block: accepts whatever pickle
    does to it (construction, state, items) and keeps nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Inert:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:  # a placeholder function's result
        return _Inert()

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


# What a state dict of tensors is made of. Everything else becomes an _Inert subclass named after it.
_ALLOWED = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"),
}


class _InertUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        import torch

        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        return type(name, (_Inert,), {"__module__": f"inert.{module}"})


def _inert_pickle() -> types.ModuleType:
    """A pickle module for ``torch.load`` whose unpickler builds tensors and nothing else."""
    module = types.ModuleType("retouch_inert_pickle")
    module.Unpickler = _InertUnpickler  # type: ignore[attr-defined]
    module.load = lambda file, **kwargs: _InertUnpickler(file, **kwargs).load()  # type: ignore[attr-defined]
    return module
