"""Generated weight files installed as a user's pull leaves them, for tests that run the real ``retouch`` executable.

A cache hit is checked by the registry row's size (``retouch.models.weights``), and a separate process sees the
real registry, not a test's patched copy. So a generated file is padded, inside its own format, to exactly the
row's size: a TorchScript archive gets one more stored member under ``extra/`` (where ``torch.jit.save`` keeps
extra files, which loading ignores), an ONNX model a metadata property. Nothing in the weights changes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from retouch.models import cache
from retouch.models.registry import get_spec

_CHUNK = bytes(1 << 20)


def cache_path(model: str) -> tuple[Path, int]:
    """Where a pull puts the model's primary file under $RETOUCH_HOME (set it first), and the row's size."""
    spec = get_spec(model)
    wf = spec.files[0]
    assert wf.size is not None, f"{model} has no published size"
    path = cache.cached_file(spec.name, wf.filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, wf.size


def pad_torchscript(path: Path, size: int) -> None:
    """Append a stored member of zeros so the archive is exactly ``size`` bytes."""
    with zipfile.ZipFile(path) as archive:
        name = archive.namelist()[0].split("/")[0] + "/extra/padding"
    original = path.read_bytes()
    _append_zeros(path, name, 0)  # what the member's headers and the rewritten directory cost
    overhead = path.stat().st_size - len(original)
    assert size - len(original) - overhead >= 0, f"{path.name} is already larger than {size} bytes"
    path.write_bytes(original)
    _append_zeros(path, name, size - len(original) - overhead)
    assert path.stat().st_size == size, (path.stat().st_size, size)


def _append_zeros(path: Path, name: str, count: int) -> None:
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = count
        with archive.open(info, "w") as member:
            for start in range(0, count, len(_CHUNK)):
                member.write(_CHUNK[: min(len(_CHUNK), count - start)])


def pad_onnx(path: Path, size: int) -> None:
    """Add a metadata property whose value brings the serialised model to exactly ``size`` bytes."""
    import onnx

    model = onnx.load(str(path))
    entry = model.metadata_props.add()
    entry.key = "padding"
    entry.value = ""
    length = 0
    for _ in range(8):  # the varint length prefixes grow with the value: converges in a few steps
        length += size - model.ByteSize()
        assert length >= 0, f"{path.name} is already larger than {size} bytes"
        entry.value = "0" * length
        if model.ByteSize() == size:
            break
    path.write_bytes(model.SerializeToString())
    assert path.stat().st_size == size, (path.stat().st_size, size)
