"""HTTP API, guards: API key, CORS, the static files' allow-list, headers, error shapes, OpenAPI, defaults."""

from __future__ import annotations

import re

import pytest
from e2e.harness import api_client, assert_error, upload
from e2e.photos import encode, scene

from retouch.server import ServerSettings
from retouch.server.routers.web import WEB_DIR

PNG = encode(scene(64, 48).pixels, "PNG")


def test_defaults_bind_to_localhost_without_key_or_cors() -> None:
    settings = ServerSettings()
    assert settings.host == "127.0.0.1" and settings.is_loopback
    assert settings.api_key is None and settings.cors_origins == ()


def test_an_api_key_guards_every_api_call_but_health() -> None:
    with api_client(api_key="s3cret") as client:
        assert_error(client.get("/api/info"), 401, "unauthorized")
        assert_error(client.get("/api/info", headers={"X-API-Key": "wrong"}), 401, "unauthorized")
        refused = client.post("/api/documents", files={"file": ("a.png", PNG)})
        assert "X-API-Key" in assert_error(refused, 401, "unauthorized")
        assert_error(client.get("/api/openapi.json"), 401, "unauthorized")
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/").status_code == 200  # the page itself asks for the key

        key = {"X-API-Key": "s3cret"}
        assert client.get("/api/info", headers=key).json()["api_key_required"] is True
        doc = client.post("/api/documents", files={"file": ("a.png", PNG)}, headers=key).json()["id"]
        assert client.get(f"/api/documents/{doc}/download", headers=key).status_code == 200
        schema = client.get("/api/openapi.json", headers=key).json()
        assert any(s.get("name") == "X-API-Key" for s in schema["components"]["securitySchemes"].values())


def test_without_a_key_the_api_is_open() -> None:
    with api_client() as client:
        assert client.get("/api/info").json()["api_key_required"] is False
        upload(client, PNG, "a.png")


def test_cors_is_off_by_default() -> None:
    with api_client() as client:
        response = client.get("/api/info", headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            "/api/documents",
            headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins() -> None:
    with api_client(cors_origins=("http://app.example",), api_key="k") as client:
        preflight = client.options(
            "/api/documents",
            headers={
                "Origin": "http://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == "http://app.example"
        allowed = client.get("/api/info", headers={"Origin": "http://app.example", "X-API-Key": "k"})
        assert allowed.headers["access-control-allow-origin"] == "http://app.example"
        other = client.get("/api/info", headers={"Origin": "http://other.example", "X-API-Key": "k"})
        assert "access-control-allow-origin" not in other.headers


def test_the_page_and_its_files_are_served_from_the_package() -> None:
    with api_client() as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert referenced and all(ref.startswith("/static/") for ref in referenced)
        for ref in referenced:
            assert client.get(ref).status_code == 200, ref
        script = client.get("/static/js/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        again = client.get("/static/js/app.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304


def test_the_web_app_loads_nothing_from_elsewhere() -> None:
    for path in WEB_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path
            assert not re.search(r"\bimport\b[^;]*[\"']https?:", text), path
            assert "url(" not in text and "@import" not in text, path


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server/app.py",
        "/static/%2e%2e/server/app.py",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/js/../../server/settings.py",
        "/static//etc/passwd",
        "/static/app.css.bak",
        "/static/",
    ],
)
def test_no_request_path_reaches_the_file_system(path: str) -> None:
    with api_client() as client:
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] in ("not_found", "document_not_found")


def test_every_failure_has_the_same_json_shape() -> None:
    with api_client() as client:
        assert_error(client.get("/api/nothing-here"), 404, "not_found")
        assert_error(client.delete("/api/info"), 405, "method_not_allowed")
        assert_error(client.get("/docs"), 404, "not_found")  # the stock docs page would load a CDN


def test_an_unexpected_failure_is_a_500_json_without_details() -> None:
    from fastapi.testclient import TestClient

    from retouch.server import create_app

    app = create_app(ServerSettings())

    def broken(doc_id: str) -> None:
        raise RuntimeError("secret internals")

    app.state.services.store.get = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        message = assert_error(client.get("/api/documents/AAAAAAAAAAAAAAAAAAAAAA"), 500, "internal_error")
        assert "secret" not in message


def test_openapi_documents_every_endpoint_and_the_error_shape() -> None:
    with api_client() as client:
        schema = client.get("/api/openapi.json").json()
        paths = schema["paths"]
        for path in (
            "/api/documents",
            "/api/documents/{doc_id}",
            "/api/documents/{doc_id}/download",
            "/api/documents/{doc_id}/preview",
            "/api/documents/{doc_id}/undo",
            "/api/documents/{doc_id}/redo",
            "/api/jobs/{job_id}",
            "/api/erase",
            "/api/info",
        ):
            assert path in paths, path
        erase = paths["/api/erase"]["post"]
        assert "multipart/form-data" in erase["requestBody"]["content"]
        assert erase["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
        assert "EraseOptions" in schema["components"]["schemas"]


def test_settings_are_validated() -> None:
    from retouch.errors import InvalidInput

    for bad in ({"queue_size": 0}, {"max_upload_bytes": -1}, {"port": 70000}, {"api_key": " "}):
        with pytest.raises(InvalidInput):
            ServerSettings(**bad)
