"""Writes: entity edits and bulk loads go through the loader's checks and keep history."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from registry.db import open_registry

from .test_api_errors import NEW_ENTITY


def test_create_read_patch_put_delete(
    client: FlaskClient, loaded_db_path: object, keys: dict[str, str]
) -> None:
    created = client.post("/entities", json=NEW_ENTITY)
    assert created.status_code == 201
    entity = created.get_json()
    assert entity["id"].startswith("envelope-test-ltd-")
    assert created.headers["Location"] == f"/entities/{entity['id']}"
    assert entity["records"][0]["dataset"] == "manual"

    patched = client.patch(f"/entities/{entity['id']}", json={"country": "HK"})
    assert patched.status_code == 200 and patched.get_json()["country"] == "HK"
    assert patched.get_json()["name"] == "Envelope Test Ltd"  # untouched fields stay

    replaced = client.put(f"/entities/{entity['id']}", json={**NEW_ENTITY, "name": "Renamed Ltd"})
    assert replaced.status_code == 200
    assert replaced.get_json()["name"] == "Renamed Ltd"
    assert replaced.get_json()["country"] is None  # PUT replaces the whole record

    assert client.delete(f"/entities/{entity['id']}").status_code == 204
    assert client.get(f"/entities/{entity['id']}").status_code == 410
    assert entity["id"] not in [
        i["id"] for i in client.get("/entities?limit=500").get_json()["items"]
    ]

    db = open_registry(loaded_db_path)  # type: ignore[arg-type]
    history = db.conn.execute(
        "SELECT version, change, actor FROM history WHERE object_id = ? ORDER BY version",
        (entity["id"],),
    ).fetchall()
    actor = "key:" + keys["write"].split("_")[1]  # the key's id, never its secret
    assert history == [
        (1, "added", actor),
        (2, "changed", actor),
        (3, "changed", actor),
        (4, "deleted", actor),
    ]


def test_put_creates_under_the_given_id(client: FlaskClient) -> None:
    response = client.put("/entities/my-own-id", json=NEW_ENTITY)
    assert response.status_code == 201
    assert client.put("/entities/my-own-id", json=NEW_ENTITY).status_code == 200


def test_patch_is_validated_as_a_whole(client: FlaskClient) -> None:
    response = client.patch(
        "/entities/finder-technology-ltd",
        json={
            "designations": [
                {
                    "id": "x",
                    "jurisdiction": "GB",
                    "authority": "FCDO",
                    "list": "L",
                    "evidence": [{"source": "seed-000", "quote": "not in the seed"}],
                }
            ]
        },
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "designations[0].evidence[0].quote"
    detail = client.get("/entities/finder-technology-ltd").get_json()
    assert detail["designations"][0]["id"] == "gb-rus2110"  # unchanged


def test_bulk_dry_run_then_load_then_reload(client: FlaskClient) -> None:
    batch = {
        "dataset": "bulk-test",
        "sources": [
            {
                "id": "memo-1",
                "kind": "other",
                "title": "Internal memo",
                "text": "Acme Widgets was listed for selling widgets.",
            }
        ],
        "entities": [
            {
                "id": "acme-widgets",
                "type": "company",
                "name": "Acme Widgets",
                "designations": [
                    {
                        "id": "acme-1",
                        "jurisdiction": "US",
                        "authority": "OFAC",
                        "list": "SDN List",
                        "listed_date": "2024-06",
                        "evidence": [{"source": "memo-1", "quote": "listed for selling widgets"}],
                    }
                ],
            }
        ],
    }
    dry = client.post("/bulk?dry_run=true", json=batch).get_json()
    assert dry["dry_run"] and dry["totals"]["added"] == 2
    assert client.get("/entities/acme-widgets").status_code == 404
    loaded = client.post("/bulk", json=batch).get_json()
    assert loaded["changed"] and loaded["totals"]["added"] == 2
    again = client.post("/bulk", json=batch).get_json()
    assert not again["changed"] and again["totals"] == {
        "added": 0,
        "changed": 0,
        "removed": 0,
        "unchanged": 2,
    }
    detail = client.get("/entities/acme-widgets").get_json()
    assert detail["designations"][0]["listed_date_precision"] == "month"
    assert client.get("/sources/memo-1").get_json()["checksum"].startswith("sha256:")
    # Month precision overlaps a day range inside it.
    assert (
        client.get("/entities?listed_from=2024-06-10&listed_to=2024-06-14").get_json()["total"] == 1
    )


def test_imported_records_cannot_be_hand_edited(
    client: FlaskClient, loaded_db_path: object
) -> None:
    db = open_registry(loaded_db_path)  # type: ignore[arg-type]
    db.execute(
        "INSERT INTO import_runs (id, format, dataset, files, started_at, status) "
        "VALUES ('run-1', 'test', 'fixtures', ?, '2026-01-01', 'finished')",
        [json.dumps([])],
    )
    response = client.patch("/entities/finder-technology-ltd", json={"country": "HK"})
    assert response.status_code == 409
    assert client.delete("/entities/finder-technology-ltd").status_code == 409


def test_an_entity_created_by_hand_lives_at_its_own_id(client: FlaskClient) -> None:
    # Same name and country as a listed entity: a load would merge it, a hand edit
    # addresses its own id and must be found there.
    twin = {**NEW_ENTITY, "id": "my-dennex", "name": "Dennex Enterprises Limited", "country": "CN"}
    created = client.post("/entities", json=twin)
    assert created.status_code == 201
    assert created.get_json()["id"] == "my-dennex"
    assert created.get_json()["records"][0]["merge"]["rule"] == "new"
    assert client.get("/entities/my-dennex").status_code == 200
    assert client.delete("/entities/my-dennex").status_code == 204
    assert client.get("/entities/my-dennex").status_code == 410
    assert client.get("/entities/dennex-enterprises-limited").status_code == 200
