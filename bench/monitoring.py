"""Delta screening of a large book: from the end of an import to its alerts.

    python -m bench.monitoring [--book 1000000] [--planted 60] [--keep DIR]

1. A fresh registry with the OFAC SDN list of 20 February 2024 (13,931 entries).
2. A book of `--book` generated customer records (a fixed seed: made-up people
   and companies from syllables, with countries and some dates of birth), plus
   `--planted` misspelled names of entries OFAC added on 23 February 2024
   (../shared/data/goal1/ofac_2024-02-23_new_uids.csv). The book is staged in one
   transaction; its initial screening against the whole registry is measured on
   a sample of 10,000 records (the rate is printed), not run for every record;
   what the load job stores for delta screening as it screens (the retrieval
   plans of each name, registry/monitoring/words.py) is stored and timed.
3. The import of the 23 February 2024 snapshot (553 added, 8 changed: ~600
   entities), then `service.run_delta`, what the service's monitor thread runs
   after every write: the small index of the changed entities, the records whose
   plans may find a candidate there screened against it, the alerts written.
   Timed from the end of the import to the last alert written (wall and CPU).

Then what the audit trail costs a screening (queued, or durable before the answer),
and the skip by plans against testing each record (`may_match`, as before) on the
book's first 200,000 records: every record that test lets through must be kept.

Last line: `book=N changed=N alerts=N seconds=S` (S: wall seconds from the end of
the import to the alerts). Target (issue 15): under 60 s for 1,000,000 records.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.paths import shared_data
from registry.db import open_registry
from registry.imports import run_import
from registry.matching import BUILD
from registry.monitoring import books, words
from registry.monitoring.audit import AuditLog
from registry.monitoring.delta import OPTIONS, small_index
from registry.monitoring.service import last_version, run_delta
from registry.screening import IndexCache, screen

_SYLLABLES = (
    "al an ar ba be bo ca da de do el en fa fe ga ha ia in ka ke ko la le li lo ma me mi mo na "
    "ne ni no or pa pe ra re ri ro sa se si so ta te ti to ur va ve vi wa ya yo za ze zu"
)
SYLLABLES = _SYLLABLES.split(" ")
_COMPANY_WORDS = (
    "Trading Holdings Logistics Partners Foods Textiles Consulting Shipping Metals Energy "
    "Pharma Systems Capital Motors Electronics Farms Studio Bakery Imports Media"
)
COMPANY_WORDS = _COMPANY_WORDS.split(" ")
LEGAL = ("Ltd", "LLC", "GmbH", "S.A.", "Inc", "Co., Ltd.", "BV", "SRL", "")
COUNTRIES = ("GB", "DE", "FR", "US", "IT", "ES", "NL", "PL", "SE", "IN", "BR", "JP", "TR", "AE")


def _word(rng: random.Random, low: int = 2, high: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high))).capitalize()


def generated_records(count: int, seed: int = 15) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for k in range(count):
        if rng.random() < 0.7:
            name = f"{_word(rng)} {_word(rng)}"
            if rng.random() < 0.3:
                name = f"{_word(rng)} {name}"
            dob = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            record = {"id": f"c{k:07d}", "name": name, "type": "person",
                      "dob": dob if rng.random() < 0.5 else None}  # fmt: skip
        else:
            name = f"{_word(rng)} {rng.choice(COMPANY_WORDS)} {rng.choice(LEGAL)}".strip()
            record = {"id": f"c{k:07d}", "name": name, "type": "company", "dob": None}
        record["country"] = rng.choice(COUNTRIES)
        out.append(record)
    return out


def misspell(name: str, rng: random.Random) -> str:
    """One letter dropped or doubled in the longest word."""
    words = name.replace(",", "").split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    pos = rng.randrange(1, len(word) - 1) if len(word) > 3 else 1
    words[longest] = (
        word[:pos] + word[pos + 1 :] if rng.random() < 0.5 else word[:pos] + word[pos] + word[pos:]
    )
    return " ".join(words)


def planted_records(count: int, seed: int = 23) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with (shared_data() / "goal1" / "ofac_2024-02-23_new_uids.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if len(r["name"]) >= 8]
    picked = rng.sample(rows, min(count, len(rows)))
    return [{"id": f"p{r['uid']}", "name": misspell(r["name"], rng), "type": None,
             "country": None, "dob": None} for r in picked]  # fmt: skip


def audit_cost(folder: Path, entries: int = 300) -> str:
    """What recording a screening in the audit trail costs the request: queued
    (the default) against durable before answering (REGISTRY_AUDIT_FLUSH_MS=0)."""
    result = {"index": 0, "matches": [{"entity_id": "us-ofac-sdn:1", "score": 0.9}]}
    fields = {
        "kind": "GET /screen", "actor": "bench", "params": {"threshold": 0.8},
        "data_version": 1, "datasets": [], "results": [result], "answer": {"matches": [result]},
    }  # fmt: skip
    out = []
    for flush_ms in (1000, 0):
        log = AuditLog(folder / f"audit-{flush_ms}.db", flush_ms=flush_ms)
        log.record(queries=[{"name": "warm up"}], **fields)
        log.flush()
        started = time.perf_counter()
        for k in range(entries):
            log.record(queries=[{"name": f"Customer {k}"}], **fields)
        out.append((time.perf_counter() - started) / entries * 1000)
        log.close()
    return f"audit per screening: queued {out[0]:.3f} ms, durable before answering {out[1]:.2f} ms"


def skip_ab(db: Any, entity_ids: set[str], count: int = 200_000) -> str:
    """The skip by stored retrieval plans (`words.hit_records`) against testing each
    record (`delta.may_match`, what delta screening did before, with its word cache
    and memo): on the book's first `count` records, every record `may_match` lets
    through must be among those the plans keep."""
    from registry.monitoring import words
    from registry.monitoring.delta import book_records, may_match

    fixed = small_index(db, entity_ids)
    cpu = time.process_time()
    kept, seen = words.hit_records(db, fixed.index)
    skip_cpu = time.process_time() - cpu
    records: list[dict[str, Any]] = []
    for chunk in book_records(db):
        records += chunk
        if len(records) >= count:
            break
    records = records[:count]
    memo: dict[tuple[Any, ...], bool] = {}
    cpu = time.process_time()
    tested = [r for r in records if may_match(fixed.index, r, OPTIONS.floor, memo)]
    test_cpu = time.process_time() - cpu
    missed = [r["id"] for r in tested if (r["book_id"], r["id"]) not in kept]
    assert not missed, f"records the plans pass over but may_match keeps: {missed[:10]}"
    part = sum(1 for r in records if (r["book_id"], r["id"]) in kept)
    return (
        f"skip by plans: {seen:,} records in {skip_cpu:.1f} CPU s ({skip_cpu / seen * 1e6:.1f} "
        f"us/record), {len(kept):,} kept; testing each record: {test_cpu / len(records) * 1e6:.1f} "
        f"us/record; of the first {len(records):,}, {len(tested):,} may match, all kept "
        f"({part:,} kept)"
    )


def _words_size(db: Any) -> str:
    keys = db.conn.execute("SELECT COUNT(*) FROM book_words").fetchone()[0]
    size = db.conn.execute(
        "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('book_words', 'book_record_words', "
        "'sqlite_autoindex_book_words_1')"
    ).fetchone()[0]
    return f"{keys:,} distinct keys, {size / 2**20:.0f} MiB"


def _load() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine's cores)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=60)
    parser.add_argument("--keep", help="keep the registry in this folder")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes (default: cores)"
    )
    args = parser.parse_args()
    snapshots = shared_data() / "ofac_sdn_snapshots"
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "registry.db"
    print(f"python {platform.python_version()}, matcher {BUILD}", file=sys.stderr)
    try:
        db = open_registry(db_path)
        started = time.perf_counter()
        run_import(db, "ofac-csv", [snapshots / "sdn_2024-02-20.csv"])
        print(f"import 2024-02-20: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        # Delta screening starts after it (the book is screened on load instead).
        run_delta(db)
        book = books.create_book(db, "bench", "bench")
        records = generated_records(args.book - args.planted) + planted_records(args.planted)
        started = time.perf_counter()
        checked = books.check_records(records)
        job = books.stage(db, book["id"], checked)
        print(f"staged {len(checked):,} records in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)  # fmt: skip
        sample = checked[: min(10_000, len(checked))]
        cache = IndexCache(db_path, wait=3600)
        cache.view(db)
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(sample), 1000):
            screen(db, cache, sample[start : start + 1000], OPTIONS)
        full = time.process_time() - cpu
        print(
            f"initial screening against the whole registry: {len(sample) / full:,.0f} records "
            f"per CPU second ({len(checked) / (len(sample) / full) / 60:.1f} CPU minutes for the "
            f"book; not run here)",
            file=sys.stderr,
        )
        cache.close()
        # The book counts as screened: its job is closed without running it. What the
        # job stores for delta screening as it screens each record (the retrieval
        # plans of its name, words.py) is stored here instead, and timed.
        with db.conn:
            db.conn.execute("DELETE FROM book_job_records WHERE job_id = ?", (job["id"],))
            db.conn.execute("UPDATE book_jobs SET state = 'finished' WHERE id = ?", (job["id"],))
        started, cpu = time.perf_counter(), time.process_time()
        planned = words.ensure(db)
        wall = time.perf_counter() - started
        print(
            f"retrieval plans of {planned:,} records stored in {wall:.1f}s "
            f"({(time.process_time() - cpu) / max(planned, 1) * 1e6:.0f} CPU us per record, part "
            f"of the load; {_words_size(db)})",
            file=sys.stderr,
        )
        started = time.perf_counter()
        result = run_import(db, "ofac-csv", [snapshots / "sdn_2024-02-23.csv"])
        print(f"import 2024-02-23: {result.counts.as_dict()} in "
              f"{time.perf_counter() - started:.1f}s", file=sys.stderr)  # fmt: skip
        before = last_version(db)
        load_before = _load()
        started, cpu = time.perf_counter(), time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = run_delta(db, workers=args.workers, db_path=str(db_path))
        seconds = time.perf_counter() - started
        load_after = _load()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # This process and its worker processes.
        cpu_seconds = (
            time.process_time()
            - cpu
            + after.ru_utime
            + after.ru_stime
            - children.ru_utime
            - children.ru_stime
        )
        assert run is not None and run.since == before
        # The cost of the small index alone (the rest is the records).
        t0 = time.perf_counter()
        from registry.monitoring.delta import changed_entities

        small_index(db, changed_entities(db, run.since, run.version))
        print(
            f"delta: {run.changed} entities changed (small index {time.perf_counter() - t0:.2f}s), "
            f"{run.records:,} records, {run.read:,} read and tested (the rest passed over by "
            f"their plans), {run.alerts} alerts, {seconds:.1f}s wall, "
            f"{cpu_seconds:.1f}s CPU in all "
            f"({run.records / max(cpu_seconds, 1e-9):,.0f} records per CPU second)",
            file=sys.stderr,
        )
        planted_alerts = db.conn.execute(
            "SELECT COUNT(DISTINCT record_id) FROM alerts WHERE record_id LIKE 'p%'"
        ).fetchone()[0]
        print(f"planted records alerted: {planted_alerts} of {args.planted}", file=sys.stderr)
        print(audit_cost(folder), file=sys.stderr)
        print(skip_ab(db, changed_entities(db, run.since, run.version)), file=sys.stderr)
        print(
            f"workers: {args.workers} ({os.cpu_count()} cores); load average before the delta "
            f"{load_before}, after {load_after}",
            file=sys.stderr,
        )
        db.close()
        print(
            f"book={len(checked)} changed={run.changed} alerts={run.alerts} seconds={seconds:.1f}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
