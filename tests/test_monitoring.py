"""Monitoring against a real `registry serve`: books, delta screening on every list
change, alerts and decisions, webhooks through a receiver that goes down and comes
back, the audit trail (issue 15).

The story of the real OFAC SDN snapshots: a registry holding the list of 20 February
2024 and a book of customers, among them misspelled names of entities OFAC added on 23
February 2024, innocent names, and a record matching Robert Mugabe; the import of the
23 February list gives exactly the planted records `new` alerts, and that of 3 May 2024
(which delists Mugabe) gives his record a `removed` one.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from registry.db import open_registry
from registry.imports import run_import
from registry.keys import create_key
from registry.monitoring import audit
from registry.monitoring.delta import changed_entities, screen_records, small_index
from registry.monitoring.service import last_version

from .conftest import ROOT, SHARED_DATA, free_port, make_app, served

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "ofac_sdn_snapshots" / "sdn_2024-05-03.csv").exists(),
    reason=f"the OFAC SDN snapshots are not at {SHARED_DATA}",
)
SNAPSHOTS = SHARED_DATA / "ofac_sdn_snapshots"
NEW_UIDS = SHARED_DATA / "goal1" / "ofac_2024-02-23_new_uids.csv"
SECRET = "a-webhook-secret-of-some-length"

# Entities OFAC added on 23 February 2024, by uid, as a customer file misspells them.
PLANTED = {
    "37809": "NATINAL PAYMENT CARD SYSTEM JOINT STOCK COMPANY",
    "45710": "Shagialeev Timur Nailevich",
    "46650": "Jiangxi Liansheng Technlogy Co. Ltd",
    "47201": "Goodforarding DOO Beograd",
    "47290": "Sergey Sergeevich Alekseyev",
    "47334": "Smart Battries",
    "47363": "Triangulatica",
    "47365": "Top 3D Grup",
}
INNOCENT = [
    "Harold Pemberton",
    "Greenfield Bakery Ltd",
    "Oakwood Dental Practice",
    "Eleanor Whitcombe",
    "Blue River Logistics GmbH",
    "Sunrise Textiles Pvt Ltd",
]
MUGABE = "Robert Gabriel Mugab"


class Receiver:
    """A webhook receiver on a fixed port that can go down and come back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.bad_signatures = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def up(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-Registry-Signature"]):
                    outer.bad_signatures += 1
                    self.send_response(401)
                else:
                    outer.received.append((self.headers["X-Registry-Delivery"], json.loads(body)))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A registry with the SDN list of 2024-02-20, keys, and `registry serve` over it."""
    db_path = tmp_path_factory.mktemp("monitoring") / "registry.db"
    db = open_registry(db_path)
    try:
        run_import(db, "ofac-csv", [SNAPSHOTS / "sdn_2024-02-20.csv"])
        keys = {scope: create_key(db, f"test {scope}", scope)[1] for scope in ("write", "admin")}
    finally:
        db.close()
    env = {
        "REGISTRY_MONITOR_POLL_S": "0.2",
        "REGISTRY_WEBHOOK_BACKOFF_S": "0.2",
        "REGISTRY_WEBHOOK_BACKOFF_MAX_S": "1",
        "REGISTRY_AUDIT_FLUSH_MS": "100",
    }
    with served(db_path, env=env) as server:
        wait_for(
            lambda: requests.get(f"{server.base}/readyz", timeout=10).status_code == 200,
            "the screening index",
        )
        yield {"db_path": db_path, "base": server.base, "keys": keys, "env": env}


def cli_import(db_path: Path, snapshot: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "registry", "import", "--format", "ofac-csv",
         str(SNAPSHOTS / snapshot)],
        cwd=ROOT, env={"REGISTRY_DB": str(db_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_real_snapshots_story(world: dict[str, Any]) -> None:
    base = world["base"]
    write = {"Authorization": f"Bearer {world['keys']['write']}"}
    admin = {"Authorization": f"Bearer {world['keys']['admin']}"}
    with NEW_UIDS.open(encoding="utf-8") as f:
        new_uids = {row["uid"] for row in csv.DictReader(f)}
    assert set(PLANTED) <= new_uids

    book = requests.post(f"{base}/books", json={"name": "customers"}, headers=write).json()
    book_id = book["id"]
    receiver = Receiver()  # down: nothing listens on its port yet
    hook = requests.post(
        f"{base}/books/{book_id}/webhooks", json={"url": receiver.url, "secret": SECRET},
        headers=write,
    )  # fmt: skip
    assert hook.status_code == 201 and "secret" not in hook.json()

    records = [{"id": f"p-{uid}", "name": name} for uid, name in PLANTED.items()]
    records += [{"id": f"i-{k}", "name": name} for k, name in enumerate(INNOCENT)]
    records.append({"id": "mugabe", "name": MUGABE, "type": "person"})
    loaded = requests.post(
        f"{base}/books/{book_id}/records", json={"records": records}, headers=write
    )
    assert loaded.status_code == 200, loaded.text
    job = loaded.json()
    assert (job["state"], job["added"], job["screened"]) == ("finished", len(records), len(records))
    # Screened at once: only Mugabe is listed on 20 February.
    first = requests.get(f"{base}/alerts", params={"book": book_id}).json()["items"]
    assert [(a["record_id"], a["kind"]) for a in first] == [("mugabe", "new")]
    mugabe_id = first[0]["entity_id"]
    assert first[0]["entity"]["name"] == "MUGABE, Robert Gabriel"

    # 23 February, imported by another process: the monitor notices and screens the
    # book against the ~600 entities that changed.
    cli_import(world["db_path"], "sdn_2024-02-23.csv")

    def planted_alerts() -> list[dict[str, Any]]:
        items = requests.get(
            f"{base}/alerts", params={"book": book_id, "kind": "new", "limit": 100}
        ).json()["items"]
        return items if len(items) >= len(PLANTED) + 1 else []

    alerts = wait_for(planted_alerts, "the alerts of the 23 February import")
    new = {a["record_id"]: a for a in alerts if a["record_id"] != "mugabe"}
    assert set(new) == {f"p-{uid}" for uid in PLANTED}  # exactly those, no innocent
    for uid in PLANTED:
        alert = new[f"p-{uid}"]
        assert alert["entity_id"] == f"us-ofac-sdn:{uid}"
        assert alert["status"] == "open" and alert["history"][0]["action"] == "opened"
        assert alert["entity"]["designations"] and alert["summary"]
        # The same entity and score as /screen gives that name (once the service's own
        # index has caught up with the other process's import, in the background).
        name = alert["record"]["name"]

        def matches(name: str = name) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = requests.get(
                f"{base}/screen", params={"name": name}
            ).json()["matches"]
            return found

        best = wait_for(matches, "the service's index")[0]
        assert (best["entity_id"], best["score"]) == (alert["entity_id"], alert["score"])
    records_page = requests.get(f"{base}/books/{book_id}/records", params={"limit": 100}).json()
    assert records_page["total"] == len(records)
    assert all(not r["matches"] for r in records_page["items"] if r["id"].startswith("i-"))

    # Clearing records a decision with the analyst's key and note.
    cleared = requests.post(
        f"{base}/alerts/{new['p-47365']['id']}/clear", json={"note": "another Top 3D"},
        headers=write,
    ).json()  # fmt: skip
    assert cleared["status"] == "cleared"
    event = cleared["history"][-1]
    assert event["action"] == "cleared" and event["note"] == "another Top 3D"
    decision = requests.get(f"{base}/decisions/{event['decision_id']}").json()
    assert decision["verdict"] == "false_positive" and decision["actor"].startswith("key:")
    again = requests.post(f"{base}/alerts/{cleared['id']}/escalate", json={}, headers=write)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    # Taken out of the book and put back, the cleared pair does not alert again: the
    # entity's listings are those the analyst decided on.
    assert requests.delete(f"{base}/books/{book_id}/records/p-47365", headers=write).ok
    back = requests.post(
        f"{base}/books/{book_id}/records", json={"records": [records[7]]}, headers=write
    ).json()
    assert (records[7]["id"], back["added"], back["screened"], back["alerts"]) == (
        "p-47365", 1, 1, 0,
    )  # fmt: skip
    # The same records loaded again (unchanged) are not screened again.
    reloaded = requests.post(
        f"{base}/books/{book_id}/records", json={"records": records}, headers=write
    ).json()
    assert (reloaded["unchanged"], reloaded["alerts"]) == (len(records), 0)

    # The receiver comes up: every alert so far is delivered, once.
    receiver.up()
    try:
        expected = {a["id"] for a in alerts}
        wait_for(lambda: {b["alert"]["id"] for _, b in receiver.received} >= expected,
                 "deliveries after the receiver came up")  # fmt: skip
        receiver.down()
        # 3 May: Mugabe delisted, while the receiver is down.
        cli_import(world["db_path"], "sdn_2024-05-03.csv")

        def removed() -> list[dict[str, Any]]:
            return requests.get(
                f"{base}/alerts", params={"book": book_id, "kind": "removed"}
            ).json()["items"]

        (gone,) = wait_for(removed, "the removed alert of the 3 May import")
        assert (gone["record_id"], gone["entity_id"]) == ("mugabe", mugabe_id)
        assert gone["entity"]["status"] == "delisted"
        assert gone["entity"]["designations"][0]["delisted_date"] == "2024-05-03"
        time.sleep(1.0)  # retries meet a closed port meanwhile
        receiver.up()
        every = {
            a["id"]
            for a in requests.get(f"{base}/alerts", params={"book": book_id, "limit": 500}).json()[
                "items"
            ]
        }
        wait_for(lambda: {b["alert"]["id"] for _, b in receiver.received} >= every,
                 "deliveries after the receiver came back")  # fmt: skip
        time.sleep(0.5)
        delivered = [b["alert"]["id"] for _, b in receiver.received]
        assert sorted(delivered) == sorted(every)  # each alert exactly once
        assert len({d for d, _ in receiver.received}) == len(receiver.received)
        assert receiver.bad_signatures == 0
        hooks = requests.get(f"{base}/books/{book_id}/webhooks").json()["items"]
        assert hooks[0]["deliveries"] == {"pending": 0, "delivered": len(every)}
    finally:
        receiver.down()
    innocent = requests.get(f"{base}/alerts", params={"book": book_id, "limit": 500}).json()
    assert not [a for a in innocent["items"] if a["record_id"].startswith("i-")]

    # The audit trail: the screenings above, as they were answered (admin only).
    def entries() -> list[dict[str, Any]]:
        found = requests.get(f"{base}/audit", params={"query": PLANTED["47334"]}, headers=admin)
        return list(found.json()["items"])

    before = len(entries())
    shown = requests.get(f"{base}/screen", params={"name": PLANTED["47334"]}).json()
    assert requests.get(f"{base}/audit", headers=write).status_code == 403
    page = wait_for(lambda: len(entries()) > before and entries(), "the audit entry")
    assert page[0]["kind"] == "GET /screen" and page[0]["queries"][0]["name"] == PLANTED["47334"]
    assert page[0]["entities"] == ["us-ofac-sdn:47334"]
    assert page[0]["datasets"] and page[0]["data_version"]
    entry = requests.get(f"{base}/audit/{page[0]['id']}", headers=admin).json()
    assert entry["answer"] == shown
    books_runs = requests.get(f"{base}/audit", params={"kind": "book-delta"}, headers=admin).json()
    assert books_runs["items"]
    exported = requests.get(f"{base}/audit", params={"format": "csv"}, headers=admin)
    rows = list(csv.DictReader(exported.text.splitlines()))
    assert exported.headers["Content-Type"].startswith("text/csv") and len(rows) >= len(PLANTED)
    lines = requests.get(f"{base}/audit", params={"format": "jsonl"}, headers=admin).text
    assert len(lines.splitlines()) == len(rows)

    # Every data version is processed, and the last one is kept for a restart.
    db = open_registry(world["db_path"])
    try:
        from registry.versions import current_version

        wait_for(lambda: last_version(db) == current_version(db), "the monitor")
    finally:
        db.close()


def test_book_errors_are_problem_details(world: dict[str, Any]) -> None:
    base = world["base"]
    write = {"Authorization": f"Bearer {world['keys']['write']}"}
    assert requests.post(f"{base}/books", json={"name": "x"}).status_code == 401
    missing = requests.get(f"{base}/books/bk-nope")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    book = requests.post(f"{base}/books", json={"name": "bad rows"}, headers=write).json()
    bad = requests.post(
        f"{base}/books/{book['id']}/records",
        json={"records": [{"id": "1", "name": "Ok Name"}, {"id": "2", "name": "", "dob": "soon"}]},
        headers=write,
    )
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"records[1].name", "records[1].dob"} <= fields
    assert requests.get(f"{base}/books/{book['id']}").json()["records"] == 0  # all or nothing
    csv_body = "id,name,country\nc1,Harold Pemberton,GB\nc2,Greenfield Bakery Ltd,GB\n"
    loaded = requests.post(
        f"{base}/books/{book['id']}/records", data=csv_body.encode(),
        headers={**write, "Content-Type": "text/csv"},
    )  # fmt: skip
    assert loaded.status_code == 200 and loaded.json()["added"] == 2
    gone = requests.delete(f"{base}/books/{book['id']}/records/c1", headers=write)
    assert gone.status_code == 204
    assert requests.get(f"{base}/books/{book['id']}").json()["records"] == 1
    bad_hook = requests.post(
        f"{base}/books/{book['id']}/webhooks", json={"url": "ftp://x", "secret": SECRET},
        headers=write,
    )  # fmt: skip
    assert bad_hook.status_code == 400 and bad_hook.json()["errors"][0]["field"] == "url"


def test_delta_equals_full_screening(sdn_db_path: Path) -> None:
    """Every record screened against the small index of some entities (those OFAC added
    on 23 February 2024) gets the matches the full index gives it among those entities:
    same entity, same score, same name matched."""
    from registry.screening import IndexCache, ScreenOptions, screen
    from registry.versions import current_version

    with NEW_UIDS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    changed = {f"us-ofac-sdn:{row['uid']}" for row in rows}
    db = open_registry(sdn_db_path)
    try:
        # A write too large to be logged with its ids (the whole list) is read back
        # from history by its instant.
        logged = changed_entities(db, 0, current_version(db))
        assert changed <= logged and len(logged) >= 14_484
        records = [{"id": str(k), "name": row["name"]} for k, row in enumerate(rows[:150])]
        names = [*PLANTED.values(), *INNOCENT, MUGABE]
        records += [{"id": f"x{k}", "name": n} for k, n in enumerate(names)]
        fixed = small_index(db, changed)
        delta = screen_records(db, fixed, records)
        full_cache = IndexCache(sdn_db_path, wait=600)
        try:
            full = screen(db, full_cache, records, ScreenOptions(within=frozenset(changed)))
        finally:
            full_cache.close()
    finally:
        db.close()
    pairs = 0
    for mine, theirs in zip(delta, full, strict=True):
        got = [(m["entity_id"], m["score"], m["matched_name"]) for m in mine["matches"]]
        want = [(m["entity_id"], m["score"], m["matched_name"]) for m in theirs["matches"]]
        assert got == want, mine["query"]["name"]
        pairs += len(got)
    assert pairs >= 150
    # The quick test lets through every record screen matches.
    matched = {r["id"] for r, d in zip(records, delta, strict=True) if d["matches"]}
    assert matched <= {r["id"] for r in fixed.candidates(records)}


def test_book_words_skip_only_what_screen_cannot_match(sdn_db_path: Path, tmp_path: Path) -> None:
    """Delta screening passes over the records whose stored retrieval plans find no
    candidate among the changed entities (registry/monitoring/words.py). Against the
    small index of the entities OFAC added on 23 February 2024, every record that
    `screen` can match there (a result at the record's threshold: `may_match`) is
    kept: their names misspelled, joined, split at a slash, as initials, with and
    without a type or a date of birth, among 3,000 generated customers; and most
    generated customers are passed over."""
    import random

    from bench.monitoring import generated_records, misspell
    from registry.monitoring import books, words
    from registry.monitoring.delta import OPTIONS, may_match
    from registry.versions import current_version

    with NEW_UIDS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    changed = {f"us-ofac-sdn:{row['uid']}" for row in rows}
    rng = random.Random(15)
    names: list[tuple[str, str | None, str | None]] = []
    for row in rows:
        name = row["name"]
        parts = name.replace(",", "").split()
        kind = rng.choice([None, "person", "company"])
        dob = rng.choice([None, "1970-01-01"])
        names.append((name, kind, dob))
        if len(name) >= 6:
            names.append((misspell(name, rng), kind, rng.choice([None, "1980-05-05"])))
        if len(parts) >= 2:
            k = rng.randrange(len(parts) - 1)
            joined = [*parts[:k], parts[k] + parts[k + 1], *parts[k + 2 :]]
            names.append((" ".join(joined), None, None))
            names.append((" ".join(reversed(parts)), kind, None))
            names.append((f"{parts[0]} / {' '.join(parts[1:])}", None, None))
            names.append(("".join(p[0] for p in parts if p[0].isalpha()) + " Ltd", "company", None))
            names.append((f"{parts[-1]} {rng.choice(['Trading', 'Holdings'])} LLC", None, None))
    names += [(n, None, None) for n in [*PLANTED.values(), *INNOCENT, MUGABE]]
    records = [{"id": f"n{k}", "name": n, "type": t, "dob": d} for k, (n, t, d) in enumerate(names)]
    generated = generated_records(3_000)
    records += generated

    book_db = open_registry(tmp_path / "book.db")
    db = open_registry(sdn_db_path)
    try:
        assert changed <= changed_entities(db, 0, current_version(db))
        fixed = small_index(db, changed)
        book = books.create_book(book_db, "words", "test")
        checked = books.check_records(records)
        books.stage(book_db, book["id"], checked)
        assert words.ensure(book_db) == len(checked)
        assert words.ensure(book_db) == 0  # (all current)
        kept, seen = words.hit_records(book_db, fixed.index)
        assert seen == len(checked)
        index = fixed.index
        # A replaced record's plans are stale until recomputed (it is kept meanwhile);
        # another matcher build recomputes them all.
        books.stage(book_db, book["id"], books.check_records([{"id": "c0000000", "name": MUGABE}]))
        assert (book["id"], "c0000000") in words.hit_records(book_db, index)[0]
        assert words.ensure(book_db) == 1
        saved = words._build
        try:
            words._build = "another matcher"
            assert words.ensure(book_db) == len(checked)
        finally:
            words._build = saved
        matchable = {r["id"] for r in checked if may_match(index, r, OPTIONS.floor)}
    finally:
        db.close()
        book_db.close()
    kept_ids = {record_id for _, record_id in kept}
    assert len(matchable) >= 500
    assert matchable <= kept_ids, sorted(matchable - kept_ids)[:10]
    skipped = [r for r in generated if (book["id"], r["id"]) not in kept]
    assert len(skipped) >= 0.6 * len(generated)


def test_book_words_sharing_an_id_are_never_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two keys with the same hash (key id) are marked collided, and the records
    holding that id are kept whatever the index holds."""
    from registry.matching import NameIndex
    from registry.monitoring import books, words

    db = open_registry(tmp_path / "book.db")
    try:
        book = books.create_book(db, "collisions", "test")
        names = ["Harold Pemberton", "Greenfield Bakery Ltd", "Eleanor Whitcombe"]
        records = [{"id": f"r{k}", "name": n} for k, n in enumerate(names)]
        books.stage(db, book["id"], books.check_records(records))
        index = NameIndex()
        index.add("e1", "Zyxwv Qwerty", entity_type="company")
        words.ensure(db)
        assert words.hit_records(db, index)[0] == set()  # nothing near
        monkeypatch.setattr(words, "_build", "every key has one id")
        monkeypatch.setattr(words, "word_id", lambda text: 7)
        assert words.ensure(db) == 3
        assert db.conn.execute("SELECT collided FROM book_words").fetchall() == [(1,)]
        assert len(words.hit_records(db, index)[0]) == 3
    finally:
        db.close()


def test_audit_minimised_keeps_no_query_text(tmp_path: Path) -> None:
    from registry.loader import load_paths

    from .conftest import FIXTURES

    db = open_registry(tmp_path / "registry.db")
    load_paths(db, [FIXTURES])
    admin = create_key(db, "admin", "admin")[1]
    db.close()
    app = make_app(tmp_path / "registry.db", audit_minimise=True, audit_flush_ms=0)
    client = app.test_client()
    from .conftest import index_current

    index_current(app)
    answer = client.get("/screen?name=Finder+Technology").get_json()
    assert answer["matches"]
    page = client.get("/audit", headers={"Authorization": f"Bearer {admin}"}).get_json()
    (item,) = page["items"]
    assert item["queries"] is None
    query = {"name": "Finder Technology", "type": None, "country": None, "dob": None,
             "nationality": None, "id_number": None}  # fmt: skip
    assert item["query_sha256"] == audit.query_hash([query])
    assert item["entities"] == sorted({m["entity_id"] for m in answer["matches"]})
    entry = client.get(f"/audit/{item['id']}", headers={"Authorization": f"Bearer {admin}"})
    assert entry.get_json()["answer"] is None
    found = client.get(
        "/audit", query_string={"query": "Finder Technology"},
        headers={"Authorization": f"Bearer {admin}"},
    ).get_json()  # fmt: skip
    assert [i["id"] for i in found["items"]] == [item["id"]]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("registry.audit.db*"))
    assert raw
    assert b"Finder Technology" not in raw and b"finder technology" not in raw


def test_audit_entries_queued_at_shutdown_are_written(loaded_db_path: Path) -> None:
    """SIGTERM (how a service is stopped) writes the queued entries before the end."""
    env = {"REGISTRY_AUDIT_FLUSH_MS": "600000"}  # nothing written by the timer
    with served(loaded_db_path, env=env) as server:
        wait_for(
            lambda: requests.get(f"{server.base}/readyz", timeout=10).status_code == 200,
            "the screening index",
        )
        answer = requests.get(f"{server.base}/screen", params={"name": "Finder Technology"})
        assert answer.status_code == 200
        server.proc.terminate()
        server.proc.wait(timeout=30)
    conn = audit.connect_audit(loaded_db_path.with_name("registry.audit.db"))
    try:
        (entry,) = list(audit.search(conn, {}))
    finally:
        conn.close()
    assert entry["queries"][0]["name"] == "Finder Technology"
    assert entry["entities"] == sorted({m["entity_id"] for m in answer.json()["matches"]})


def test_books_from_the_command_line(loaded_db_path: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from registry.cli import main

    runner = CliRunner()
    db = ["--db", str(loaded_db_path)]
    created = runner.invoke(main, ["books", "create", "suppliers", *db])
    assert created.exit_code == 0, created.output
    book_id = created.stdout.strip()
    names = tmp_path / "suppliers.csv"
    names.write_text(
        "id,name,country\ns1,Finder Technology Co. Ltd,CN\ns2,Greenfield Bakery Ltd,GB\n",
        encoding="utf-8",
    )
    loaded = runner.invoke(main, ["books", "load", "suppliers", str(names), *db])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.stdout.strip().splitlines()[-1] == (
        "added=2 replaced=0 unchanged=0 screened=2 alerts=1"
    )
    assert "screening" in loaded.stderr  # the progress bar
    again = runner.invoke(main, ["books", "load", book_id, str(names), *db])
    assert again.stdout.strip().splitlines()[-1] == (
        "added=0 replaced=0 unchanged=2 screened=0 alerts=0"
    )
    listed = runner.invoke(main, ["books", "alerts", "suppliers", *db])
    (alert,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (alert["record_id"], alert["entity_id"]) == ("s1", "finder-technology-ltd")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,dob\nb1,Someone,tomorrow\n", encoding="utf-8")
    refused = runner.invoke(main, ["books", "load", "suppliers", str(bad), *db])
    assert refused.exit_code == 1 and "records[0].dob" in refused.output
    removed = runner.invoke(main, ["books", "remove", "suppliers", "s2", *db])
    assert (removed.exit_code, removed.stdout.strip()) == (0, "removed=1"), removed.output
    listed = runner.invoke(main, ["books", "list", *db])
    assert listed.stdout.split()[:3] == [book_id, "1", "1"]  # s1 left, its alert open
    missing = runner.invoke(main, ["books", "remove", "suppliers", "s2", *db])
    assert missing.exit_code == 1 and "No record 's2'" in missing.output


def test_audit_retention_prunes_old_entries(tmp_path: Path) -> None:
    log = audit.AuditLog(tmp_path / "audit.db", retention_s=0.5, flush_ms=0)
    fields: dict[str, Any] = {"kind": "GET /screen", "actor": None, "params": {}, "data_version": 1,
              "datasets": [], "results": [], "answer": None}  # fmt: skip
    log.record(queries=[{"name": "old"}], **fields)
    time.sleep(0.6)
    log.record(queries=[{"name": "new"}], **fields)
    assert log.prune() == 1
    conn = audit.connect_audit(tmp_path / "audit.db")
    try:
        assert [e["queries"][0]["name"] for e in audit.search(conn, {})] == ["new"]
    finally:
        conn.close()
        log.close()


def test_worker_processes_find_what_one_process_finds(loaded_db_path: Path, tmp_path: Path) -> None:
    """Delta screening gives the same alerts whether it passes over records by
    their stored retrieval plans (the default), tests every record in one process,
    or in worker processes."""
    import shutil

    from registry.db import immediate, utcnow
    from registry.monitoring import books
    from registry.monitoring.service import run_delta
    from registry.versions import record_version

    db = open_registry(loaded_db_path)
    run_delta(db)  # past the fixtures' load (no book yet)
    book = books.create_book(db, "suppliers", "test")
    names = ["Finder Technology Co Ltd", "Juhang Aviation", "Beijing Micropilot Flight",
             "Greenfield Bakery Ltd", "Harold Pemberton"]  # fmt: skip
    records = books.check_records([{"id": f"s{k}", "name": n} for k, n in enumerate(names)])
    books.stage(db, book["id"], records)  # (its job is not run: delta finds them all)
    changed = [r[0] for r in db.conn.execute("SELECT id FROM entities")]
    with immediate(db):
        record_version(db, utcnow(), changed)  # every entity "changed"
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(loaded_db_path, tmp_path / "copy.db")
    shutil.copy(loaded_db_path, tmp_path / "words.db")

    def found(database: Any) -> list[tuple[str, str, str, float]]:
        return sorted(database.conn.execute(
            "SELECT record_id, entity_id, kind, score FROM alerts"
        ).fetchall())  # fmt: skip

    one = run_delta(db, skip_by_words=False)
    copy = open_registry(tmp_path / "copy.db")
    several = run_delta(
        copy, workers=2, db_path=str(tmp_path / "copy.db"), parallel_min=1, skip_by_words=False
    )
    by_words = open_registry(tmp_path / "words.db")
    skipping = run_delta(by_words)
    assert one is not None and several is not None and skipping is not None
    assert (one.records, one.alerts) == (several.records, several.alerts) == (5, one.alerts)
    assert (skipping.records, skipping.alerts) == (5, one.alerts)
    assert found(db) == found(copy) == found(by_words)
    assert {r[0] for r in found(db)} >= {"s0", "s1", "s2"}
    assert not {r[0] for r in found(db)} & {"s3", "s4"}
    db.close()
    copy.close()
    by_words.close()
