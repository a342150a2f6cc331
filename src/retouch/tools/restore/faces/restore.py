"""The face restoration network: GFPGAN v1.4 on its official checkpoint, run on aligned face crops.

The official ``GFPGANv1.4.pth`` is a plain torch pickle of ``{"params_ema": state_dict}`` (the EMA generator);
``params`` is accepted too, as the official loader does (``retouch.models.checkpoint``: nothing in the file is
executed). Crops are RGB float32 in [0, 1] at the network's size (512 for v1.4), aligned to the FFHQ template;
the network sees them mapped to the row's ``value_range`` ([-1, 1]: ``(x - 0.5) / 0.5``) and its output is
clamped to that range and mapped back to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retouch.errors import InvalidInput
from retouch.models.conventions import FaceRestoreConventions
from retouch.tools.options.restore import FACE_MODEL

if TYPE_CHECKING:
    import torch

    from retouch.models.arch.gfpgan import GFPGANConfig, GFPGANv1Clean


@dataclass(frozen=True)
class FaceRestorer:
    """Restores aligned face crops. Stateless after loading: concurrent calls are safe."""

    network: GFPGANv1Clean
    device: torch.device
    model: str
    conventions: FaceRestoreConventions = FaceRestoreConventions()

    @property
    def size(self) -> int:
        """The side of the square crops the network takes and gives back."""
        return self.network.config.out_size

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        """crop: size x size x 3 float32 RGB in [0, 1]. Returns the restored crop, same shape and range."""
        import torch

        if crop.shape != (self.size, self.size, 3):
            raise InvalidInput(f"a face crop must be {self.size}x{self.size}x3, got {crop.shape}")
        low, high = self.conventions.value_range
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))[None].to(self.device)
            y = self.network(x * (high - low) + low).clamp(low, high)
            out = ((y - low) / (high - low))[0].permute(1, 2, 0).float().cpu().numpy()
        return np.ascontiguousarray(out, dtype=np.float32)


def load_gfpgan(path: Path, device: torch.device, config: GFPGANConfig | None = None) -> GFPGANv1Clean:
    """Our GFPGANv1Clean with the checkpoint's weights loaded strictly, in eval mode on ``device``."""
    from retouch.models.arch.gfpgan import GFPGANConfig, GFPGANv1Clean
    from retouch.models.checkpoint import BASICSR_KEYS, read_checkpoint

    network = GFPGANv1Clean(config or GFPGANConfig())
    state = read_checkpoint(path, BASICSR_KEYS)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).splitlines()[1:2] or [str(error)]
        raise InvalidInput(
            f"{path.name} does not hold GFPGAN v1 'clean' weights of the expected shape: {first[0].strip()}"
        ) from None
    return network.eval().to(device)


def load_face_restorer(
    model: str = FACE_MODEL, *, device: str = "auto", path: str | Path | None = None
) -> FaceRestorer:
    """A ready restorer for a registered face model (loaded once per file and device, then shared).

    Raises WeightsMissing (naming ``retouch models pull MODEL``) when the weights are not installed; nothing is
    downloaded here.
    """
    from retouch.models.arch.gfpgan import GFPGANConfig
    from retouch.models.registry import get_spec
    from retouch.models.runtime import cached_model, select_device
    from retouch.models.weights import resolve_weights

    spec = get_spec(model)
    if spec.task != "face-restore":
        raise InvalidInput(f"model '{model}' is a {spec.task} model, not a face restoration model")
    config = GFPGANConfig(**spec.arch_params)
    weights = resolve_weights(spec, path=path, allow_download=False)

    def loader(file: Path, torch_device: torch.device) -> GFPGANv1Clean:
        return load_gfpgan(file, torch_device, config)

    network = cached_model(weights, device, loader, key=repr(config))
    return FaceRestorer(network, select_device(device), spec.name, spec.conventions_as(FaceRestoreConventions))
