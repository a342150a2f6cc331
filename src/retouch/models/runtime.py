"""Devices, threads, the ONNX Runtime session factory and the one cache of loaded models, for both runtimes.

A device that was asked for and is absent is an error (BackendUnavailable), never a silent fall back to the CPU.
Every loaded model (a PyTorch module, an ONNX session, a tool's wrapper around them) is cached here, keyed by the
identity of its files (path, size, mtime: a file pulled again is a new entry) and the device: the server's
concurrent requests share one instance, and two threads asking for the same model at once load it once.
``clear_cache`` frees them all. torch and onnxruntime are imported only when called.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from retouch.errors import BackendUnavailable, InvalidInput

if TYPE_CHECKING:
    import onnxruntime
    import torch

T = TypeVar("T")

_loaded: dict[tuple[Any, ...], Any] = {}
_loading: dict[tuple[Any, ...], threading.Lock] = {}
_cache_guard = threading.Lock()


def select_device(requested: str = "auto") -> torch.device:
    """``"auto"``: CUDA if available, else MPS if available, else the CPU. ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
    ``"mps"``: that device, or BackendUnavailable when it is absent."""
    import torch

    kind, index = _parse_device(requested)
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailable(f"device '{requested}' requested but PyTorch sees no CUDA GPU; use --device cpu")
        count = torch.cuda.device_count()
        if index is not None and index >= count:
            raise BackendUnavailable(f"device '{requested}' requested but only {count} CUDA GPU(s) are present")
        return torch.device("cuda", index) if index is not None else torch.device("cuda")
    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise BackendUnavailable(f"device '{requested}' requested but Apple MPS is not available; use --device cpu")
        return torch.device("mps")
    return torch.device("cpu")


def check_device(requested: str = "auto") -> None:
    """Refuse, before any work, a device every tool would refuse later: an unknown name (InvalidInput) or a GPU
    that neither PyTorch nor ONNX Runtime can use here (BackendUnavailable). The runtime that finally runs a
    model checks its own support again (``select_device``, ``onnx_session``). Imports torch and onnxruntime only
    when a GPU is named: "auto" and "cpu" always pass."""
    kind, index = _parse_device(requested)
    if kind in ("auto", "cpu"):
        return
    if kind == "cuda":
        import torch

        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            if index is not None and index >= count:
                raise BackendUnavailable(f"device '{requested}' requested but only {count} CUDA GPU(s) are present")
            return
        if not _onnx_has("CUDAExecutionProvider"):
            raise BackendUnavailable(
                f"device '{requested}' requested but there is no CUDA GPU here (neither PyTorch nor ONNX Runtime "
                "sees one); use --device cpu or auto"
            )
        return
    import torch

    if not torch.backends.mps.is_available() and not _onnx_has("CoreMLExecutionProvider"):
        raise BackendUnavailable(f"device '{requested}' requested but Apple MPS is not available; use --device cpu")


def requests_gpu(requested: str) -> bool:
    """Whether ``requested`` names a GPU (cuda, cuda:N, mps) rather than "auto" or "cpu"."""
    return _parse_device(requested)[0] not in ("auto", "cpu")


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere oneDNN emulates it,
    slower than float32."""
    import torch

    try:  # a private helper; without it we cannot tell, and float32 is always right
        flags = torch._C._cpu._get_cpu_capability()
    except AttributeError:
        return False
    return bool(flags.get("avx512_bf16") or flags.get("amx_bf16"))


def default_threads() -> int:
    """``$RETOUCH_THREADS``, else the CPUs this process may run on."""
    configured = os.environ.get("RETOUCH_THREADS")
    if configured:
        try:
            return _positive(int(configured))
        except ValueError:
            raise InvalidInput(f"RETOUCH_THREADS must be a positive integer, got {configured!r}") from None
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def configure_torch_threads(n: int | None = None) -> int:
    """Set PyTorch's intra-op threads (``default_threads()`` when None); returns the number set."""
    import torch

    threads = _positive(n) if n is not None else default_threads()
    torch.set_num_threads(threads)
    return threads


def onnx_session(
    model: str | os.PathLike[str] | bytes, device: str = "auto", *, memory_arena: bool = True, spinning: bool = True
) -> onnxruntime.InferenceSession:
    """A new ONNX Runtime session for an .onnx file or a serialized graph (``bytes``), on the CPU, or on CUDA when
    ``device`` asks for it (or "auto" finds it). ``memory_arena=False``: a run's buffers go back to the system
    instead of being kept for the next run (for graphs whose peak is large and rarely reached). ``spinning=False``:
    idle intra-op threads sleep instead of busy-waiting (for networks run as many consecutive small graphs)."""
    import onnxruntime as ort

    providers = _onnx_providers(device, ort.get_available_providers())
    options = ort.SessionOptions()
    options.intra_op_num_threads = default_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: ORT's warnings are not the user's business
    options.enable_cpu_mem_arena = memory_arena
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, sess_options=options, providers=providers)
    wanted = providers[0] if isinstance(providers[0], str) else providers[0][0]
    # ORT quietly runs on the CPU when a provider fails to start (e.g. missing CUDA libraries): fine for "auto",
    # an error when that device was asked for.
    if wanted not in session.get_providers() and _parse_device(device)[0] != "auto":
        name = "a graph in memory" if isinstance(model, bytes) else Path(model).name
        raise BackendUnavailable(f"ONNX Runtime could not start {wanted} for {name} (device '{device}')")
    return session


def cached_session(path: str | os.PathLike[str], device: str = "auto") -> onnxruntime.InferenceSession:
    """``onnx_session``, created once per (file, device) and shared; ``run`` on it is thread-safe."""
    kind, index = _parse_device(device)
    normalized = kind if index is None else f"{kind}:{index}"
    return _load_once(("onnx", *_file_key(path), normalized), lambda: onnx_session(path, normalized))


def cached_model(
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    device: str,
    loader: Callable[[Path, torch.device], T],
    *,
    key: str = "",
) -> T:
    """``loader(first file, device)``, called once per (files, device, loader, key) and shared.

    files: the model's file, or all its files (an ncnn .param and .bin, two checkpoints that are mixed): replacing
    any of them makes a new entry. key: whatever else changes what the loader builds (a precision, a mix).
    For PyTorch models: the loader builds the module, loads the weights, moves it to the device and calls
    ``eval()``. Share modules only for inference under ``torch.inference_mode()``, which keeps them read-only.
    """
    paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    torch_device = select_device(device)
    loader_name = f"{getattr(loader, '__module__', '')}.{getattr(loader, '__qualname__', repr(loader))}"
    identity = tuple(part for path in paths for part in _file_key(path))
    cache_key = ("torch", *identity, str(torch_device), loader_name, key)
    return _load_once(cache_key, lambda: loader(Path(paths[0]), torch_device))


def load_torchscript(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    """A TorchScript file as an inference module on ``device`` (a ``cached_model`` loader)."""
    import torch

    return cast("torch.jit.ScriptModule", torch.jit.load(str(path), map_location=device).eval())


def clear_cache() -> None:
    """Forget every cached session and model (they are freed once no caller holds them)."""
    with _cache_guard:
        _loaded.clear()
        _loading.clear()


def _load_once(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    with _cache_guard:
        if key in _loaded:
            return cast(T, _loaded[key])
        lock = _loading.setdefault(key, threading.Lock())
    with lock:  # one builder per key; other threads asking for the same key wait for its result
        with _cache_guard:
            if key in _loaded:
                return cast(T, _loaded[key])
        value = build()
        with _cache_guard:
            _loaded[key] = value
            _loading.pop(key, None)
        return value


def _file_key(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """A replaced file (new size or mtime) is a new cache entry."""
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError:
        raise InvalidInput(f"model file {resolved} does not exist") from None
    return str(resolved), stat.st_size, stat.st_mtime_ns


def _parse_device(requested: str) -> tuple[str, int | None]:
    text = requested.strip().lower()
    kind, _, number = text.partition(":")
    if kind in ("auto", "cpu", "mps") and not number:
        return kind, None
    if kind == "cuda":
        if not number:
            return kind, None
        if number.isdigit():
            return kind, int(number)
    raise InvalidInput(f"unknown device {requested!r}; use auto, cpu, cuda, cuda:N or mps")


def _onnx_has(provider: str) -> bool:
    import onnxruntime

    return provider in onnxruntime.get_available_providers()


def _onnx_providers(device: str, available: list[str]) -> list[Any]:
    kind, index = _parse_device(device)
    has_cuda = "CUDAExecutionProvider" in available
    if kind == "cuda" or (kind == "auto" and has_cuda):
        if not has_cuda:
            raise BackendUnavailable(
                f"device '{device}' requested but this onnxruntime has no CUDA provider "
                "(install onnxruntime-gpu, or use --device cpu)"
            )
        return [("CUDAExecutionProvider", {"device_id": index or 0}), "CPUExecutionProvider"]
    if kind == "mps":
        if "CoreMLExecutionProvider" not in available:
            raise BackendUnavailable(f"device '{device}' requested but this onnxruntime has no CoreML provider")
        return ["CoreMLExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _positive(n: int) -> int:
    if n < 1:
        raise InvalidInput(f"thread count must be at least 1, got {n}")
    return n
