"""Consistent reads and safe writes (issue 10, point 2), through the app's own read and
write paths: a write committed between two SELECTs of one request never shows half;
two concurrent writes never lose one; If-Match refuses a stale write; page keys are
unique; a parser's failure is a recorded failed run."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry import editing, importers, queries
from registry.api import exports as export_api
from registry.db import immediate, open_registry, view
from schemas import EntitySchema

from .conftest import client_with_key

FINDER = "finder-technology-ltd"
EVIDENCE = [{"source": "seed-000", "quote": "including three Chinese companies"}]


def write_elsewhere(db_path: Path, change: Callable[[Any], object]) -> None:
    """A write by another connection (another request, another process), committed."""
    other = open_registry(db_path)
    try:
        change(other)
    finally:
        other.close()


def rename(db_path: Path, entity_id: str, name: str) -> None:
    write_elsewhere(
        db_path, lambda db: editing.patch_entity(db, entity_id, {"name": name}, actor="other")
    )


def test_an_entity_detail_is_read_from_one_snapshot(
    client: FlaskClient, loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue saw the old name in a detail's summary and the new one in its names."""
    original = queries._parts
    renamed: list[bool] = []

    def parts_after_a_rename(db: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        if table == "names" and not renamed:  # between the summary row and the names
            renamed.append(True)
            rename(loaded_db_path, FINDER, "Finder Renamed Ltd")
        return original(db, table, *args, **kwargs)

    monkeypatch.setattr(queries, "_parts", parts_after_a_rename)
    detail = client.get(f"/entities/{FINDER}").get_json()
    assert renamed
    primary = [n["name"] for n in detail["names"] if n["kind"] == "primary"]
    assert primary == [detail["name"]] == ["FINDER TECHNOLOGY LTD"]  # all of the old state
    monkeypatch.undo()
    after = client.get(f"/entities/{FINDER}").get_json()
    assert [n["name"] for n in after["names"] if n["kind"] == "primary"] == [after["name"]]
    assert after["name"] == "Finder Renamed Ltd"


def test_a_page_total_and_its_items_come_from_one_snapshot(
    client: FlaskClient, loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = queries.decode_cursor
    added: list[bool] = []

    def decode_after_a_write(*args: Any, **kwargs: Any) -> Any:
        if not added:  # between COUNT(*) and the page's SELECT
            added.append(True)
            entity = {
                "id": "snapshot-newcomer",
                "type": "company",
                "name": "Snapshot Newcomer Ltd",
                "designations": [
                    {
                        "id": "snapshot-newcomer-gb",
                        "jurisdiction": "GB",
                        "authority": "FCDO",
                        "list": "UK Sanctions List",
                        "evidence": EVIDENCE,
                    }
                ],
            }
            loaded = EntitySchema().load(entity)
            write_elsewhere(
                loaded_db_path, lambda db: editing.create_entity(db, loaded, actor="other")
            )
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "decode_cursor", decode_after_a_write)
    page = client.get("/entities?jurisdiction=GB&limit=50").get_json()
    assert added
    assert page["total"] == len(page["items"]) == 3
    monkeypatch.undo()
    assert client.get("/entities?jurisdiction=GB").get_json()["total"] == 4


def _export_rows(text: str) -> dict[str, str]:
    return {row["id"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize("path", ["/entities.csv", "/entities.ftm.jsonl"])
def test_a_streamed_export_reads_one_snapshot_from_start_to_end(
    client: FlaskClient, loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(export_api, "PAGE", 2)  # several pages, several queries
    before = _export_rows(client.get("/entities.csv").get_data(as_text=True))
    assert len(before) == 11
    response = client.get(path, buffered=False)
    body: Iterable[bytes | str] = response.response
    chunks = iter(body)
    head = [next(chunks) for _ in range(2)]  # started: the first entity is out
    # Meanwhile, other requests rename the last entity and delete another one.
    last = sorted(before)[-1]
    rename(loaded_db_path, last, "Renamed Mid-Export")
    write_elsewhere(
        loaded_db_path, lambda db: editing.delete_entity(db, "sigma-technology-limited", actor="x")
    )
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in [*head, *chunks]).decode()
    response.close()
    if path.endswith(".csv"):
        assert _export_rows(text) == before  # the registry as it stood when the export began
    else:
        assert "Renamed Mid-Export" not in text and "sigma-technology-limited" in text
    after = _export_rows(client.get("/entities.csv").get_data(as_text=True))
    assert after[last] == "Renamed Mid-Export" and "sigma-technology-limited" not in after


def test_an_export_left_unread_ends_its_snapshot(client: FlaskClient, loaded_db_path: Path) -> None:
    """A client that goes away before the stream starts leaves no read transaction
    open (it would hold back WAL checkpoints)."""
    client.get("/entities.csv", buffered=False).close()
    db = open_registry(loaded_db_path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _, _ = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    assert busy == 0


def test_concurrent_patches_do_not_lose_an_update(
    app: Flask, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATCH A reads the record; PATCH B commits; A writes. A must not write back
    what it read before B: it reads inside its own write transaction."""
    original = editing._record
    calls: list[str] = []
    b_done = threading.Event()
    results: dict[str, int] = {}

    def patch_b() -> None:
        client_b = client_with_key(app, keys["write"])
        results["b"] = client_b.patch(f"/entities/{FINDER}", json={"country": "HK"}).status_code
        b_done.set()

    def record_then_wait(db: Any, record_id: str) -> Any:
        found = original(db, record_id)
        calls.append(record_id)
        if len(calls) == 1:  # PATCH A has read the record; PATCH B runs now
            threading.Thread(target=patch_b).start()
            b_done.wait(timeout=1.5)  # B finishes meanwhile unless A holds the write lock
        return found

    monkeypatch.setattr(editing, "_record", record_then_wait)
    client_a = client_with_key(app, keys["write"])
    results["a"] = client_a.patch(f"/entities/{FINDER}", json={"notes": "from A"}).status_code
    assert b_done.wait(timeout=20)
    assert results == {"a": 200, "b": 200}
    detail = client_a.get(f"/entities/{FINDER}").get_json()
    assert detail["notes"] == "from A" and detail["country"] == "HK"  # both landed


def test_a_write_inside_a_read_snapshot_is_refused(loaded_db_path: Path) -> None:
    db = open_registry(loaded_db_path)
    try:
        with view(db), pytest.raises(RuntimeError, match="read snapshot"), immediate(db):
            pass
    finally:
        db.close()


# -- optimistic concurrency: ETag and If-Match ------------------------------------------


def test_a_stale_if_match_is_refused_with_412(client: FlaskClient) -> None:
    read = client.get(f"/entities/{FINDER}")
    etag = read.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    first = client.patch(f"/entities/{FINDER}", json={"notes": "first"}, headers={"If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = client.patch(
        f"/entities/{FINDER}", json={"notes": "second"}, headers={"If-Match": etag}
    )
    assert second.status_code == 412, second.get_data(as_text=True)
    assert second.content_type == "application/problem+json"
    assert second.get_json()["errors"][0]["field"] == "If-Match"
    assert client.get(f"/entities/{FINDER}").get_json()["notes"] == "first"  # not overwritten
    stale_delete = client.delete(f"/entities/{FINDER}", headers={"If-Match": etag})
    assert stale_delete.status_code == 412
    fresh = client.get(f"/entities/{FINDER}").headers["ETag"]
    assert client.delete(f"/entities/{FINDER}", headers={"If-Match": fresh}).status_code == 204


def test_if_none_match_and_star(client: FlaskClient) -> None:
    etag = client.get(f"/entities/{FINDER}").headers["ETag"]
    cached = client.get(f"/entities/{FINDER}", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.headers["ETag"] == etag
    body = {"type": "company", "name": "Brand New Ltd"}
    assert (
        client.put("/entities/brand-new", json=body, headers={"If-Match": "*"}).status_code == 412
    )
    assert (
        client.put("/entities/brand-new", json=body, headers={"If-None-Match": "*"}).status_code
        == 201
    )
    assert (
        client.put("/entities/brand-new", json=body, headers={"If-None-Match": "*"}).status_code
        == 412
    )
    assert (
        client.put("/entities/brand-new", json=body, headers={"If-Match": "*"}).status_code == 200
    )


def _history_total(client: FlaskClient, entity_id: str) -> int:
    total: int = client.get(f"/entities/{entity_id}/history").get_json()["total"]
    return total


def test_the_body_of_a_get_goes_back_to_put_as_it_is(client: FlaskClient) -> None:
    juhang = "juhang-aviation-technology-shenzhen-co-limited"
    # Another list's record merges into the entity (same USCC): the detail shows its
    # names too, and a country the own record does not state.
    merged = client.post(
        "/bulk",
        json={
            "dataset": "other-list",
            "entities": [
                {
                    "id": "other-list-juhang",
                    "type": "company",
                    "name": "Juhang Aviation Tech (Shenzhen)",
                    "country": "CN",
                    "names": [{"name": "JUHANG OTHER ALIAS"}],
                    "identifiers": [
                        {"scheme": "cn-uscc", "value": "91440300MA5GN73B4F", "country": "CN"}
                    ],
                }
            ],
        },
    )
    assert merged.status_code == 200, merged.get_data(as_text=True)
    read = client.get(f"/entities/{juhang}")
    body = read.get_json()
    assert len(body["records"]) == 2
    versions = _history_total(client, juhang)
    same = client.put(f"/entities/{juhang}", json=body, headers={"If-Match": read.headers["ETag"]})
    assert same.status_code == 200, same.get_data(as_text=True)
    assert same.headers["ETag"] == read.headers["ETag"]  # nothing changed
    assert _history_total(client, juhang) == versions
    # An edit of that body is applied, to the entity's own record only.
    body["names"].append({"name": "Juhang Round Trip Alias", "kind": "aka"})
    edited = client.put(
        f"/entities/{juhang}", json=body, headers={"If-Match": same.headers["ETag"]}
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    names = {(n["name"], n["record"]) for n in edited.get_json()["names"]}
    assert ("Juhang Round Trip Alias", juhang) in names
    assert ("JUHANG OTHER ALIAS", "other-list-juhang") in names
    assert sum(1 for n, _ in names if n == "JUHANG OTHER ALIAS") == 1  # not copied over


# -- page keys ---------------------------------------------------------------------------


def test_designation_pages_hold_every_row_when_ids_are_shared(client: FlaskClient) -> None:
    for index in range(3):
        designation = {
            "id": "shared-designation-id",
            "jurisdiction": "GB",
            "authority": "FCDO",
            "list": "UK Sanctions List",
            "evidence": EVIDENCE,
        }
        entity = {"id": f"sharer-{index}", "type": "company", "name": f"Sharer {index} Ltd"}
        created = client.post("/entities", json={**entity, "designations": [designation]})
        assert created.status_code == 201, created.get_data(as_text=True)
    for limit in (1, 2, 3):
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = client.get("/designations", query_string=query).get_json()
            seen.extend((d["id"], d["entity"]["id"]) for d in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == page["total"], limit
        assert sum(1 for i, _ in seen if i == "shared-designation-id") == 3


# -- imports -----------------------------------------------------------------------------


def test_a_parser_failure_is_a_recorded_failed_run(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_parser(paths: Any, run: Any) -> Any:
        raise KeyError("unique_id")

    monkeypatch.setattr(importers.FORMATS["uk-csv"], "parse", broken_parser)
    answer = client.post(
        "/imports",
        data={"format": "uk-csv", "files": (io.BytesIO(b"a,b\n1,2\n"), "subjects.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400, answer.get_data(as_text=True)
    (problem,) = answer.get_json()["errors"]
    assert "Unknown format" not in problem["message"]
    assert "KeyError" in problem["message"] and problem["field"] == "files"
    (run,) = client.get("/imports?status=failed").get_json()["items"]
    assert run["id"] in problem["message"]
    assert run["format"] == "uk-csv" and "KeyError: 'unique_id'" in run["error"]
