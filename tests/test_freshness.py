"""Freshness you can see: GET /datasets, /readyz with REGISTRY_MAX_LIST_AGE, the dataset
versions in screening answers, and `registry serve --refresh-every` keeping lists current."""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from registry.cli import main
from registry.db import open_registry, utcnow
from registry.imports import run_import
from registry.loader import load_paths
from registry.refresh import refresh_lock

from .conftest import FIXTURES, make_app, served
from .listserver import ListServer

SAMPLES = Path(__file__).parent / "samples"
DEAD_URL = "http://127.0.0.1:9/UK-Sanctions-List.csv"  # the discard port: nothing listens
UK = SAMPLES / "UK-Sanctions-List.csv"
EU = SAMPLES / "eu-fsf-2018-12-21.xml"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """The seed fixtures and the UK list sample, imported."""
    path = tmp_path / "r.db"
    db = open_registry(path)
    load_paths(db, [FIXTURES])
    run_import(db, "uk-fcdo-csv", [UK])
    db.close()
    return path


def test_datasets_show_sources_loaded_publication_and_counts(registry: Path) -> None:
    body = make_app(registry).test_client().get("/datasets").get_json()
    states = {d["name"]: d for d in body["items"]}
    uk = states["gb-hmt"]
    assert uk["urls"] == ["https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv"]
    assert (uk["format"], uk["listed"], uk["delisted"]) == ("uk-fcdo-csv", 2, 0)
    assert uk["published"] == "2026-02-13"
    assert uk["last_attempt"]["kind"] == "import" and uk["last_attempt"]["status"] == "finished"
    assert uk["last_success_at"] == uk["loaded_at"] and uk["stale"] is False
    # a list of the catalogue never loaded: its sources, nothing loaded, not a stale list
    un = states["un-sc"]
    assert un["urls"] and un["listed"] == 0 and un["last_attempt"] is None
    assert un["stale"] is False
    # the seed fixtures are not a list: counted, never stale
    assert states["fixtures"]["listed"] > 0 and states["fixtures"]["stale"] is False
    assert body["max_list_age_seconds"] == 48 * 3600


def test_readyz_requires_fresh_lists_only_when_told(registry: Path) -> None:
    assert make_app(registry).test_client().get("/readyz").status_code == 200
    fresh = make_app(registry, max_list_age=3600.0).test_client().get("/readyz")
    assert fresh.status_code == 200 and fresh.get_json() == {"status": "ready"}
    time.sleep(0.05)
    stale = make_app(registry, max_list_age=0.01).test_client()
    answer = stale.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["message"].split(":")[0] for e in answer.get_json()["errors"]] == ["gb-hmt"]
    assert stale.get("/datasets").get_json()["items"][0]["stale"] is not None
    states = {d["name"]: d for d in stale.get("/datasets").get_json()["items"]}
    assert states["gb-hmt"]["stale"] is True and states["fixtures"]["stale"] is False


def test_a_list_that_never_loaded_is_stale(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sources = tmp_path / "sources.json"
    sources.write_text(
        json.dumps({"datasets": [{"name": "gb-hmt", "format": "uk-fcdo-csv", "urls": [DEAD_URL]}]})
    )
    result = CliRunner().invoke(
        main, ["refresh", "--sources", str(sources), "--db", str(db), "--retries", "0"]
    )
    assert result.stdout.strip() == "updated=0 unchanged=0 failed=1"
    assert "connection failed" in result.stderr
    client = make_app(db, max_list_age=3600.0, sources_file=sources).test_client()
    (state,) = client.get("/datasets").get_json()["items"]
    assert (state["name"], state["stale"], state["last_success_at"]) == ("gb-hmt", True, None)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "gb-hmt: never refreshed or imported successfully" in answer.get_json()["detail"]


def test_screening_answers_name_the_dataset_versions_they_used(registry: Path) -> None:
    app = make_app(registry)
    client = app.test_client()
    before = utcnow()
    one = client.get("/screen?name=Mohammad+Hassan+Akhund").get_json()
    versions = {v["dataset"]: v for v in one["datasets"]}
    assert set(versions) == {"fixtures", "gb-hmt"}
    assert versions["gb-hmt"]["published"] == "2026-02-13"
    assert versions["gb-hmt"]["import_run"].startswith("imp-")
    assert versions["fixtures"]["import_run"] is None and versions["fixtures"]["loaded_at"]
    db = open_registry(registry)
    eu = run_import(db, "eu-fsf-xml", [EU])
    db.close()
    many = client.post("/screen", json={"queries": [{"name": "IBDA-C"}]}).get_json()
    now = {v["dataset"]: v for v in many["datasets"]}
    assert now["eu-fsf"] == {
        "dataset": "eu-fsf",
        "import_run": eu.run_id,
        "published": "2018-12-21",
        "loaded_at": eu.finished_at,
    }
    assert many["results"][0]["matches"][0]["entity_id"]
    past = client.get("/screen", query_string={"name": "IBDA-C", "as_of": before}).get_json()
    assert {v["dataset"] for v in past["datasets"]} == {"fixtures", "gb-hmt"}
    assert past["matches"] == []


def test_serve_refreshes_in_the_background_one_run_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "served.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    with ListServer() as server:
        sources = tmp_path / "sources.json"
        sources.write_text(
            json.dumps(
                {
                    "datasets": [
                        {
                            "name": "gb-hmt",
                            "format": "uk-fcdo-csv",
                            "urls": [server.serve("uk.csv", UK)],
                        },
                        {
                            "name": "eu-fsf",
                            "format": "eu-fsf-xml",
                            "urls": [server.serve("eu.xml", EU, content_type="text/xml")],
                        },
                    ]
                }
            )
        )
        monkeypatch.setenv("REGISTRY_MAX_LIST_AGE", "1h")
        with served(db, "--refresh-every", "1s", "--sources", str(sources)) as app:
            deadline = time.monotonic() + 60
            while len(runs(db)) < 6 and time.monotonic() < deadline:
                time.sleep(0.2)
            server.fault("uk.csv", "html", times=1000)  # the publisher breaks down
            failed_seen = time.monotonic() + 30
            while not any(r[2] == "failed" for r in runs(db)) and time.monotonic() < failed_seen:
                time.sleep(0.2)
            states = {d["name"]: d for d in requests.get(f"{app.base}/datasets").json()["items"]}
            ready = requests.get(f"{app.base}/readyz")
            found = requests.get(f"{app.base}/screen", params={"name": "Robert Gabriel Mugabe"})
    done = runs(db)
    # at start-up, then again and again: first imports, then 304s
    assert [r[2] for r in done[:2]] == ["updated", "updated"]
    assert {r[2] for r in done[2:6]} == {"unchanged"}
    assert any(r[2] == "failed" for r in done)
    for previous, current in itertools.pairwise(done):
        assert current[0] >= previous[1]  # never two at once
    uk = states["gb-hmt"]
    assert uk["urls"] == [server.url("uk.csv")]
    assert uk["last_attempt"]["status"] == "failed"
    assert "HTML page" in uk["last_attempt"]["reason"]
    assert uk["stale"] is False and uk["listed"] == 2  # the last success is recent
    assert ready.status_code == 200
    assert found.json()["matches"][0]["name"] == "Robert Gabriel Mugabe"


def runs(db: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT started_at, finished_at, status FROM refresh_runs ORDER BY started_at"
        ).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


def test_a_second_refresh_of_the_same_registry_waits_its_turn(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    sources = tmp_path / "sources.json"
    sources.write_text(
        json.dumps(
            {
                "datasets": [
                    {
                        "name": "gb-hmt",
                        "format": "uk-fcdo-csv",
                        "urls": ["http://127.0.0.1:9/x.csv"],
                    }
                ]
            }
        )
    )
    with refresh_lock(db):
        result = CliRunner().invoke(main, ["refresh", "--sources", str(sources), "--db", str(db)])
    assert result.exit_code == 1
    assert "another refresh of" in result.stderr and "is running" in result.stderr
