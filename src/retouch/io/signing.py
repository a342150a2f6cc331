"""The certificate and key that sign Content Credentials: the user's own, or a local pair Retouch makes once.

The user's pair comes from ``RETOUCH_SIGN_CERT`` and ``RETOUCH_SIGN_KEY`` (paths to PEM files: the certificate
chain, signer first, and its private key), else from ``$RETOUCH_HOME/signing.toml``::

    certificate = "/path/to/chain.pem"
    private_key = "/path/to/key.pem"

Otherwise Retouch creates, on first use, a P-256 key and a certificate for it in ``$RETOUCH_HOME/signing/`` (the
folder 0700, the files 0600), and says so once with a RetouchWarning. c2pa refuses to sign with a self-signed
certificate, so the local certificate is issued by a small local CA made at the same time; that CA's key signs
this one certificate and is then thrown away, so nothing can issue another under it. No one else trusts this CA:
readers report such manifests as valid but signed by an untrusted signer.

cryptography is imported only when the local pair is created or the user's key is read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from retouch.errors import InvalidInput, RetouchWarning

CERT_VARIABLE = "RETOUCH_SIGN_CERT"
KEY_VARIABLE = "RETOUCH_SIGN_KEY"
CONFIG_NAME = "signing.toml"
LOCAL_FOLDER = "signing"
CHAIN_NAME = "chain.pem"
KEY_NAME = "key.pem"
_VALID_DAYS = 10 * 365


@dataclass(frozen=True)
class SigningPair:
    """A certificate chain (PEM, signer first) and its private key (PEM), with the c2pa algorithm they sign with."""

    chain: bytes
    key: bytes
    algorithm: str  # "es256", "es384", "es512", "ps256" or "ed25519"
    origin: str  # where the pair came from, for error messages


def signing_pair(home: Path) -> SigningPair:
    """The pair to sign with: the user's (environment, then ``home/signing.toml``), else the local one in
    ``home/signing/``, created now when missing (said once, with a RetouchWarning). Raises InvalidInput for a
    configuration that cannot be used."""
    pair, created = find_or_create_pair(home)
    if created is not None:
        warnings.warn(created_notice(created, "--no-provenance"), RetouchWarning, stacklevel=3)
    return pair


def find_or_create_pair(home: Path) -> tuple[SigningPair, Path | None]:
    """``signing_pair`` without the warning: the pair, and the folder of the local pair when this call created it
    (else None), for callers that tell the user their own way (the server logs it)."""
    configured = _configured(home)
    if configured is not None:
        cert_path, key_path, origin = configured
        return _read_pair(cert_path, key_path, origin), None
    folder = home / LOCAL_FOLDER
    created = not (folder / KEY_NAME).is_file() and _create_local(folder)
    # The local key is always P-256: knowing that spares importing cryptography to read it (about 35 ms).
    pair = _read_pair(folder / CHAIN_NAME, folder / KEY_NAME, f"the local signing key in {folder}", "es256")
    return pair, folder if created else None


def created_notice(folder: Path, off_switch: str) -> str:
    """What the user is told once, when the local pair is created; ``off_switch``: the option that turns it off."""
    return (
        f"created a signing key for Content Credentials in {folder} (a local certificate that no one else "
        f"trusts); set {CERT_VARIABLE} and {KEY_VARIABLE} to sign with your own, or use {off_switch}"
    )


def _configured(home: Path) -> tuple[Path, Path, str] | None:
    cert, key = os.environ.get(CERT_VARIABLE), os.environ.get(KEY_VARIABLE)
    if cert or key:
        if not (cert and key):
            missing = KEY_VARIABLE if cert else CERT_VARIABLE
            raise InvalidInput(f"{missing} is not set: set both {CERT_VARIABLE} and {KEY_VARIABLE}, or neither")
        return Path(cert).expanduser(), Path(key).expanduser(), f"{CERT_VARIABLE} and {KEY_VARIABLE}"
    config = home / CONFIG_NAME
    if not config.is_file():
        return None
    import tomllib

    try:
        values = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"cannot read {config}: {error}") from error
    cert, key = values.get("certificate"), values.get("private_key")
    if not (isinstance(cert, str) and isinstance(key, str)):
        raise InvalidInput(f"{config} must set certificate = \"PATH\" and private_key = \"PATH\" (PEM files)")
    # Relative paths are read from the Retouch home, where the file is.
    return home / Path(cert).expanduser(), home / Path(key).expanduser(), str(config)


def _read_pair(cert_path: Path, key_path: Path, origin: str, algorithm: str | None = None) -> SigningPair:
    try:
        chain, key = cert_path.read_bytes(), key_path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read the signing certificate or key ({origin}): {error}") from error
    if b"-----BEGIN CERTIFICATE-----" not in chain:
        raise InvalidInput(f"{cert_path} holds no PEM certificate ({origin})")
    return SigningPair(chain, key, algorithm or _algorithm(key, key_path), origin)


def _algorithm(key_pem: bytes, path: Path) -> str:
    """The c2pa signing algorithm that fits the key: ES256/384/512 for P-256/384/521, PS256 for RSA, Ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"{path} is not an unencrypted PEM private key: {error}") from error
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
        raise InvalidInput(f"{path}: C2PA signs with P-256, P-384 or P-521 keys, not {key.curve.name}")
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise InvalidInput(f"{path}: C2PA cannot sign with a {type(key).__name__}")


def _create_local(folder: Path) -> bool:
    """Make the local CA, the signer's key and certificate, in a temporary folder moved into place in one rename.
    False when another process created them first (its pair is used)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{LOCAL_FOLDER}.", dir=folder.parent))  # 0700
    try:
        chain, key = new_local_pair()
        for name, data in ((CHAIN_NAME, chain), (KEY_NAME, key)):
            descriptor = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        try:
            os.rename(staging, folder)
        except OSError as error:
            if (folder / KEY_NAME).is_file():
                return False
            if folder.is_dir():  # left half-made or half-deleted: nothing here can say which key is meant
                raise InvalidInput(
                    f"{folder} holds no {KEY_NAME}: delete that folder and Retouch makes a new local signing key"
                ) from error
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def new_local_pair() -> tuple[bytes, bytes]:
    """(chain PEM: signer then CA, signer's key PEM). The signer's certificate has what c2pa's certificate
    profile asks of a signing certificate: not a CA, digitalSignature key usage, an extended key usage
    (emailProtection, which c2pa accepts), key identifiers, and an issuer that is not itself."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Retouch (local, unverified)"),
            ]
        )

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
        )  # fmt: skip

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=_VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Retouch local CA"))
        .issuer_name(name("Retouch local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(name("Retouch local signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = signer.public_bytes(pem) + ca.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return chain, key_pem
