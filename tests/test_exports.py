"""Exports: CSV safe to open in a spreadsheet, FollowTheMoney entities."""

from __future__ import annotations

import csv
import io
import json

from flask.testing import FlaskClient

from registry.exports import neutralise

from .test_api_errors import NEW_ENTITY


def test_csv_holds_every_match_with_its_listings(client: FlaskClient) -> None:
    response = client.get("/entities.csv?jurisdiction=US")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 8
    dennex = next(r for r in rows if r["id"] == "dennex-enterprises-limited")
    assert dennex["authorities"] == "BIS" and dennex["references"] == "89 FR 14388"
    assert dennex["listed_dates"] == "2024-02-23"


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(client: FlaskClient) -> None:
    hostile = {
        **NEW_ENTITY,
        "id": "hostile",
        "name": '=HYPERLINK("http://evil.example","click")',
        "names": [
            {"name": "+1+2", "kind": "aka"},
            {"name": "-2+3", "kind": "aka"},
            {"name": "@SUM(A1:A9)", "kind": "aka"},
        ],
        "identifiers": [{"scheme": "tax-id", "value": "=cmd|' /C calc'!A0"}],
    }
    assert client.post("/entities", json=hostile).status_code == 201
    text = client.get("/entities.csv?q=hostile").get_data(as_text=True)
    text += client.get("/entities.csv?q=HYPERLINK").get_data(as_text=True)
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r.get("id") == "hostile"]
    assert rows, text
    row = rows[0]
    assert row["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["aliases"] == "'+1+2; -2+3; @SUM(A1:A9)"
    assert row["identifiers"] == "tax-id:=cmd|' /C calc'!A0"  # not at the start: inert
    for cell in (c for r in rows for c in r.values()):
        assert not cell.startswith(("=", "+", "-", "@")), cell


def test_neutralise_table() -> None:
    for raw, safe in [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ACME", "ACME"),
        ("", ""),
        ("a=b", "a=b"),
    ]:
        assert neutralise(raw) == safe


def test_followthemoney_export(client: FlaskClient) -> None:
    response = client.get("/entities.ftm.jsonl?jurisdiction=GB")
    assert response.mimetype == "application/x-ndjson"
    items = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    subjects = [i for i in items if i["schema"] == "Company"]
    sanctions = [i for i in items if i["schema"] == "Sanction"]
    assert len(subjects) == 3 and len(sanctions) == 4  # Juhang is also on the EU list
    juhang = next(s for s in subjects if s["id"].startswith("juhang"))
    assert "巨航航空科技（深圳）有限公司" in juhang["properties"]["alias"]
    assert juhang["properties"]["topics"] == ["sanction"]
    uk = next(s for s in sanctions if s["id"] == f"{juhang['id']}.gb-rus2111")
    assert uk["properties"]["startDate"] == ["2024-02-22"]
    assert uk["properties"]["entity"] == [juhang["id"]]
