"""ONNX files with the input/output signatures of the cutout networks of the registry, and a simple rule inside.

The rule makes the subject the pixels whose red exceeds their green: the network returns sigmoid(GAIN * (r - g))
on its normalized input (or the logit alone, where the real network returns logits). Names, shapes and dtypes
follow the real files: u2net's "input.1" and first output "1959" (rembg's export, 7 side outputs), BiRefNet's
"input_image" / "output_image" (the authors' conversion notebook), and IMG.LY's ISNet with its 13 outputs as read
from the real file. rembg's isnet-general-use and u2netp exports are given the same layout as their siblings; the
runner relies only on the first input and on the row's output index.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from retouch.models import cache
from retouch.models.registry import _REGISTRY, get_spec

GAIN = 4.0
U2NET_OUTPUTS = ["1959", "1960", "1961", "1962", "1963", "1964", "1965"]
IMGLY_SIDES = ["1890", "1891", "1892", "1893", "1894"]
IMGLY_FEATURES = [
    ("input.1252", 64, 512),
    ("input.1088", 64, 256),
    ("input.948", 128, 128),
    ("input.832", 256, 64),
    ("input.740", 512, 32),
    ("input.656", 512, 16),
]
SIGNATURES = {  # model -> (input name, output names, side, the map is logits)
    "u2net": ("input.1", U2NET_OUTPUTS, 320, False),
    "u2netp": ("input.1", U2NET_OUTPUTS, 320, False),
    "isnet-general-use": ("input_image", ["output_image"], 1024, False),
    "birefnet-general-lite": ("input_image", ["output_image"], 1024, True),
    "birefnet-portrait": ("input_image", ["output_image"], 1024, True),
    "isnet-imgly": ("input", ["output", *IMGLY_SIDES, *(name for name, _, _ in IMGLY_FEATURES)], 1024, False),
}


class RedOverGreen(nn.Module):
    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        _, self.outputs, _, self.logits = SIGNATURES[model]

    def forward(self, x: torch.Tensor):
        logit = GAIN * (x[:, 0:1] - x[:, 1:2])
        main = logit if self.logits else torch.sigmoid(logit)
        if self.model == "isnet-imgly":
            sides = [torch.sigmoid(logit) for _ in IMGLY_SIDES]
            features = [
                F.adaptive_avg_pool2d(x[:, :1], size).repeat(1, channels, 1, 1) for _, channels, size in IMGLY_FEATURES
            ]
            return (main, *sides, *features)
        return tuple([main] + [torch.sigmoid(logit) for _ in self.outputs[1:]]) if len(self.outputs) > 1 else main


def write_fake_network(model: str, path: Path) -> None:
    import onnx

    input_name, outputs, side, _ = SIGNATURES[model]
    placeholders = [f"out_{i}" for i in range(len(outputs))]  # the exporter refuses names like "1959"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            RedOverGreen(model).eval(),
            (torch.zeros(1, 3, side, side),),
            str(path),
            input_names=[input_name],
            output_names=placeholders,
            opset_version=13,
            dynamo=False,
        )
    graph = onnx.load(str(path))
    renames = dict(zip(placeholders, outputs))
    for node in graph.graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    for value in graph.graph.output:
        value.name = renames.get(value.name, value.name)
    onnx.save(graph, str(path))


def offline_home_with_fake(model: str, tmp_path: Path, monkeypatch) -> Path:
    """A fresh offline $RETOUCH_HOME under tmp_path holding a fake ``model`` (see ``install_fake``)."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "1")
    return install_fake(model, monkeypatch)


def install_fake(model: str, monkeypatch) -> Path:
    """Put a fake network in the cache of $RETOUCH_HOME (set it first) as if pulled: the row's size and digest
    are cleared (trust on first use) and an opt-in model's license is marked accepted."""
    spec = get_spec(model)
    unpinned = tuple(dataclasses.replace(wf, sha256=None, size=None) for wf in spec.files)
    spec = dataclasses.replace(spec, files=unpinned)
    monkeypatch.setitem(_REGISTRY, model, spec)
    path = cache.cached_file(model, spec.files[0].filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_fake_network(model, path)
    if not spec.permissive:
        cache.record_license(spec)
    return path
