"""POST /screen answers streamed as names are screened (issue 14: a 10,000-name
answer is never held whole): the same bytes as the whole answer, errors before the
first byte as problem+json, the audit entry with the answer as sent, and nothing
held once the answer is sent or dropped."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from registry.api import screen as screen_api
from registry.api.common import get_db
from registry.db import _VIEWS, view
from registry.screening import ScreenOptions, screen
from registry.tables import read_csv
from schemas.api import ScreenBatchResultSchema

from .conftest import client_with_key, make_app

QUERIES: list[Any] = [
    {"id": "a", "name": "Sigma Technology Ltd"},
    {"id": "b", "name": "   "},
    {"id": "c", "name": "Most Development", "type": "spaceship"},
    "not an object",
    {"id": 5, "name": "Exeya Company Limited", "country": "HK"},
    {"name": "Dennex Enterprises", "dob": "1970", "nationality": "HK"},
    {"name": "Finder Technology Ltd", "id_number": "12345678"},
    {"name": "Juhang Aviation Technology (Shenzhen)"},
    {"name": "Nobody Whatsoever Ltd"},
]
CSV_BODY = (
    'id,name,country,branch\n1,Dennex Enterprises,HK,north\n2,=HYPERLINK("x"),,south\n'
    "3,Nobody Ltd,,east\n4,Sigma Technology,,west\n5,,,none\n6,Finder Tech Co.,,centre\n"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from registry.db import open_registry
    from registry.loader import load_paths

    from .conftest import FIXTURES

    path = tmp_path_factory.mktemp("stream") / "registry.db"
    db = open_registry(path)
    load_paths(db, [FIXTURES])
    db.close()
    return make_app(path, audit_flush_ms=0)


@pytest.fixture
def client(app: Flask, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setattr(screen_api, "STREAM_CHUNK", 2)  # several chunks for a few names
    return client_with_key(app, None)


def whole_answer(
    app: Flask, queries: list[Any], table: Any = None, as_csv: bool = False, **opts: Any
) -> bytes:
    """The answer as POST /screen made it before it was streamed: every result at
    once, dumped by the schema and written by the app's JSON provider (what
    flask-smorest's @blp.response does), or `csv_answer`."""
    options = ScreenOptions(**opts)
    with app.test_request_context():
        db = get_db()
        with view(db):
            results = screen(db, screen_api.index_cache(app), queries, options)
            versions = screen_api._dataset_versions(options.as_of)
        if table is not None:
            screen_api.annotate_cells(results, table)
        if as_csv:
            return screen_api.csv_answer(results, table).encode()
        dumped = ScreenBatchResultSchema().dump(
            {
                "threshold": options.threshold,
                "as_of": options.as_of,
                "count": len(results),
                "results": results,
                "datasets": versions,
            }
        )
        response = app.json.response(dumped)
        assert isinstance(response, Response)
        return bytes(response.get_data())


def audited_answers(app: Flask) -> list[tuple[str, bytes]]:
    from registry.monitoring import audit

    path = app.config["REGISTRY_SETTINGS"].db_path.with_name("registry.audit.db")
    conn = audit.connect_audit(path)
    try:
        rows = conn.execute(
            "SELECT answer_type, answer FROM audit WHERE kind = 'POST /screen' ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    return [(kind, zlib.decompress(blob)) for kind, blob in rows]


def test_a_streamed_json_answer_is_the_whole_answer_byte_for_byte(
    app: Flask, client: FlaskClient
) -> None:
    before = len(audited_answers(app))
    response = client.post("/screen", json={"queries": QUERIES, "limit": 3})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/json"
    sent = response.get_data()
    assert sent == whole_answer(app, QUERIES, limit=3)
    assert response.get_json()["count"] == len(QUERIES)
    # The audit trail holds the answer exactly as sent.
    assert audited_answers(app)[before:] == [("application/json", sent)]
    assert not _VIEWS and screen_api.index_cache(app).idle()
    # The same with as_of, a threshold and hidden false positives.
    options: dict[str, Any] = {
        "threshold": 0.8,
        "as_of": "2030-06-01",
        "hide_false_positives": True,
    }
    again = client.post("/screen", json={"queries": QUERIES, **options})
    loaded = {**options, "as_of": "2030-06-01T23:59:59.999999Z"}  # (as the schema reads it)
    assert again.get_data() == whole_answer(app, QUERIES, **loaded)


def test_a_streamed_csv_answer_is_the_whole_answer_byte_for_byte(
    app: Flask, client: FlaskClient
) -> None:
    table = read_csv(CSV_BODY.encode(), 100)
    before = len(audited_answers(app))
    response = client.post(
        "/screen?keep_columns=true",
        data=CSV_BODY,
        content_type="text/csv",
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    sent = response.get_data()
    assert sent == whole_answer(app, table.queries, table, as_csv=True)
    assert sent.startswith(b"query_index,") and b"branch" in sent.split(b"\r\n")[0]
    assert audited_answers(app)[before:] == [("text/csv", sent)]
    # A table's JSON answer, row errors naming their cell.
    as_json = client.post("/screen", data=CSV_BODY, content_type="text/csv")
    assert as_json.get_data() == whole_answer(app, table.queries, table)


def test_an_error_before_the_first_byte_is_a_problem(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.screen_index import IndexCache, IndexUnavailable

    def unavailable(*_: Any, **__: Any) -> Any:
        raise IndexUnavailable("the screening index is being built", 1)

    monkeypatch.setattr(IndexCache, "view", unavailable)
    response = client.post("/screen", json={"queries": QUERIES})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert not _VIEWS and screen_api.index_cache(app).idle()


def test_an_answer_dropped_half_way_lets_go_of_what_it_held(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/screen", json={"queries": QUERIES}, buffered=False)
    assert response.status_code == 200
    first = next(iter(response.response))
    assert isinstance(first, bytes)
    assert first.startswith(b'{"threshold":')
    assert _VIEWS  # the read snapshot lasts while the answer is sent
    response.close()  # the client went away
    assert not _VIEWS and screen_api.index_cache(app).idle()
    assert client.post("/screen", json={"queries": QUERIES[:1]}).status_code == 200


def test_bad_input_is_still_refused_whole(client: FlaskClient, tmp_path: Path) -> None:
    bad = client.post("/screen", json={"queries": QUERIES, "limit": 0})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
