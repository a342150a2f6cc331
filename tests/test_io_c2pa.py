"""Content Credentials: every edited output Retouch writes carries a C2PA manifest that c2pa-python reads and
validates, names Retouch and the edit, keeps the input as its parent ingredient (with the input's own manifest),
and is signed with the user's certificate when one is configured, else with a local key made once.

The whole suite signs with a pair named by RETOUCH_SIGN_CERT and RETOUCH_SIGN_KEY (see conftest.py); the tests of
the local key remove those variables and use a temporary RETOUCH_HOME. Retouch's certificates chain to no trust
list, so c2pa reports their manifests as "Valid" with exactly one failure, signingCredential.untrusted: the
signature and every hash check out, the signer is just not one that c2pa's readers were told to trust.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import c2pa
import numpy as np
import pytest
from PIL import Image

from retouch.errors import InvalidInput, RetouchWarning
from retouch.io import load_image, read_provenance, save_image
from retouch.io.credentials_read import UNTRUSTED, read_credentials
from retouch.io.signing import CERT_VARIABLE, KEY_VARIABLE
from retouch._version import __version__
from retouch.tools.erase import erase
from retouch.types import Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))
WIDTH, HEIGHT = 96, 64
MODEL_MADE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
NO_MODEL = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"


def photo() -> np.ndarray:
    """A smooth gradient with a little noise: something a patch fill and a JPEG encoder treat like a photo."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([x * 2.5, y * 3.5, (x + y) * 1.5], axis=2)
    noise = np.random.default_rng(3).normal(0, 4, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_input(folder: Path, name: str = "photo.jpg") -> Path:
    path = folder / name
    Image.fromarray(photo()).save(path, quality=92)
    return path


def erased(source: Path) -> Picture:
    picture = load_image(source)
    hole = np.zeros((HEIGHT, WIDTH), bool)
    hole[20:36, 30:50] = True
    return erase(picture, hole, engine="patch", grow=0)


def c2pa_verdict(path: Path) -> tuple[str, list[str], dict]:
    """c2pa-python's own reading: validation state, failure codes, active manifest."""
    with open(path, "rb") as file, c2pa.Reader(path.suffix.lstrip("."), file) as reader:
        results = reader.get_validation_results()
        failures = [f["code"] for f in results["activeManifest"]["failure"]]
        return reader.get_validation_state(), failures, reader.get_active_manifest()


def retouch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RETOUCH, *args], check=False, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


@pytest.mark.filterwarnings("ignore:GIF cannot hold XMP metadata")  # said, and tested, in test_io_sidecar.py
@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif", ".heic", ".gif"])
def test_an_erased_picture_carries_a_valid_manifest_naming_retouch_and_the_edit(suffix: str, tmp_path: Path) -> None:
    source = write_input(tmp_path)
    result = erased(source)
    target = save_image(result, tmp_path / f"out{suffix}")

    state, failures, manifest = c2pa_verdict(target)
    assert state == "Valid" and failures == [UNTRUSTED]
    assert manifest["claim_generator_info"][0]["name"] == "Retouch"
    assert manifest["claim_generator_info"][0]["version"] == __version__
    assert manifest["title"] == f"out{suffix}"
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    edit = actions[1]
    assert edit["description"] == "erase (engine=patch)"
    assert edit["softwareAgent"] == {"name": "Retouch", "version": __version__}
    assert edit["digitalSourceType"] == NO_MODEL  # the patch engine fills from the photo, with no trained model
    (parent,) = manifest["ingredients"]
    assert parent["title"] == "photo.jpg" and parent["relationship"] == "parentOf"
    assert parent["format"] == "image/jpeg"
    assert "thumbnail" not in parent and "thumbnail" not in manifest  # no picture of what was erased

    # The embedding adds metadata only: the pixels decode as they do from the same save without it.
    plain = save_image(result, tmp_path / f"plain{suffix}", provenance=False)
    assert read_credentials(plain.read_bytes()) is None
    assert np.array_equal(load_image(target).pixels, load_image(plain).pixels)
    xmp = load_image(target).metadata.xmp if suffix != ".gif" else (tmp_path / "out.xmp").read_bytes()  # sidecar
    assert read_provenance(xmp).operations == ("erase (engine=patch)",)


def test_a_model_made_edit_is_marked_as_composite_with_trained_algorithmic_media(tmp_path: Path) -> None:
    picture = load_image(write_input(tmp_path)).with_operation("cutout (model=u2netp)").cropped(0, 0, 40, 30)
    (_, _, manifest) = c2pa_verdict(save_image(picture, tmp_path / "out.png"))
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited", "c2pa.cropped"]
    assert actions[1]["digitalSourceType"] == MODEL_MADE
    assert "digitalSourceType" not in actions[2]  # a crop makes no pixels


def test_the_input_s_own_manifest_is_kept_in_its_ingredient(tmp_path: Path) -> None:
    first = save_image(erased(write_input(tmp_path)), tmp_path / "first.jpg")
    again = load_image(first)
    hole = np.zeros((HEIGHT, WIDTH), bool)
    hole[5:15, 5:15] = True
    second = save_image(erase(again, hole, engine="patch", grow=0), tmp_path / "second.png")

    found = read_credentials(second.read_bytes())
    assert found is not None and found.state == "Valid" and found.untrusted_only
    (parent,) = found.ingredients
    assert parent.title == "first.jpg" and parent.has_credentials
    with open(second, "rb") as file, c2pa.Reader("png", file) as reader:
        store = json.loads(reader.json())
        deltas = reader.get_validation_results()["ingredientDeltas"][0]["validationDeltas"]
    assert "ingredient.manifest.validated" in [s["code"] for s in deltas["success"]]
    # The first edit's manifest travels inside the second's store, with its own actions.
    (earlier,) = [m for label, m in store["manifests"].items() if label != store["active_manifest"]]
    assert earlier["title"] == "first.jpg"


def test_no_provenance_writes_no_manifest_and_no_xmp_mark(tmp_path: Path) -> None:
    source = write_input(tmp_path)
    run = retouch("erase", str(source), "--box", "30,20,20,16", "--no-provenance", "-o", str(tmp_path / "out.jpg"))
    assert run.returncode == 0, run.stderr
    data = (tmp_path / "out.jpg").read_bytes()
    assert read_credentials(data) is None and b"c2pa" not in data
    assert read_provenance(load_image(data).metadata.xmp) is None


def test_a_configured_certificate_signs_from_the_environment_or_the_home_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("RETOUCH_HOME", str(home))
    chain, key = own_pair(tmp_path, "Ana Lima")
    monkeypatch.setenv(CERT_VARIABLE, str(chain))
    monkeypatch.setenv(KEY_VARIABLE, str(key))
    result = erased(write_input(tmp_path))
    found = read_credentials(save_image(result, tmp_path / "by_env.jpg").read_bytes())
    assert found is not None and found.signer == "Ana Lima, Ana's studio" and found.untrusted_only

    monkeypatch.delenv(CERT_VARIABLE)
    monkeypatch.delenv(KEY_VARIABLE)
    other_chain, other_key = own_pair(tmp_path / "config", "Studio Nord")  # relative paths: from the home
    (home / "pair").mkdir()
    os.replace(other_chain, home / "pair" / "chain.pem")
    os.replace(other_key, home / "pair" / "key.pem")
    (home / "signing.toml").write_text('certificate = "pair/chain.pem"\nprivate_key = "pair/key.pem"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetouchWarning)  # a configured pair creates nothing and says nothing
        target = save_image(result, tmp_path / "by_config.jpg")
    found = read_credentials(target.read_bytes())
    assert found is not None and found.signer == "Studio Nord, Ana's studio"
    assert not (home / "signing").exists()


def test_the_local_key_is_made_once_kept_private_reused_and_announced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"RETOUCH_HOME": str(tmp_path / "home"), "RETOUCH_OFFLINE": "1"}
    for name in (CERT_VARIABLE, KEY_VARIABLE):
        monkeypatch.delenv(name)
    source = write_input(tmp_path)
    box = ("--box", "30,20,20,16")
    first = retouch("erase", str(source), *box, "-o", str(tmp_path / "one.jpg"), env=env)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "home" / "signing"
    notice = [line for line in first.stderr.splitlines() if "signing key" in line]
    said = (
        f"retouch: warning: created a signing key for Content Credentials in {folder} (a local certificate that no "
        f"one else trusts); set {CERT_VARIABLE} and {KEY_VARIABLE} to sign with your own, or use --no-provenance"
    )
    assert notice == [said]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("key.pem", "chain.pem"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    key = (folder / "key.pem").read_bytes()

    second = retouch("erase", str(source), *box, "-o", str(tmp_path / "two.png"), env=env)
    assert second.returncode == 0 and "signing key" not in second.stderr
    assert (folder / "key.pem").read_bytes() == key
    signers_of = ("one.jpg", "two.png")
    signers = {read_credentials((tmp_path / name).read_bytes()).signer for name in signers_of}
    assert signers == {"Retouch local signer, Retouch (local, unverified)"}
    # The same certificate signed both: c2pa reports the same serial number.
    serials = {c2pa_verdict(tmp_path / name)[2]["signature_info"]["cert_serial_number"] for name in signers_of}
    assert len(serials) == 1


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({CERT_VARIABLE: "{chain}", KEY_VARIABLE: ""}, f"{KEY_VARIABLE} is not set"),
        ({CERT_VARIABLE: "{chain}", KEY_VARIABLE: "{chain}"}, "is not an unencrypted PEM private key"),
        ({CERT_VARIABLE: "{missing}", KEY_VARIABLE: "{key}"}, "cannot read the signing certificate or key"),
        ({CERT_VARIABLE: "{self_signed}", KEY_VARIABLE: "{self_key}"}, "cannot sign the Content Credentials"),
    ],
)
def test_an_unusable_signing_setup_is_one_error_line_and_writes_nothing(
    variables: dict[str, str], message: str, tmp_path: Path
) -> None:
    chain, key = own_pair(tmp_path, "Ana Lima")
    self_chain, self_key = self_signed(tmp_path)
    names = {"chain": chain, "key": key, "missing": tmp_path / "nowhere.pem", "self_signed": self_chain,
             "self_key": self_key}  # fmt: skip
    env = {name: value.format(**names) for name, value in variables.items()}
    source = write_input(tmp_path)
    run = retouch("erase", str(source), "--box", "30,20,20,16", "-o", str(tmp_path / "out.jpg"), env=env)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("retouch: error: ") and message in line
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out"))) == []


def test_info_shows_and_validates_the_manifest(tmp_path: Path) -> None:
    source = write_input(tmp_path)
    target = save_image(erased(source), tmp_path / "out.jpg")

    human = retouch("info", str(target))
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    assert f"  Content Credentials: valid (signer not on a trust list), made with Retouch {__version__}" in lines
    assert "    action c2pa.edited: erase (engine=patch) [compositeSynthetic]" in lines
    assert "    ingredient photo.jpg (parentOf, image/jpeg)" in lines
    assert f"    failure {UNTRUSTED}: signing certificate untrusted" in lines
    assert any(line.startswith("    signed by ") for line in lines)

    facts = json.loads(retouch("info", "--json", str(target)).stdout)["content_credentials"]
    assert facts["state"] == "Valid" and facts["untrusted_only"]
    assert facts["actions"][1]["description"] == "erase (engine=patch)"

    assert "  Content Credentials: none" in retouch("info", str(source)).stdout.splitlines()

    # A pixel changed after signing breaks the hash that binds the manifest to the file: info says so.
    tampered = bytearray(target.read_bytes())
    tampered[-200] ^= 0x01
    (tmp_path / "tampered.jpg").write_bytes(bytes(tampered))
    facts = json.loads(retouch("info", "--json", str(tmp_path / "tampered.jpg")).stdout)["content_credentials"]
    assert facts["state"] == "Invalid" and not facts["untrusted_only"]
    assert any(f.startswith("assertion.dataHash.mismatch") for f in facts["failures"])


def test_bmp_gets_no_manifest_but_keeps_its_xmp_sidecar(tmp_path: Path) -> None:
    with pytest.warns(RetouchWarning, match="sidecar"):
        target = save_image(erased(write_input(tmp_path)), tmp_path / "out.bmp")
    assert read_credentials(target.read_bytes()) is None
    assert read_provenance((tmp_path / "out.xmp").read_bytes()).operations == ("erase (engine=patch)",)


def test_a_picture_not_loaded_from_a_file_names_its_input_by_format(tmp_path: Path) -> None:
    data = write_input(tmp_path).read_bytes()
    picture = load_image(data).with_operation("erase (engine=lama)")
    assert picture.source_file is None
    found = read_credentials(save_image(picture, tmp_path / "out.png").read_bytes())
    assert found is not None and found.untrusted_only
    (parent,) = found.ingredients
    assert (parent.title, parent.format, parent.has_credentials) == ("the input image", "image/jpeg", False)


def test_signing_failure_in_the_api_raises_invalid_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, str(tmp_path / "nowhere.pem"))
    with pytest.raises(InvalidInput, match="cannot read the signing certificate or key"):
        save_image(erased(write_input(tmp_path)), tmp_path / "out.webp")
    assert not (tmp_path / "out.webp").exists()


def own_pair(folder: Path, common_name: str) -> tuple[Path, Path]:
    """A certificate for ``common_name`` issued by a CA of its own ("Ana's studio"), as a user might bring."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Studio CA"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ana's studio")])  # fmt: skip
    ca_key, key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(issuer).issuer_name(issuer).public_key(ca_key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA384())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ana's studio")]))
        .issuer_name(issuer).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA384())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    chain, key_path = folder / f"{common_name}.chain.pem", folder / f"{common_name}.key.pem"
    chain.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return chain, key_path


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate, which c2pa's certificate profile refuses for signing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Me, myself")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(7).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    chain, key_path = folder / "self.pem", folder / "self.key"
    chain.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return chain, key_path


def test_reading_a_file_c2pa_cannot_parse_is_none() -> None:
    assert read_credentials(b"not an image at all") is None
    buffer = io.BytesIO()
    Image.fromarray(photo()).save(buffer, "BMP")
    assert read_credentials(buffer.getvalue()) is None


def test_a_half_deleted_local_signing_folder_is_one_clear_error(tmp_path, monkeypatch) -> None:
    """A signing folder left without its key (a user deleted key.pem) was a raw OSError from the rename."""
    from retouch.errors import InvalidInput
    from retouch.io.signing import CERT_VARIABLE, KEY_VARIABLE, LOCAL_FOLDER, signing_pair

    monkeypatch.delenv(CERT_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    folder = tmp_path / LOCAL_FOLDER
    folder.mkdir()
    (folder / "chain.pem").write_text("left over")
    with pytest.raises(InvalidInput, match="holds no key.pem: delete that folder"):
        signing_pair(tmp_path)
