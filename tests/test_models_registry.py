"""The model catalogue: well-formed rows, clear lookups, immutable data."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from urllib.parse import urlparse

import pytest

import retouch
from retouch.errors import InvalidInput
from retouch.models import registry
from retouch.models.conventions import TASK_CONVENTIONS, CutoutConventions, EraseConventions, UpscaleConventions
from retouch.models.registry import get_spec, list_models
from retouch.models.spec import FrozenMapping, ModelSpec, NpmSource, UrlSource, WeightFile, WheelSource

ERASE_MODELS = {"big-lama", "big-lama-ckpt", "migan"}


def test_registry_has_the_rows_the_tools_need() -> None:
    names = {spec.name for spec in list_models()}
    assert ERASE_MODELS | {"isnet-imgly", "realesr-animevideov3"} <= names
    assert {spec.name for spec in list_models("erase")} >= ERASE_MODELS
    assert all(spec.task == "upscale" for spec in list_models("upscale"))
    assert retouch.list_models is list_models


@pytest.mark.parametrize("spec", list_models(), ids=lambda s: s.name)
def test_every_row_is_pinned_and_fetchable(spec: ModelSpec) -> None:
    assert spec.license and spec.description and spec.architecture
    for wf in spec.files:
        assert wf.sha256 is not None and len(wf.sha256) == 64  # every shipped row has a published digest
        assert wf.size and wf.size > 0
        for source in wf.sources:
            if isinstance(source, UrlSource | WheelSource):
                assert urlparse(source.url).scheme == "https"
            if isinstance(source, NpmSource):
                assert not spec.permissive  # npm rows are opt-in (AGPL data packages)
    assert spec.pull_command.startswith(f"retouch models pull {spec.name}")
    assert hash(spec) == hash(dataclasses.replace(spec))  # frozen and hashable, conventions included


def test_the_rows_say_what_the_erase_tool_relies_on() -> None:
    migan = get_spec("migan")
    assert (migan.format, migan.files[0].size) == ("onnx", 28_079_181)
    assert migan.conventions == EraseConventions(max_side=512)  # the pipeline's network side
    lama = get_spec("big-lama")
    assert (lama.format, lama.architecture, lama.conventions) == ("torchscript", "lama", EraseConventions(2048))
    ckpt = get_spec("big-lama-ckpt")
    [source] = ckpt.files[0].sources
    assert isinstance(source, UrlSource) and source.member == "big-lama/models/best.ckpt"
    isnet = get_spec("isnet-imgly")
    input_size = isnet.conventions_as(CutoutConventions).input_size
    assert (isnet.permissive, isnet.license, input_size) == (False, "AGPL-3.0", (1024, 1024))
    assert get_spec("realesr-animevideov3").arch_params["num_conv"] == 16


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown model 'lama'.*big-lama.*migan"):
        get_spec("lama")
    with pytest.raises(InvalidInput, match="unknown task 'inpaint'; known tasks: erase"):
        list_models("inpaint")


def test_rows_are_immutable() -> None:
    spec = get_spec("migan")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.conventions.max_side = 1024  # type: ignore[union-attr,misc]
    assert FrozenMapping({"a": 1}) == {"a": 1} and len(FrozenMapping({"a": 1, "b": 2})) == 2
    with pytest.raises(TypeError, match="hashable"):
        FrozenMapping({"a": [1, 2]})


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Big Lama"},
        {"task": "paint"},
        {"format": "safetensors"},
        {"files": ()},
    ],
)
def test_bad_rows_are_rejected(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(get_spec("migan"), **change)


def test_bad_files_are_rejected() -> None:
    source = (UrlSource("https://example.org/w.bin"),)
    with pytest.raises(ValueError, match="sha256"):
        WeightFile("w.bin", "ABC", 10, source)
    with pytest.raises(ValueError, match="filename"):
        WeightFile("../w.bin", None, 10, source)
    with pytest.raises(ValueError, match="source"):
        WeightFile("w.bin", None, 10, ())


def test_importing_the_models_package_stays_light() -> None:
    code = (
        "import sys, retouch.models, retouch.models.runtime, retouch.cli.models; "
        "print(sorted(m for m in ('torch', 'onnxruntime', 'urllib.request', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert registry.TASKS[0] == "erase"


def test_each_row_carries_its_tasks_conventions_class() -> None:
    for spec in list_models():
        expected = TASK_CONVENTIONS.get(spec.task)
        assert (spec.conventions is None) if expected is None else isinstance(spec.conventions, expected), spec.name
    row = get_spec("migan")
    with pytest.raises(ValueError, match="EraseConventions, not UpscaleConventions"):
        dataclasses.replace(row, conventions=UpscaleConventions(scale=4))
    with pytest.raises(ValueError, match="needs its CutoutConventions"):
        dataclasses.replace(get_spec("u2net"), conventions=None)
    assert dataclasses.replace(row, conventions=None).conventions == EraseConventions()  # the defaults
    with pytest.raises(InvalidInput, match="not one with UpscaleConventions"):
        row.conventions_as(UpscaleConventions)
