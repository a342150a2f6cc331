"""Formats that cannot hold XMP (BMP, GIF): a warning says what was left out, and the AI-edit provenance goes to
an XMP sidecar file beside the output (NAME.xmp), written atomically."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from retouch.errors import OutputExists, RetouchWarning
from retouch.io import encode_image, load_image, read_provenance, save_image
from retouch.io.formats import FORMATS
from retouch.types import Metadata, Picture

OWN_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Ana Lima</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def edited(xmp: bytes | None = OWN_XMP) -> Picture:
    pixels = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    return Picture(pixels, metadata=Metadata(xmp=xmp, operations=("erase",)))


@pytest.mark.parametrize("suffix", [".bmp", ".gif"])
def test_the_provenance_goes_to_a_sidecar_with_a_warning(suffix: str, tmp_path: Path) -> None:
    with pytest.warns(RetouchWarning, match=r"cannot hold XMP metadata: .*sidecar file .*out\.xmp"):
        target = save_image(edited(), tmp_path / f"out{suffix}")
    sidecar = tmp_path / "out.xmp"
    assert target.exists() and sidecar.exists()
    packet = sidecar.read_bytes()
    assert read_provenance(packet).operations == ("erase",)
    assert b"Ana Lima" in packet  # the picture's own XMP is merged in, as a format with XMP would hold it
    assert {p.name for p in tmp_path.iterdir()} == {"out.xmp", f"out{suffix}"}  # no temporary file left


def test_every_format_without_xmp_gets_its_sidecar(tmp_path: Path) -> None:
    for fmt in (f for f in FORMATS.values() if not f.xmp):
        with pytest.warns(RetouchWarning):
            save_image(edited(), tmp_path / f"{fmt.name}{fmt.extensions[0]}")
        assert read_provenance((tmp_path / f"{fmt.name}.xmp").read_bytes()).operations == ("erase",)


def test_formats_with_xmp_get_no_sidecar_and_no_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetouchWarning)
        save_image(edited(), tmp_path / "out.png")
    assert not (tmp_path / "out.xmp").exists()


def test_without_provenance_there_is_no_sidecar_but_the_loss_is_said(tmp_path: Path) -> None:
    with pytest.warns(RetouchWarning, match="the picture's XMP metadata is not in the file"):
        save_image(edited(), tmp_path / "out.bmp", provenance=False)
    assert not (tmp_path / "out.xmp").exists()
    with warnings.catch_warnings():  # nothing to lose, nothing to say
        warnings.simplefilter("error", RetouchWarning)
        save_image(edited(xmp=None), tmp_path / "bare.bmp", provenance=False)


def test_an_existing_sidecar_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "out.xmp").write_bytes(b"someone else's")
    with pytest.raises(OutputExists, match="out.xmp"):
        save_image(edited(), tmp_path / "out.bmp")
    assert not (tmp_path / "out.bmp").exists()
    assert (tmp_path / "out.xmp").read_bytes() == b"someone else's"
    with pytest.warns(RetouchWarning):
        save_image(edited(), tmp_path / "out.bmp", overwrite=True)
    assert read_provenance((tmp_path / "out.xmp").read_bytes()) is not None


def test_encoding_to_bytes_warns_that_the_provenance_is_missing() -> None:
    with pytest.warns(RetouchWarning, match="AI-edit provenance and the picture's own XMP metadata are not in"):
        data = encode_image(edited(), "gif")
    assert load_image(data).metadata.xmp is None


def test_the_erase_command_writes_the_sidecar_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    save_image(edited(xmp=None).replace(metadata=Metadata()), source)
    command = [str(Path(sys.executable).with_name("retouch")), "erase", str(source), "--box", "4,4,8,8"]
    env = {**os.environ, "RETOUCH_OFFLINE": "1"}
    run = subprocess.run([*command, "-o", str(tmp_path / "out.bmp")], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("retouch: warning: BMP cannot hold XMP metadata") == 1
    assert read_provenance((tmp_path / "out.xmp").read_bytes()).operations[0].startswith("erase")
    quiet = subprocess.run(
        [*command, "--no-provenance", "-o", str(tmp_path / "plain.gif")], capture_output=True, text=True, env=env
    )
    assert quiet.returncode == 0, quiet.stderr
    assert not (tmp_path / "plain.xmp").exists() and "warning" not in quiet.stderr
