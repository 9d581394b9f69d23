"""`registry refresh` against a real HTTP server on 127.0.0.1 standing in for the publishers,
with faults injected. After each fault the registry answers as before, the run says why, and
nothing is half-written."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from registry.cli import main
from registry.sources import CATALOGUE, load_sources

from .conftest import SHARED_DATA, make_app
from .listserver import ListServer
from .test_import_guards import copy_db

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"the shared list files are not at {SHARED_DATA}"
)
SAMPLES = Path(__file__).parent / "samples"
SNAPSHOTS = SHARED_DATA / "ofac_sdn_snapshots"


def excerpt(path: Path, entries: int = 3000) -> bytes:
    """The first entries of a real OFAC SDN.CSV snapshot: a list small enough to import in
    every test (the whole lists' roll-back cases are in test_import_guards)."""
    if not path.exists():
        return b""
    return b"".join(path.read_bytes().splitlines(keepends=True)[:entries])


SDN_0223 = excerpt(SNAPSHOTS / "sdn_2024-02-23.csv")
SDN_0220 = excerpt(SNAPSHOTS / "sdn_2024-02-20.csv")
UN_XML = SHARED_DATA / "watchman" / "un_2026-02" / "UN_consolidated.xml"
UK_SAMPLE = SAMPLES / "UK-Sanctions-List.csv"
EU_SAMPLE = SAMPLES / "eu-fsf-2018-12-21.xml"
# Quick to give up: one retry, short waits (the defaults are 3 retries, 30 s, 15 min).
FAST = ["--timeout", "2", "--deadline", "2", "--retries", "1", "--backoff", "0.05"]
# One more name for AFG0001, as the next publication of the UK list might add.
UK_NEXT = (
    UK_SAMPLE.read_bytes()
    + (
        "13/02/2026,AFG0001,12703,TAe.010,Haji Alim Hawala,,,,,,Alias,Good quality"
        + "," * 46
        + "\n"
    ).encode()
)


@dataclass
class Publishers:
    server: ListServer
    sources: Path
    base: Path  # a registry after the first refresh
    first: Result  # that first refresh


def refresh(db: Path, sources: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["refresh", "--sources", str(sources), "--db", str(db), *FAST, *args]
    )


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def publishers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Publishers]:
    tmp = tmp_path_factory.mktemp("refresh")
    with ListServer() as server:
        server.serve("ofac/sdn.csv", SDN_0223, last_modified="2024-02-23")
        server.serve("uk/UK-Sanctions-List.csv", UK_SAMPLE, last_modified="2026-02-13")
        server.serve("eu/content", EU_SAMPLE, content_type="application/xml")
        server.serve("un/consolidated.xml", UN_XML, content_type="text/xml")
        sources = tmp / "sources.json"
        sources.write_text(
            json.dumps(
                {
                    "datasets": [
                        {
                            "name": "us-ofac-sdn",
                            "format": "ofac-csv",
                            "urls": [server.url("ofac/sdn.csv")],
                            "min_records": 2_000,
                        },
                        {
                            "name": "gb-hmt",
                            "format": "uk-fcdo-csv",
                            "urls": [server.url("uk/UK-Sanctions-List.csv")],
                        },
                        {
                            "name": "eu-fsf",
                            "format": "eu-fsf-xml",
                            "urls": [server.url("eu/content")],
                        },
                        {
                            "name": "un-sc",
                            "format": "un-xml",
                            "urls": [server.url("un/consolidated.xml")],
                        },
                    ]
                }
            )
        )
        base = tmp / "base.db"
        assert CliRunner().invoke(main, ["init", "--db", str(base)]).exit_code == 0
        first = refresh(base, sources)
        yield Publishers(server, sources, base, first)


@pytest.fixture
def registry(publishers: Publishers, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the refreshed registry; the server back to its files, no faults."""
    db = copy_db(publishers.base, tmp_path / "r.db")
    publishers.server.clear()
    yield db
    server = publishers.server
    server.clear()
    server.serve("ofac/sdn.csv", SDN_0223, last_modified="2024-02-23")
    server.serve("uk/UK-Sanctions-List.csv", UK_SAMPLE, last_modified="2026-02-13")
    server.serve("un/consolidated.xml", UN_XML, content_type="text/xml")


def snapshot(db: Path) -> dict[str, object]:
    """What a failed refresh must leave as it was, and the database's own check."""
    conn = sqlite3.connect(db)
    try:
        return {
            "records": conn.execute(
                "SELECT dataset, COUNT(*), SUM(removed_at IS NULL) FROM records GROUP BY dataset"
            ).fetchall(),
            "history": conn.execute("SELECT COUNT(*), MAX(id) FROM history").fetchone(),
            "names": conn.execute("SELECT COUNT(*) FROM names WHERE valid_to IS NULL").fetchone(),
            "generation": conn.execute(
                "SELECT value FROM meta WHERE key = 'generation'"
            ).fetchone(),
            "finished_imports": conn.execute(
                "SELECT COUNT(*) FROM import_runs WHERE status = 'finished'"
            ).fetchone(),
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
        }
    finally:
        conn.close()


def last_run(db: Path, dataset: str) -> dict[str, object]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute(
            "SELECT * FROM refresh_runs WHERE dataset = ? ORDER BY started_at DESC LIMIT 1",
            (dataset,),
        ).fetchone()
        return dict(row)
    finally:
        conn.close()


def answers(app: Flask) -> tuple[object, ...]:
    """What users ask: a UK, an OFAC and a UN name screened, and the datasets' versions.
    (The app keeps its screening index while the data generation stays the same.)"""
    client = app.test_client()
    found = []
    for name in (
        "Haji Khairullah Haji Sattar Money Exchange",
        "Banco Nacional de Cuba",
        "Eric Badege",
    ):
        deadline = time.monotonic() + 180
        answer = client.get("/screen", query_string={"name": name})
        while answer.status_code == 503 and time.monotonic() < deadline:
            # The index of the new data is still being built (slow on a busy machine):
            # asked again after Retry-After, as a client would.
            time.sleep(min(float(answer.headers.get("Retry-After", "1")), 2.0))
            answer = client.get("/screen", query_string={"name": name})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        found.append(tuple(m["entity_id"] for m in body["matches"][:1]))
    datasets = {
        d["name"]: (d["listed"], d["published"], d["import_run"])
        for d in client.get("/datasets").get_json()["items"]
    }
    return tuple(found), datasets


def assert_failed_and_unchanged(db: Path, before: dict, result: Result, dataset: str, why: str):
    assert result.exit_code == 1, result.output
    assert last_line(result) == "updated=0 unchanged=0 failed=1"
    assert why in result.stderr
    assert snapshot(db) == before  # nothing half-written, integrity_check ok
    run = last_run(db, dataset)
    assert run["status"] == "failed" and why in str(run["reason"])
    datasets = make_app(db).test_client().get("/datasets").get_json()["items"]
    state = next(d for d in datasets if d["name"] == dataset)
    assert state["last_attempt"]["status"] == "failed" and why in state["last_attempt"]["reason"]


# -- the happy path ------------------------------------------------------------------------


def test_refresh_twice_imports_then_finds_nothing_new(publishers: Publishers, tmp_path: Path):
    first = publishers.first
    assert first.exit_code == 0, first.output
    assert last_line(first) == "updated=4 unchanged=0 failed=0"
    assert "us-ofac-sdn: updated: added=3000" in first.stderr
    assert "published 2024-02-23" in first.stderr  # the server's Last-Modified
    assert "100%" in first.stderr  # the download progress bar
    db = copy_db(publishers.base, tmp_path / "again.db")
    publishers.server.clear()
    again = refresh(db, publishers.sources)
    assert again.exit_code == 0, again.output
    assert last_line(again) == "updated=0 unchanged=4 failed=0"
    # conditional GETs: nothing downloaded again
    assert [h[1:] for h in publishers.server.hits] == [(304, True)] * 4
    assert snapshot(db) == snapshot(publishers.base)


def test_the_first_refresh_serves_the_lists(publishers: Publishers) -> None:
    client = make_app(publishers.base).test_client()
    found = client.get("/screen?name=Robert+Gabriel+Mugabe&include_delisted=true").get_json()
    assert found["matches"][0]["entity_id"]
    versions = {v["dataset"]: v for v in found["datasets"]}
    assert versions["us-ofac-sdn"]["published"] == "2024-02-23"
    assert versions["eu-fsf"]["published"] == "2018-12-21"  # the file's generationDate
    assert versions["gb-hmt"]["published"] == "2026-02-13"  # its Report Date line
    # the service told the same catalogue (serve --sources / REGISTRY_SOURCES) shows its URLs
    client = make_app(publishers.base, sources_file=publishers.sources).test_client()
    states = {d["name"]: d for d in client.get("/datasets").get_json()["items"]}
    ofac = states["us-ofac-sdn"]
    assert ofac["urls"] == [publishers.server.url("ofac/sdn.csv")]
    assert (ofac["listed"], ofac["published"], ofac["stale"]) == (3000, "2024-02-23", False)
    assert ofac["last_attempt"]["kind"] == "refresh"
    assert ofac["last_attempt"]["status"] == "updated"
    assert ofac["last_success_at"] and ofac["import_run"]


def test_500_then_success_retries_and_imports(publishers: Publishers, registry: Path) -> None:
    server = publishers.server
    server.serve("uk/UK-Sanctions-List.csv", UK_NEXT, last_modified="2026-02-14")
    server.fault("uk/UK-Sanctions-List.csv", "500")
    result = refresh(registry, publishers.sources, "gb-hmt")
    assert result.exit_code == 0, result.output
    assert last_line(result) == "updated=1 unchanged=0 failed=0"
    assert [h[1] for h in server.hits] == ["500", 200]
    assert "HTTP 500" in result.stderr  # the retry is told
    run = last_run(registry, "gb-hmt")
    assert run["status"] == "updated"
    assert json.loads(str(run["files"]))[0]["attempts"] == 2
    client = make_app(registry).test_client()
    found = client.get("/screen?name=Haji+Alim+Hawala").get_json()["matches"]
    assert found and found[0]["entity_id"]


def test_503_with_retry_after_is_honoured(publishers: Publishers, registry: Path) -> None:
    server = publishers.server
    server.serve("uk/UK-Sanctions-List.csv", UK_NEXT, last_modified="2026-02-14")
    server.fault("uk/UK-Sanctions-List.csv", "503-retry-after")  # Retry-After: 1
    result = refresh(registry, publishers.sources, "gb-hmt", "--backoff", "0")
    assert last_line(result) == "updated=1 unchanged=0 failed=0", result.output
    assert "retry 1 in 1.0 s" in result.stderr


def test_a_304_imports_nothing(publishers: Publishers, registry: Path) -> None:
    before = snapshot(registry)
    result = refresh(registry, publishers.sources, "us-ofac-sdn")
    assert last_line(result) == "updated=0 unchanged=1 failed=0"
    assert publishers.server.hits == [("/ofac/sdn.csv", 304, True)]
    reason = last_run(registry, "us-ofac-sdn")["reason"]
    assert isinstance(reason, str) and "not modified (HTTP 304)" in reason
    assert snapshot(registry) == before


# -- faults: the registry keeps what it had, the run says why --------------------------------


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("reset", "connection failed (ConnectionResetError"),
        ("reset-mid-body", "the connection broke after"),
        ("truncate", "truncated: the connection closed after"),
        ("trickle", "too slow"),
        ("html", "answered 200 with an HTML page"),
    ],
)
def test_network_faults_leave_the_registry_as_it_was(
    publishers: Publishers, registry: Path, fault: str, why: str
) -> None:
    server = publishers.server
    server.serve("uk/UK-Sanctions-List.csv", UK_NEXT, last_modified="2026-02-14")
    # the first try and the retry (an HTML page is not retried: it is an answer)
    server.fault("uk/UK-Sanctions-List.csv", fault, times=1 if fault == "html" else 2)
    app = make_app(registry)
    before, answered = snapshot(registry), answers(app)
    result = refresh(registry, publishers.sources, "gb-hmt")
    assert_failed_and_unchanged(registry, before, result, "gb-hmt", why)
    assert answers(app) == answered
    assert "(after 2 attempts)" in result.stderr or fault == "html"
    # and the next refresh, the fault gone, imports the new publication
    again = refresh(registry, publishers.sources, "gb-hmt")
    assert last_line(again) == "updated=1 unchanged=0 failed=0", again.output


def test_another_media_type_is_refused(publishers: Publishers, registry: Path) -> None:
    publishers.server.serve("uk/UK-Sanctions-List.csv", UK_NEXT, content_type="application/pdf")
    before = snapshot(registry)
    result = refresh(registry, publishers.sources, "gb-hmt")
    why = "served as application/pdf; gb-hmt is published as"
    assert_failed_and_unchanged(registry, before, result, "gb-hmt", why)


def test_an_unparsable_file_is_refused(publishers: Publishers, registry: Path) -> None:
    publishers.server.serve("uk/UK-Sanctions-List.csv", SHARED_DATA / "uk_covyr" / "subjects.csv")
    before = snapshot(registry)
    result = refresh(registry, publishers.sources, "gb-hmt")
    assert_failed_and_unchanged(registry, before, result, "gb-hmt", "not the UK Sanctions List CSV")


def test_an_older_publication_is_refused(publishers: Publishers, registry: Path) -> None:
    publishers.server.serve("ofac/sdn.csv", SDN_0220, last_modified="2024-02-20")
    app = make_app(registry)
    before, answered = snapshot(registry), answers(app)
    result = refresh(registry, publishers.sources, "us-ofac-sdn")
    why = "published 2024-02-20, older than the one loaded (published 2024-02-23"
    assert_failed_and_unchanged(registry, before, result, "us-ofac-sdn", why)
    assert "would roll the list back: 0 of the 3,000 entries listed now delisted" in result.stderr
    assert answers(app) == answered


def test_a_tenth_of_the_records_is_refused(publishers: Publishers, registry: Path) -> None:
    lines = SDN_0223.splitlines(keepends=True)
    publishers.server.serve(
        "ofac/sdn.csv", b"".join(lines[: len(lines) // 10]), last_modified="2024-02-26"
    )
    app = make_app(registry)
    before, answered = snapshot(registry), answers(app)
    result = refresh(registry, publishers.sources, "us-ofac-sdn")
    why = "holds 300 us-ofac-sdn records; a complete file of this list holds at least 2,000"
    assert_failed_and_unchanged(registry, before, result, "us-ofac-sdn", why)
    assert answers(app) == answered


def test_a_tenth_without_a_floor_is_refused_as_a_mass_delisting(
    publishers: Publishers, registry: Path
) -> None:
    text = UN_XML.read_text(encoding="utf-8")
    cut = text.index("<INDIVIDUAL>", len(text) // 10)
    end = text.index("</INDIVIDUALS>")
    tenth = text[:cut] + text[end:]  # the first tenth of the people, no entities
    publishers.server.serve("un/consolidated.xml", tenth.encode(), content_type="text/xml")
    before = snapshot(registry)
    result = refresh(registry, publishers.sources, "un-sc")
    assert_failed_and_unchanged(registry, before, result, "un-sc", "of the 1,003 entries of un-sc")
    assert "--allow-mass-delisting" in result.stderr


# -- the catalogue -----------------------------------------------------------------------------


def test_sources_prints_the_catalogue_in_the_shape_refresh_reads(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    urls = {d["name"]: d["urls"] for d in doc["datasets"]}
    assert urls["us-ofac-sdn"][0].startswith("https://sanctionslistservice.ofac.treas.gov/")
    assert urls["gb-hmt"] == ["https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv"]
    assert urls["un-sc"] == ["https://scsanctions.un.org/resources/xml/en/consolidated.xml"]
    assert urls["eu-fsf"][0].startswith("https://webgate.ec.europa.eu/fsd/fsf/public/files/xml")
    assert urls["us-csl"][0].startswith("https://data.trade.gov/")
    floors = {d["name"]: d.get("min_records") for d in doc["datasets"]}
    assert (floors["us-ofac-sdn"], floors["gb-hmt"], floors["eu-fsf"]) == (10_000, 3_000, 3_000)
    path = tmp_path / "sources.json"
    path.write_text(result.stdout)
    assert [d.as_dict() for d in load_sources(path)] == [d.as_dict() for d in CATALOGUE]


def test_a_bad_sources_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.json"
    path.write_text(
        json.dumps({"datasets": [{"name": "x", "format": "nope", "urls": ["ftp://a"]}]})
    )
    result = CliRunner().invoke(
        main, ["refresh", "--sources", str(path), "--db", str(tmp_path / "r.db")]
    )
    assert result.exit_code == 1
    assert "datasets[0].format" in result.stderr and "datasets[0].urls[0]" in result.stderr
    assert not (tmp_path / "r.db").exists()
