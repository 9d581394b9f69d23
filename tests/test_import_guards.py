"""Imports never roll a list back or delist most of it by mistake: the two cases of issue 11,
refused on the command line and over HTTP, and let through when the person says so."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.db import open_registry
from registry.imports import ImportRefused, run_import
from registry.keys import create_key

from .conftest import SHARED_DATA, client_with_key, make_app

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"the shared list files are not at {SHARED_DATA}"
)
OFAC_JSON = SHARED_DATA / "ofac_sdn_kindrat86" / "ofac-sdn.json"
SDN_2024 = SHARED_DATA / "ofac_sdn_snapshots" / "sdn_2024-02-20.csv"
UK = SHARED_DATA / "uk_covyr"


def copy_db(source: Path, target: Path) -> Path:
    """A private copy of a prepared registry (SQLite's backup: consistent, WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def state(db_path: Path) -> dict[str, object]:
    conn = sqlite3.connect(db_path)
    try:
        return {
            "listed": dict(
                conn.execute(
                    "SELECT dataset, COUNT(*) FROM records WHERE removed_at IS NULL "
                    "GROUP BY dataset"
                ).fetchall()
            ),
            "history": conn.execute("SELECT COUNT(*) FROM history").fetchone()[0],
            "generation": conn.execute(
                "SELECT value FROM meta WHERE key = 'generation'"
            ).fetchone()[0],
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2026 OFAC SDN JSON and the UK list, imported once for the module."""
    path = tmp_path_factory.mktemp("guards") / "base.db"
    db = open_registry(path)
    run_import(db, "ofac-json", [OFAC_JSON])
    run_import(db, "uk-csv", [UK])
    db.close()
    return path


@pytest.fixture
def registry(loaded: Path, tmp_path: Path) -> Iterator[Path]:
    yield copy_db(loaded, tmp_path / "r.db")


def test_an_older_ofac_file_is_refused_saying_what_it_would_have_done(registry: Path) -> None:
    before = state(registry)
    result = CliRunner().invoke(
        main, ["import", "--format", "ofac-csv", str(SDN_2024), "--db", str(registry)]
    )
    assert result.exit_code == 1
    assert "published 2024-02-20, older than the one loaded (published 2026-08-20" in result.stderr
    assert "--allow-older" in result.stderr
    # what would have happened: the roll-back the issue reports
    assert "6,411 of the 19,249 entries listed now delisted" in result.stderr
    assert "1,093 added" in result.stderr
    assert "Traceback" not in result.output
    assert state(registry) == before
    conn = sqlite3.connect(registry)
    status, counts = conn.execute(
        "SELECT status, counts FROM import_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert status == "failed" and "older than the one loaded" in json.loads(counts)["error"]
    # GAZPROM NEFT INTERNATIONAL SA, which the roll-back would have delisted, is listed still
    app = make_app(registry)
    found = app.test_client().get("/entities?q=Gazprom+Neft+International&type=company")
    assert [e["status"] for e in found.get_json()["items"]] == ["active"]


def test_a_partial_uk_file_is_refused(registry: Path) -> None:
    before = state(registry)
    result = CliRunner().invoke(
        main, ["import", "--format", "uk-csv", str(UK / "subjects.csv"), "--db", str(registry)]
    )
    assert result.exit_code == 1
    assert "would delist 6,046 of the 6,046 entries of gb-hmt listed now (100%" in result.stderr
    assert "--allow-mass-delisting" in result.stderr
    assert state(registry) == before


def test_the_person_can_say_so(registry: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "import",
            "--format",
            "uk-csv",
            "--allow-mass-delisting",
            str(UK / "subjects.csv"),
            "--db",
            str(registry),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith("removed=6046 unchanged=0")


def test_http_refuses_with_409_and_the_form_fields_let_it_through(registry: Path) -> None:
    db = open_registry(registry)
    _, key = create_key(db, "t", "write")
    db.close()
    client = client_with_key(make_app(registry), key)
    subjects = (UK / "subjects.csv").read_bytes()

    def post(**extra: str) -> tuple[int, dict]:
        data = {"format": "uk-csv", "files": (io.BytesIO(subjects), "subjects.csv"), **extra}
        answer = client.post("/imports", data=data, content_type="multipart/form-data")
        return answer.status_code, answer.get_json()

    status, body = post()
    assert status == 409
    assert body["errors"][0]["field"] == "allow_mass_delisting"
    assert "would delist 6,046 of the 6,046 entries" in body["errors"][0]["message"]
    failed = client.get("/imports?status=failed").get_json()["items"][0]
    assert "would delist" in failed["error"]
    status, body = post(allow_mass_delisting="true")
    assert status == 201, body
    assert body["counts"]["removed"] == 6046


def test_a_small_list_may_drop_a_few_entries(tmp_path: Path) -> None:
    """The 10% guard counts from 10 entries: a list of three may lose one; a list of 30 may
    not lose 15 unless told."""
    lines = SDN_2024.read_bytes().splitlines(keepends=True)
    for count, kept in ((3, 2), (30, 15)):
        folder = tmp_path / str(count)
        folder.mkdir()
        first, second = folder / "sdn_2024-02-01.csv", folder / "sdn_2024-02-02.csv"
        first.write_bytes(b"".join(lines[:count]))
        second.write_bytes(b"".join(lines[:kept]))
        db = open_registry(folder / "r.db")
        run_import(db, "ofac-csv", [first])
        if count == 3:
            assert run_import(db, "ofac-csv", [second]).counts.removed == 1
        else:
            with pytest.raises(ImportRefused, match="would delist 15 of the 30 entries"):
                run_import(db, "ofac-csv", [second])
        db.close()
