"""Content Credentials: a signed C2PA manifest embedded in an edited picture's file (c2pa-python, the CAI's
binding of c2pa-rs), beside the provenance XMP.

The manifest records:
- the claim generator, "Retouch" and its version;
- the file the picture was loaded from (``Picture.source_file``, or the ``parent`` a caller names: the server's
  uploaded file) as its parent ingredient, with that file's own manifest when it has one (so an earlier edit's
  credentials stay verifiable); a picture with neither gets an ingredient that names only its format;
- a ``c2pa.opened`` action for the parent, then one action per recorded operation: ``c2pa.cropped`` for a crop,
  else ``c2pa.edited``, each with Retouch as its software agent, the operation (tool and engine or model) as its
  description, and an IPTC digital source type: compositeWithTrainedAlgorithmicMedia where a trained model made
  pixels (the output mixes the photo's pixels with a model's: IPTC's trainedAlgorithmicMedia is for media made
  wholly by a model), compositeSynthetic for the engines that fill from the photo's own pixels without a trained
  model (erase's patch engine, detext's smooth fill), none for a crop. A picture made from a prompt (its first
  operation "generate ...") has no parent: its first action is ``c2pa.created``, trainedAlgorithmicMedia. A
  reimagined one ("reimagine ...") has its photo as parent and a ``c2pa.edited`` action marked
  trainedAlgorithmicMedia: the model made every pixel, the photo guided it.
No thumbnails: an ingredient thumbnail would put a picture of the input, with whatever the edit removed, into
the output (and they cost about 0.3 s and 300 KB on a 12 MP photo).

c2pa embeds into JPEG, PNG, WebP, TIFF, HEIC and GIF; BMP has nowhere to put one. The embedding adds metadata
boxes or segments and leaves the pixel data as encoded. c2pa is imported only here, when a manifest is written.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from retouch.errors import InvalidInput
from retouch.io.formats import ImageFormat, sniff
from retouch.types import crop_box

if TYPE_CHECKING:
    from retouch.io.signing import SigningPair
    from retouch.types import Picture

EMBEDDABLE = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "HEIF", "GIF"})  # the formats c2pa embeds a manifest into
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
MODEL_MADE = IPTC + "compositeWithTrainedAlgorithmicMedia"
ALGORITHM_MADE = IPTC + "compositeSynthetic"
NO_MODEL_ENGINES = ("engine=patch", "engine=smooth")  # fills that copy the photo's own pixels, no trained model
_PARENT = "parent"
CERTIFICATE_NEEDS = (
    "C2PA signs with a certificate issued by a CA, not a self-signed one, with the digitalSignature key usage, an "
    "extended key usage such as emailProtection or documentSigning, and the chain in the PEM file, signer first"
)



@dataclass(frozen=True)
class Parent:
    """The input file an output was made from: its name and its bytes, or a binary file open on them (read from
    where it stands, so a large input need not be held in memory)."""

    title: str
    data: bytes | BinaryIO


def attach_credentials(
    data: bytes,
    fmt: ImageFormat,
    picture: Picture,
    title: str,
    signing: Path | SigningPair,
    parent: Parent | None = None,
) -> bytes:
    """``data`` (the encoded file) with a signed manifest for ``picture``'s recorded operations embedded; unchanged
    for a format c2pa cannot embed into or a picture with no operations. ``title``: the output's file name.
    ``signing``: the pair to sign with, or the Retouch home folder to find it in (see retouch.io.signing).
    ``parent``: the input file, else the file the picture was loaded from. Raises InvalidInput when signing fails
    (an unusable certificate or key, say): the caller then writes nothing."""
    operations = picture.metadata.operations
    if fmt.name not in EMBEDDABLE or not operations:
        return data
    import c2pa

    from retouch.io.signing import signing_pair

    pair = signing_pair(signing) if isinstance(signing, Path) else signing
    parent = parent or _source_file(picture.source_file)
    manifest = _manifest(operations, title, picture, parent_known=parent is not None)
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(pair.algorithm, pair.chain, pair.key, None))
        context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        with c2pa.Builder(manifest, context) as builder:
            if parent is not None:
                stream = io.BytesIO(parent.data) if isinstance(parent.data, bytes) else parent.data
                found = sniff(stream.read(32))
                stream.seek(0)
                ingredient = {"title": parent.title, "relationship": "parentOf", "label": _PARENT}
                mime = found.mime if found is not None else "application/octet-stream"
                builder.add_ingredient(ingredient, mime, stream)
            signed = io.BytesIO()
            builder.sign(signer, fmt.mime, io.BytesIO(data), signed)
    except c2pa.C2paError as error:
        reason = " ".join(str(error).split())[:300]
        if "certificate" in reason.lower():
            reason += f" ({CERTIFICATE_NEEDS})"
        raise InvalidInput(f"cannot sign the Content Credentials with {pair.origin}: {reason}") from error
    return signed.getvalue()


def action_for(operation: str) -> dict[str, Any]:
    """The C2PA action that records one Retouch operation."""
    from retouch._version import __version__
    from retouch.io.xmp import AI_GENERATED, GENERATED_PREFIX, REIMAGINED_PREFIX

    if operation.startswith(GENERATED_PREFIX):  # made from a prompt: created, wholly by a trained model
        return {
            "action": "c2pa.created",
            "softwareAgent": {"name": "Retouch", "version": __version__},
            "description": operation,
            "digitalSourceType": AI_GENERATED,
        }
    action: dict[str, Any] = {
        "action": "c2pa.cropped" if crop_box(operation) else "c2pa.edited",
        "softwareAgent": {"name": "Retouch", "version": __version__},
        "description": operation,
    }
    if operation.startswith(REIMAGINED_PREFIX):
        action["digitalSourceType"] = AI_GENERATED
    elif not crop_box(operation):
        action["digitalSourceType"] = ALGORITHM_MADE if any(e in operation for e in NO_MODEL_ENGINES) else MODEL_MADE
    return action


def _manifest(operations: tuple[str, ...], title: str, picture: Picture, *, parent_known: bool) -> dict[str, Any]:
    from retouch._version import __version__
    from retouch.io.xmp import GENERATED_PREFIX

    generated = operations[0].startswith(GENERATED_PREFIX)  # no input: the first action creates the picture
    opened = [] if generated else [{"action": "c2pa.opened", "parameters": {"ingredientIds": [_PARENT]}}]
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": "Retouch", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [*opened, *(action_for(op) for op in operations)]}}
        ],
    }
    if not parent_known and not generated:  # the first action opens an ingredient: name what is known of the input
        source = picture.metadata.source_format
        mime = _mime_named(source) if source else "application/octet-stream"
        manifest["ingredients"] = [
            {"title": "the input image", "format": mime, "relationship": "parentOf", "label": _PARENT}
        ]
    return manifest


def _source_file(path: Path | None) -> Parent | None:
    """The input file, or None when there is none or it cannot be read any more (moved, deleted)."""
    if path is None:
        return None
    try:
        with open(os.fspath(path), "rb") as file:
            return Parent(path.name, file.read())
    except OSError:
        return None


def _mime_named(pillow_format: str) -> str:
    from retouch.io.formats import FORMATS

    known = FORMATS.get(pillow_format)
    return known.mime if known is not None else "application/octet-stream"
