"""Hostile input: every case of issue 10 that answered 500 (or was silently stored)
answers 400 (or 413) naming the field, in the one problem+json envelope."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate

import schemas.api
import schemas.fixture
from registry import strict_json
from registry.db import open_registry
from registry.keys import create_key
from registry.loader import load_paths
from schemas.fields import Pattern

from .conftest import FIXTURES, client_with_key, make_app

EVIDENCE = [{"source": "seed-000", "quote": "including three Chinese companies"}]
DESIGNATION = {
    "id": "hostile-gb",
    "jurisdiction": "GB",
    "authority": "FCDO",
    "list": "UK Sanctions List",
    "listed_date": "2024-02-22",
    "evidence": EVIDENCE,
}
ENTITY = {"type": "company", "name": "Hostile Input Ltd", "designations": [DESIGNATION]}
FAR_AS_OF = "9999-12-31T23:59:59-01:00"


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    db_path = tmp_path_factory.mktemp("hostile") / "registry.db"
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    keys = {scope: create_key(db, f"hostile {scope}", scope)[1] for scope in ("write", "admin")}
    db.close()
    app = make_app(db_path)
    app.config["TESTING"] = False  # a 500 answers as in production, not as an exception
    yield app, keys


@pytest.fixture
def writer(served_app: tuple[Flask, dict[str, str]]) -> FlaskClient:
    return client_with_key(served_app[0], served_app[1]["write"])


@pytest.fixture
def admin(served_app: tuple[Flask, dict[str, str]]) -> FlaskClient:
    return client_with_key(served_app[0], served_app[1]["admin"])


def refused(response: Any, field: str, status: int = 400) -> list[dict[str, Any]]:
    """The answer is a problem+json `status` naming `field`; its errors."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    assert response.content_type == "application/problem+json", body
    errors = json.loads(body).get("errors", [])
    assert field in [e.get("field") for e in errors], errors
    return errors


def raw_json(client: FlaskClient, path: str, text: str, method: str = "POST") -> Any:
    return client.open(path, method=method, data=text.encode(), content_type="application/json")


# -- JSON bodies: one strict reader -----------------------------------------------------


def test_a_lone_surrogate_is_refused_where_it_is(writer: FlaskClient) -> None:
    entity = json.dumps({**ENTITY, "name": "Hostile"})[:-1] + ', "notes": "bad \\ud800 here"}'
    refused(raw_json(writer, "/entities", entity), "notes")
    batch = '{"queries": [{"name": "Finder"}, {"name": "ab\\udc00"}]}'
    refused(raw_json(writer, "/screen", batch), "queries[1].name")
    refused(raw_json(writer, "/entities", '{"\\ud800": 1}'), "body")


def test_json_nested_5000_deep_is_refused(writer: FlaskClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    refused(raw_json(writer, "/entities", deep), "body")
    refused(raw_json(writer, "/screen", '{"queries": ' + deep + "}"), "body")
    # Deep enough to break serialising it later (orjson stops at 255), shallow
    # enough for json.loads: refused by depth, with the path.
    row = {"a": json.loads("[" * 300 + "]" * 300)}
    bulk: dict[str, list[dict[str, Any]]] = {
        "actions": [{"id": "a-deep", "jurisdiction": "GB", "date": "2024", "title": "t"}]
    }
    bulk["actions"][0]["evidence"] = [{"source": "seed-000", "row": row}]
    answer = raw_json(writer, "/bulk", json.dumps(bulk))
    assert answer.status_code == 400
    (error,) = answer.get_json()["errors"]
    assert "nested more than 64" in error["message"]
    assert error["field"].startswith("actions[0].evidence[0].row.a[0][0]")


def test_integers_past_64_bits_are_refused(writer: FlaskClient) -> None:
    huge = "1" * 5000
    refused(
        raw_json(writer, "/entities", '{"type": "company", "name": "x", "id": ' + huge + "}"), "id"
    )
    refused(raw_json(writer, "/screen", '{"queries": [], "limit": ' + huge + "}"), "limit")
    action: dict[str, Any] = {"id": "a-big", "jurisdiction": "GB", "date": "2024", "title": "t"}
    action["evidence"] = EVIDENCE
    text = json.dumps({"actions": [{**action, "target_count": 1}]}).replace(
        ": 1}", ": 1" + "0" * 30 + "}"
    )
    refused(raw_json(writer, "/bulk", text), "actions[0].target_count")
    refused(writer.get("/entities?limit=" + huge), "limit")


def test_nan_infinity_and_overflowing_floats_are_refused(writer: FlaskClient) -> None:
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        text = '{"queries": [{"name": "Finder"}], "threshold": ' + number + "}"
        refused(raw_json(writer, "/screen", text), "threshold")


def test_duplicate_keys_are_refused_not_last_wins(admin: FlaskClient) -> None:
    before = len(admin.get("/keys").get_json())
    text = '{"name": "sneaky", "scope": "read", "scope": "admin"}'
    errors = refused(raw_json(admin, "/keys", text), "scope")
    assert "more than once" in errors[0]["message"]
    assert len(admin.get("/keys").get_json()) == before  # no key was made
    nested = '{"queries": [{"name": "Finder", "name": "Juhang"}]}'
    refused(raw_json(admin, "/screen", nested), "queries[0].name")


def test_fractional_integers_are_refused_not_truncated(writer: FlaskClient) -> None:
    refused(writer.post("/screen", json={"queries": [{"name": "Finder"}], "limit": 2.5}), "limit")
    refused(writer.post("/screen", json={"queries": [{"name": "Finder"}], "limit": True}), "limit")
    refused(writer.get("/entities?limit=2.5"), "limit")
    refused(writer.get("/screen?name=Finder&limit=2.5"), "limit")
    # A whole number written as a float is still a whole number.
    ok = writer.post("/screen", json={"queries": [{"name": "Finder"}], "limit": 2.0})
    assert ok.status_code == 200


def test_strict_reader_accepts_ordinary_json() -> None:
    text = (
        '{"a": [1, -2, 3.5, "x\\u00e9\\ud83d\\ude00", null, true], "b": {"c": 9223372036854775807}}'
    )
    assert strict_json.loads(text.encode()) == {
        "a": [1, -2, 3.5, "xé😀", None, True],
        "b": {"c": 9223372036854775807},
    }


# -- names, ids and codes ------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b", "\x00", "ab\x00cd", "\u202e\u202d", "\u202eLtd Acme", " \u3164 ", "A\nB"],
    ids=["zero-width only", "NUL", "NUL inside", "bidi only", "RLO", "hangul filler", "newline"],
)
def test_names_that_hide_or_disguise_are_refused(writer: FlaskClient, name: str) -> None:
    refused(writer.post("/entities", json={**ENTITY, "name": name}), "name")
    aka = {**ENTITY, "names": [{"name": name, "kind": "aka"}]}
    refused(writer.post("/entities", json=aka), "names[0].name")
    refused(writer.get("/screen", query_string={"name": name}), "name")
    result = writer.post("/screen", json={"queries": [{"name": name}, {"name": "Finder"}]})
    rows = result.get_json()["results"]
    assert rows[0]["error"]["errors"][0]["field"] == "name"  # that row alone fails
    assert rows[1]["error"] is None


def test_names_of_real_scripts_are_kept(writer: FlaskClient) -> None:
    # Right-to-left names keep their marks; only overrides (LRO, RLO) are refused.
    for name in (
        "\u062d\u0633\u0646\u202c \u0639\u0633\u06a9\u0631\u06cc",
        "巨航航空",
        "Ōsaka Ltd",
    ):
        assert writer.get("/screen", query_string={"name": name}).status_code == 200


def test_a_trailing_newline_does_not_pass_a_pattern(writer: FlaskClient) -> None:
    newline_gb = {**ENTITY, "designations": [{**DESIGNATION, "jurisdiction": "GB\n"}]}
    refused(writer.post("/entities", json=newline_gb), "designations[0].jurisdiction")
    refused(writer.post("/entities", json={**ENTITY, "country": "GB\n"}), "country")
    refused(writer.post("/entities", json={**ENTITY, "id": "hostile-id\n"}), "id")
    dated = {**ENTITY, "designations": [{**DESIGNATION, "listed_date": "2024-02-22\n"}]}
    refused(writer.post("/entities", json=dated), "designations[0].listed_date")
    refused(writer.get("/entities", query_string={"jurisdiction": "GB\n"}), "jurisdiction")
    refused(writer.get("/screen", query_string={"name": "Finder", "country": "CN\n"}), "country")


def _patterns(schema: Schema, path: str = "") -> Iterator[tuple[str, Any]]:
    for name, field in schema.fields.items():
        where = f"{path}.{name}" if path else name
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
            yield from _patterns(inner.schema, where)
        for validator in getattr(inner, "validators", []):
            if isinstance(validator, validate.Regexp):
                yield where, validator


def test_every_pattern_in_the_schemas_matches_whole_values() -> None:
    """marshmallow's Regexp uses re.match, where `$` passes "GB\\n"; every pattern
    of the contract is a full match."""
    checked = 0
    for module in (schemas.fixture, schemas.api):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Schema) and value is not Schema:
                for where, validator in _patterns(value()):
                    assert isinstance(validator, Pattern), f"{value.__name__}.{where}"
                    checked += 1
    assert checked > 20


# -- query strings, cursors, instants --------------------------------------------------


def test_a_forged_cursor_is_a_400(writer: FlaskClient) -> None:
    def cursor(payload: str) -> str:
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    for forged in ('["\\ud800"]', "[true]", '[["x"]]', '["a", "b"]', "{", "[1e400]"):
        refused(writer.get(f"/entities?cursor={cursor(forged)}"), "cursor")
    # /designations pages on (id, row): its cursors hold two values.
    for forged in ('["\\ud800", 1]', '["a"]', '["a", true]', "[[], 1]"):
        refused(writer.get(f"/designations?cursor={cursor(forged)}"), "cursor")


@pytest.mark.parametrize(
    "path",
    [
        "/entities",
        "/entities/finder-technology-ltd",
        "/screen?name=Finder",
        "/entities.csv",
        "/entities.ftm.jsonl",
    ],
)
def test_an_instant_past_the_calendar_is_a_400(writer: FlaskClient, path: str) -> None:
    sep = "&" if "?" in path else "?"
    refused(writer.get(f"{path}{sep}as_of={FAR_AS_OF.replace('+', '%2B')}"), "as_of")


# -- CSV screening -------------------------------------------------------------------


def test_csv_with_a_cell_over_the_field_limit_is_a_400(writer: FlaskClient) -> None:
    body = "name\n" + "a" * 140_000 + "\n"
    errors = refused(writer.post("/screen", data=body, content_type="text/csv"), "body")
    assert errors[0]["location"] == "csv" and "Line" in errors[0]["message"]


def test_csv_with_bare_cr_line_ends_is_screened(writer: FlaskClient) -> None:
    body = "id,name\rc1,Finder Technology Ltd\rc2,Nobody Special\r"
    answer = writer.post("/screen", data=body, content_type="text/csv")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    results = answer.get_json()["results"]
    assert [r["id"] for r in results] == ["c1", "c2"]
    assert results[0]["matches"][0]["entity_id"] == "finder-technology-ltd"


def test_csv_with_a_nul_in_a_name_fails_that_row(writer: FlaskClient) -> None:
    body = "name\nab\x00cd\nFinder Technology\n"
    results = writer.post("/screen", data=body, content_type="text/csv").get_json()["results"]
    assert results[0]["error"] is not None and results[1]["error"] is None


def test_db_is_untouched_by_refused_writes(served_app: tuple[Flask, dict[str, str]]) -> None:
    """None of the refused writes above stored anything (run last in this module)."""
    app, _ = served_app
    db = open_registry(Path(app.config["REGISTRY_SETTINGS"].db_path))
    try:
        rows = db.conn.execute(
            "SELECT COUNT(*) FROM records WHERE dataset != 'fixtures'"
        ).fetchone()[0]
    finally:
        db.close()
    assert rows == 0
