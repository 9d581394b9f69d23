"""The data version and its log: which entities each write changed, and when.

Every write that changes the registry goes through `store.Writer`, whose
`finish()` calls `record_version` inside the write's own transaction: the
version counter (`meta.generation`) goes up by one, `data_versions` gets the
new version with its instant and how many entities it touched, and
`data_changes` the ids of those entities (all of them, up to `LOG_MAX_IDS`;
a larger write, such as an import of a whole list, is logged as "too many to
list": a reader then rebuilds instead of patching).

Readers use it to catch up: any process holding something derived from the
registry at version v (a screening index, later a snapshot file) asks
`changes_since(v)` and either patches the few entities listed or rebuilds.
`version_at(instant)` gives the version in force at a past instant, so that
instants with the same data share whatever is derived from them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlite_utils

from .db import bump_generation, generation

# A write touching more entities than this is logged without its ids.
LOG_MAX_IDS = 10_000


def current_version(db: sqlite_utils.Database) -> int:
    """The registry's data version: bumped by every write that changed data."""
    return generation(db)


def record_version(db: sqlite_utils.Database, at: str, entity_ids: Iterable[str]) -> int:
    """Bump the data version and log what changed (call inside the write's transaction)."""
    bump_generation(db)
    version = generation(db)
    ids = sorted(set(entity_ids))
    listed = len(ids) <= LOG_MAX_IDS
    db.conn.execute(
        "INSERT INTO data_versions (version, at, entities, listed) VALUES (?, ?, ?, ?)",
        (version, at, len(ids), int(listed)),
    )
    if listed and ids:
        db.conn.executemany(
            "INSERT INTO data_changes (version, entity_id) VALUES (?, ?)",
            [(version, entity_id) for entity_id in ids],
        )
    return version


@dataclass(frozen=True)
class Changes:
    """What changed after some version, up to `version`."""

    version: int  # the newest version read
    entity_ids: frozenset[str]  # entities changed by the versions small enough to patch
    last_bulk: int = 0  # the newest version that changed more than `max_ids` (0: none)

    @property
    def bulk(self) -> bool:
        """Some version changed more entities than can be patched: rebuild."""
        return self.last_bulk > 0


def changes_since(db: sqlite_utils.Database, since: int, *, max_ids: int) -> Changes:
    """Entities changed by the writes after version `since` (read in one snapshot by
    the caller). A write of more than `max_ids` entities makes `bulk` true and
    its ids are left out: patching that many costs more than a rebuild."""
    conn = db.conn
    version = current_version(db)
    small: list[int] = []
    last_bulk = 0
    for v, count, listed in conn.execute(
        "SELECT version, entities, listed FROM data_versions WHERE version > ? ORDER BY version",
        (since,),
    ):
        if not listed or count > max_ids:
            last_bulk = v
        elif count:
            small.append(v)
    ids: set[str] = set()
    for start in range(0, len(small), 500):
        chunk = small[start : start + 500]
        marks = ",".join("?" * len(chunk))
        ids.update(
            row[0]
            for row in conn.execute(
                f"SELECT entity_id FROM data_changes WHERE version IN ({marks})", chunk
            )
        )
    return Changes(version, frozenset(ids), last_bulk)


def pending(db: sqlite_utils.Database, since: int, *, max_ids: int) -> tuple[int, bool]:
    """How many entities the writes after version `since` changed, and whether one
    of them changed more than `max_ids` (or too many to list): `changes_since`
    without reading the ids."""
    row = db.conn.execute(
        "SELECT COALESCE(SUM(entities), 0), COALESCE(MAX(listed = 0 OR entities > ?), 0) "
        "FROM data_versions WHERE version > ?",
        (max_ids, since),
    ).fetchone()
    return int(row[0]), bool(row[1])


def version_at(db: sqlite_utils.Database, instant: str) -> tuple[int, str | None]:
    """The data version in force at `instant` and the instant it was written
    (0 and None before the first write)."""
    row = db.conn.execute(
        "SELECT version, at FROM data_versions WHERE at <= ? ORDER BY at DESC, version DESC "
        "LIMIT 1",
        (instant,),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, None)


@contextlib.contextmanager
def read_snapshot(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Every read inside sees one version of the database (WAL: writers go on).

    Inside a transaction already (the caller's own snapshot), that one is used.
    """
    conn: sqlite3.Connection = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN")
    try:
        yield db
    finally:
        conn.execute("COMMIT")
