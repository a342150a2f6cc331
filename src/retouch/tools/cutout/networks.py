"""Which cutout networks exist, which is the default, and one loaded session of each per device."""

from __future__ import annotations

from retouch.errors import InvalidInput, WeightsMissing
from retouch.models.registry import get_spec, list_models
from retouch.models.spec import ModelSpec
from retouch.tools.cutout.segment import Segmenter

# What "auto" prefers among the permissive models, best first (general subjects before the portrait specialist,
# which is excellent on people and weaker on objects).
AUTO_ORDER = ("birefnet-general-lite", "isnet-general-use", "u2net", "birefnet-portrait", "u2netp")


def cutout_models() -> list[ModelSpec]:
    return list_models("cutout")


def installed_models() -> list[str]:
    """The cutout models whose weights are here (and whose license was accepted, for opt-in ones)."""
    from retouch.models.weights import is_installed

    return [spec.name for spec in cutout_models() if is_installed(spec)]


def resolve_model(model: str | None) -> ModelSpec:
    """The row for ``model``; None or "auto" is the best installed permissive model.

    With none installed this raises WeightsMissing, naming every pull command (and an opt-in model that is
    installed, which is used only when asked for by name).
    """
    if model is not None and model != "auto":
        spec = get_spec(model)
        if spec.task != "cutout":
            names = ", ".join(s.name for s in cutout_models())
            raise InvalidInput(f"model '{model}' is a {spec.task} model, not a cutout model; choose one of: {names}")
        return spec
    installed = set(installed_models())
    ranked = [name for name in AUTO_ORDER if name in installed]
    ranked += sorted(s.name for s in cutout_models() if s.permissive and s.name in installed and s.name not in ranked)
    if ranked:
        return get_spec(ranked[0])
    raise _none_installed(installed)


def _none_installed(installed: set[str]) -> WeightsMissing:
    permissive = [s for s in cutout_models() if s.permissive]
    order = {name: i for i, name in enumerate(AUTO_ORDER)}
    permissive.sort(key=lambda s: order.get(s.name, len(order)))
    best = permissive[0]
    others = [s.pull_command for s in permissive[1:]]
    opt_in = [s for s in cutout_models() if not s.permissive]
    detail = "no cutout model is installed; other choices: " + "; ".join(others)
    if opt_in:
        detail += "; opt-in (license: " + ", ".join(f"{s.name} {s.license}" for s in opt_in) + "): "
        detail += "; ".join(s.pull_command for s in opt_in)
    usable = [s.name for s in opt_in if s.name in installed]
    if usable:
        detail += f"; or use the installed opt-in model with --model {usable[0]}"
    return WeightsMissing(best.name, best.pull_command, detail)


def load_segmenter(model: str | None, device: str = "auto") -> Segmenter:
    """A ready network; the ONNX session is created once per file and device and shared between threads."""
    from retouch.models.runtime import cached_session
    from retouch.models.weights import resolve_weights

    spec = resolve_model(model)
    path = resolve_weights(spec, allow_download=False)
    return Segmenter(spec=spec, session=cached_session(path, device))
