"""One error envelope: every error path answers application/problem+json of the same shape."""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry.db import open_registry
from registry.screen_index import BuiltIndex, IndexCache
from registry.screening import build_index

from .conftest import client_with_key, index_current, make_app

NEW_ENTITY: dict[str, Any] = {
    "type": "company",
    "name": "Envelope Test Ltd",
    "designations": [
        {
            "id": "envelope-test-gb",
            "jurisdiction": "GB",
            "authority": "FCDO",
            "list": "UK Sanctions List",
            "evidence": [{"source": "seed-000", "quote": "including three Chinese companies"}],
        }
    ],
}


@pytest.fixture
def small_body_client(loaded_db_path: Path, keys: dict[str, str]) -> FlaskClient:
    return client_with_key(make_app(loaded_db_path, max_body_bytes=2_000), keys["write"])


def error_cases(
    client: FlaskClient, small: FlaskClient, anon: FlaskClient, reader: FlaskClient
) -> list[tuple[str, object, int, str | None]]:
    """(what, response, expected status, field expected in errors or None)."""
    client.post("/entities", json={**NEW_ENTITY, "id": "to-delete"})
    client.delete("/entities/to-delete")
    uk_list = (Path(__file__).parent / "samples" / "UK-Sanctions-List.csv").read_bytes()
    uk_older = uk_list.replace(b"Report Date: 13-Feb-2026", b"Report Date: 12-Feb-2026")

    def import_uk(data: bytes) -> TestResponse:
        form = {"format": "uk-fcdo-csv", "files": (io.BytesIO(data), "UK-Sanctions-List.csv")}
        return client.post("/imports", data=form, content_type="multipart/form-data")

    import_uk(uk_list)
    return [
        ("bad date", client.get("/entities?listed_from=2024-13-45"), 400, "listed_from"),
        ("negative limit", client.get("/entities?limit=-3"), 400, "limit"),
        ("limit too big", client.get("/entities?limit=100000"), 400, "limit"),
        ("unknown filter", client.get("/entities?jurisdicton=GB"), 400, "jurisdicton"),
        ("bad jurisdiction", client.get("/entities?jurisdiction=gb"), 400, "jurisdiction"),
        ("bad type", client.get("/entities?type=spaceship"), 400, "type"),
        (
            "reversed range",
            client.get("/entities?listed_from=2024-03-01&listed_to=2024-02-01"),
            400,
            "listed_from",
        ),
        ("bad cursor", client.get("/entities?cursor=not-a-cursor"), 400, "cursor"),
        ("q without words", client.get("/entities?q=%22%2A%28"), 400, "q"),
        ("designation filter", client.get("/designations?status=maybe"), 400, "status"),
        ("action dates", client.get("/actions?date_from=yesterday"), 400, "date_from"),
        ("source kind", client.get("/sources?kind=rumour"), 400, "kind"),
        (
            "invalid JSON",
            client.post("/entities", data="{not json", content_type="application/json"),
            400,
            None,
        ),
        ("missing fields", client.post("/entities", json={"name": "x"}), 400, "type"),
        (
            "name too long",
            client.post("/entities", json={**NEW_ENTITY, "name": "x" * 501}),
            400,
            "name",
        ),
        (
            "screened name too long",
            client.get("/screen", query_string={"name": "x" * 501}),
            400,
            "name",
        ),
        (
            "screened date of birth",
            client.get("/screen", query_string={"name": "Kim", "dob": "1962-02-30"}),
            400,
            "dob",
        ),
        (
            "screened nationality",
            client.get("/screen", query_string={"name": "Kim", "nationality": "Narnia"}),
            400,
            "nationality",
        ),
        (
            "screened id number",
            client.get("/screen", query_string={"name": "Kim", "id_number": "A-1"}),
            400,
            "id_number",
        ),
        (
            "bad nested field",
            client.post(
                "/entities",
                json={
                    **NEW_ENTITY,
                    "designations": [
                        {
                            **NEW_ENTITY["designations"][0],
                            "listed_date": "2024-02-31",
                        }
                    ],
                },
            ),
            400,
            "designations[0].listed_date",
        ),
        (
            "quote not in source",
            client.post(
                "/entities",
                json={
                    **NEW_ENTITY,
                    "designations": [
                        {
                            **NEW_ENTITY["designations"][0],
                            "evidence": [{"source": "seed-000", "quote": "made up"}],
                        }
                    ],
                },
            ),
            400,
            "designations[0].evidence[0].quote",
        ),
        (
            "bulk file path",
            client.post(
                "/bulk",
                json={
                    "sources": [{"id": "x", "kind": "other", "title": "x", "path": "/etc/passwd"}]
                },
            ),
            400,
            "path",
        ),
        ("unknown entity", client.get("/entities/no-such-entity"), 404, "id"),
        ("unknown action", client.get("/actions/no-such-action"), 404, "id"),
        ("unknown source", client.get("/sources/no-such-source"), 404, "id"),
        ("unknown path", client.get("/no/such/path"), 404, None),
        ("patch without body", client.patch("/entities/finder-technology-ltd"), 400, None),
        ("export bad search", client.get("/entities.csv?q=%F4%8B%BB%8E%5B"), 400, "q"),
        ("patch unknown", client.patch("/entities/no-such-entity", json={"name": "x"}), 404, "id"),
        ("wrong method", client.delete("/sources"), 405, None),
        (
            "existing id",
            client.post("/entities", json={**NEW_ENTITY, "id": "finder-technology-ltd"}),
            409,
            "id",
        ),
        ("id mismatch", client.put("/entities/abc", json={**NEW_ENTITY, "id": "xyz"}), 400, "id"),
        ("deleted entity", client.get("/entities/to-delete"), 410, "id"),
        ("oversized body", small.post("/bulk", json={"entities": [NEW_ENTITY] * 50}), 413, None),
        ("write without key", anon.post("/entities", json=NEW_ENTITY), 401, "Authorization"),
        (
            "bad key",
            anon.get("/entities", headers={"Authorization": "Bearer rk_nope"}),
            401,
            "Authorization",
        ),
        (
            "not bearer",
            anon.get("/entities", headers={"Authorization": "Basic abc"}),
            401,
            "Authorization",
        ),
        ("read key writes", reader.post("/entities", json=NEW_ENTITY), 403, "Authorization"),
        ("import of an older publication", import_uk(uk_older), 409, "allow_older"),
        ("write key manages keys", client.get("/keys"), 403, "Authorization"),
        # Hostile input (issue 10; tests/test_hostile_input.py has each in full).
        (
            "lone surrogate",
            _raw(client, "/screen", '{"queries": [{"name": "\\ud800"}]}'),
            400,
            "queries[0].name",
        ),
        (
            "surrogate cursor",
            client.get("/entities?cursor=" + _b64(SURROGATE_CURSOR)),
            400,
            "cursor",
        ),
        ("JSON 5,000 deep", _raw(client, "/entities", "[" * 5000 + "]" * 5000), 400, "body"),
        (
            "4,301-digit integer",
            _raw(client, "/screen", '{"limit": ' + "9" * 4301 + "}"),
            400,
            "limit",
        ),
        (
            "duplicate keys",
            _raw(client, "/screen", '{"queries": [], "queries": []}'),
            400,
            "queries",
        ),
        (
            "fractional integer",
            client.post("/screen", json={"queries": [], "limit": 2.5}),
            400,
            "limit",
        ),
        (
            "invisible name",
            client.post("/entities", json={**NEW_ENTITY, "name": "\u200b"}),
            400,
            "name",
        ),
        ("trailing newline", client.get("/entities?jurisdiction=GB%0A"), 400, "jurisdiction"),
        ("far as_of", client.get("/entities?as_of=9999-12-31T23:59:59-01:00"), 400, "as_of"),
        (
            "CSV cell too long",
            client.post("/screen", data="name\n" + "a" * 131_073, content_type="text/csv"),
            400,
            "body",
        ),
        (
            "stale If-Match",
            client.patch(
                "/entities/finder-technology-ltd",
                json={"notes": "x"},
                headers={"If-Match": '"stale"'},
            ),
            412,
            "If-Match",
        ),
    ]


SURROGATE_CURSOR = '["\\ud800"]'


def _raw(client: FlaskClient, path: str, text: str) -> TestResponse:
    return client.post(path, data=text.encode(), content_type="application/json")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_every_error_path_answers_problem_json(
    client: FlaskClient,
    small_body_client: FlaskClient,
    anon_client: FlaskClient,
    app: Flask,
    keys: dict[str, str],
    loaded_db_path: Path,
) -> None:
    """The one walk over every error path: each answers the same problem+json shape."""
    # The screening cases are about bad input, not the first index build (its own case
    # below): on a busy machine that build outlasted REGISTRY_INDEX_WAIT_MS (a 503).
    index_current(app)
    reader = client_with_key(app, keys["read"])
    cases = error_cases(client, small_body_client, anon_client, reader)
    cases.append(("database busy", busy_write(loaded_db_path, keys["write"])[0], 503, None))
    cases.append(("server error", crashing_request(loaded_db_path), 500, None))
    cases.append(("index being built", index_not_ready(loaded_db_path), 503, None))
    time.sleep(0.02)  # the UK list imported above is older than a 10 ms REGISTRY_MAX_LIST_AGE
    stale = make_app(loaded_db_path, max_list_age=0.01).test_client().get("/readyz")
    cases.append(("stale lists", stale, 503, "datasets"))
    for what, response, status, field in cases:
        assert response.status_code == status, (what, response.get_data(as_text=True))  # type: ignore[attr-defined]
        assert response.content_type == "application/problem+json", what  # type: ignore[attr-defined]
        body = response.get_json()  # type: ignore[attr-defined]
        assert body["status"] == status, what
        assert body["title"] and body["detail"] and body["type"] == "about:blank", what
        assert body["instance"].startswith("/"), what
        # The headers every answer carries (registry/api/headers.py); errors are not stored.
        assert response.headers["X-Content-Type-Options"] == "nosniff", what  # type: ignore[attr-defined]
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], what  # type: ignore[attr-defined]
        assert response.headers["Cache-Control"] == "no-store", what  # type: ignore[attr-defined]
        if field is not None:
            fields = [e.get("field") for e in body["errors"]]
            assert field in fields, (what, body["errors"])
            assert all(e["message"] for e in body["errors"]), what


def busy_write(loaded_db_path: Path, key: str) -> tuple[TestResponse, TestResponse]:
    """A write, and a read, while another writer (say a long import) holds the database."""
    client = client_with_key(make_app(loaded_db_path, busy_timeout_ms=100), key)
    holder = open_registry(loaded_db_path)
    holder.conn.execute("BEGIN IMMEDIATE")
    try:
        return (
            client.post("/entities", json={**NEW_ENTITY, "id": "busy"}),
            client.get("/entities/finder-technology-ltd"),
        )
    finally:
        holder.conn.execute("ROLLBACK")
        holder.close()


def index_not_ready(loaded_db_path: Path) -> TestResponse:
    """A screening request while the first index is still being built."""
    release = threading.Event()

    def held(
        db: sqlite_utils.Database, as_of: str | None, ids: Collection[str] | None
    ) -> BuiltIndex:
        release.wait(30)
        return build_index(db, as_of, ids)

    app = make_app(loaded_db_path)
    cache = app.extensions["registry_index"] = IndexCache(loaded_db_path, build=held, wait=0.0)
    try:
        response = app.test_client().get("/screen", query_string={"name": "Finder"})
        assert int(response.headers["Retry-After"]) >= 1
        return response
    finally:
        release.set()
        cache.close()


def crashing_request(loaded_db_path: Path) -> TestResponse:
    """A request whose handler fails with a secret in its message."""
    app = make_app(loaded_db_path)
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    return app.test_client().get("/boom")


def test_a_busy_database_is_a_clean_retryable_503(
    loaded_db_path: Path, keys: dict[str, str]
) -> None:
    write, read = busy_write(loaded_db_path, keys["write"])
    assert write.status_code == 503 and write.headers["Retry-After"] == "5"
    assert read.status_code == 200  # reads go on
    client = client_with_key(make_app(loaded_db_path), keys["write"])
    assert client.post("/entities", json={**NEW_ENTITY, "id": "busy"}).status_code == 201


def test_server_errors_do_not_leak_internals(loaded_db_path: Path) -> None:
    response = crashing_request(loaded_db_path)
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert response.get_json()["title"] == "Internal Server Error"


def test_openapi_documents_errors_as_problem_json(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    response = spec["paths"]["/entities"]["get"]["responses"]["400"]
    ref = response["$ref"].split("/")[-1]
    content = spec["components"]["responses"][ref]["content"]
    assert list(content) == ["application/problem+json"]
