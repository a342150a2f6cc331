"""The LaMa engine on weight files written in the official layouts with random weights.

- best.ckpt as the LaMa authors' Lightning training saves it: the generator under ``generator.`` beside the
  discriminator and loss weights, with hyper-parameters and callback states pickled as objects of classes that
  are not installed here (OmegaConf, Lightning).
- big-lama.pt as a TorchScript trace of the training module (``generator.`` names, forward(image, mask) with the
  hole zeroing, concatenation and compositing inside), and of bin/to_jit.py's wrapper (``model.generator.``).
"""

from __future__ import annotations

import hashlib
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from retouch.errors import InvalidInput
from retouch.models.arch.lama import LamaConfig, LamaGenerator
from retouch.tools.erase.lama import LamaEngine, load_generator, load_lama
from shared_data import KODAK, MODELS

SMALL = LamaConfig(n_blocks=2)
CPU = torch.device("cpu")


def random_generator(config: LamaConfig = SMALL, seed: int = 0) -> LamaGenerator:
    """Random weights and random BatchNorm statistics (so folding them is exercised), scaled to keep the
    activations in range: the output is not saturated by the sigmoid."""
    with torch.device("meta"):
        generator = LamaGenerator(config).eval()
    generator = generator.to_empty(device="cpu")
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if not tensor.is_floating_point():
                tensor.zero_()  # num_batches_tracked
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=rng) * 1.5 + 0.5)
            elif name.endswith("running_mean"):
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * 0.2)
            elif tensor.ndim == 1 and name.endswith("weight"):
                tensor.copy_((torch.rand(tensor.shape, generator=rng) + 0.5) * 0.5)
            elif tensor.ndim == 1:
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * 0.1)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * (2.0 / tensor[0].numel()) ** 0.5)
    return generator


def _foreign_module() -> types.ModuleType:
    """Classes that exist while the checkpoint is written and not when it is read (as OmegaConf and Lightning
    are absent from Retouch's environment)."""
    module = types.ModuleType("lightning_not_installed")

    class DictConfig:
        def __init__(self, content: dict) -> None:
            self.content = content

    class ModelCheckpoint:
        pass

    class AttributeDict(dict):  # pickled with SETITEMS on the placeholder
        pass

    class ListConfig(list):  # pickled with APPENDS on the placeholder
        pass

    for cls in (DictConfig, ModelCheckpoint, AttributeDict, ListConfig):
        cls.__module__, cls.__qualname__ = module.__name__, cls.__name__
        setattr(module, cls.__name__, cls)
    return module


def write_lightning_checkpoint(path: Path, generator: LamaGenerator, extra: dict | None = None) -> None:
    module = _foreign_module()
    sys.modules[module.__name__] = module
    try:
        state = {f"generator.{key}": value for key, value in generator.state_dict().items()}
        state["discriminator.model0.0.weight"] = torch.randn(64, 3, 4, 4)
        state["discriminator.model1.1.running_mean"] = torch.randn(128)
        state["loss_resnet_pl.impl.conv1.weight"] = torch.randn(64, 3, 3, 3)
        hyper = module.DictConfig({"generator": {"kind": "ffc_resnet", "n_blocks": generator.config.n_blocks}})
        checkpoint = {
            **(extra or {}),
            "epoch": 40,
            "global_step": 1_000_000,
            "pytorch-lightning_version": "1.2.9",
            "callbacks": {module.ModelCheckpoint: {"best_model_score": torch.tensor(0.9)}},
            "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1]}]}],
            "lr_schedulers": [],
            "state_dict": state,
            "hyper_parameters": hyper,
            "hparams_type": module.DictConfig,
            "datamodule_hparams": module.AttributeDict(batch_size=10, sizes=module.ListConfig([256, 512])),
        }
        torch.save(checkpoint, path)
    finally:
        del sys.modules[module.__name__]


class _TrainingModule(torch.nn.Module):
    """The part of the official training module a trace keeps: ``generator`` and the inpainting forward."""

    def __init__(self, generator: LamaGenerator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        predicted = self.generator(torch.cat((image * (1 - mask), mask), dim=1))
        return mask * predicted + (1 - mask) * image


class _ToJitWrapper(torch.nn.Module):
    """bin/to_jit.py's JITWrapper: the training module under ``model``."""

    def __init__(self, generator: LamaGenerator) -> None:
        super().__init__()
        self.model = _TrainingModule(generator)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model(image, mask)


def write_torchscript(path: Path, generator: LamaGenerator, layout: str) -> torch.jit.ScriptModule:
    wrapper = _TrainingModule(generator) if layout == "generator." else _ToJitWrapper(generator)
    example = (torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64))
    traced = torch.jit.trace(wrapper.eval(), example, strict=False, check_trace=False)
    traced.save(str(path))
    return traced


def sample(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    image = ((rng.random((height, width, 3), dtype=np.float32) + ramp) / 2).astype(np.float32)
    mask = np.zeros((height, width), dtype=bool)
    mask[height // 4 : height // 2 + 3, width // 3 : width - 5] = True
    mask[-4:, :6] = True  # a hole touching the padded corner
    return image, mask


def reference_pipeline(generator: LamaGenerator, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bin/predict.py's flow with the float32 network: symmetric pad to a multiple of 8, zero the hole,
    concatenate the mask, composite, crop."""
    height, width = mask.shape
    pad = ((0, -height % 8), (0, -width % 8))
    rgb = torch.from_numpy(np.pad(image, (*pad, (0, 0)), mode="symmetric").transpose(2, 0, 1).copy())[None]
    hole = torch.from_numpy(np.pad(mask, pad, mode="symmetric").astype(np.float32))[None, None]
    with torch.no_grad():
        predicted = generator(torch.cat((rgb * (1 - hole), hole), dim=1))
    result = hole * predicted + (1 - hole) * rgb
    return result[0].permute(1, 2, 0).numpy()[:height, :width]


def hole_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a[mask].astype(np.float64) - b[mask]) ** 2)))


@pytest.fixture(scope="module")
def small() -> LamaGenerator:
    return random_generator()


@pytest.fixture(scope="module")
def checkpoint(small: LamaGenerator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lama") / "best.ckpt"
    write_lightning_checkpoint(path, small)
    return path


def test_lightning_checkpoint_gives_the_generator_and_nothing_else(small, checkpoint) -> None:
    loaded = load_generator(checkpoint)

    assert loaded.config == small.config
    expected = small.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_engine_follows_the_official_pipeline(small, checkpoint) -> None:
    engine = load_lama(checkpoint, CPU, precision="fp32")
    image, mask = sample(45, 70)  # pads to 48x72

    filled = engine(image, mask)

    assert filled.shape == image.shape and filled.dtype == np.float32
    np.testing.assert_allclose(filled, reference_pipeline(small, image, mask), atol=2e-5)
    np.testing.assert_array_equal(filled[~mask], image[~mask])  # the known pixels come back unchanged
    assert np.abs(filled[mask] - image[mask]).mean() > 0.05  # the hole is the network's


def test_inference_form_equals_the_trained_form_on_a_batch(small) -> None:
    """FastLama (BatchNorms folded, 1x1 convolutions as matrix products on the channels-last stream, outputs
    written in place) is the trained network up to float32 rounding, for every image of a batch, and leaves its
    input alone."""
    rng = torch.Generator().manual_seed(7)
    x = torch.rand(2, 4, 40, 56, generator=rng)
    x[:, 3] = (x[:, 3] > 0.6).float()
    before = x.clone()
    with torch.inference_mode():
        expected = small(x)
        got = small.fused()(x)
        alone = small.fused()(x[1:])

    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=0)
    torch.testing.assert_close(alone, expected[1:], atol=2e-5, rtol=0)
    assert torch.equal(x, before)


class _Spy(torch.nn.Module):
    """Stands in for the network: records what it is given, predicts mid-grey."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return torch.full_like(x[:, :3], 0.5)


def test_network_input_follows_the_official_conventions() -> None:
    """cat(image * (1 - mask), mask), padded at the bottom and right by symmetric reflection (the edge row
    repeated, as numpy's 'symmetric') to a multiple of 8; the prediction is composited inside the hole only."""
    spy = _Spy()
    engine = LamaEngine(network=spy, device=CPU)  # type: ignore[arg-type]
    image, mask = sample(61, 37)

    filled = engine(image, mask)

    (x,) = spy.seen
    assert x.shape == (1, 4, 64, 40)
    hole = np.pad(mask, ((0, 3), (0, 3)), mode="symmetric")
    rgb = np.pad(image, ((0, 3), (0, 3), (0, 0)), mode="symmetric")
    np.testing.assert_array_equal(x[0, 3].numpy(), hole.astype(np.float32))
    np.testing.assert_array_equal(x[0, :3].numpy(), (rgb * ~hole[..., None]).transpose(2, 0, 1))
    assert np.array_equal(x[0, :3, 61], x[0, :3, 60]) and np.array_equal(x[0, :3, 62], x[0, :3, 59])
    np.testing.assert_array_equal(filled[mask], 0.5)
    np.testing.assert_array_equal(filled[~mask], image[~mask])


@pytest.mark.parametrize("layout", ["generator.", "model.generator."])
def test_torchscript_files_load_into_our_network(small, layout, tmp_path) -> None:
    path = tmp_path / "big-lama.pt"
    traced = write_torchscript(path, small, layout)
    assert next(iter(traced.state_dict())).startswith(layout + "model.1.")
    engine = load_lama(path, CPU, precision="fp32")
    image, mask = sample(64, 96, seed=3)

    filled = engine(image, mask)

    # IOPaint calls the traced module itself: model(image, mask) with the mask as (mask > 0) * 1 (int64).
    with torch.no_grad():
        expected = traced(
            torch.from_numpy(image.transpose(2, 0, 1).copy())[None],
            torch.from_numpy(mask.astype(np.int64))[None, None],
        )
    np.testing.assert_allclose(filled, expected[0].permute(1, 2, 0).numpy(), atol=2e-5)


def test_bf16_stays_close_to_float32(checkpoint) -> None:
    image, mask = sample(96, 128, seed=5)
    exact = load_lama(checkpoint, CPU, precision="fp32")(image, mask)
    fast = load_lama(checkpoint, CPU, precision="bf16")(image, mask)

    assert hole_psnr(fast, exact, mask) > 40
    np.testing.assert_array_equal(fast[~mask], image[~mask])


def test_deterministic_and_safe_across_threads(checkpoint) -> None:
    engine = load_lama(checkpoint, CPU)
    inputs = [sample(40 + 8 * i, 56, seed=i) for i in range(2)]
    serial = [engine(image, mask) for image, mask in inputs]
    assert all(np.array_equal(a, engine(*x)) for a, x in zip(serial, inputs))

    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = engine(*inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, expected in enumerate(serial):
        np.testing.assert_array_equal(results[i], expected)


@pytest.mark.parametrize("size", [(5, 9), (16, 16), (1, 30)])
def test_tiny_images_are_padded_to_what_the_network_needs(checkpoint, size) -> None:
    engine = load_lama(checkpoint, CPU)
    image, _ = sample(*size)
    mask = np.zeros(size, dtype=bool)
    mask[0, 0] = True

    filled = engine(image, mask)

    assert filled.shape == image.shape
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~mask], image[~mask])


def test_checkpoint_cannot_run_code(small, tmp_path) -> None:
    """Unknown globals in the pickle become inert placeholders: a payload that would run code runs nothing."""
    marker = tmp_path / "pwned"
    path = tmp_path / "best.ckpt"
    write_lightning_checkpoint(path, small, extra={"payload": _Payload(str(marker))})

    load_generator(path)

    assert not marker.exists()


class _Payload:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_the_real_big_lama_configuration(tmp_path) -> None:
    """The default configuration is big-lama's: 989 tensors, 50,975,875 parameters, 18 blocks; it loads from a
    checkpoint strictly and its inference form matches it."""
    generator = random_generator(LamaConfig(), seed=1)
    assert len(generator.state_dict()) == 989
    assert sum(p.numel() for p in generator.parameters()) == 50_975_875
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in generator.state_dict().items()}}, path)

    loaded = load_generator(path)

    assert loaded.config == LamaConfig() and loaded.config.n_blocks == 18
    x = torch.cat((torch.rand(1, 3, 32, 48), (torch.rand(1, 1, 32, 48) > 0.5).float()), dim=1)
    with torch.no_grad():
        expected = generator(x)
        np.testing.assert_allclose(loaded.fused()(x).numpy(), expected.numpy(), atol=2e-5)
    assert 0.05 < float(expected.std()) and 0.01 < float(expected.min()) and float(expected.max()) < 0.99


def test_wrong_inputs_are_refused(small, checkpoint, tmp_path) -> None:
    other = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"encoder.weight": torch.zeros(3)}}, other)
    with pytest.raises(InvalidInput, match="no LaMa generator"):
        load_lama(other, CPU)
    with pytest.raises(InvalidInput, match="precision"):
        load_lama(checkpoint, CPU, precision="fp16")
    with pytest.raises(InvalidInput, match="does not exist|do not exist"):
        load_lama(tmp_path / "missing.ckpt", CPU)
    engine = load_lama(checkpoint, CPU)
    image, mask = sample(32, 32)
    with pytest.raises(InvalidInput, match="mask"):
        engine(image, mask[:16])
    with pytest.raises(InvalidInput, match="RGB"):
        engine(image[..., 0], mask)


REAL = MODELS / "big-lama.pt"
REAL_SHA256 = "344c77bbcb158f17dd143070d1e789f38a66c04202311ae3a258ef66667a9ea9"


@pytest.mark.skipif(not REAL.exists(), reason=f"real big-lama weights not on this machine ({REAL})")
def test_real_big_lama_pt_matches_its_own_trace() -> None:
    assert hashlib.sha256(REAL.read_bytes()).hexdigest() == REAL_SHA256
    photo = sorted(KODAK.glob("*.png"))[0]
    from PIL import Image

    image = np.asarray(Image.open(photo).convert("RGB").resize((256, 192)), dtype=np.float32) / 255
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[60:130, 90:170] = True
    traced = torch.jit.load(str(REAL), map_location="cpu").eval()
    with torch.no_grad():
        expected = traced(
            torch.from_numpy(image.transpose(2, 0, 1).copy())[None], torch.from_numpy(mask * 1)[None, None]
        )[0].permute(1, 2, 0).numpy()

    exact = load_lama(REAL, CPU, precision="fp32")(image, mask)
    fast = load_lama(REAL, CPU, precision="bf16")(image, mask)

    np.testing.assert_allclose(exact, expected, atol=1e-4)
    assert hole_psnr(fast, exact, mask) > 40
