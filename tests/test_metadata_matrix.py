"""What every tool keeps, through the `retouch` executable and through an HTTP download (README: "Retouch keeps
what your file carries (ICC profile, EXIF, DPI, XMP ...) and marks its outputs as AI-edited in their XMP").

One photo carries an sRGB ICC profile, EXIF (camera make, model, date, GPS), 300 DPI and an XMP packet of its own
(creator, title, city). Every tool's output must carry all of them, plus exactly one provenance entry naming the
tool and its engine or model; with --no-provenance, the photo's own XMP and nothing added. `convert` edits
nothing and adds no provenance.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from cutout_onnx import write_fake_network
from cutout_scenes import scene
from e2e.harness import api_client, upload
from e2e.photos import srgb_profile
from imagegen import XMP_DC_PACKET, exif_bytes, exif_fields
from registry_sized import cache_path, pad_onnx
from retouch.io import encode_image, load_image, read_provenance
from retouch.io.xmp import AI_EDITED
from retouch.types import Metadata, Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))
# tool: (command-line options, HTTP form fields, the operation it records)
TOOLS = {
    "erase": (
        ["--box", "40,30,20,20", "--engine", "patch"],
        {"boxes": "40,30,20,20", "engine": "patch"},
        "erase (engine=patch)",
    ),
    "cutout": ([], {}, "cutout (model=u2netp)"),
    "replace-bg": (
        ["--with", "white"],
        {"background": "color", "color": "white"},
        "replace background (model=u2netp, colour)",
    ),
    "upscale": (
        ["--model", "realesr-animevideov3-x4", "--scale", "2"],
        {"model": "realesr-animevideov3-x4", "scale": "2"},
        "upscale (model=realesr-animevideov3-x4, scale=2)",
    ),
    "restore": (["--no-faces"], {"faces": "off"}, "restore (colour 0.5; denoise 0.3)"),
    "relight": (
        ["--light", "dir:azimuth=45", "--ambient", "0.8", "--no-faces"],
        {"lights": "dir:azimuth=45", "ambient": "0.8", "faces": "false"},
        "relight (subject=u2netp, lights=1, ambient=0.8)",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def cutout_home(tmp_path_factory: pytest.TempPathFactory):
    """An offline $RETOUCH_HOME with a generated u2netp installed as a pull leaves it (for cutout, replace-bg)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETOUCH_HOME", str(tmp_path_factory.mktemp("retouch-home")))
        patch.setenv("RETOUCH_OFFLINE", "1")
        path, size = cache_path("u2netp")
        write_fake_network("u2netp", path)
        pad_onnx(path, size)
        yield


def photo_bytes(fmt: str) -> bytes:
    """A 128x96 photo (a red subject on green) carrying every kind of metadata."""
    pixels = cv2.resize((scene().image * 255 + 0.5).astype(np.uint8), (128, 96), interpolation=cv2.INTER_AREA)
    metadata = Metadata(icc_profile=srgb_profile(), exif=exif_bytes(), xmp=XMP_DC_PACKET, dpi=(300.0, 300.0))
    return encode_image(Picture(pixels, metadata=metadata), fmt, quality=95)


def assert_metadata_kept(data: bytes, operation: str | None, source: bytes) -> None:
    """ICC, EXIF, DPI and the photo's XMP are there; the provenance is exactly ``operation`` (None: no provenance).
    DPI as the source file carries it (WebP has no field for it)."""
    metadata = load_image(data).metadata
    assert metadata.icc_profile == srgb_profile()
    assert exif_fields(metadata.exif) == exif_fields(exif_bytes())
    source_dpi = load_image(source).metadata.dpi
    assert (metadata.dpi is None) == (source_dpi is None)
    assert source_dpi is None or np.allclose(metadata.dpi, source_dpi, atol=0.5)
    xmp = (metadata.xmp or b"").decode("utf-8")
    assert "Harbour at dawn" in xmp and "Ana Lima" in xmp and "Lisbon" in xmp  # the photo's own XMP
    provenance = read_provenance(metadata.xmp)
    if operation is None:
        assert provenance is None
    else:
        assert provenance is not None and provenance.digital_source_type == AI_EDITED
        assert provenance.operations == (operation,)


def retouch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.mark.parametrize("provenance", [True, False], ids=["provenance", "no-provenance"])
@pytest.mark.parametrize("tool", TOOLS)
def test_the_command_keeps_the_metadata(tool: str, provenance: bool, tmp_path: Path) -> None:
    options, _, operation = TOOLS[tool]
    source, out = tmp_path / "photo.png", tmp_path / "out.png"
    source.write_bytes(photo_bytes("png"))
    flags = [] if provenance else ["--no-provenance"]
    done = retouch(tool, str(source), *options, *flags, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert_metadata_kept(out.read_bytes(), operation if provenance else None, source.read_bytes())


@pytest.mark.parametrize("fmt", ["jpeg", "tiff", "webp"])
def test_erase_keeps_the_metadata_in_other_formats(fmt: str, tmp_path: Path) -> None:
    source, out = tmp_path / f"photo.{fmt}", tmp_path / f"out.{fmt}"
    source.write_bytes(photo_bytes(fmt))
    done = retouch("erase", str(source), *TOOLS["erase"][0], "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert_metadata_kept(out.read_bytes(), TOOLS["erase"][2], source.read_bytes())


def test_convert_keeps_the_metadata_and_adds_no_provenance(tmp_path: Path) -> None:
    source, out = tmp_path / "photo.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes("jpeg"))
    done = retouch("convert", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert_metadata_kept(out.read_bytes(), None, source.read_bytes())


@pytest.mark.parametrize("tool", TOOLS)
def test_the_http_download_keeps_the_metadata(tool: str) -> None:
    _, fields, operation = TOOLS[tool]
    source = photo_bytes("png")
    with api_client() as client:
        doc = upload(client, source, "photo.png")["id"]
        response = client.post(f"/api/{tool}", data={"document": doc, "wait": "true", **fields})
        assert response.status_code == 200, response.text
        download = client.get(f"/api/documents/{doc}/download")
        assert download.status_code == 200, download.text
    assert_metadata_kept(download.content, operation, source)
