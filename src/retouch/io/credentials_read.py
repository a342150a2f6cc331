"""Read and validate a file's Content Credentials (its C2PA manifest), whoever wrote them, for ``retouch info``.

c2pa-rs validates as it reads: the claim's signature, the hashes that bind the manifest to the file's bytes,
and each ingredient's own manifest. Its verdict (``state``) is "Trusted" when the signer's certificate chains to
a trust list the reader was given, "Valid" when everything checks out but the signer is not on one (then the only
failure is ``signingCredential.untrusted``, as for every file signed with Retouch's local key), "Invalid"
otherwise. No trust list is configured here, and nothing is fetched from the network (no remote manifests, no
OCSP), so reading a file never waits on a server.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from retouch.io.formats import sniff

UNTRUSTED = "signingCredential.untrusted"


@dataclass(frozen=True)
class CredentialAction:
    action: str  # "c2pa.opened", "c2pa.edited", ...
    description: str | None
    software: str | None  # the software agent, "Retouch 0.1.0"
    digital_source_type: str | None  # the IPTC code's last part, "compositeWithTrainedAlgorithmicMedia"


@dataclass(frozen=True)
class CredentialIngredient:
    title: str | None
    relationship: str | None  # "parentOf", "componentOf", "inputTo"
    format: str | None
    has_credentials: bool  # it carried a manifest of its own, kept inside this one


@dataclass(frozen=True)
class Credentials:
    """What a file's active manifest says, and whether it holds up."""

    state: str  # c2pa's verdict: "Trusted", "Valid" or "Invalid" (see the module's notes)
    claim_generator: str | None  # "Retouch 0.1.0"
    title: str | None
    signer: str | None  # the signing certificate's common name and organisation
    algorithm: str | None
    signed_at: str | None  # the signature's time stamp, when a time-stamp authority gave one
    actions: tuple[CredentialAction, ...] = ()
    ingredients: tuple[CredentialIngredient, ...] = ()
    failures: tuple[str, ...] = field(default=())  # "code: explanation", the file's and its ingredients'

    @property
    def untrusted_only(self) -> bool:
        """Everything checks out except that the signer is on no trust list."""
        return all(f.startswith(UNTRUSTED) for f in self.failures)


def read_credentials(data: bytes) -> Credentials | None:
    """The Content Credentials embedded in a file's bytes, validated; None when it has none or c2pa cannot read
    its format. A manifest too damaged to parse is reported as "Invalid" with c2pa's error as the failure."""
    import c2pa

    found = sniff(data)
    if found is None or found.mime not in c2pa.Reader.get_supported_mime_types():
        return None
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}})
    try:
        reader = c2pa.Reader.try_create(found.mime, io.BytesIO(data), None, context)
    except c2pa.C2paError as error:
        reason = " ".join(str(error).split())[:300]
        return Credentials("Invalid", None, None, None, None, None, failures=(reason,))
    if reader is None:
        return None
    with reader:
        manifest = reader.get_active_manifest() or {}
        state = reader.get_validation_state() or "Invalid"
        results = reader.get_validation_results() or {}
    return _summary(manifest, state, results)


def _summary(manifest: dict[str, Any], state: str, results: dict[str, Any]) -> Credentials:
    generators = manifest.get("claim_generator_info") or []
    first = generators[0] if generators else {}
    generator = " ".join(filter(None, (first.get("name"), first.get("version")))) or None
    signature = manifest.get("signature_info") or {}
    # c2pa's "issuer" is the organisation named in the signing certificate's subject.
    signer = ", ".join(filter(None, (signature.get("common_name"), signature.get("issuer")))) or None
    actions = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions.extend(_action(a) for a in (assertion.get("data") or {}).get("actions") or [])
    ingredients = tuple(
        CredentialIngredient(i.get("title"), i.get("relationship"), i.get("format"), bool(i.get("active_manifest")))
        for i in manifest.get("ingredients") or []
    )
    failures = [_said(f) for f in (results.get("activeManifest") or {}).get("failure") or []]
    for delta in results.get("ingredientDeltas") or []:
        failures.extend(f"ingredient: {_said(f)}" for f in (delta.get("validationDeltas") or {}).get("failure") or [])
    return Credentials(
        state=state,
        claim_generator=generator,
        title=manifest.get("title"),
        signer=signer,
        algorithm=signature.get("alg"),
        signed_at=signature.get("time"),
        actions=tuple(actions),
        ingredients=ingredients,
        failures=tuple(failures),
    )


def _action(action: dict[str, Any]) -> CredentialAction:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        agent = " ".join(filter(None, (agent.get("name"), agent.get("version"))))
    source = action.get("digitalSourceType")
    return CredentialAction(
        action=str(action.get("action")),
        description=action.get("description"),
        software=agent or None,
        digital_source_type=source.rsplit("/", 1)[-1] if isinstance(source, str) else None,
    )


def _said(status: dict[str, Any]) -> str:
    return f"{status.get('code')}: {status.get('explanation') or ''}".rstrip(": ")
