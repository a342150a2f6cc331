"""The package's front door: a light import, a working command, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import retouch

RETOUCH = str(Path(sys.executable).with_name("retouch"))
HEAVY = ("torch", "onnxruntime", "cv2", "scipy", "numpy", "PIL")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=120)


def test_import_loads_no_heavy_library() -> None:
    code = f"import sys, retouch; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_public_api_is_explicit_and_resolves() -> None:
    for name in retouch.__all__:
        assert getattr(retouch, name) is not None, name


def test_version_and_help_list_the_commands() -> None:
    assert run("--version").stdout.strip() == f"retouch {retouch.__version__}"
    help_text = run("--help").stdout
    for command in ("models",):
        assert command in help_text


def test_bad_option_is_one_line_and_exit_code_2() -> None:
    result = run("--no-such-option")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("retouch: error:")


def test_a_picture_without_pixels_is_refused() -> None:
    import numpy as np
    import pytest

    from retouch.types import Picture

    with pytest.raises(ValueError, match="at least one pixel"):
        Picture(np.zeros((16, 0, 3), dtype=np.uint8))
