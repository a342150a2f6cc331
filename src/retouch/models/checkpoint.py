"""Reading the weights of a PyTorch file: the one checkpoint reader every loader uses.

Two kinds of file are read:

- TorchScript archives (they carry their code, ``<archive>/code/``): their named parameters and buffers. The code
  is loaded by ``torch.jit.load`` but never run.
- ``torch.save`` pickles (BasicSR's ``{"params_ema": ...}`` for Real-ESRGAN and GFPGAN, PyTorch-Lightning's
  ``{"state_dict": ...}`` for LaMa): unpickled by an unpickler that builds tensors and nothing else. Any other
  pickled object (Lightning's and OmegaConf's hyper-parameters and callback states) becomes an inert placeholder,
  so neither package is needed and nothing in the file is executed.
"""

from __future__ import annotations

import pickle
import types
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retouch.errors import InvalidInput

if TYPE_CHECKING:
    import torch

# Where BasicSR's training (Real-ESRGAN, GFPGAN) saves the generator: the EMA weights first, as their inference
# prefers them, else the plain ones.
BASICSR_KEYS = ("params_ema", "params")


def read_checkpoint(path: Path, keys: Sequence[str | None]) -> dict[str, torch.Tensor]:
    """The state dict in a PyTorch weight file: a TorchScript archive's named tensors, or, in a ``torch.save``
    file, the first entry of ``keys`` that holds a dict (None: the file's top level). Floating-point tensors come
    back as float32 on the CPU; others (BatchNorm's counters) as saved. InvalidInput for anything else."""
    import torch

    if not path.is_file():
        raise InvalidInput(f"weights {path} do not exist")
    if is_torchscript(path):
        saved: Any = dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    else:
        try:
            saved = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_inert_pickle())
        except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as error:
            detail = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise InvalidInput(f"{path.name} is not a readable PyTorch checkpoint ({detail})") from None
    for key in keys:
        state = saved if key is None else saved.get(key) if isinstance(saved, dict) else None
        if isinstance(state, dict):
            return {name: value.float() if value.is_floating_point() else value for name, value in state.items()}
    held = ", ".join(map(str, saved)) if isinstance(saved, dict) else type(saved).__name__
    wanted = " or ".join("the top level" if key is None else repr(key) for key in keys)
    raise InvalidInput(f"{path.name} has no {wanted} state dict (it holds: {held})")


def is_torchscript(path: Path) -> bool:
    """TorchScript archives carry their code (``<archive>/code/``); torch.save checkpoints do not."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/")[1:2] == ["code"] for name in archive.namelist())


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
