"""Content Credentials on what the server hands out: a document's download and a one-shot tool's answer carry a
signed C2PA manifest of the whole edit history, with the uploaded file (and its own manifest) as the parent
ingredient; ``--no-provenance`` leaves both the manifest and the XMP marks out; the server's local key is made
once, even under concurrent first uses, and its notice goes to the server log.

The suite signs with the conftest's pair (RETOUCH_SIGN_CERT and RETOUCH_SIGN_KEY), which chains to no trust list:
c2pa reports "Valid" with signingCredential.untrusted as the only failure.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from e2e.harness import api_client, assert_error, erase, upload, working_pixels
from e2e.photos import encode, scene

from retouch.io import load_image, read_provenance, save_image
from retouch.io.credentials_read import Credentials, read_credentials
from retouch.io.signing import CERT_VARIABLE, KEY_VARIABLE, KEY_NAME, LOCAL_FOLDER
from retouch.server.credentials import ServerCredentials
from retouch.tools.erase import erase as erase_picture

SCENE = scene(160, 120)
JPEG = encode(SCENE.pixels, "JPEG")
PNG = encode(SCENE.pixels, "PNG")
BOX = "80,40,30,30"
RETOUCH = str(Path(sys.executable).with_name("retouch"))


def validated(data: bytes) -> Credentials:
    """The file's manifest, which must hold up but for the untrusted signer, written by Retouch."""
    found = read_credentials(data)
    assert found is not None, "no Content Credentials"
    assert found.state == "Valid" and found.untrusted_only and found.failures, found.failures
    assert found.claim_generator is not None and found.claim_generator.startswith("Retouch ")
    return found


def edits(found: Credentials) -> list[str]:
    return [a.description or "" for a in found.actions if a.action == "c2pa.edited"]


def download(client: object, doc_id: str) -> bytes:
    response = client.get(f"/api/documents/{doc_id}/download")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize(
    ("data", "name", "mime"), [(JPEG, "holiday.jpg", "image/jpeg"), (PNG, "plan.png", "image/png")]
)
def test_a_download_carries_a_manifest_of_every_edit_with_the_upload_as_parent(
    data: bytes, name: str, mime: str
) -> None:
    with api_client() as client:
        doc = upload(client, data, name)["id"]
        assert read_credentials(download(client, doc)) is None  # nothing edited yet: nothing to credit
        assert erase(client, doc, boxes=BOX).status_code == 200
        assert erase(client, doc, boxes="10,10,20,20").status_code == 200
        content = download(client, doc)
        working = working_pixels(client, doc)
    if mime == "image/png":  # the manifest sits beside the pixels: they are the document's, bit for bit
        assert np.array_equal(load_image(content).pixels, working)
    found = validated(content)
    assert edits(found) == ["erase (engine=patch)", "erase (engine=patch)"]  # the whole history, as the XMP has it
    assert read_provenance(load_image(content).metadata.xmp).operations == ("erase (engine=patch)",) * 2
    assert found.actions[0].action == "c2pa.opened"
    assert found.actions[1].software is not None and found.actions[1].software.startswith("Retouch ")
    assert found.actions[1].digital_source_type == "compositeSynthetic"  # the patch engine uses no trained model
    assert [(i.title, i.relationship, i.format) for i in found.ingredients] == [(name, "parentOf", mime)]
    assert found.title == f"{Path(name).stem}-retouched{Path(name).suffix}"


def test_an_undone_edit_leaves_the_manifest() -> None:
    with api_client() as client:
        doc = upload(client, JPEG)["id"]
        erase(client, doc, boxes=BOX)
        erase(client, doc, boxes="10,10,20,20")
        assert client.post(f"/api/documents/{doc}/undo").status_code == 200
        assert edits(validated(download(client, doc))) == ["erase (engine=patch)"]


def test_a_one_shot_tool_answer_carries_the_manifest() -> None:
    with api_client() as client:
        response = client.post(
            "/api/erase",
            data={"engine": "patch", "boxes": BOX},
            files={"image": ("street.jpg", JPEG, "application/octet-stream")},
        )
    assert response.status_code == 200, response.text
    found = validated(response.content)
    assert edits(found) == ["erase (engine=patch)"]
    assert [(i.title, i.format, i.has_credentials) for i in found.ingredients] == [("street.jpg", "image/jpeg", False)]
    assert found.title == "street-erase.jpg"


def test_an_upload_with_its_own_credentials_keeps_them_as_the_ingredients(tmp_path: Path) -> None:
    source = tmp_path / "scene.png"
    source.write_bytes(PNG)
    hole = np.zeros((120, 160), bool)
    hole[10:30, 10:30] = True
    earlier = save_image(erase_picture(load_image(source), hole, engine="patch", grow=0), tmp_path / "earlier.jpg")
    credited = earlier.read_bytes()
    assert validated(credited).ingredients[0].title == "scene.png"
    with api_client() as client:
        doc = upload(client, credited, "earlier.jpg")["id"]
        erase(client, doc, boxes=BOX)
        downloaded = download(client, doc)
        answered = client.post(
            "/api/erase", data={"engine": "patch", "boxes": BOX}, files={"image": ("earlier.jpg", credited)}
        ).content
    for content in (downloaded, answered):
        found = validated(content)  # the ingredient's own manifest validates too (its failures would be listed)
        (parent,) = found.ingredients
        assert parent.title == "earlier.jpg" and parent.has_credentials


def test_without_provenance_nothing_is_marked() -> None:
    with api_client(provenance=False) as client:
        doc = upload(client, JPEG)["id"]
        erase(client, doc, boxes=BOX)
        downloaded = download(client, doc)
        answered = client.post(
            "/api/erase", data={"engine": "patch", "boxes": BOX}, files={"image": ("a.jpg", JPEG)}
        ).content
    for content in (downloaded, answered):
        assert read_credentials(content) is None
        assert read_provenance(load_image(content).metadata.xmp) is None


def test_the_local_key_is_made_once_under_concurrent_first_uses_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(CERT_VARIABLE)
    monkeypatch.delenv(KEY_VARIABLE)
    credentials = ServerCredentials(True, tmp_path)
    pairs = []
    barrier = threading.Barrier(4)

    def first_use() -> None:
        barrier.wait()
        pairs.append(credentials.pair())

    with caplog.at_level(logging.WARNING, logger="retouch.server"):
        threads = [threading.Thread(target=first_use) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(pairs) == 4 and all(pair is pairs[0] for pair in pairs)
    assert (tmp_path / LOCAL_FOLDER / KEY_NAME).read_bytes() == pairs[0].key
    notices = [r.getMessage() for r in caplog.records if "created a signing key" in r.getMessage()]
    assert len(notices) == 1 and "retouch serve --no-provenance" in notices[0]
    # a second server on the same home finds the pair and says nothing
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retouch.server"):
        assert ServerCredentials(True, tmp_path).pair().key == pairs[0].key
    assert not caplog.records


def test_the_notice_stays_out_of_the_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CERT_VARIABLE)
    monkeypatch.delenv(KEY_VARIABLE)
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    with api_client() as client:
        response = client.post("/api/erase", data={"engine": "patch", "boxes": BOX}, files={"image": ("a.jpg", JPEG)})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert b"created a signing key" not in response.content
    assert validated(response.content).signer is not None
    assert (tmp_path / LOCAL_FOLDER / KEY_NAME).is_file()


def test_an_unusable_signing_setup_is_a_json_error_explained_in_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(KEY_VARIABLE)
    with api_client() as client, caplog.at_level(logging.ERROR, logger="retouch.server"):
        response = client.post("/api/erase", data={"engine": "patch", "boxes": BOX}, files={"image": ("a.jpg", JPEG)})
        doc = upload(client, JPEG)["id"]
        erase(client, doc, boxes=BOX)
        downloaded = client.get(f"/api/documents/{doc}/download")
    for failed in (response, downloaded):
        message = assert_error(failed, 500, "signing_failed")
        assert "server log" in message and KEY_VARIABLE not in message  # the configuration is not the client's
    assert any(KEY_VARIABLE in record.getMessage() for record in caplog.records)


def test_serve_checks_the_signing_setup_before_serving(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != KEY_VARIABLE}
    result = subprocess.run(
        [RETOUCH, "serve", "--port", "0"], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("retouch: error:") and KEY_VARIABLE in result.stderr


def test_a_kept_upload_is_the_uploaded_file() -> None:
    with api_client() as client:
        doc = upload(client, PNG, "plan.png")["id"]
        store = client.app.state.services.store
        with store.upload(store.get(doc)) as kept:
            assert kept is not None and kept.read() == PNG
