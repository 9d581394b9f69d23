"""Security and caching headers, set in one place (registry/api/headers.py) for every
answer. tests/test_api_errors.py checks them on every error path."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from registry.api.headers import csp

from .conftest import client_with_key


def _secure(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_reads_carry_security_headers_and_revalidate(client: FlaskClient) -> None:
    for path in ("/healthz", "/entities", "/entities/finder-technology-ltd", "/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        _secure(response)
        assert response.headers["Cache-Control"] == "private, no-cache", path


def test_secrets_and_screened_names_are_never_stored(app: Flask, keys: dict[str, str]) -> None:
    admin = client_with_key(app, keys["admin"])
    created = admin.post("/keys", json={"name": "ci", "scope": "read"})
    assert created.status_code == 201 and created.get_json()["key"].startswith("rk_")
    assert created.headers["Cache-Control"] == "no-store"  # the one answer with the secret
    _secure(created)
    assert admin.get("/keys").headers["Cache-Control"] == "no-store"
    for screened in (
        admin.get("/screen?name=Finder"),
        admin.post("/screen", json={"queries": [{"name": "Finder"}]}),
    ):
        assert screened.status_code == 200
        assert screened.headers["Cache-Control"] == "no-store"
    patched = admin.patch("/entities/finder-technology-ltd", json={"notes": "x"})
    assert patched.status_code == 200 and patched.headers["Cache-Control"] == "no-store"


def test_a_page_can_adjust_its_content_security_policy(app: Flask) -> None:
    @app.route("/test-page")
    def page() -> str:
        csp(img_src="'self' data:", object_src="")
        return "<p>page</p>"

    client = app.test_client()
    policy = client.get("/test-page").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "object-src" not in policy
    # Only that answer: the next one has the default policy again.
    assert "object-src 'none'" in client.get("/healthz").headers["Content-Security-Policy"]
