"""XMP provenance: mark a picture as edited with AI, merged into the packet it already has.

What is added (IPTC Photo Metadata 2023.1 and XMP Part 2):
- ``Iptc4xmpExt:DigitalSourceType`` = compositeWithTrainedAlgorithmicMedia (an AI-edited composite), or
  trainedAlgorithmicMedia for a picture made wholly by a model: from a prompt (``retouch generate``) or from a
  photo (``retouch reimagine``);
- ``xmp:CreatorTool`` = "Retouch <version>";
- one ``xmpMM:History`` event per operation (``stEvt:action`` "edited", ``stEvt:parameters`` the operation,
  ``stEvt:softwareAgent``, ``stEvt:when``), appended after the history already recorded.
Every other property of an existing packet is kept, with its namespace prefixes. A packet that cannot be read
is left out, with a RetouchWarning, and replaced by one that holds the provenance: not well-formed XML, more than
``MAX_XMP_BYTES``, elements nested more than ``MAX_XMP_DEPTH`` deep, or a DTD (XMP has none: refusing it refuses
entity expansion, the "billion laughs", before any entity is defined). Every walk over the tree is then shallow,
so no packet can reach Python's recursion limit.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from retouch.errors import RetouchWarning

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_MM = "http://ns.adobe.com/xap/1.0/mm/"
NS_EVENT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_XML = "http://www.w3.org/XML/1998/namespace"
AI_EDITED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
AI_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATED_PREFIX = "generate"  # the operation of a picture made wholly by a model (retouch.tools.generate)
# A variation of a photo (retouch.tools.reimagine): every pixel made anew by a model, the photo only its guide
REIMAGINED_PREFIX = "reimagine"
_PREFERRED = {NS_X: "x", NS_RDF: "rdf", NS_XMP: "xmp", NS_MM: "xmpMM", NS_EVENT: "stEvt", NS_IPTC_EXT: "Iptc4xmpExt"}
_PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_END = '\n<?xpacket end="w"?>'
MAX_XMP_BYTES = 16 * 1024 * 1024  # real packets are kilobytes; Lightroom's with a long history, a few hundred
MAX_XMP_DEPTH = 64  # real packets nest about 10 deep (xmpmeta > RDF > Description > History > Seq > li > ...)
_FEED_BYTES = 64 * 1024
_DTD = "it declares a DTD, which XMP does not allow"


def _escape(text: str) -> str:
    """XML character data: &, < and > escaped (what ``xml.sax.saxutils.escape`` does, without importing it:
    xml.sax.saxutils pulls in urllib.request, http.client, email and ssl, about 30 ms of every command's start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, exactly as ``xml.sax.saxutils.quoteattr`` writes it."""
    text = _escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


RDF_DESCRIPTION, RDF_ABOUT, RDF_SEQ, RDF_LI = (_q(NS_RDF, n) for n in ("Description", "about", "Seq", "li"))
CREATOR_TOOL = _q(NS_XMP, "CreatorTool")
SOURCE_TYPE = _q(NS_IPTC_EXT, "DigitalSourceType")
HISTORY = _q(NS_MM, "History")


@dataclass(frozen=True)
class Provenance:
    """What a packet says about how the picture was made."""

    digital_source_type: str | None
    creator_tool: str | None
    operations: tuple[str, ...]  # the operations a Retouch history event records, oldest first


def add_provenance(xmp: bytes | None, operations: Sequence[str], software: str, when: datetime | None = None) -> bytes:
    """The packet with the AI-edit marks and one history event per operation merged in. A packet that cannot
    be read (see the module's notes) is replaced, with a RetouchWarning that says why."""
    parsed = None
    if xmp:
        try:
            parsed = _parse(xmp)
        except UnreadableXmp as error:
            warnings.warn(
                f"the picture's XMP metadata cannot be read ({error}), so it is left out; the output's XMP holds "
                "only the AI-edit provenance",
                RetouchWarning,
                stacklevel=2,
            )
    root, prefixes = parsed if parsed is not None else (_empty_packet(), {})
    rdf = root.find(_q(NS_RDF, "RDF"))
    assert rdf is not None  # _parse and _empty_packet guarantee it
    descriptions = rdf.findall(RDF_DESCRIPTION)
    for description in descriptions:
        _remove(description, CREATOR_TOOL)
        _remove(description, SOURCE_TYPE)
    target = descriptions[0] if descriptions else ET.SubElement(rdf, RDF_DESCRIPTION, {RDF_ABOUT: ""})
    ET.SubElement(target, CREATOR_TOOL).text = software
    ET.SubElement(target, SOURCE_TYPE).text = source_type(operations)
    sequence = _history_sequence(descriptions, target)
    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    for operation in operations:
        event = ET.SubElement(sequence, RDF_LI, {_q(NS_RDF, "parseType"): "Resource"})
        for name, value in (("action", "edited"), ("parameters", operation), ("softwareAgent", software)):
            ET.SubElement(event, _q(NS_EVENT, name)).text = value
        ET.SubElement(event, _q(NS_EVENT, "when")).text = stamp
    return (_PACKET_START + _serialize(root, prefixes) + _PACKET_END).encode("utf-8")


def source_type(operations: Sequence[str]) -> str:
    """trainedAlgorithmicMedia for a picture a model made from a prompt (its first operation is "generate ...")
    or remade from a photo ("reimagine ...", whatever came before it: none of those pixels is kept),
    compositeWithTrainedAlgorithmicMedia for an edited one."""
    made = bool(operations) and operations[0].startswith(GENERATED_PREFIX)
    remade = any(op.startswith(REIMAGINED_PREFIX) for op in operations)
    return AI_GENERATED if made or remade else AI_EDITED


def read_provenance(xmp: bytes | None) -> Provenance | None:
    """The provenance a packet records, or None when it says nothing about AI or Retouch, or cannot be read."""
    try:
        parsed = _parse(xmp) if xmp else None
    except UnreadableXmp:
        return None
    if parsed is None:
        return None
    rdf = parsed[0].find(_q(NS_RDF, "RDF"))
    descriptions = rdf.findall(RDF_DESCRIPTION) if rdf is not None else []
    source_type = next(filter(None, (_property(d, SOURCE_TYPE) for d in descriptions)), None)
    creator = next(filter(None, (_property(d, CREATOR_TOOL) for d in descriptions)), None)
    operations = []
    for description in descriptions:
        for event in description.iterfind(f"{HISTORY}/{RDF_SEQ}/{RDF_LI}"):
            agent = _property(event, _q(NS_EVENT, "softwareAgent")) or ""
            parameters = _property(event, _q(NS_EVENT, "parameters"))
            if agent.startswith("Retouch") and parameters:
                operations.append(parameters)
    if source_type is None and not operations:
        return None
    return Provenance(source_type, creator, tuple(operations))


def _empty_packet() -> ET.Element:
    root = ET.Element(_q(NS_X, "xmpmeta"))
    ET.SubElement(root, _q(NS_RDF, "RDF"))
    return root


class UnreadableXmp(ValueError):
    """An XMP packet Retouch does not read; the message says why."""


def _parse(xmp: bytes) -> tuple[ET.Element, dict[str, str]] | None:
    """The x:xmpmeta element and the namespace prefixes the packet declared (uri -> prefix); None for well-formed
    XML that is not an XMP packet. Raises UnreadableXmp for what the module's notes list."""
    if len(xmp) > MAX_XMP_BYTES:
        raise UnreadableXmp(f"{len(xmp)} bytes, over {MAX_XMP_BYTES}")
    data = bytes(xmp).strip(b"\0 \t\r\n")
    if b"<!DOCTYPE" in data:  # UTF-8, as XMP nearly always is; other encodings meet _BoundedBuilder.doctype
        raise UnreadableXmp(_DTD)
    builder = _BoundedBuilder()
    parser = ET.XMLParser(target=builder)
    try:
        # In pieces: expat goes on to the end of the data it was given after a handler refused it
        for start in range(0, len(data), _FEED_BYTES):
            parser.feed(data[start : start + _FEED_BYTES])
        root = parser.close()
    except ET.ParseError as error:
        raise UnreadableXmp(f"not well-formed XML: {error}") from None
    if root.tag == _q(NS_RDF, "RDF"):  # a bare rdf:RDF: wrap it
        wrapper = _empty_packet()
        wrapper[:] = [root]
        root = wrapper
    if root.tag not in (_q(NS_X, "xmpmeta"), _q(NS_X, "xapmeta")) or root.find(_q(NS_RDF, "RDF")) is None:
        return None
    return root, builder.prefixes


class _BoundedBuilder(ET.TreeBuilder):
    """A TreeBuilder that refuses a DTD and elements nested too deep, and records the declared prefixes."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.prefixes: dict[str, str] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        if self.depth > MAX_XMP_DEPTH:
            raise UnreadableXmp(f"elements nested more than {MAX_XMP_DEPTH} deep")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return super().end(tag)

    def start_ns(self, prefix: str, uri: str) -> None:
        if prefix and uri not in self.prefixes and prefix not in self.prefixes.values():
            self.prefixes[uri] = prefix

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise UnreadableXmp(_DTD)


def _remove(description: ET.Element, name: str) -> None:
    description.attrib.pop(name, None)
    for child in description.findall(name):
        description.remove(child)


def _property(element: ET.Element, name: str) -> str | None:
    """A simple property, written either as an attribute or as a child element."""
    if name in element.attrib:
        return element.attrib[name]
    child = element.find(name)
    return child.text.strip() if child is not None and child.text else None


def _history_sequence(descriptions: list[ET.Element], target: ET.Element) -> ET.Element:
    history = next((h for d in descriptions if (h := d.find(HISTORY)) is not None), None)
    if history is None:
        history = ET.SubElement(target, HISTORY)
    sequence = history.find(RDF_SEQ)
    if sequence is None:
        history.text = None
        sequence = ET.SubElement(history, RDF_SEQ)
    return sequence


def _serialize(root: ET.Element, declared: dict[str, str]) -> str:
    """Write the tree with the packet's own prefixes; every namespace is declared on the root element."""
    prefixes = dict(declared)

    def prefix(uri: str) -> str:
        if uri == NS_XML:
            return "xml"
        if uri not in prefixes:
            base = _PREFERRED.get(uri, "ns")
            candidate, n = base, 1
            while candidate in prefixes.values():
                n += 1
                candidate = f"{base}{n}"
            prefixes[uri] = candidate
        return prefixes[uri]

    def name(tag: str) -> str:
        if tag.startswith("{"):
            uri, local = tag[1:].split("}", 1)
            return f"{prefix(uri)}:{local}"
        return tag

    def write(element: ET.Element, out: list[str], namespaces: str = "") -> None:
        attributes = "".join(f" {name(k)}={_quoteattr(v)}" for k, v in element.attrib.items())
        tag = name(element.tag)
        if len(element) == 0 and not element.text:
            out.append(f"<{tag}{namespaces}{attributes}/>")
        else:
            out.append(f"<{tag}{namespaces}{attributes}>{_escape(element.text or '')}")
            for child in element:
                write(child, out)
                out.append(_escape(child.tail or ""))
            out.append(f"</{tag}>")

    inner: list[str] = []
    write(root, inner)  # first pass: learn every namespace used
    used = {uri: p for uri, p in prefixes.items() if uri != NS_XML}
    namespaces = "".join(f" xmlns:{p}={_quoteattr(uri)}" for uri, p in used.items())
    out: list[str] = []
    write(root, out, namespaces)
    return "".join(out)
