"""Upscaling weights in their official layouts: Real-ESRGAN .pth checkpoints (params / params_ema, the two-file
denoise mix) and ncnn exports, each read into our networks through a registry row; and the shipped rows.

``install_pth`` and ``install_ncnn`` register throwaway rows whose files are written in the official layouts into
a temporary cache: the other upscale tests use them, so no test downloads anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import torch
from torch import nn

from retouch.errors import InvalidInput, WeightsMissing
from retouch.models import registry
from retouch.models.arch.rrdbnet import RRDBNet
from retouch.models.conventions import UpscaleConventions
from retouch.models.registry import get_spec, list_models
from retouch.models.spec import ModelSpec, PackageSource, UrlSource, WeightFile
from retouch.models.weights import is_installed, verify
from retouch.tools.upscale.networks import build_module, load_network, read_state, upscale_spec
from test_ncnn import export_ncnn, random_rrdbnet, random_srvgg, wheel_file


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    return tmp_path


def arch_of(module: nn.Module) -> tuple[str, dict[str, object]]:
    if isinstance(module, RRDBNet):
        conv1 = module.body[0].rdb1.conv1
        params = {
            "scale": module.scale,
            "num_feat": module.conv_first.out_channels,
            "num_block": len(module.body),
            "num_grow_ch": conv1.out_channels,
        }
        return "rrdbnet", params
    num_conv = sum(isinstance(m, nn.Conv2d) for m in module.body) - 2
    return "srvgg-compact", {"num_feat": module.body[0].out_channels, "num_conv": num_conv, "upscale": module.upscale}


def install_row(
    monkeypatch: pytest.MonkeyPatch,
    home: Path,
    name: str,
    module: nn.Module,
    paths: list[Path],
    *,
    fmt: str,
    scale: float | None = None,
    denoise_default: float | None = None,
) -> ModelSpec:
    """Register a row serving ``paths`` (moved into the cache folder of ``name``) for ``module``'s network."""
    folder = home / "models" / name
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for path in paths:
        target = folder / path.name
        path.replace(target)
        data = target.read_bytes()
        source = UrlSource(f"https://example.invalid/{path.name}")
        files.append(WeightFile(path.name, hashlib.sha256(data).hexdigest(), len(data), (source,)))
    architecture, params = arch_of(module)
    spec = ModelSpec(
        name=name,
        task="upscale",
        format=fmt,
        architecture=architecture,
        files=tuple(files),
        license="BSD-3-Clause",
        permissive=True,
        description="test network",
        conventions=UpscaleConventions(scale=scale or module.scale, denoise_default=denoise_default),
        arch_params=params,
    )
    monkeypatch.setitem(registry._REGISTRY, name, spec)
    return spec


def install_pth(
    monkeypatch: pytest.MonkeyPatch, home: Path, name: str, module: nn.Module, *, key: str = "params_ema"
) -> ModelSpec:
    """A Real-ESRGAN release checkpoint: {key: state_dict} saved with torch.save."""
    path = home / f"{name}.pth"
    torch.save({key: module.state_dict()}, path)
    return install_row(monkeypatch, home, name, module, [path], fmt="pth")


def install_ncnn(
    monkeypatch: pytest.MonkeyPatch,
    home: Path,
    name: str,
    module: nn.Module,
    *,
    fp16: bool = True,
    resize_to: float | None = None,
) -> ModelSpec:
    paths = list(export_ncnn(module, home, name, fp16=fp16, resize_to=resize_to))
    return install_row(monkeypatch, home, name, module, paths, fmt="ncnn", scale=resize_to)


def files_of(spec: ModelSpec, home: Path) -> dict[str, Path]:
    return {wf.filename: home / "models" / spec.name / wf.filename for wf in spec.files}


def assert_same_state(actual: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        torch.testing.assert_close(actual[key], value, rtol=0, atol=0)


# --------------------------------------------------------------------------------------------------------------


def test_params_ema_is_preferred_to_params_as_real_esrgan_does(home: Path, monkeypatch) -> None:
    ema, plain = random_rrdbnet(seed=1), random_rrdbnet(seed=2)
    path = home / "both.pth"
    torch.save({"params": plain.state_dict(), "params_ema": ema.state_dict()}, path)
    spec = install_row(monkeypatch, home, "both", ema, [path], fmt="pth")
    assert_same_state(read_state(spec, files_of(spec, home), None), ema.state_dict())

    only = install_pth(monkeypatch, home, "plain", plain, key="params")
    assert_same_state(read_state(only, files_of(only, home), None), plain.state_dict())


def test_a_checkpoint_without_either_key_says_what_it_holds(home: Path, monkeypatch) -> None:
    install_pth(monkeypatch, home, "odd", random_srvgg(), key="state_dict")
    with pytest.raises(InvalidInput, match="no 'params_ema' or 'params' state dict.*state_dict"):
        load_network("odd", device="cpu")


def test_weights_of_another_network_do_not_load(home: Path, monkeypatch) -> None:
    spec = install_pth(monkeypatch, home, "small", random_rrdbnet(blocks=2))
    bigger = {**dict(spec.arch_params), "num_block": 3}
    monkeypatch.setitem(registry._REGISTRY, "small", dataclasses.replace(spec, arch_params=bigger))
    with pytest.raises(InvalidInput, match="do not fit its network"):
        load_network("small", device="cpu")


def test_denoise_mixes_the_two_files_as_real_esrgan_dni(home: Path, monkeypatch) -> None:
    sharp, denoised = random_srvgg(seed=1), random_srvgg(seed=2)
    paths = []
    for module, name in ((sharp, "general.pth"), (denoised, "general-wdn.pth")):
        torch.save({"params": module.state_dict()}, home / name)
        paths.append(home / name)
    spec = install_row(monkeypatch, home, "general", sharp, paths, fmt="pth", denoise_default=0.5)
    files = files_of(spec, home)
    mixed = read_state(spec, files, 0.3)
    for key, value in sharp.state_dict().items():
        torch.testing.assert_close(mixed[key], 0.3 * value + 0.7 * denoised.state_dict()[key])
    assert_same_state(read_state(spec, files, 1.0), sharp.state_dict())  # strength 1: the first file alone

    default = load_network("general", device="cpu")
    assert default.model == "general"
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        load_network("general", device="cpu", denoise=1.5)


def test_denoise_is_refused_for_models_without_it(home: Path, monkeypatch) -> None:
    install_pth(monkeypatch, home, "plain", random_srvgg())
    with pytest.raises(InvalidInput, match="has no denoise strength"):
        load_network("plain", device="cpu", denoise=0.5)


@pytest.mark.parametrize("fp16", [True, False], ids=["fp16", "float32"])
def test_ncnn_rows_load_into_the_network(home: Path, monkeypatch, fp16: bool) -> None:
    source = random_rrdbnet(scale=2)
    spec = install_ncnn(monkeypatch, home, "net", source, fp16=fp16)
    state = read_state(spec, files_of(spec, home), None)
    for key, value in source.state_dict().items():
        expected = value.half().float() if fp16 and value.ndim == 4 else value
        torch.testing.assert_close(state[key], expected, rtol=0, atol=0)


def test_an_ncnn_export_that_shrinks_must_match_the_rows_scale(home: Path, monkeypatch) -> None:
    spec = install_ncnn(monkeypatch, home, "x2", random_srvgg(), resize_to=2.0)
    assert load_network("x2", device="cpu").output_scale == 2.0
    wrong = dataclasses.replace(spec, name="x2-wrong", conventions=UpscaleConventions(scale=3))
    monkeypatch.setitem(registry._REGISTRY, "x2-wrong", wrong)
    (home / "models" / "x2-wrong").symlink_to(home / "models" / "x2")
    with pytest.raises(InvalidInput, match="upscales by 2 but model 'x2-wrong' declares 3"):
        load_network("x2-wrong", device="cpu")


def test_missing_weights_name_the_pull_command(home: Path) -> None:
    with pytest.raises(WeightsMissing, match="run: retouch models pull realesrgan-x2plus"):
        load_network("realesrgan-x2plus", device="cpu")


def test_only_upscaling_models_are_accepted() -> None:
    with pytest.raises(InvalidInput, match="not an upscaling model.*realesrgan-x4plus"):
        upscale_spec("migan")
    with pytest.raises(InvalidInput, match="unknown model"):
        upscale_spec("esrgan-9000")


# --------------------------------------------------------------------------------------------------------------
# The shipped rows


REAL_ESRGAN = {
    "realesrgan-x4plus": ("ncnn", 4, 23),
    "realesrgan-x4plus-anime": ("ncnn", 4, 6),
    "realesr-animevideov3-x2": ("ncnn", 2, None),
    "realesr-animevideov3-x3": ("ncnn", 3, None),
    "realesr-animevideov3-x4": ("ncnn", 4, None),
    "realesr-animevideov3": ("pth", 4, None),
    "realesrgan-x4plus-pth": ("pth", 4, 23),
    "realesrgan-x4plus-anime-pth": ("pth", 4, 6),
    "realesrgan-x2plus": ("pth", 2, 23),
    "realesr-general-x4v3": ("pth", 4, None),
}


def test_the_registry_offers_the_real_esrgan_family() -> None:
    assert {spec.name for spec in list_models("upscale")} >= set(REAL_ESRGAN)
    for name, (fmt, scale, blocks) in REAL_ESRGAN.items():
        spec = get_spec(name)
        assert (spec.format, spec.conventions_as(UpscaleConventions).scale, spec.license) == (fmt, scale, "BSD-3-Clause"), name
        if blocks is not None:
            assert spec.arch_params["num_block"] == blocks
        network = build_module(spec, meta=True)  # the row's hyperparameters build its network
        assert network.scale == (2 if name == "realesrgan-x2plus" else 4)
    general = get_spec("realesr-general-x4v3")
    assert [wf.filename for wf in general.files] == ["realesr-general-x4v3.pth", "realesr-general-wdn-x4v3.pth"]
    assert general.conventions == UpscaleConventions(scale=4, denoise_default=0.5) and general.arch_params["num_conv"] == 32


def test_built_in_rows_come_from_the_wheel_and_verify(home: Path) -> None:
    built_in = [spec for spec in list_models("upscale") if spec.format == "ncnn"]
    for spec in built_in:
        assert all(isinstance(s, PackageSource) for wf in spec.files for s in wf.sources)
    wheel_file("REALESRGAN_X4PLUS_UP4X.param")  # skips when the wheel is not installed
    for spec in built_in:
        assert is_installed(spec)
        assert [result.status for result in verify(spec.name)] == ["ok", "ok"]
