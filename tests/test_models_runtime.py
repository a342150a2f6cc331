"""Devices, threads and shared model instances."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from retouch.errors import BackendUnavailable, InvalidInput
from retouch.models import runtime


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    runtime.clear_cache()


def tiny_onnx(path: Path, scale: float = 2.0) -> Path:
    """y = x * scale, float32 [1, 3]."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["y"])],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor("k", TensorProto.FLOAT, [], [scale])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    return path


def test_auto_picks_the_best_present_device() -> None:
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert runtime.select_device("auto").type == expected
    assert runtime.select_device().type == expected
    assert runtime.select_device("cpu") == torch.device("cpu")
    assert runtime.select_device(" CPU ") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_absent_cuda_is_an_error_not_a_fallback(device: str) -> None:
    with pytest.raises(BackendUnavailable, match="no CUDA GPU"):
        runtime.select_device(device)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has Apple MPS")
def test_absent_mps_is_an_error() -> None:
    with pytest.raises(BackendUnavailable, match="MPS"):
        runtime.select_device("mps")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cpu:0", ""])
def test_unknown_device_names_are_invalid_input(device: str) -> None:
    with pytest.raises(InvalidInput, match="unknown device"):
        runtime.select_device(device)


def test_configure_torch_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    try:
        assert runtime.configure_torch_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("RETOUCH_THREADS", "2")
        assert runtime.configure_torch_threads() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(InvalidInput):
        runtime.configure_torch_threads(0)
    monkeypatch.setenv("RETOUCH_THREADS", "many")
    with pytest.raises(InvalidInput, match="RETOUCH_THREADS"):
        runtime.default_threads()


def test_onnx_session_runs_on_the_cpu(tmp_path: Path) -> None:
    session = runtime.onnx_session(tiny_onnx(tmp_path / "m.onnx"), "cpu")
    assert session.get_providers() == ["CPUExecutionProvider"]
    [y] = session.run(None, {"x": np.array([[1.0, 2.0, 3.0]], dtype=np.float32)})
    np.testing.assert_array_equal(y, [[2.0, 4.0, 6.0]])


def test_onnx_cuda_without_the_provider_is_an_error(tmp_path: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(BackendUnavailable, match="no CUDA provider"):
        runtime.onnx_session(tiny_onnx(tmp_path / "m.onnx"), "cuda")


def test_cached_session_is_shared_per_file_and_device(tmp_path: Path) -> None:
    first = tiny_onnx(tmp_path / "a.onnx")
    second = tiny_onnx(tmp_path / "b.onnx", scale=3.0)
    session = runtime.cached_session(first, "cpu")
    assert runtime.cached_session(str(first), "cpu") is session
    assert runtime.cached_session(first, "auto") is runtime.cached_session(first, "auto")
    assert runtime.cached_session(second, "cpu") is not session
    with pytest.raises(InvalidInput, match="does not exist"):
        runtime.cached_session(tmp_path / "missing.onnx")


def test_concurrent_requests_load_a_model_once(tmp_path: Path) -> None:
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    calls: list[str] = []

    def slow_loader(path: Path, device: torch.device) -> object:
        calls.append(path.name)
        time.sleep(0.1)
        return object()

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(runtime.cached_model(weights, "cpu", slow_loader)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["w.pt"]
    assert len(results) == 8 and all(r is results[0] for r in results)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_models_load_once_and_run(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    torch.jit.script(torch.nn.Linear(2, 1)).save(str(path))
    module = runtime.cached_model(path, "cpu", runtime.load_torchscript)
    same_device = "cpu" if torch.cuda.is_available() or torch.backends.mps.is_available() else "auto"
    assert runtime.cached_model(path, same_device, runtime.load_torchscript) is module
    assert not module.training
    with torch.inference_mode():
        assert module(torch.zeros(1, 2)).shape == (1, 1)


def test_a_model_of_several_files_is_reloaded_when_any_of_them_changes(tmp_path: Path) -> None:
    param, weights = tmp_path / "m.param", tmp_path / "m.bin"
    param.write_text("graph")
    weights.write_bytes(b"1234")
    calls: list[str] = []

    def loader(path: Path, device: torch.device) -> object:
        calls.append(path.name)
        return object()

    first = runtime.cached_model([param, weights], "cpu", loader)
    assert runtime.cached_model([param, weights], "cpu", loader) is first
    weights.write_bytes(b"123456")  # pulled again: a new size (and mtime)
    second = runtime.cached_model([param, weights], "cpu", loader)
    assert second is not first and calls == ["m.param", "m.param"]
    runtime.clear_cache()
    assert runtime.cached_model([param, weights], "cpu", loader) is not second


def test_a_session_can_be_made_from_a_graph_in_memory(tmp_path: Path) -> None:
    graph = tiny_onnx(tmp_path / "m.onnx", 3.0).read_bytes()
    session = runtime.onnx_session(graph, "cpu", memory_arena=False)
    (y,) = session.run(None, {"x": np.ones((1, 3), np.float32)})
    np.testing.assert_array_equal(y, np.full((1, 3), 3.0, np.float32))
