"""Hostile XMP: packets nested absurdly deep, entity bombs, DTDs and oversized packets never fail an edit nor
reach a recursion limit; the packet is left out with a warning and the provenance is still written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retouch.errors import RetouchWarning
from retouch.io import load_image, read_provenance, save_image
from retouch.io import xmp as xmp_module
from retouch.io.xmp import add_provenance
from retouch.types import Metadata, Picture

SOFTWARE = "Retouch test"
X = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'


def deep(levels: int) -> bytes:
    return X + b"<a>" * levels + b"</a>" * levels + b"</x:xmpmeta>"


def laughs(encoding: str = "utf-8") -> bytes:
    entities = "".join(
        f'<!ENTITY l{i} "{(f"&l{i - 1};" if i > 1 else "lol") * 10}">' for i in range(1, 10)
    )
    text = f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE x [{entities}]>'
    text += '<x:xmpmeta xmlns:x="adobe:ns:meta/">&l9;</x:xmpmeta>'
    return text.encode(encoding)


HOSTILE = {
    "200k levels deep": deep(200_000),
    "billion laughs": laughs(),
    "billion laughs in UTF-16": laughs("utf-16"),
    "external entity": b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + X + b"&e;</x:xmpmeta>",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_packet_is_left_out_with_a_warning_and_the_provenance_written(name: str) -> None:
    with pytest.warns(RetouchWarning, match="cannot be read"):
        merged = add_provenance(HOSTILE[name], ["erase"], SOFTWARE)
    assert read_provenance(merged).operations == ("erase",)
    assert b"passwd" not in merged and b"lol" not in merged
    assert read_provenance(HOSTILE[name]) is None


def test_nesting_within_the_limit_is_kept() -> None:
    packet = X + b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description/>'
    packet += b"<b>" * 40 + b"kept" + b"</b>" * 40 + b"</rdf:RDF></x:xmpmeta>"
    merged = add_provenance(packet, ["erase"], SOFTWARE)
    assert b"kept" in merged and merged.count(b"<b>") == 40


def test_an_oversized_packet_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmp_module, "MAX_XMP_BYTES", 1000)
    with pytest.warns(RetouchWarning, match="over 1000"):
        merged = add_provenance(X + b"<a>" + b"x" * 2000 + b"</a></x:xmpmeta>", ["erase"], SOFTWARE)
    assert read_provenance(merged).operations == ("erase",)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_saving_an_edit_of_a_picture_with_deep_xmp_succeeds(suffix: str, tmp_path: Path) -> None:
    packet = deep(9_000) if suffix == ".jpg" else deep(200_000)  # a JPEG segment holds 64 KB
    picture = Picture(np.full((16, 16, 3), 90, np.uint8), metadata=Metadata(xmp=packet, operations=("erase",)))
    with pytest.warns(RetouchWarning, match="nested more than"):
        target = save_image(picture, tmp_path / f"out{suffix}")
    assert read_provenance(load_image(target).metadata.xmp).operations == ("erase",)


def test_without_provenance_the_packet_is_copied_as_it_was(tmp_path: Path) -> None:
    packet = deep(200_000)
    picture = Picture(np.full((16, 16, 3), 90, np.uint8), metadata=Metadata(xmp=packet, operations=("erase",)))
    target = save_image(picture, tmp_path / "out.png", provenance=False)  # nothing parsed, nothing to warn about
    assert load_image(target).metadata.xmp == packet


def test_the_erase_command_finishes_with_one_warning_line(tmp_path: Path) -> None:
    source = tmp_path / "deep.png"
    pixels = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    save_image(Picture(pixels, metadata=Metadata(xmp=deep(200_000))), source, provenance=False)
    out = tmp_path / "out.png"
    run = subprocess.run(
        [str(Path(sys.executable).with_name("retouch")), "erase", str(source), "--box", "10,10,12,12", "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "RETOUCH_OFFLINE": "1"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("retouch: warning:")]
    assert len(warnings) == 1 and "XMP metadata cannot be read" in warnings[0]
    assert "Traceback" not in run.stderr and "recursion" not in run.stderr
    assert read_provenance(load_image(out).metadata.xmp).operations[-1].startswith("erase")
