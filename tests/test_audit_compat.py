"""The audit trail records yente's /match and the reconciliation API's /reconcile as it
records /screen (issue 15: every screening): the key, each query as given, the
parameters, the dataset versions in force, the entities returned, and the answer as
it was sent; only a SHA-256 of the queries with REGISTRY_AUDIT_MINIMISE=1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.db import open_registry
from registry.keys import create_key
from registry.loader import load_paths
from registry.monitoring import audit

from .conftest import FIXTURES, index_current, make_app

NAME = "Finder Technology"
MATCH_BODY = {"queries": {"q1": {"schema": "Company", "properties": {"name": [NAME]}}}}
RECONCILE = {"r1": {"query": NAME, "type": "Organization"}}


def _client(tmp_path: Path, **settings: Any) -> tuple[FlaskClient, dict[str, str]]:
    db = open_registry(tmp_path / "registry.db")
    load_paths(db, [FIXTURES])
    admin = create_key(db, "admin", "admin")[1]
    reader_key, reader = create_key(db, "analyst", "read")
    db.close()
    app = make_app(tmp_path / "registry.db", audit_flush_ms=0, **settings)
    index_current(app)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {reader}"
    client.environ_base["reader_actor"] = f"key:{reader_key.id}"
    return client, {"Authorization": f"Bearer {admin}"}


def _entries(client: FlaskClient, admin: dict[str, str], kind: str) -> list[dict[str, Any]]:
    page = client.get("/audit", query_string={"kind": kind}, headers=admin)
    assert page.status_code == 200
    return list(page.get_json()["items"])


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlaskClient, dict[str, str]]:
    return _client(tmp_path_factory.mktemp("audit-compat"))


def test_match_is_recorded_as_answered(audited: tuple[FlaskClient, dict[str, str]]) -> None:
    client, admin = audited
    response = client.post("/match/default?threshold=0.7", json=MATCH_BODY)
    assert response.status_code == 200
    results = response.get_json()["responses"]["q1"]["results"]
    assert results, "the fixtures hold a Finder Technology"
    (item,) = _entries(client, admin, "POST /match")
    assert item["actor"] == client.environ_base["reader_actor"]  # the key that asked
    assert item["queries"] == [{"key": "q1", "query": MATCH_BODY["queries"]["q1"]}]
    assert item["params"]["dataset"] == "default" and item["params"]["threshold"] == 0.7
    assert item["datasets"] and item["data_version"] is not None
    assert item["entities"] == sorted({r["id"] for r in results})
    assert [(m["index"], m["entity_id"], m["score"]) for m in item["matches"]] == [
        (0, r["id"], r["score"]) for r in results
    ]
    entry = client.get(f"/audit/{item['id']}", headers=admin).get_json()
    assert entry["answer"] == response.get_json()
    # A refused request is no screening: nothing recorded.
    assert client.post("/match/no-such-dataset", json=MATCH_BODY).status_code == 404
    assert len(_entries(client, admin, "POST /match")) == 1


def test_reconcile_is_recorded_get_and_post(audited: tuple[FlaskClient, dict[str, str]]) -> None:
    client, admin = audited
    assert client.get("/reconcile").status_code == 200  # the manifest: no screening
    assert _entries(client, admin, "GET /reconcile") == []
    posted = client.post("/reconcile", data={"queries": json.dumps(RECONCILE)})
    got = client.get("/reconcile", query_string={"queries": json.dumps(RECONCILE)})
    for response, kind in ((posted, "POST /reconcile"), (got, "GET /reconcile")):
        assert response.status_code == 200
        candidates = response.get_json()["r1"]["result"]
        assert candidates
        (item,) = _entries(client, admin, kind)
        assert item["queries"] == [{"key": "r1", "query": RECONCILE["r1"]}]
        assert item["entities"] == sorted({c["id"] for c in candidates})
        assert item["params"]["min_score"] == 0.6 and item["datasets"]
        entry = client.get(f"/audit/{item['id']}", headers=admin).get_json()
        assert entry["answer"] == response.get_json()


def test_minimised_match_and_reconcile_keep_no_query_text(tmp_path: Path) -> None:
    client, admin = _client(tmp_path, audit_minimise=True)
    assert client.post("/match/default", json=MATCH_BODY).status_code == 200
    assert client.post("/reconcile", json={"queries": RECONCILE}).status_code == 200
    (match,) = _entries(client, admin, "POST /match")
    (rec,) = _entries(client, admin, "POST /reconcile")
    assert match["queries"] is None and rec["queries"] is None
    assert match["query_sha256"] == audit.query_hash(
        [{"key": "q1", "query": MATCH_BODY["queries"]["q1"]}]
    )
    assert match["entities"] and rec["entities"]
    assert client.get(f"/audit/{match['id']}", headers=admin).get_json()["answer"] is None
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("registry.audit.db*"))
    assert raw and NAME.encode() not in raw and NAME.lower().encode() not in raw
