"""`retouch info` and `retouch convert`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from imagegen import XMP_DC_PACKET, blocky_rgb, encode_with_pillow, exif_bytes, srgb_profile, stored_for_orientation

from retouch.io import load_image, read_provenance, save_image
from retouch.types import Metadata, Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=120)


def test_info_describes_a_photo(tmp_path) -> None:
    stored = stored_for_orientation(blocky_rgb(), 6)
    path = tmp_path / "photo.jpg"
    path.write_bytes(
        encode_with_pillow(
            stored, "JPEG", exif=b"Exif\0\0" + exif_bytes(orientation=6), icc_profile=srgb_profile(),
            dpi=(300, 300), xmp=XMP_DC_PACKET,
        )
    )  # fmt: skip
    result = run("info", str(path), "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["format"] == "JPEG" and (facts["width"], facts["height"]) == (80, 48)  # upright
    assert facts["orientation"] == 6 and facts["orientation_applied"] == "rotated 90° clockwise"
    assert facts["bit_depth"] == 8 and facts["alpha"] is False and facts["channels"] == "RGB"
    assert facts["icc_profile"].startswith("sRGB")
    assert facts["exif"] is True and facts["xmp"] is True and facts["provenance"] is None
    assert facts["dpi"] == [300.0, 300.0]

    human = run("info", str(path))
    assert human.returncode == 0
    assert "JPEG, 80x48" in human.stdout and "orientation 6 applied" in human.stdout


def test_info_reports_provenance_and_16bit_alpha(tmp_path) -> None:
    pixels = np.full((4, 6, 1), 40000, np.uint16)
    picture = Picture(pixels, np.full((4, 6), 65535, np.uint16)).with_operation("cutout")
    path = save_image(picture, tmp_path / "cut.png")
    facts = json.loads(run("--json", "info", str(path)).stdout)
    assert (facts["bit_depth"], facts["loads_as"], facts["channels"], facts["alpha"]) == (16, "uint16", "grey", True)
    assert facts["provenance"]["operations"] == ["cutout"]
    assert facts["provenance"]["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert "provenance: compositeWithTrainedAlgorithmicMedia" in run("info", str(path)).stdout


def test_info_on_a_corrupt_file_is_one_line_and_exit_code_2(tmp_path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(encode_with_pillow(blocky_rgb(), "JPEG")[:300])
    result = run("info", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("retouch: error:") and "broken.jpg" in lines[0]
    assert result.stdout == ""

    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    result = run("info", str(text))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_convert_keeps_metadata_and_adds_no_provenance(tmp_path) -> None:
    source = save_image(
        Picture(blocky_rgb(), metadata=Metadata(icc_profile=srgb_profile(), exif=exif_bytes(), xmp=XMP_DC_PACKET,
                                                dpi=(240.0, 240.0))),
        tmp_path / "in.tif",
    )  # fmt: skip
    result = run("convert", str(source), "-o", str(tmp_path / "out.webp"), "--quality", "100")
    assert result.returncode == 0, result.stderr
    assert "out.webp" in result.stdout
    converted = load_image(tmp_path / "out.webp")
    assert np.array_equal(converted.pixels, blocky_rgb())
    assert converted.metadata.icc_profile == srgb_profile()
    assert converted.metadata.xmp == XMP_DC_PACKET and read_provenance(converted.metadata.xmp) is None

    again = run("convert", str(source), "-o", str(tmp_path / "out.webp"))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert run("convert", str(source), "-o", str(tmp_path / "out.webp"), "--overwrite").returncode == 0
