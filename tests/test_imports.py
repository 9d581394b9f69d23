"""Import runs over real list files: counts, idempotency, diffs, merging, all-or-nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from registry.cli import main
from registry.db import open_registry
from registry.imports import run_import
from registry.loader import load_paths
from registry.problems import InputError

from .conftest import FIXTURES, SHARED_DATA, index_current

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"the shared list files are not at {SHARED_DATA}"
)
SNAPSHOTS = SHARED_DATA / "ofac_sdn_snapshots"


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_ofac_snapshots_import_reimport_and_diff(tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", str(tmp_path / "r.db")]
    first = runner.invoke(
        main, ["import", "--format", "ofac-csv", str(SNAPSHOTS / "sdn_2024-02-20.csv"), *db]
    )
    assert first.exit_code == 0, first.output
    assert last_line(first.stdout) == "added=13931 changed=0 removed=0 unchanged=0"
    assert "write:" in first.stderr  # progress
    again = runner.invoke(
        main, ["import", "--format", "ofac-csv", str(SNAPSHOTS / "sdn_2024-02-20.csv"), *db]
    )
    assert last_line(again.stdout) == "added=0 changed=0 removed=0 unchanged=13931"
    newer = runner.invoke(
        main, ["import", "--format", "ofac-csv", str(SNAPSHOTS / "sdn_2024-02-23.csv"), *db]
    )
    added, changed, removed, unchanged = (
        int(part.split("=")[1]) for part in last_line(newer.stdout).split()
    )
    assert (added, removed) == (553, 0)
    assert added + changed + unchanged == 14484
    assert changed < 50  # real detail changes only, not every entry re-read

    registry = open_registry(tmp_path / "r.db")
    run_id = registry.conn.execute(
        "SELECT id FROM import_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()[0]
    with (SHARED_DATA / "goal1" / "ofac_2024-02-23_new_uids.csv").open(encoding="utf-8") as f:
        expected = {row["uid"] for row in csv.DictReader(f)}
    recorded = {
        r[0].split(":")[1]
        for r in registry.conn.execute(
            "SELECT object_id FROM history WHERE run_id = ? AND object_type = 'record' "
            "AND change = 'added'",
            (run_id,),
        )
    }
    assert recorded == expected


def test_changes_endpoint_shows_additions_changes_and_delistings(
    client: FlaskClient, loaded_db_path: Path
) -> None:
    db = open_registry(loaded_db_path)
    run_import(db, "ofac-csv", [SNAPSHOTS / "sdn_2024-02-23.csv"])
    later = run_import(db, "ofac-csv", [SNAPSHOTS / "sdn_2024-05-03.csv"])
    run = client.get(f"/imports/{later.run_id}").get_json()
    assert run["status"] == "finished" and run["dataset"] == "us-ofac-sdn"
    assert run["files"][0]["name"] == "sdn_2024-05-03.csv"
    assert run["files"][0]["checksum"].startswith("sha256:")
    assert run["counts"] == later.counts.as_dict()
    removed = client.get(f"/imports/{later.run_id}/changes?change=removed&limit=500").get_json()
    assert removed["total"] == later.counts.removed > 0
    mugabe = next(i for i in removed["items"] if i["name"] == "MUGABE, Robert Gabriel")
    delisted = mugabe["after"]["designations"][0]
    assert delisted["delisted_date"] == "2024-05-03"
    assert "absent from sdn_2024-05-03.csv" in delisted["evidence"][-1]["note"]
    # The delisted entity is kept, with its history, and no longer screened by default.
    entity = client.get(f"/entities/{mugabe['entity_id']}").get_json()
    assert entity["status"] == "delisted"
    index_current(client.application)  # (the service's index, built in the background)
    assert client.get("/screen?name=Robert+Gabriel+Mugabe").get_json()["matches"] == []
    assert client.get("/screen?name=Robert+Gabriel+Mugabe&include_delisted=true").get_json()[
        "matches"
    ]
    changed = client.get(f"/imports/{later.run_id}/changes?change=changed&limit=5").get_json()
    assert changed["items"] and all(i["diff"] for i in changed["items"])


def test_one_entity_from_several_lists_with_the_reason(
    client: FlaskClient, loaded_db_path: Path
) -> None:
    db = open_registry(loaded_db_path)
    run_import(db, "uk-csv", [SHARED_DATA / "uk_covyr"])
    run_import(
        db,
        "ofac-json",
        [
            SHARED_DATA / "ofac_sdn_kindrat86" / "ofac-sdn.json",
            SHARED_DATA / "ofac_add_alt_mino6225" / "add.csv",
            SHARED_DATA / "ofac_add_alt_mino6225" / "alt.csv",
        ],
    )
    run_import(db, "eu-json", [SHARED_DATA / "eu_un_pakote" / "all.json"])
    finder = client.get("/entities/finder-technology-ltd").get_json()
    records = {r["id"]: r["merge"] for r in finder["records"]}
    assert records["gb-hmt:rus2110"]["rule"] == "identifier"
    assert records["us-ofac-sdn:48589"]["rule"] == "name_and_country"
    assert {d["jurisdiction"] for d in finder["designations"]} == {"GB", "US"}
    juhang = client.get("/entities/juhang-aviation-technology-shenzhen-co-limited").get_json()
    juhang_records = {r["id"]: r["merge"] for r in juhang["records"]}
    assert juhang_records["us-ofac-sdn:48590"]["rule"] == "name_and_country"
    assert juhang_records["eu-fsf:171452"]["rule"] == "identifier"  # the USCC
    assert "91440300MA5GN73B4F" in juhang_records["eu-fsf:171452"]["detail"]
    assert {d["jurisdiction"] for d in juhang["designations"]} == {"GB", "US", "EU"}
    # Screening spans every list, with the registry filters (once the service's index
    # has the imports, built in the background).
    index_current(client.application)
    us_only = client.get("/screen?name=Juhang+Aviation+Technology&jurisdiction=US").get_json()
    assert us_only["matches"][0]["entity_id"] == juhang["id"]
    uk_person = client.get("/screen?name=Igor+Gennadievich+Kudryashkin&type=person").get_json()
    # The same person on the UK and EU lists stays two entities: people merge only on
    # a strong identifier, never on a name. Both are found.
    found = {
        d["jurisdiction"] for m in uk_person["matches"][:2] for d in m["entity"]["designations"]
    }
    assert found == {"GB", "EU"}


def test_malformed_rows_warn_and_strict_fails_writing_nothing(tmp_path: Path) -> None:
    lines = (SNAPSHOTS / "sdn_2024-02-20.csv").read_bytes().splitlines(keepends=True)[:50]
    broken = tmp_path / "sdn.csv"
    broken.write_bytes(b"".join(lines[:20]) + b'"unterminated,"x\n' + b"".join(lines[20:]))
    db_path = tmp_path / "r.db"
    runner = CliRunner()
    lenient = runner.invoke(
        main, ["import", "--format", "ofac-csv", str(broken), "--db", str(db_path)]
    )
    assert lenient.exit_code == 0, lenient.output
    assert "warning: sdn.csv:21:" in lenient.stderr
    assert last_line(lenient.stdout).startswith("added=")
    strict_db = tmp_path / "strict.db"
    strict = runner.invoke(
        main, ["import", "--format", "ofac-csv", "--strict", str(broken), "--db", str(strict_db)]
    )
    assert strict.exit_code == 1
    assert "sdn.csv" in strict.stderr and "21" in strict.stderr
    registry = open_registry(strict_db)
    assert registry.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    failed = registry.conn.execute("SELECT status, counts FROM import_runs").fetchall()
    assert [row[0] for row in failed] == ["failed"]
    assert "21" in json.loads(failed[0][1])["error"]


def test_a_file_of_the_wrong_format_is_refused(tmp_path: Path) -> None:
    db = open_registry(tmp_path / "r.db")
    load_paths(db, [FIXTURES])
    with pytest.raises(InputError) as info:
        run_import(db, "un-xml", [SHARED_DATA / "eu_un_pakote" / "all.json"])
    assert "all.json" in str(info.value)
    assert db.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 11


def test_imports_over_http(client: FlaskClient, anon_client: FlaskClient) -> None:
    sample = b"".join((SNAPSHOTS / "sdn_2024-02-23.csv").read_bytes().splitlines(True)[:300])
    upload = {"format": "ofac-csv", "files": (io.BytesIO(sample), "sdn.csv")}
    assert (
        anon_client.post("/imports", data=upload, content_type="multipart/form-data").status_code
        == 401
    )
    upload = {"format": "ofac-csv", "files": (io.BytesIO(sample), "sdn.csv")}
    created = client.post("/imports", data=upload, content_type="multipart/form-data")
    assert created.status_code == 201, created.get_data(as_text=True)
    run = created.get_json()
    assert run["counts"]["added"] == 300 and run["files"][0]["name"] == "sdn.csv"
    listed = client.get("/imports?dataset=us-ofac-sdn").get_json()
    assert listed["items"][0]["id"] == run["id"]
    changes = client.get(f"/imports/{run['id']}/changes?limit=10").get_json()
    assert changes["total"] == 300 and changes["items"][0]["change"] == "added"
    bad = client.post(
        "/imports",
        data={"format": "nope", "files": (io.BytesIO(b"x"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "format"
    assert client.get("/imports/imp-nope").status_code == 404
    # Imported records are kept by imports: a hand edit would be undone by the next run.
    entity_id = changes["items"][0]["entity_id"]
    assert client.patch(f"/entities/{entity_id}", json={"country": "FR"}).status_code == 409
