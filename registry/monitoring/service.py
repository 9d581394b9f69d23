"""The monitor of one process: delta screening, load jobs, webhooks, the audit log.

One `Monitor` per app (`monitor(app)`), started by `registry serve` (and on the
first use of a monitoring endpoint). Its worker thread wakes after every write
through this process's API (an after-request hook), and every `monitor_poll_s`
to notice writes by other processes (a CLI import, a refresh); it runs queued
load jobs, then delta screening of every book for the data versions it has not
processed. The last version processed is kept in the registry
(`monitor_state.last_version`), advanced in the transaction that writes the
last alerts of a run: a restart resumes from it and never loses a change (a run
cut short is done again; alerts it already opened are not opened twice, since
the matches they recorded are there).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..config import Settings
from ..db import connect, immediate
from ..screening import IndexCache
from ..versions import current_version, read_snapshot
from . import alerts, books, words
from .audit import AuditLog
from .delta import (
    PARALLEL_MIN,
    book_records,
    changed_entities,
    parallel_candidates,
    records_by_key,
    screen_records,
    small_index,
)
from .webhooks import Deliverer

log = logging.getLogger(__name__)


@dataclass
class DeltaRun:
    since: int
    version: int
    changed: int
    records: int
    alerts: int
    seconds: float
    read: int = 0  # records read and tested against the small index (the rest passed over)


def last_version(db: sqlite_utils.Database) -> int:
    row = db.conn.execute("SELECT value FROM monitor_state WHERE key = 'last_version'").fetchone()
    return int(row[0]) if row else 0


def _set_last_version(db: sqlite_utils.Database, version: int) -> None:
    db.conn.execute(
        "INSERT INTO monitor_state (key, value) VALUES ('last_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(version),),
    )


def run_delta(
    db: sqlite_utils.Database,
    *,
    audit: Callable[..., Any] | None = None,
    on_alerts: Callable[[], None] | None = None,
    workers: int = 1,
    db_path: str | None = None,
    parallel_min: int = PARALLEL_MIN,
    skip_by_words: bool = True,
) -> DeltaRun | None:
    """Screen every book against the entities changed since the last version
    processed; None when nothing is new. `skip_by_words`: pass over the records
    that cannot match a changed entity by their stored retrieval plans (see
    words.py); without it every record is tested against the small index (in
    `workers` processes for `parallel_min` records or more)."""
    started = time.perf_counter()
    with read_snapshot(db):
        since = last_version(db)
        version = current_version(db)
        if version <= since:
            return None
        has_records = db.conn.execute("SELECT COUNT(*) FROM book_records").fetchone()[0]
        # (no book, nothing to screen: the versions are only passed)
        changed = changed_entities(db, since, version) if has_records else set()
        fixed = small_index(db, changed) if changed else None
    opened = 0
    screened = read = 0
    keys: set[tuple[str, str]] | None = None
    entities: dict[str, set[str]] = {}
    if fixed is not None:
        # The matches the changed entities had: those not found again are removed.
        stored: dict[str, dict[str, list[tuple[str, str]]]] = {}
        ids = sorted(changed)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for book_id, record_id, entity_id in db.conn.execute(
                f"SELECT book_id, record_id, entity_id FROM book_matches "
                f"WHERE entity_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                stored.setdefault(book_id, {}).setdefault(record_id, []).append(
                    (record_id, entity_id)
                )
        chunks: Iterator[list[dict[str, Any]]]
        if skip_by_words:
            # Only the records whose stored retrieval plans may find a candidate
            # among the changed entities (see words.py), and those that matched one.
            words.ensure(db)
            keys, screened = words.hit_records(db, fixed.index)
            keys |= {(b, r) for b, pairs in stored.items() for r in pairs}
            read = len(keys)
            chunks = records_by_key(db, sorted(keys))
        elif workers > 1 and db_path and has_records >= parallel_min:
            # Worker processes test every record; only those that may match (or did)
            # are read here.
            keys = parallel_candidates(db, db_path, fixed, workers)
            keys |= {(b, r) for b, pairs in stored.items() for r in pairs}
            read = len(keys)
            chunks = records_by_key(db, sorted(keys))
            screened = has_records
        else:
            chunks = book_records(db)
            read = has_records
        for chunk_records in chunks:
            if keys is None or skip_by_words:
                if keys is None:
                    screened += len(chunk_records)
                # Records that may match (or did match) a changed entity, through screen.
                maybe = fixed.candidates(chunk_records)
                listed = {id(r) for r in maybe}
                maybe += [
                    r
                    for r in chunk_records
                    if id(r) not in listed and r["id"] in stored.get(r["book_id"], {})
                ]
            else:
                maybe = chunk_records
            results = screen_records(db, fixed, maybe) if maybe else []
            by_book: dict[str, tuple[dict[str, Any], dict[str, list[Any]], list[Any]]] = {}
            for record, result in zip(maybe, results, strict=True):
                matched = [m for m in result["matches"] if m["match"]]
                book_id = record["book_id"]
                scope = stored.get(book_id, {}).pop(record["id"], [])
                if not matched and not scope:
                    continue
                recs, found, pairs = by_book.setdefault(book_id, ({}, {}, []))
                recs[record["id"]] = record
                found[record["id"]] = matched
                pairs += scope
                entities.setdefault(book_id, set()).update(m["entity_id"] for m in matched)
            if by_book:
                with immediate(db):
                    for book_id, (recs, found, pairs) in by_book.items():
                        opened += len(
                            alerts.reconcile(db, book_id, recs, found, pairs, version).alerts
                        )
                if on_alerts is not None:
                    on_alerts()
        # Matches of records no longer in their book (deleted meanwhile) are dropped.
    with immediate(db):
        _set_last_version(db, version)
    run = DeltaRun(
        since, version, len(changed), screened, opened, time.perf_counter() - started, read
    )
    log.info(
        "delta screening: versions %d..%d, %d entities changed, %d records (%d read), "
        "%d alerts, %.2fs",
        since + 1, version, run.changed, run.records, run.read, run.alerts, run.seconds,
    )  # fmt: skip
    if audit is not None and fixed is not None:
        for book_id, found_entities in entities.items():
            audit(
                kind="book-delta",
                queries=[{"book": book_id, "since": since, "version": version}],
                entities=sorted(found_entities),
            )
    return run


class Monitor:
    """The background threads of monitoring in one process."""

    def __init__(self, settings: Settings, cache: IndexCache) -> None:
        self.settings = settings
        self.cache = cache
        self.audit = AuditLog(
            settings.audit_file,
            minimise=settings.audit_minimise,
            retention_s=settings.audit_retention,
            flush_ms=settings.audit_flush_ms,
        )
        self.deliverer = Deliverer(
            settings.db_path,
            busy_timeout_ms=settings.busy_timeout_ms,
            backoff_s=settings.webhook_backoff_s,
            backoff_max_s=settings.webhook_backoff_max_s,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_run: DeltaRun | None = None
        self.failure: str | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
            self._thread.start()
        self.deliverer.start()
        if self.settings.audit_retention:
            try:
                self.audit.prune()
            except Exception:
                log.exception("audit: pruning failed")

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.deliverer.stop()
        self.audit.close()

    def record_audit(self, **fields: Any) -> None:
        """A book screening in the audit trail (no answer body: its alerts are kept)."""
        self.audit.record(
            actor="monitor",
            params={},
            data_version=None,
            datasets=[],
            results=[
                {
                    "index": 0,
                    "matches": [{"entity_id": e, "score": None} for e in fields.pop("entities")],
                }
            ],
            answer=None,
            **fields,
        )

    def _run(self) -> None:
        db = connect(self.settings.db_path, busy_timeout_ms=self.settings.busy_timeout_ms)
        try:
            while not self._stop.is_set():
                try:
                    self.step(db)
                    self.failure = None
                except Exception as exc:
                    self.failure = f"{type(exc).__name__}: {exc}"
                    log.exception("monitor: a step failed; retrying")
                self._wake.wait(timeout=self.settings.monitor_poll_s)
                self._wake.clear()
        finally:
            db.close()

    def step(self, db: sqlite_utils.Database) -> None:
        for job_id in books.queued_jobs(db):
            if self._stop.is_set():
                return
            books.run_job(db, self.cache, job_id, audit=self.record_audit)
            self.deliverer.wake()
        run = run_delta(
            db,
            audit=self.record_audit,
            on_alerts=self.deliverer.wake,
            workers=self.settings.monitor_workers,
            db_path=str(self.settings.db_path),
        )
        if run is not None:
            self.last_run = run
            self.deliverer.wake()

    def state(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "running": self._thread is not None and self._thread.is_alive(),
            "failure": self.failure,
            "last_run": None if run is None else run.__dict__,
        }


def handle_sigterm() -> None:
    """SIGTERM ends the process through SystemExit, so that exit handlers (the audit
    log's last write) run; only where nothing else handles it."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(
        signal.SIGTERM
    ) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
