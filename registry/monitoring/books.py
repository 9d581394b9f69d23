"""Books: named sets of customer records, loaded as jobs that screen what changed.

Records are added or replaced by their `id` (the columns of screening: name,
type, country, dob, nationality, id_number), each checked by the same rules as a
screening query; a load with a bad row is refused whole, naming the rows at
fault. A load is staged in one transaction (unchanged records, by a hash of
their fields, are left alone) as a *job* holding the new and changed records;
`run_job` then screens them against the whole registry in chunks, recording its
progress in the job row (GET /books/{id}/jobs/{job}, or the CLI's progress bar),
and opens the alerts. One streamed job for a million records, not a request
per name.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
import sqlite_utils

from ..db import immediate, in_view, utcnow
from ..problems import InputError, Problem, not_found
from ..screening import IndexCache, IndexUnavailable, check_query
from ..versions import current_version
from . import alerts, words
from .delta import CHUNK, RECORD_FIELDS, screen_records

MAX_ERRORS = 20  # bad rows named in one refusal
_JOB_COLUMNS = (
    "id", "book_id", "state", "total", "screened", "added", "replaced", "unchanged", "alerts",
    "error", "created_at", "finished_at",
)  # fmt: skip


def create_book(db: sqlite_utils.Database, name: str, actor: str) -> dict[str, Any]:
    book_id = f"bk-{secrets.token_hex(5)}"
    with immediate(db):
        db.conn.execute(
            "INSERT INTO books (id, name, created_at, created_by) VALUES (?,?,?,?)",
            (book_id, name, utcnow(), actor),
        )
    return get_book(db, book_id)


def find_book(db: sqlite_utils.Database, ref: str) -> str:
    """A book's id from its id or its name (the CLI takes either)."""
    row = db.conn.execute(
        "SELECT id FROM books WHERE id = ? UNION ALL SELECT id FROM books WHERE name = ? LIMIT 1",
        (ref, ref),
    ).fetchone()
    if row is None:
        raise not_found(f"No book {ref!r}.")
    return str(row[0])


@in_view
def get_book(db: sqlite_utils.Database, book_id: str) -> dict[str, Any]:
    row = db.conn.execute(
        "SELECT id, name, created_at, created_by FROM books WHERE id = ?", (book_id,)
    ).fetchone()
    if row is None:
        raise not_found(f"No book {book_id!r}.")
    out = dict(zip(("id", "name", "created_at", "created_by"), row, strict=True))
    out["records"] = db.conn.execute(
        "SELECT COUNT(*) FROM book_records WHERE book_id = ?", (book_id,)
    ).fetchone()[0]
    out["open_alerts"] = db.conn.execute(
        "SELECT COUNT(*) FROM alerts WHERE book_id = ? AND status = 'open'", (book_id,)
    ).fetchone()[0]
    return out


@in_view
def list_books(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    ids = [r[0] for r in db.conn.execute("SELECT id FROM books ORDER BY created_at, id")]
    return [get_book(db, book_id) for book_id in ids]


def check_records(rows: Iterable[Any], *, location: str = "json") -> list[dict[str, Any]]:
    """Rows checked as screening queries, each with an id; InputError naming the
    rows at fault (the first MAX_ERRORS)."""
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(rows):
        where = f"records[{position}]"
        query, found = check_query(raw)
        record_id = raw.get("id") if isinstance(raw, Mapping) else None
        if record_id is None or str(record_id).strip() == "":
            found = [*found, Problem("Give each record an id.", field="id")]
        elif len(str(record_id)) > 200:
            found = [*found, Problem("A record id is at most 200 characters.", field="id")]
        elif str(record_id) in seen:
            found = [
                *found,
                Problem(f"The id is given twice (also at row {seen[str(record_id)]}).", field="id"),
            ]
        for problem in found:
            if len(problems) < MAX_ERRORS:
                problems.append(
                    Problem(problem.message, field=f"{where}.{problem.field}", location=location)
                )
        if found or query is None:
            continue
        seen[str(record_id)] = position
        out.append(
            {
                "id": str(record_id).strip(),
                "name": query.name,
                "type": query.type,
                "country": query.country,
                "dob": query.dob,
                "nationality": query.nationality,
                "id_number": query.id_number,
            }
        )
    if problems:
        raise InputError(problems)
    return out


def _hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps([record.get(f) for f in RECORD_FIELDS])).hexdigest()[:24]


def stage(db: sqlite_utils.Database, book_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Add or replace the records in one transaction; a job for the new and changed ones."""
    now = utcnow()
    job_id = f"job-{secrets.token_hex(6)}"
    added = replaced = unchanged = 0
    with immediate(db):
        conn = db.conn
        if not conn.execute("SELECT 1 FROM books WHERE id = ?", (book_id,)).fetchone():
            raise not_found(f"No book {book_id!r}.")
        todo: list[tuple[str, str]] = []
        for start in range(0, len(records), 500):
            chunk = records[start : start + 500]
            old = dict(
                conn.execute(
                    f"SELECT id, hash FROM book_records WHERE book_id = ? "
                    f"AND id IN ({','.join('?' * len(chunk))})",
                    [book_id, *(r["id"] for r in chunk)],
                ).fetchall()
            )
            rows = []
            for record in chunk:
                digest = _hash(record)
                previous = old.get(record["id"])
                if previous == digest:
                    unchanged += 1
                    continue
                if previous is None:
                    added += 1
                else:
                    replaced += 1
                rows.append((book_id, *(record[f] for f in RECORD_FIELDS), digest, now))
                todo.append((job_id, record["id"]))
            conn.executemany(
                "INSERT INTO book_records (book_id, id, name, type, country, dob, nationality, "
                "id_number, hash, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (book_id, id) DO UPDATE SET name = excluded.name, "
                "type = excluded.type, country = excluded.country, dob = excluded.dob, "
                "nationality = excluded.nationality, id_number = excluded.id_number, "
                "hash = excluded.hash, updated_at = excluded.updated_at",
                rows,
            )
        conn.executemany("INSERT INTO book_job_records (job_id, record_id) VALUES (?, ?)", todo)
        conn.execute(
            "INSERT INTO book_jobs (id, book_id, state, total, added, replaced, unchanged, "
            "created_at) VALUES (?,?,?,?,?,?,?,?)",
            (job_id, book_id, "queued" if todo else "finished", len(todo), added, replaced,
             unchanged, now),
        )  # fmt: skip
        if not todo:
            conn.execute("UPDATE book_jobs SET finished_at = ? WHERE id = ?", (now, job_id))
    return get_job(db, job_id)


def delete_record(db: sqlite_utils.Database, book_id: str, record_id: str) -> None:
    with immediate(db):
        gone = db.conn.execute(
            "DELETE FROM book_records WHERE book_id = ? AND id = ?", (book_id, record_id)
        ).rowcount
        if not gone:
            raise not_found(f"No record {record_id!r} in book {book_id!r}.")
        db.conn.execute(
            "DELETE FROM book_matches WHERE book_id = ? AND record_id = ?", (book_id, record_id)
        )
        db.conn.execute(
            "DELETE FROM book_record_words WHERE book_id = ? AND record_id = ?",
            (book_id, record_id),
        )


@in_view
def list_records(
    db: sqlite_utils.Database, book_id: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """A page of records by id, each with its current matches."""
    if not db.conn.execute("SELECT 1 FROM books WHERE id = ?", (book_id,)).fetchone():
        raise not_found(f"No book {book_id!r}.")
    total = db.conn.execute(
        "SELECT COUNT(*) FROM book_records WHERE book_id = ?", (book_id,)
    ).fetchone()[0]
    rows = db.conn.execute(
        "SELECT id, name, type, country, dob, nationality, id_number, updated_at "
        "FROM book_records WHERE book_id = ? AND id > ? ORDER BY id LIMIT ?",
        (book_id, cursor or "", limit + 1),
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [dict(zip((*RECORD_FIELDS, "updated_at"), row, strict=True)) for row in rows]
    if items:
        marks = ",".join("?" * len(items))
        matches: dict[str, list[dict[str, Any]]] = {}
        for record_id, entity_id, score in db.conn.execute(
            f"SELECT record_id, entity_id, score FROM book_matches WHERE book_id = ? "
            f"AND record_id IN ({marks}) ORDER BY score DESC",
            [book_id, *(i["id"] for i in items)],
        ):
            matches.setdefault(record_id, []).append({"entity_id": entity_id, "score": score})
        for item in items:
            item["matches"] = matches.get(item["id"], [])
    return {"items": items, "total": total, "next_cursor": rows[-1][0] if more else None}


@in_view
def get_job(db: sqlite_utils.Database, job_id: str) -> dict[str, Any]:
    row = db.conn.execute(
        f"SELECT {', '.join(_JOB_COLUMNS)} FROM book_jobs WHERE id = ?", (job_id,)
    ).fetchone()
    if row is None:
        raise not_found(f"No job {job_id!r}.")
    job = dict(zip(_JOB_COLUMNS, row, strict=True))
    job["progress"] = round(job["screened"] / job["total"], 4) if job["total"] else 1.0
    return job


def queued_jobs(db: sqlite_utils.Database) -> list[str]:
    return [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM book_jobs WHERE state IN ('queued', 'running') ORDER BY created_at"
        )
    ]


def run_job(
    db: sqlite_utils.Database,
    cache: IndexCache,
    job_id: str,
    *,
    progress: Callable[[int], None] | None = None,
    audit: Callable[..., Any] | None = None,
    index_wait_s: float = 600.0,
) -> dict[str, Any]:
    """Screen a job's records against the whole registry, opening alerts; resumable
    (records already screened are skipped after a restart). One runner per job in a
    process: a request running it inline and the monitor's thread never both do."""
    with _ACTIVE:
        while job_id in _ACTIVE_IDS:
            _ACTIVE.wait()  # the other runner ends it; then it is finished (or failed)
        job = get_job(db, job_id)
        if job["state"] in ("finished", "failed"):
            return job
        _ACTIVE_IDS.add(job_id)
    try:
        return _run_job(db, cache, job, progress=progress, audit=audit, index_wait_s=index_wait_s)
    finally:
        with _ACTIVE:
            _ACTIVE_IDS.discard(job_id)
            _ACTIVE.notify_all()


_ACTIVE = threading.Condition()
_ACTIVE_IDS: set[str] = set()


def _run_job(
    db: sqlite_utils.Database,
    cache: IndexCache,
    job: dict[str, Any],
    *,
    progress: Callable[[int], None] | None,
    audit: Callable[..., Any] | None,
    index_wait_s: float,
) -> dict[str, Any]:
    job_id = job["id"]
    book_id = job["book_id"]
    with immediate(db):
        db.conn.execute("UPDATE book_jobs SET state = 'running' WHERE id = ?", (job_id,))
    _wait_current(db, cache, index_wait_s)
    screened = job["screened"]
    opened = job["alerts"]
    last = ""
    if screened:  # resumed: the records before this one were screened
        row = db.conn.execute(
            "SELECT record_id FROM book_job_records WHERE job_id = ? ORDER BY record_id "
            "LIMIT 1 OFFSET ?",
            (job_id, screened - 1),
        ).fetchone()
        last = row[0] if row else "\U0010ffff"

    entities: set[str] = set()
    try:
        while True:
            rows = db.conn.execute(
                "SELECT r.id, r.name, r.type, r.country, r.dob, r.nationality, r.id_number, "
                "r.hash FROM book_job_records j "
                "JOIN book_records r ON r.book_id = ? AND r.id = j.record_id "
                "WHERE j.job_id = ? AND j.record_id > ? ORDER BY j.record_id LIMIT ?",
                (book_id, job_id, last, CHUNK),
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            records = {r[0]: dict(zip(RECORD_FIELDS, r[:-1], strict=True)) for r in rows}
            # What delta screening will need of these names, analysed once now.
            planned = words.plan(
                {**record, "hash": row[-1]}
                for record, row in zip(records.values(), rows, strict=True)
            )
            version = current_version(db)
            results = screen_records(db, cache, list(records.values()))
            found = {
                record_id: result["matches"]
                for record_id, result in zip(records, results, strict=True)
            }
            entities.update(m["entity_id"] for ms in found.values() for m in ms if m["match"])
            with immediate(db):
                scope = _pairs_of(db, book_id, list(records))
                outcome = alerts.reconcile(db, book_id, records, found, scope, version)
                words.store(db, book_id, planned)
                screened += len(rows)
                opened += len(outcome.alerts)
                db.conn.execute(
                    "UPDATE book_jobs SET screened = ?, alerts = ? WHERE id = ?",
                    (screened, opened, job_id),
                )
            if progress is not None:
                progress(len(rows))
    except Exception as exc:
        with immediate(db):
            db.conn.execute(
                "UPDATE book_jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
                (f"{type(exc).__name__}: {exc}", utcnow(), job_id),
            )
        raise
    with immediate(db):
        db.conn.execute(
            "UPDATE book_jobs SET state = 'finished', finished_at = ? WHERE id = ?",
            (utcnow(), job_id),
        )
        db.conn.execute("DELETE FROM book_job_records WHERE job_id = ?", (job_id,))
    if audit is not None:
        audit(
            kind="book-load",
            queries=[{"book": book_id, "job": job_id, "records": screened}],
            entities=sorted(entities),
        )
    return get_job(db, job_id)


def _pairs_of(
    db: sqlite_utils.Database, book_id: str, record_ids: list[str]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        out += [
            (r[0], r[1])
            for r in db.conn.execute(
                f"SELECT record_id, entity_id FROM book_matches WHERE book_id = ? "
                f"AND record_id IN ({','.join('?' * len(chunk))})",
                [book_id, *chunk],
            )
        ]
    return out


def _wait_current(db: sqlite_utils.Database, cache: IndexCache, timeout: float) -> None:
    """Wait until the screening index holds the registry as it is now (a large
    import is rebuilt in the background): records screened against an older
    index would miss what changed in between."""
    deadline = time.monotonic() + timeout
    target = current_version(db)
    while True:
        try:
            view = cache.view(db)
        except IndexUnavailable:  # the first build: wait for it
            view = None
        if view is not None and view.version >= target and not view.behind:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the screening index did not catch up with the registry")
        time.sleep(0.2)
