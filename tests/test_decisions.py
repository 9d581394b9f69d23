"""Screening decisions: recorded by a key, superseded or withdrawn, never lost."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from registry.db import open_registry
from registry.decisions import decisions_for


def test_decisions_supersede_withdraw_and_keep_history(
    client: FlaskClient, anon_client: FlaskClient, loaded_db_path: Path
) -> None:
    body = {
        "query": "Finder Technology Limited",
        "entity_id": "finder-technology-ltd",
        "verdict": "false_positive",
        "note": "Our customer is a Swedish firm.",
    }
    assert anon_client.post("/decisions", json=body).status_code == 401
    first = client.post("/decisions", json=body)
    assert first.status_code == 201
    first_id = first.get_json()["id"]
    assert first.get_json()["actor"].startswith("key:")
    # The same name, spelt differently, with a new verdict: supersedes the first.
    second = client.post(
        "/decisions",
        json={**body, "query": "FINDER TECHNOLOGY LTD.", "verdict": "true_match", "note": None},
    )
    second_id = second.get_json()["id"]
    detail = client.get(f"/decisions/{second_id}").get_json()
    assert [d["id"] for d in detail["history"]] == [first_id, second_id]
    assert detail["history"][0]["ended_by"] == second_id
    current = client.get("/decisions?entity=finder-technology-ltd").get_json()
    assert [d["id"] for d in current["items"]] == [second_id]
    everything = client.get("/decisions?entity=finder-technology-ltd&include_ended=true")
    assert everything.get_json()["total"] == 2

    db = open_registry(loaded_db_path)
    pair = ("finder technology ltd", "finder-technology-ltd")
    assert decisions_for(db, [pair])[pair]["verdict"] == "true_match"
    at_first = first.get_json()["created_at"]
    assert decisions_for(db, [pair], as_of=at_first)[pair]["verdict"] == "false_positive"

    assert client.delete(f"/decisions/{second_id}").status_code == 204
    assert decisions_for(db, [pair]) == {}
    assert client.get("/decisions?entity=finder-technology-ltd").get_json()["total"] == 0
    assert client.get(f"/decisions/{second_id}").status_code == 410
    ended = client.get("/decisions?entity=finder-technology-ltd&include_ended=true").get_json()
    assert [d["ended_by"] for d in ended["items"]] == [second_id, "withdrawn"]
    assert client.delete(f"/decisions/{second_id}").status_code == 409  # already withdrawn
    assert client.delete(f"/decisions/{first_id}").status_code == 409  # superseded
    assert client.get(f"/decisions/{first_id}").status_code == 200  # superseded stays readable
    assert client.delete("/decisions/dec-000000000000").status_code == 404


def test_decisions_need_a_real_entity_and_verdict(client: FlaskClient) -> None:
    unknown = client.post(
        "/decisions", json={"query": "x", "entity_id": "nobody", "verdict": "true_match"}
    )
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"][0]["field"] == "entity_id"
    bad = client.post(
        "/decisions", json={"query": "x", "entity_id": "finder-technology-ltd", "verdict": "maybe"}
    )
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "verdict"
