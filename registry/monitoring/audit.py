"""The audit trail: every screening, as it was answered, in its own SQLite file.

Each screening (GET and POST /screen, a book's load or delta screening, `registry
screen`) is recorded with its time, the key that asked, the queries (or only a
SHA-256 of them with REGISTRY_AUDIT_MINIMISE=1), the parameters, the data
version and dataset versions in force, the entities returned with their scores,
and the whole answer (zlib-compressed JSON), so a past screening can be shown
exactly as it was answered.

Screening never waits for it: entries go on a queue and a thread writes them in
batches, every `flush_ms` (REGISTRY_AUDIT_FLUSH_MS, default 1 s) or every 500
entries, into `<registry>.audit.db` (REGISTRY_AUDIT_DB), a separate file, so the
registry's writer lock (a long import) never holds screening up. Closing the
log (service shutdown, SIGTERM, the end of a CLI command) writes what is
queued. A crash (kill -9, power cut) loses at most the entries of the last
`flush_ms`; `flush_ms=0` writes each entry before the answer leaves (durable,
at the cost `bench/monitoring.py` prints). Rows older than
REGISTRY_AUDIT_RETENTION (e.g. `400d`) are pruned at start and hourly.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import queue
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)
BATCH = 500
IDLE_EXIT_S = 10.0  # the writer thread ends after this long without entries
PRUNE_EVERY_S = 3600.0
COLUMNS = (
    "id", "at", "kind", "actor", "query_sha256", "queries", "names", "params", "data_version",
    "datasets", "entities", "matches",
)  # fmt: skip

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    query_sha256 TEXT NOT NULL,
    queries TEXT,
    names INTEGER NOT NULL,
    params TEXT NOT NULL,
    data_version INTEGER,
    datasets TEXT NOT NULL,
    entities TEXT NOT NULL,
    matches TEXT NOT NULL,
    answer_type TEXT,
    answer BLOB
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, at);
CREATE INDEX IF NOT EXISTS audit_hash ON audit(query_sha256);
CREATE TABLE IF NOT EXISTS audit_entities (
    seq INTEGER NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (entity_id, seq)
) WITHOUT ROWID;
"""


def query_hash(queries: Sequence[Any]) -> str:
    """SHA-256 of the queries as canonical JSON (what a minimised entry keeps)."""
    return hashlib.sha256(orjson.dumps(list(queries), option=orjson.OPT_SORT_KEYS)).hexdigest()


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return f"aud-{time.time_ns():x}-{secrets.token_hex(3)}"


def connect_audit(path: str | Path, *, durable: bool = False) -> sqlite3.Connection:
    """The audit file (created when missing). NORMAL: a commit survives the process
    (not a power cut); `durable`: FULL, each commit synced to the disk."""
    conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    conn.executescript(_SCHEMA)
    return conn


def entry(
    *,
    kind: str,
    actor: str | None,
    queries: Sequence[Any],
    params: Mapping[str, Any],
    data_version: int | None,
    datasets: Any,
    results: Sequence[Mapping[str, Any]],
    answer: Any,
    minimise: bool,
    audit_id: str | None = None,
    at: str | None = None,
    answer_type: str = "application/json",
) -> dict[str, Any]:
    """An audit entry (not yet written): `results` are screening results (each with
    its matches), `answer` what was sent back."""
    matches = [
        [r.get("index", k), m["entity_id"], m["score"]]
        for k, r in enumerate(results)
        for m in (r.get("matches") or [])
    ]
    return {
        "id": audit_id or new_id(),
        "at": at or utcnow(),
        "kind": kind,
        "actor": actor,
        "query_sha256": query_hash(queries),
        "queries": None if minimise else orjson.dumps(list(queries)).decode(),
        "names": len(queries),
        "params": orjson.dumps(dict(params), default=str).decode(),
        "data_version": data_version,
        "datasets": orjson.dumps(datasets, default=str).decode(),
        "entities": orjson.dumps(sorted({m[1] for m in matches})).decode(),
        "matches": orjson.dumps(matches).decode(),
        "answer_type": None if minimise or answer is None else answer_type,
        "answer": None if minimise or answer is None else _compressed(answer),
    }


class Compressed(bytes):
    """An answer already zlib-compressed (a streamed answer, compressed as it was sent)."""


def _compressed(answer: Any) -> bytes:
    if isinstance(answer, Compressed):
        return bytes(answer)
    return zlib.compress(_bytes(answer), 1)


def _bytes(answer: Any) -> bytes:
    """An answer as sent (bytes) or as an object (JSON)."""
    if isinstance(answer, bytes):
        return answer
    return orjson.dumps(answer, default=str)


class AuditLog:
    """Queued, batched writes of audit entries to their own SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        minimise: bool = False,
        retention_s: float | None = None,
        flush_ms: int = 1000,
    ) -> None:
        self.path = Path(path)
        self.minimise = minimise
        self.retention_s = retention_s
        self.flush_ms = flush_ms
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()  # one writer of the file in this process
        self._thread_lock = threading.Lock()  # starting and ending the writer thread
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._last_prune = 0.0
        self.written = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect_audit(self.path, durable=self.flush_ms <= 0)
        return self._conn

    def record(self, **fields: Any) -> str:
        """Queue an entry (see `entry`); its id. With flush_ms=0, written now."""
        # Made into a row (JSON, the compressed answer) by the writer, off the request.
        item = {"audit_id": new_id(), "at": utcnow(), "minimise": self.minimise, **fields}
        if self.flush_ms <= 0 or self._closed:
            self._write([item])
            return str(item["audit_id"])
        with self._thread_lock:
            self._queue.put(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
                self._thread.start()
        return str(item["audit_id"])

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            batch: list[dict[str, Any]] = []
            deadline = time.monotonic() + self.flush_ms / 1000
            stop = False
            while len(batch) < BATCH:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            if batch:
                idle_since = time.monotonic()
                try:
                    self._write(batch)
                except Exception:
                    log.exception("audit: writing %d entries failed", len(batch))
            if stop:
                return
            if time.monotonic() - idle_since > IDLE_EXIT_S:
                # Nothing to do for a while: end (the next entry starts a thread again).
                with self._thread_lock:
                    if self._queue.empty():
                        self._thread = None
                        return

    def flush(self) -> None:
        """Write every queued entry now (the queue is drained by this thread)."""
        batch: list[dict[str, Any]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                batch.append(item)
        if batch:
            self._write(batch)

    def close(self) -> None:
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
            self._thread = None
        self.flush()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for fields in batch:
                    item = entry(**fields)
                    cur = conn.execute(
                        f"INSERT INTO audit ({', '.join(COLUMNS)}, answer_type, answer) "
                        f"VALUES ({', '.join('?' * (len(COLUMNS) + 2))})",
                        [*(item[c] for c in COLUMNS), item["answer_type"], item["answer"]],
                    )
                    seq = cur.lastrowid
                    conn.executemany(
                        "INSERT OR IGNORE INTO audit_entities (seq, entity_id) VALUES (?, ?)",
                        [(seq, e) for e in orjson.loads(item["entities"])],
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.written += len(batch)
            if self.retention_s and time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                self._prune(conn)

    def prune(self) -> int:
        with self._lock:
            return self._prune(self._connection())

    def _prune(self, conn: sqlite3.Connection) -> int:
        self._last_prune = time.monotonic()
        if not self.retention_s:
            return 0
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.retention_s)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "DELETE FROM audit_entities WHERE seq IN (SELECT seq FROM audit WHERE at < ?)",
                (cutoff,),
            )
            gone = conn.execute("DELETE FROM audit WHERE at < ?", (cutoff,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if gone:
            log.info("audit: pruned %d entries older than %s", gone, cutoff)
        return int(gone)


# ---------------------------------------------------------------------- reading
def _as_dict(row: sqlite3.Row | tuple[Any, ...], with_answer: bool) -> dict[str, Any]:
    values = dict(zip((*COLUMNS, "answer_type", "answer"), row, strict=True))
    out: dict[str, Any] = {k: values[k] for k in ("id", "at", "kind", "actor", "query_sha256")}
    out["queries"] = orjson.loads(values["queries"]) if values["queries"] else None
    out["names"] = values["names"]
    out["params"] = orjson.loads(values["params"])
    out["data_version"] = values["data_version"]
    out["datasets"] = orjson.loads(values["datasets"])
    out["entities"] = orjson.loads(values["entities"])
    out["matches"] = [
        {"index": i, "entity_id": e, "score": s} for i, e, s in orjson.loads(values["matches"])
    ]
    if with_answer:
        blob, media_type = values["answer"], values["answer_type"]
        if blob is None:
            out["answer"] = None
        elif media_type == "application/json":
            out["answer"] = orjson.loads(zlib.decompress(blob))
        elif str(media_type).startswith("text/"):
            text = zlib.decompress(blob).decode("utf-8", "replace")
            out["answer"] = {"media_type": media_type, "text": text}
        else:  # a workbook
            data = base64.b64encode(zlib.decompress(blob)).decode()
            out["answer"] = {"media_type": media_type, "base64": data}
    return out


def search(
    conn: sqlite3.Connection, args: Mapping[str, Any], *, limit: int | None = 50
) -> Iterator[dict[str, Any]]:
    """Entries newest first, filtered by `since`, `until`, `actor`, `kind`, `entity`,
    `query` (its SHA-256, or the text: hashed as one GET /screen name would be);
    `cursor` continues a page."""
    conds: list[str] = []
    params: list[Any] = []
    if args.get("since"):
        conds.append("a.at >= ?")
        params.append(args["since"])
    if args.get("until"):
        conds.append("a.at < ?")
        params.append(args["until"])
    if args.get("actor"):
        conds.append("a.actor = ?")
        params.append(args["actor"])
    if args.get("kind"):
        conds.append("a.kind = ?")
        params.append(args["kind"])
    if args.get("query_sha256"):
        conds.append("a.query_sha256 = ?")
        params.append(args["query_sha256"])
    if args.get("entity"):
        conds.append("a.seq IN (SELECT seq FROM audit_entities WHERE entity_id = ?)")
        params.append(args["entity"])
    if args.get("cursor"):
        conds.append("a.seq < ?")
        params.append(decode_cursor(args["cursor"]))
    where = " AND ".join(conds) or "1 = 1"
    sql = (
        f"SELECT a.seq, {', '.join('a.' + c for c in COLUMNS)}, a.answer_type, NULL FROM audit a "
        f"WHERE {where} ORDER BY a.seq DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    for row in conn.execute(sql, params):
        item = _as_dict(row[1:], with_answer=False)
        item["_seq"] = row[0]
        yield item


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


def get(conn: sqlite3.Connection, audit_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {', '.join(COLUMNS)}, answer_type, answer FROM audit WHERE id = ?", (audit_id,)
    ).fetchone()
    return None if row is None else _as_dict(row, with_answer=True)


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor this service gave") from None
