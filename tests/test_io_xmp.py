"""Provenance: AI-edited pictures say so in their XMP, merged into what the packet already said."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from imagegen import XMP_DC_PACKET, blocky_rgb, exif_fields

import retouch
from shared_data import EVAL
from retouch.io import load_image, read_provenance, save_image
from retouch.io.xmp import AI_EDITED, add_provenance
from retouch.types import Metadata, Picture

SOFTWARE = f"Retouch {retouch.__version__}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
EVENT = "{http://ns.adobe.com/xap/1.0/sType/ResourceEvent#}"
REAL_PHOTO = EVAL / "faces/gfpgan_inputs/whole_imgs/00.jpg"


def _edited(xmp: bytes | None = XMP_DC_PACKET) -> Picture:
    picture = Picture(blocky_rgb(), metadata=Metadata(xmp=xmp))
    return picture.with_operation("erase").with_operation("upscale x2")


def _root(xmp: bytes) -> ET.Element:
    return ET.fromstring(xmp.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])


def test_provenance_marks_ai_editing_and_lists_operations() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    merged = add_provenance(None, ["erase", "upscale x2"], SOFTWARE, when)
    provenance = read_provenance(merged)
    assert provenance is not None
    assert provenance.digital_source_type == AI_EDITED
    assert provenance.creator_tool == SOFTWARE == "Retouch 0.1.0"
    assert provenance.operations == ("erase", "upscale x2")
    events = _root(merged).findall(f".//{RDF}li")
    assert [e.find(f"{EVENT}action").text for e in events] == ["edited", "edited"]
    assert {e.find(f"{EVENT}when").text for e in events} == {"2026-01-02T03:04:05+00:00"}
    assert merged.startswith(b"<?xpacket begin=") and merged.endswith(b'<?xpacket end="w"?>')


def test_merge_keeps_every_other_property_and_its_prefixes() -> None:
    merged = add_provenance(XMP_DC_PACKET, ["erase"], SOFTWARE)
    root = _root(merged)
    assert [li.text for li in root.iter(f"{RDF}li") if li.text] == ["Ana Lima", "Harbour at dawn"]
    title = root.find(f".//{DC}title/{RDF}Alt/{RDF}li")
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"
    description = root.find(f".//{RDF}Description")
    assert description.get("{http://ns.adobe.com/photoshop/1.0/}City") == "Lisbon"
    text = merged.decode()
    assert "<dc:creator>" in text and 'photoshop:City="Lisbon"' in text  # the packet's own prefixes
    assert "Darkroom 7" not in text  # the previous CreatorTool is replaced, not duplicated
    assert text.count("CreatorTool") == 2  # one element: open and close tag


def test_history_is_appended_across_sessions() -> None:
    first = add_provenance(XMP_DC_PACKET, ["erase"], SOFTWARE)
    second = add_provenance(first, ["relight"], SOFTWARE)
    assert read_provenance(second).operations == ("erase", "relight")
    assert second.decode().count("DigitalSourceType") == 2  # still one property


def test_no_operations_means_no_provenance(tmp_path) -> None:
    untouched = Picture(blocky_rgb(), metadata=Metadata(xmp=XMP_DC_PACKET))
    assert load_image(save_image(untouched, tmp_path / "a.jpg")).metadata.xmp == XMP_DC_PACKET
    bare = load_image(save_image(Picture(blocky_rgb()), tmp_path / "b.png")).metadata
    assert bare.xmp is None
    opted_out = save_image(_edited(), tmp_path / "c.png", provenance=False)
    assert load_image(opted_out).metadata.xmp == XMP_DC_PACKET


@pytest.mark.parametrize("suffix", ["jpg", "png", "webp", "tif", "heic"])
def test_every_xmp_format_carries_the_provenance(suffix: str, tmp_path) -> None:
    back = load_image(save_image(_edited(), tmp_path / f"edited.{suffix}"))
    provenance = read_provenance(back.metadata.xmp)
    assert provenance is not None
    assert provenance.digital_source_type == AI_EDITED and provenance.creator_tool == SOFTWARE
    assert provenance.operations == ("erase", "upscale x2")
    assert b"Ana Lima" in back.metadata.xmp


def test_a_packet_that_is_not_xml_is_replaced_by_a_valid_one() -> None:
    merged = add_provenance(b"<x:xmpmeta><broken", ["erase"], SOFTWARE)
    assert read_provenance(merged).operations == ("erase",)


def test_a_bare_rdf_packet_is_wrapped() -> None:
    bare = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/png"/></rdf:RDF>'
    )
    merged = add_provenance(bare, ["cutout"], SOFTWARE)
    assert _root(merged).tag == "{adobe:ns:meta/}xmpmeta"
    assert b'dc:format="image/png"' in merged
    assert read_provenance(merged).operations == ("cutout",)


@pytest.mark.skipif(not REAL_PHOTO.exists(), reason=f"evaluation photo not present: {REAL_PHOTO}")
@pytest.mark.parametrize("suffix", ["jpg", "png", "tif", "webp"])
def test_real_photo_keeps_exif_dpi_and_xmp_when_edited(suffix: str, tmp_path) -> None:
    """A real camera-roll JPEG: EXIF (Software tag), DPI 300 and an XMP packet spread over several
    rdf:Description elements with an old 'xap' prefix and an element-form CreatorTool."""
    original = load_image(REAL_PHOTO)
    assert original.metadata.exif and original.metadata.xmp and original.metadata.dpi == (300.0, 300.0)
    software = exif_fields(original.metadata.exif)
    detail = np.ascontiguousarray(original.pixels[720:400:-1, 300:700])  # a flipped crop keeps the test quick
    edited = original.replace(pixels=detail).with_operation("erase")
    back = load_image(save_image(edited, tmp_path / f"photo.{suffix}"))
    assert exif_fields(back.metadata.exif) == software
    if suffix != "webp":
        assert back.metadata.dpi == (300.0, 300.0)
    xmp = back.metadata.xmp.decode()
    for kept in ("<exif:PixelXDimension>1920</exif:PixelXDimension>", "adobe:docid:photoshop:5e50f731"):
        assert kept in xmp
    assert "Microsoft Windows Photo Viewer" not in xmp  # the old CreatorTool, replaced
    provenance = read_provenance(back.metadata.xmp)
    assert provenance.operations == ("erase",) and provenance.creator_tool == SOFTWARE


@pytest.mark.parametrize(
    "text", ["", "plain", "a&b<c>d", 'say "hi"', "it's", "both \" and '", "line\nbreak\rand\ttab", "&amp; ü"]
)
def test_escaping_is_the_standard_librarys(text: str) -> None:
    """The packet writer's own escapers (kept so that writing a file does not import xml.sax.saxutils and,
    through it, urllib.request) write exactly what xml.sax.saxutils writes."""
    from xml.sax.saxutils import escape, quoteattr

    from retouch.io.xmp import _escape, _quoteattr

    assert _escape(text) == escape(text)
    assert _quoteattr(text) == quoteattr(text)
