"""The SQLite store: connections, pragmas, schema migrations and transactions.

Layout, in short:
- `records` hold what one list (a dataset) says about one subject, as a JSON
  document; `entities` are clusters of records (one real-world subject listed by
  several authorities) with a summary row for filtering.
- `names`, `identifiers`, `addresses`, `designations`, `birth_dates` and
  `nationalities` are the records' parts, one row per part and per version: a
  change closes the old row (`valid_to`) and inserts a new one, so nothing is
  updated away and any past state can be read back (`valid_to IS NULL` is the
  current state).
- `history` keeps every version of every record, source and action document
  with who changed it (a key, a load, an import run) and when.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("registry")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('generation', '0');

        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            publisher TEXT,
            url TEXT,
            language TEXT,
            published TEXT,
            published_as_stated TEXT,
            checksum TEXT,
            size INTEGER,
            notes TEXT,
            text TEXT,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX sources_kind ON sources(kind);

        CREATE TABLE actions (
            id TEXT PRIMARY KEY,
            jurisdiction TEXT NOT NULL,
            authority TEXT,
            date TEXT NOT NULL,
            date_start TEXT NOT NULL,
            date_end TEXT NOT NULL,
            title TEXT NOT NULL,
            program TEXT,
            target_count INTEGER,
            doc TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX actions_jurisdiction ON actions(jurisdiction, date_start);
        CREATE INDEX actions_date ON actions(date_start);

        CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            country TEXT,
            status TEXT NOT NULL,
            first_listed TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX entities_type ON entities(type);
        CREATE INDEX entities_country ON entities(country);
        CREATE INDEX entities_status ON entities(status);

        CREATE TABLE records (
            id TEXT PRIMARY KEY,
            dataset TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            doc TEXT NOT NULL,
            hash TEXT NOT NULL,
            merge TEXT NOT NULL,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            removed_at TEXT,
            deleted_at TEXT
        );
        CREATE INDEX records_dataset ON records(dataset);
        CREATE INDEX records_entity ON records(entity_id);

        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            entity_id TEXT,
            dataset TEXT,
            version INTEGER NOT NULL,
            change TEXT NOT NULL,
            at TEXT NOT NULL,
            valid_to TEXT,
            actor TEXT,
            run_id TEXT,
            doc TEXT,
            hash TEXT
        );
        CREATE INDEX history_object ON history(object_type, object_id, version);
        CREATE INDEX history_entity ON history(entity_id, at);
        CREATE INDEX history_run ON history(run_id);

        CREATE TABLE names (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            script TEXT,
            lang TEXT,
            source_id TEXT,
            key TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX names_entity ON names(entity_id, valid_to);
        CREATE INDEX names_record ON names(record_id, valid_to);
        CREATE INDEX names_key ON names(key) WHERE valid_to IS NULL;
        CREATE VIRTUAL TABLE names_fts USING fts5(
            name, content='names', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        -- names_fts is filled in bulk by the writer (one INSERT ... SELECT per batch is
        -- an order of magnitude faster than a per-row trigger); rows are never deleted.
        CREATE TRIGGER names_ad AFTER DELETE ON names BEGIN
            INSERT INTO names_fts(names_fts, rowid, name) VALUES ('delete', old.id, old.name);
        END;

        CREATE TABLE identifiers (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            scheme TEXT NOT NULL,
            value TEXT NOT NULL,
            value_norm TEXT NOT NULL,
            country TEXT,
            note TEXT,
            source_id TEXT,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX identifiers_entity ON identifiers(entity_id, valid_to);
        CREATE INDEX identifiers_record ON identifiers(record_id, valid_to);
        CREATE INDEX identifiers_value ON identifiers(value_norm) WHERE valid_to IS NULL;

        CREATE TABLE addresses (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            "full" TEXT NOT NULL,
            street TEXT,
            city TEXT,
            region TEXT,
            postal_code TEXT,
            country TEXT,
            source_id TEXT,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX addresses_entity ON addresses(entity_id, valid_to);
        CREATE INDEX addresses_record ON addresses(record_id, valid_to);
        CREATE INDEX addresses_country ON addresses(country) WHERE valid_to IS NULL;

        CREATE TABLE designations (
            row_id INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            jurisdiction TEXT NOT NULL,
            authority TEXT NOT NULL,
            list TEXT NOT NULL,
            program TEXT,
            listed_date TEXT,
            listed_start TEXT,
            listed_end TEXT,
            delisted_date TEXT,
            conduct TEXT,
            legal_basis TEXT,
            reference TEXT,
            action_id TEXT,
            evidence TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX designations_entity ON designations(entity_id, valid_to);
        CREATE INDEX designations_record ON designations(record_id, valid_to);
        CREATE INDEX designations_id ON designations(id, valid_to);
        CREATE INDEX designations_jurisdiction ON designations(jurisdiction, listed_start)
            WHERE valid_to IS NULL;
        CREATE INDEX designations_authority ON designations(authority COLLATE NOCASE)
            WHERE valid_to IS NULL;
        CREATE INDEX designations_program ON designations(program COLLATE NOCASE)
            WHERE valid_to IS NULL;
        CREATE INDEX designations_listed ON designations(listed_start) WHERE valid_to IS NULL;
        CREATE INDEX designations_action ON designations(action_id) WHERE valid_to IS NULL;

        CREATE TABLE designation_sources (
            designation_row INTEGER NOT NULL,
            source_id TEXT NOT NULL,
            PRIMARY KEY (designation_row, source_id)
        ) WITHOUT ROWID;
        CREATE INDEX designation_sources_source ON designation_sources(source_id);

        CREATE TABLE import_runs (
            id TEXT PRIMARY KEY,
            format TEXT NOT NULL,
            dataset TEXT NOT NULL,
            files TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            counts TEXT,
            warnings TEXT,
            actor TEXT
        );
        CREATE INDEX import_runs_dataset ON import_runs(dataset, started_at);
        """
    )


def utcnow() -> str:
    """A sortable UTC timestamp with microseconds; every row written in one
    transaction shares it, which is what makes as-of reads consistent."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(path: str | Path, *, busy_timeout_ms: int = 10_000) -> sqlite_utils.Database:
    """Open a connection with the pragmas a shared service needs (WAL, busy timeout).
    Creates the file when missing, never its folder (see `registry init`)."""
    path = Path(path)
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        db.enable_wal()
    # FULL: a compliance registry must not lose a committed write to a power cut.
    db.execute("PRAGMA synchronous = FULL")
    return db


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; safe to call from several processes at once."""
    if migrations.pending(db):
        # Under the write lock, so two processes starting at once migrate once.
        with immediate(db):
            if migrations.pending(db):
                migrations.apply(db)


def open_registry(path: str | Path, *, busy_timeout_ms: int = 10_000) -> sqlite_utils.Database:
    """Connect and migrate: what every command-line entry point uses."""
    db = connect(path, busy_timeout_ms=busy_timeout_ms)
    migrate(db)
    return db


@contextlib.contextmanager
def view(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One read snapshot: every SELECT inside sees the database as it stood at the
    first one, whatever other connections commit meanwhile (WAL readers never wait
    for writers). Without it each SELECT sees the latest commit, so a detail read
    in several queries could show an entity's old name beside its new names.

    Inside another view or a write transaction, it joins that one. Writing inside
    a view is a mistake (a deferred read cannot safely become a write): `immediate`
    refuses it.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN DEFERRED")
    _VIEWS.add(id(conn))
    try:
        yield db
    except BaseException:
        _VIEWS.discard(id(conn))
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        _VIEWS.discard(id(conn))
        if conn.in_transaction:
            conn.execute("COMMIT")


# Connections (by id) holding a read snapshot from `view`.
_VIEWS: set[int] = set()

_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_view(
    read: Callable[Concatenate[sqlite_utils.Database, _P], _R],
) -> Callable[Concatenate[sqlite_utils.Database, _P], _R]:
    """Run a read function (database first) in one snapshot: `view` as a decorator."""

    @functools.wraps(read)
    def wrapper(db: sqlite_utils.Database, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with view(db):
            return read(db, *args, **kwargs)

    return wrapper


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock at BEGIN.

    A deferred BEGIN that later upgrades to a write can fail with SQLITE_BUSY
    without waiting when another writer committed in between; BEGIN IMMEDIATE
    waits for `busy_timeout` instead, so two writers queue up cleanly. Whatever
    a write checks (does the record exist, is it editable, what does it hold now)
    must be read inside it, or a concurrent write can slip in between.
    """
    if id(db.conn) in _VIEWS:
        raise RuntimeError("a write inside a read snapshot (db.view): end the view first")
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


def generation(db: sqlite_utils.Database) -> int:
    """A counter bumped by every write that changed data; caches key on it."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def bump_generation(db: sqlite_utils.Database) -> None:
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")


@migrations()
def m002_api_keys(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            scope TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT,
            last_used_at TEXT,
            revoked_at TEXT
        );
        """
    )


@migrations()
def m003_entity_history(db: sqlite_utils.Database) -> None:
    # Every version of each entity's summary row, for reads as of a past instant.
    db.executescript(
        """
        CREATE TABLE entity_history (
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            country TEXT,
            status TEXT NOT NULL,
            first_listed TEXT,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX entity_history_id ON entity_history(id, valid_from);
        CREATE INDEX entity_history_from ON entity_history(valid_from, valid_to);
        INSERT INTO entity_history (id, type, name, country, status, first_listed, valid_from)
            SELECT id, type, name, country, status, first_listed, updated_at FROM entities;
        """
    )


@migrations()
def m004_decisions(db: sqlite_utils.Database) -> None:
    # Analysts' verdicts on screening matches. Rows are never changed except to
    # end them (superseded by a newer verdict, or withdrawn): that is their history.
    db.executescript(
        """
        CREATE TABLE decisions (
            id TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            query_key TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            verdict TEXT NOT NULL,
            note TEXT,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL,
            valid_to TEXT,
            ended_by TEXT,
            ended_actor TEXT
        );
        CREATE INDEX decisions_pair ON decisions(query_key, entity_id, valid_to);
        CREATE INDEX decisions_entity ON decisions(entity_id, created_at);
        """
    )


@migrations()
def m005_record_content_hash(db: sqlite_utils.Database) -> None:
    # Imports compare what a list says, not which file or line said it last.
    db.execute("ALTER TABLE records ADD COLUMN content_hash TEXT")
    db.execute("UPDATE records SET content_hash = hash")


@migrations()
def m006_documents_only_in_history(db: sqlite_utils.Database) -> None:
    # A record's current document is its open history version; keeping a second
    # copy in records doubled the database for nothing.
    db.executescript(
        """
        CREATE INDEX history_current ON history(object_type, object_id) WHERE valid_to IS NULL;
        ALTER TABLE records DROP COLUMN doc;
        """
    )


@migrations()
def m007_attrs_birth_dates_nationalities(db: sqlite_utils.Database) -> None:
    # Dates of birth and nationalities: versioned part rows like names and
    # identifiers (screening compares them with a query's). No record document
    # could hold them before this migration, so there is nothing to fill in.
    # identifiers_value_at serves identifier lookups as of a past instant (the
    # partial index identifiers_value only holds current rows).
    db.executescript(
        """
        CREATE TABLE birth_dates (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            date TEXT NOT NULL,
            date_start TEXT NOT NULL,
            date_end TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX birth_dates_entity ON birth_dates(entity_id, valid_to);
        CREATE INDEX birth_dates_record ON birth_dates(record_id, valid_to);

        CREATE TABLE nationalities (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            country TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT
        );
        CREATE INDEX nationalities_entity ON nationalities(entity_id, valid_to);
        CREATE INDEX nationalities_record ON nationalities(record_id, valid_to);

        CREATE INDEX identifiers_value_at ON identifiers(value_norm, valid_from);
        """
    )


def current_docs(conn: sqlite3.Connection, record_ids: Iterable[str]) -> dict[str, Any]:
    """The documents records hold now (a deleted record has none)."""
    ids = sorted(set(record_ids))
    found: dict[str, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for record_id, doc in conn.execute(
            f"SELECT object_id, doc FROM history WHERE object_type = 'record' "
            f"AND valid_to IS NULL AND doc IS NOT NULL AND object_id IN ({marks})",
            chunk,
        ):
            found[record_id] = orjson.loads(doc)
    return found


@migrations()
def m007_refresh_runs_and_publication(db: sqlite_utils.Database) -> None:
    # The publication date of the file each import loaded (the roll-back guard compares
    # against it), refresh attempts per dataset, and what each source URL last served.
    db.executescript(
        """
        ALTER TABLE import_runs ADD COLUMN published TEXT;
        UPDATE import_runs SET published = (
            SELECT s.published FROM sources s
            WHERE s.id = json_extract(import_runs.files, '$[0].source')
        ) WHERE status = 'finished';

        CREATE TABLE refresh_runs (
            id TEXT PRIMARY KEY,
            dataset TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            import_run TEXT,
            files TEXT NOT NULL,
            actor TEXT
        );
        CREATE INDEX refresh_runs_dataset ON refresh_runs(dataset, started_at);

        CREATE TABLE refresh_sources (
            dataset TEXT NOT NULL,
            url TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            sha256 TEXT,
            size INTEGER,
            import_run TEXT,
            checked_at TEXT NOT NULL,
            PRIMARY KEY (dataset, url)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m008_live_data_versions(db: sqlite_utils.Database) -> None:
    # The data version's log (see registry/versions.py): which entities each write
    # changed and when, so that a screening index (or any other derived copy)
    # catches up by patching what changed, and past instants map to versions.
    db.executescript(
        """
        CREATE TABLE data_versions (
            version INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            entities INTEGER NOT NULL,
            listed INTEGER NOT NULL
        );
        CREATE INDEX data_versions_at ON data_versions(at);
        CREATE TABLE data_changes (
            version INTEGER NOT NULL,
            entity_id TEXT NOT NULL,
            PRIMARY KEY (version, entity_id)
        ) WITHOUT ROWID;
        """
    )
    # Earlier writes, from history: one version per write instant (their ids are
    # not listed, which makes a reader rebuild), numbered to end at the current one.
    writes = db.conn.execute(
        "SELECT at, COUNT(DISTINCT entity_id) FROM history WHERE object_type = 'record' "
        "GROUP BY at ORDER BY at"
    ).fetchall()
    last = max(generation(db), len(writes))
    db.conn.executemany(
        "INSERT INTO data_versions (version, at, entities, listed) VALUES (?, ?, ?, 0)",
        [(last - len(writes) + k, at, count) for k, (at, count) in enumerate(writes, 1)],
    )
    db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(last),))


@migrations()
def m009_live_records_dataset_updated(db: sqlite_utils.Database) -> None:
    # Each dataset's newest record by an index seek (freshness.dataset_versions, read by
    # the first screening after every write).
    db.execute(
        "CREATE INDEX records_dataset_updated ON records(dataset, updated_at) "
        "WHERE deleted_at IS NULL"
    )


@migrations()
def m010_monitoring_books_alerts(db: sqlite_utils.Database) -> None:
    # Monitoring (registry/monitoring): customer books and their records, the matches
    # each record has now (with a fingerprint of the entity's listings, to tell a
    # changed listing), alerts with their history, load jobs, the last data version
    # delta screening has processed, webhooks and their delivery outbox.
    db.executescript(
        """
        CREATE TABLE books (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE TABLE book_records (
            book_id TEXT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            type TEXT,
            country TEXT,
            dob TEXT,
            nationality TEXT,
            id_number TEXT,
            hash TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (book_id, id)
        ) WITHOUT ROWID;
        CREATE TABLE book_matches (
            book_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            score REAL NOT NULL,
            listing TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (book_id, record_id, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX book_matches_entity ON book_matches(entity_id);
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            book_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            score REAL,
            listing TEXT NOT NULL,
            data_version INTEGER NOT NULL,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX alerts_book ON alerts(book_id, status, created_at);
        CREATE INDEX alerts_pair ON alerts(book_id, record_id, entity_id, created_at);
        CREATE INDEX alerts_entity ON alerts(entity_id);
        CREATE INDEX alerts_created ON alerts(created_at);
        CREATE TABLE alert_events (
            alert_id TEXT NOT NULL,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            decision_id TEXT
        );
        CREATE INDEX alert_events_alert ON alert_events(alert_id, at);
        CREATE TABLE book_jobs (
            id TEXT PRIMARY KEY,
            book_id TEXT NOT NULL,
            state TEXT NOT NULL,
            total INTEGER NOT NULL,
            screened INTEGER NOT NULL DEFAULT 0,
            added INTEGER NOT NULL DEFAULT 0,
            replaced INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            alerts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX book_jobs_state ON book_jobs(state, created_at);
        CREATE TABLE book_job_records (
            job_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            PRIMARY KEY (job_id, record_id)
        ) WITHOUT ROWID;
        CREATE TABLE monitor_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            book_id TEXT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE INDEX webhooks_book ON webhooks(book_id);
        CREATE TABLE deliveries (
            id TEXT PRIMARY KEY,
            webhook_id TEXT NOT NULL,
            alert_id TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            delivered_at TEXT
        );
        CREATE INDEX deliveries_due ON deliveries(status, next_at);
        CREATE INDEX deliveries_webhook ON deliveries(webhook_id, created_at);
        -- Entities written at one instant (a large import is logged in data_versions
        -- without its ids): delta screening reads them from history by instant.
        CREATE INDEX history_at ON history(at) WHERE object_type = 'record';
        """
    )
    # Delta screening starts from now: earlier writes are not alerts.
    db.execute(
        "INSERT INTO monitor_state (key, value) VALUES ('last_version', ?)", (str(generation(db)),)
    )


@migrations()
def m011_monitoring_book_words(db: sqlite_utils.Database) -> None:
    # Delta screening's word table (registry/monitoring/words.py): the distinct
    # retrieval keys of every book's names, and per record the ids of its keys and
    # its retrieval plans as of its hash (a replaced record's row is stale until
    # recomputed).
    db.executescript(
        """
        CREATE TABLE book_words (
            id INTEGER PRIMARY KEY,  -- a hash of the key
            key TEXT NOT NULL,
            collided INTEGER NOT NULL DEFAULT 0  -- another key has the same hash
        );
        CREATE TABLE book_record_words (
            book_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            hash TEXT NOT NULL,
            words BLOB NOT NULL,
            plans BLOB NOT NULL,
            PRIMARY KEY (book_id, record_id)
        ) WITHOUT ROWID;
        """
    )
