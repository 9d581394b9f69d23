"""Writes to the registry: sources, actions and records, with history.

Every function here runs inside a transaction its caller opened (see
`db.immediate`), so a whole load or import commits or rolls back as one. Rows
are never updated away: a changed record closes its old part rows and inserts
new ones, and its previous document stays in `history`.

Record writes are batched (one executemany per table per batch) because an
import writes tens of thousands of records in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from schemas.fields import date_bounds

from .db import current_docs
from .names import identifier_key, name_key
from .records import (
    ExistingRecord,
    MergeKeys,
    canonical_entity,
    choose_entity,
    compact,
    content_hash,
    delist,
    dumps,
    encode,
    merge_keys,
    summarise_entity,
)
from .versions import record_version

PART_TABLES = ("names", "identifiers", "addresses", "designations", "birth_dates", "nationalities")
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class WriteConflict(Exception):
    """A write would take over something another dataset owns."""

    def __init__(self, message: str, *, record_id: str, field: str = "id") -> None:
        super().__init__(message)
        self.record_id = record_id
        self.field = field


@dataclass
class Counts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    def add(self, change: str) -> None:
        if change in ("added", "restored", "relisted"):
            self.added += 1
        elif change == "changed":
            self.changed += 1
        elif change in ("removed", "deleted"):
            self.removed += 1
        else:
            self.unchanged += 1

    def merge(self, other: Counts) -> None:
        self.added += other.added
        self.changed += other.changed
        self.removed += other.removed
        self.unchanged += other.unchanged

    @property
    def touched(self) -> int:
        return self.added + self.changed + self.removed

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class Snapshot:
    """A write that holds a dataset's whole list: records it lacks were delisted."""

    date: str  # when the list no longer held them (its publication date, or the import's)
    evidence: Mapping[str, Any]  # the source that shows the absence


@dataclass
class _Existing:
    dataset: str
    entity_id: str
    hash: str
    version: int
    removed_at: str | None
    deleted_at: str | None
    content_hash: str | None


@dataclass
class _Batch:
    """Rows of one write_records call, written table by table at the end."""

    new_records: list[tuple[Any, ...]] = field(default_factory=list)
    updated_records: list[tuple[Any, ...]] = field(default_factory=list)
    close_parts: list[str] = field(default_factory=list)
    close_history: list[str] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    names: list[tuple[Any, ...]] = field(default_factory=list)
    identifiers: list[tuple[Any, ...]] = field(default_factory=list)
    addresses: list[tuple[Any, ...]] = field(default_factory=list)
    designations: list[tuple[Any, ...]] = field(default_factory=list)
    designation_sources: list[tuple[int, str]] = field(default_factory=list)
    birth_dates: list[tuple[Any, ...]] = field(default_factory=list)
    nationalities: list[tuple[Any, ...]] = field(default_factory=list)


class _Merger:
    """Finds records of other datasets that new records may join (see choose_entity).

    The identifier values and name keys of all the new records are looked up
    at once, in chunks, through the partial indexes on current rows: the cost
    follows the batch, not the size of the registry.
    """

    def __init__(
        self, conn: sqlite3.Connection, dataset: str, docs: Iterable[Mapping[str, Any]]
    ) -> None:
        self.conn = conn
        self.dataset = dataset
        self.docs: dict[str, ExistingRecord | None] = {}
        self.keys = {str(doc["id"]): merge_keys(doc) for doc in docs}
        values = {value for k in self.keys.values() for _, value, _ in k.identifiers}
        names = {n for k in self.keys.values() if k.type != "person" for n in k.names}
        self.by_value = self._lookup("identifiers", "value_norm", values)
        self.by_name = self._lookup("names", "key", names)

    def _lookup(self, table: str, column: str, wanted: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(wanted)):
            marks = ",".join("?" * len(chunk))
            for key, record_id in self.conn.execute(
                f"SELECT {column}, record_id FROM {table} WHERE valid_to IS NULL "
                f"AND {column} IN ({marks})",
                list(chunk),
            ):
                found.setdefault(key, set()).add(record_id)
        return found

    def _candidate_ids(self, keys: MergeKeys) -> set[str]:
        found: set[str] = set()
        for _, value, _ in keys.identifiers:
            found |= self.by_value.get(value, set())
        if keys.type != "person":
            for name in keys.names:
                found |= self.by_name.get(name, set())
        return found

    def _existing(self, record_ids: set[str]) -> list[ExistingRecord]:
        missing = sorted(r for r in record_ids if r not in self.docs)
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT id, entity_id, dataset, deleted_at FROM records WHERE id IN ({marks})",
                list(chunk),
            ).fetchall()
            docs = current_docs(self.conn, [r[0] for r in rows if not r[3]])
            for rid, eid, dataset, _ in rows:
                doc = docs.get(rid)
                self.docs[rid] = (
                    None
                    if doc is None or dataset == self.dataset
                    else ExistingRecord(rid, eid, dataset, merge_keys(doc))
                )
        return [c for r in sorted(record_ids) if (c := self.docs.get(r)) is not None]

    def choose(self, record_id: str, doc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        keys = self.keys.get(record_id) or merge_keys(doc)
        candidates = self._existing(self._candidate_ids(keys))
        return choose_entity(record_id, self.dataset, keys, candidates)


@dataclass
class Writer:
    """Writes one transaction's worth of changes, all stamped `now` and `actor`."""

    db: sqlite_utils.Database
    now: str
    actor: str
    run_id: str | None = None
    touched_entities: set[str] = field(default_factory=set)
    changed_anything: bool = False
    # Documents written by this writer, so entity summaries need not re-read them.
    written_docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.db.conn.in_transaction:
            raise RuntimeError("registry writes must run inside a transaction")

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    # -- single documents: sources and actions ------------------------------------

    def _history_one(
        self, object_type: str, object_id: str, version: int, change: str, doc: Any, **extra: Any
    ) -> None:
        self.conn.execute(
            "UPDATE history SET valid_to = ? WHERE object_type = ? AND object_id = ? "
            "AND valid_to IS NULL",
            (self.now, object_type, object_id),
        )
        payload, digest = encode(doc) if doc is not None else (None, None)
        self.conn.execute(
            "INSERT INTO history (object_type, object_id, entity_id, dataset, version, change, "
            "at, actor, run_id, doc, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                object_type,
                object_id,
                extra.get("entity_id"),
                extra.get("dataset"),
                version,
                change,
                self.now,
                self.actor,
                self.run_id,
                payload,
                digest,
            ),
        )
        self.changed_anything = True

    def _prior(self, table: str, object_type: str, object_id: str) -> tuple[str, int] | None:
        row = self.conn.execute(
            f"SELECT hash, (SELECT MAX(version) FROM history WHERE object_type = ? "
            f"AND object_id = {table}.id) FROM {table} WHERE id = ?",
            (object_type, object_id),
        ).fetchone()
        return (row[0], row[1] or 0) if row else None

    def write_sources(self, sources: Iterable[Mapping[str, Any]]) -> Counts:
        counts = Counts()
        for source in sources:
            doc = {k: v for k, v in source.items() if k not in ("path", "text")}
            text = source.get("text")
            if text is not None:
                doc["text_sha256"] = encode({"text": text})[1]
            doc = compact(doc)
            digest = encode(doc)[1]
            prior = self._prior("sources", "source", doc["id"])
            if prior and prior[0] == digest:
                counts.add("unchanged")
                continue
            values = {
                "id": doc["id"],
                "kind": doc["kind"],
                "title": doc["title"],
                "publisher": doc.get("publisher"),
                "url": doc.get("url"),
                "language": doc.get("language"),
                "published": doc.get("published"),
                "published_as_stated": doc.get("published_as_stated"),
                "checksum": doc.get("checksum"),
                "size": source.get("size"),
                "notes": doc.get("notes"),
                "text": text,
                "hash": digest,
                "updated_at": self.now,
            }
            if prior:
                sets = ", ".join(f"{k} = :{k}" for k in values if k != "id")
                self.conn.execute(f"UPDATE sources SET {sets} WHERE id = :id", values)
            else:
                values["created_at"] = self.now
                self.conn.execute(
                    f"INSERT INTO sources ({', '.join(values)}) "
                    f"VALUES ({', '.join(':' + k for k in values)})",
                    values,
                )
            change = "changed" if prior else "added"
            self._history_one("source", doc["id"], (prior[1] if prior else 0) + 1, change, doc)
            counts.add(change)
        return counts

    def write_actions(self, actions: Iterable[Mapping[str, Any]]) -> Counts:
        counts = Counts()
        for action in actions:
            doc = compact(dict(action))
            payload, digest = encode(doc)
            prior = self._prior("actions", "action", doc["id"])
            if prior and prior[0] == digest:
                counts.add("unchanged")
                continue
            start, end = date_bounds(doc["date"])
            values = (
                doc["jurisdiction"],
                doc.get("authority"),
                doc["date"],
                start,
                end,
                doc["title"],
                doc.get("program"),
                doc.get("target_count"),
                payload,
                digest,
                self.now,
                doc["id"],
            )
            if prior:
                self.conn.execute(
                    "UPDATE actions SET jurisdiction=?, authority=?, date=?, date_start=?, "
                    "date_end=?, title=?, program=?, target_count=?, doc=?, hash=?, updated_at=? "
                    "WHERE id=?",
                    values,
                )
            else:
                self.conn.execute(
                    "INSERT INTO actions (jurisdiction, authority, date, date_start, date_end, "
                    "title, program, target_count, doc, hash, updated_at, id, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, self.now),
                )
            change = "changed" if prior else "added"
            self._history_one("action", doc["id"], (prior[1] if prior else 0) + 1, change, doc)
            counts.add(change)
        return counts

    # -- records ---------------------------------------------------------------------

    def write_records(
        self,
        dataset: str,
        docs: Sequence[Mapping[str, Any]],
        *,
        snapshot: Snapshot | None = None,
        progress: Callable[[int], None] | None = None,
        merge: bool = True,
    ) -> Counts:
        """Upsert records of one dataset by id. With `snapshot`, current records of
        the dataset missing from `docs` are delisted (kept, with a delisted date), and
        a record counts as unchanged when its content is (see records.content_hash):
        the evidence then keeps pointing at the file the content first came from.
        With `merge=False` a new record founds its own entity (hand edits address
        the entity by the record's id)."""
        counts = Counts()
        batch = _Batch()
        canon = [canonical_entity(raw) for raw in docs]
        existing = self._existing_records([str(d["id"]) for d in canon])
        merger = _Merger(
            self.conn, dataset, (d for d in canon if merge and d["id"] not in existing)
        )
        for index, doc in enumerate(canon, 1):
            record_id = doc["id"]
            payload, digest = encode(doc)
            chash = content_hash(doc)
            old = existing.get(record_id)
            if old is not None and old.dataset != dataset:
                raise WriteConflict(
                    f"Record {record_id!r} belongs to dataset {old.dataset!r}, not {dataset!r}.",
                    record_id=record_id,
                )
            if old is None:
                entity_id, reason = (
                    merger.choose(record_id, doc)
                    if merge
                    else (record_id, {"rule": "new", "detail": "created by hand under its id"})
                )
                batch.new_records.append(
                    (
                        record_id,
                        dataset,
                        entity_id,
                        digest,
                        chash,
                        dumps(reason),
                        self.now,
                        self.now,
                    )
                )
                change, version = "added", 1
            elif not old.deleted_at and (
                old.content_hash == chash if snapshot is not None else old.hash == digest
            ):
                counts.add("unchanged")
                continue
            else:
                entity_id, version = old.entity_id, old.version + 1
                change = (
                    "restored"
                    if old.deleted_at
                    else ("relisted" if old.removed_at and not _all_delisted(doc) else "changed")
                )
                batch.updated_records.append(
                    (
                        digest,
                        chash,
                        version,
                        self.now,
                        old.removed_at if change == "changed" else None,
                        record_id,
                    )
                )
                batch.close_parts.append(record_id)
                batch.close_history.append(record_id)
            self._add_parts(batch, record_id, entity_id, doc)
            self._record_history(
                batch, record_id, entity_id, dataset, version, change, payload, digest
            )
            self.written_docs[record_id] = doc
            self.touched_entities.add(entity_id)
            counts.add(change)
            if progress and index % 1000 == 0:
                progress(index)
        if snapshot is not None:
            present = {str(d["id"]) for d in docs}
            counts.merge(self._delist_missing(batch, dataset, present, snapshot))
        self._flush(batch)
        if progress:
            progress(len(docs))
        return counts

    def delete_record(self, record_id: str) -> str:
        """Take a record out of the current registry by hand; its history stays."""
        old = self._existing_records([record_id]).get(record_id)
        if old is None or old.deleted_at:
            raise KeyError(record_id)
        batch = _Batch(close_parts=[record_id], close_history=[record_id])
        version = old.version + 1
        self._record_history(
            batch, record_id, old.entity_id, old.dataset, version, "deleted", None, None
        )
        self._flush(batch)
        self.conn.execute(
            "UPDATE records SET deleted_at = ?, updated_at = ?, version = ? WHERE id = ?",
            (self.now, self.now, version, record_id),
        )
        self.touched_entities.add(old.entity_id)
        return old.entity_id

    def finish(self) -> None:
        """Refresh the summaries of touched entities and record the new data version
        with the entities it changed (see versions.py), in this transaction."""
        self._refresh_entities(self.touched_entities)
        if self.changed_anything:
            record_version(self.db, self.now, self.touched_entities)

    # -- internals ---------------------------------------------------------------------

    def _record_history(
        self,
        batch: _Batch,
        record_id: str,
        entity_id: str,
        dataset: str,
        version: int,
        change: str,
        payload: str | None,
        digest: str | None,
    ) -> None:
        batch.history.append(
            (
                "record",
                record_id,
                entity_id,
                dataset,
                version,
                change,
                self.now,
                self.actor,
                self.run_id,
                payload,
                digest,
            )
        )

    def _existing_records(self, ids: Sequence[str]) -> dict[str, _Existing]:
        found: dict[str, _Existing] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, dataset, entity_id, hash, version, removed_at, deleted_at, "
                f"content_hash "
                f"FROM records WHERE id IN ({marks})",
                list(chunk),
            ):
                found[row[0]] = _Existing(*row[1:])
        return found

    def _add_parts(
        self, batch: _Batch, record_id: str, entity_id: str, doc: Mapping[str, Any]
    ) -> None:
        now = self.now
        for n in doc.get("names", []):
            batch.names.append(
                (
                    record_id,
                    entity_id,
                    n["name"],
                    n["kind"],
                    n.get("script"),
                    n.get("lang"),
                    n.get("source"),
                    name_key(n["name"]),
                    now,
                )
            )
        for i in doc.get("identifiers", []):
            batch.identifiers.append(
                (
                    record_id,
                    entity_id,
                    i["scheme"],
                    i["value"],
                    identifier_key(i["value"]),
                    i.get("country"),
                    i.get("note"),
                    i.get("source"),
                    now,
                )
            )
        for a in doc.get("addresses", []):
            batch.addresses.append(
                (
                    record_id,
                    entity_id,
                    a["full"],
                    a.get("street"),
                    a.get("city"),
                    a.get("region"),
                    a.get("postal_code"),
                    a.get("country"),
                    a.get("source"),
                    now,
                )
            )
        for date in doc.get("birth_dates", []):
            first, _, last = date.partition("/")
            batch.birth_dates.append(
                (
                    record_id,
                    entity_id,
                    date,
                    date_bounds(first)[0],
                    date_bounds(last or first)[1],
                    now,
                )
            )
        for country in doc.get("nationalities", []):
            batch.nationalities.append((record_id, entity_id, country, now))
        for d in doc.get("designations", []):
            start, end = date_bounds(d["listed_date"]) if d.get("listed_date") else (None, None)
            batch.designations.append(
                (
                    d["id"],
                    record_id,
                    entity_id,
                    d["jurisdiction"],
                    d["authority"],
                    d["list"],
                    d.get("program"),
                    d.get("listed_date"),
                    start,
                    end,
                    d.get("delisted_date"),
                    d.get("conduct"),
                    d.get("legal_basis"),
                    d.get("reference"),
                    d.get("action"),
                    dumps(d["evidence"]),
                    now,
                    sorted({e["source"] for e in d["evidence"]}),
                )
            )

    def _flush(self, batch: _Batch) -> None:
        conn = self.conn
        now = self.now
        # Close before inserting: the closing UPDATEs match every open row of a record.
        for chunk in _chunks(batch.close_parts):
            marks = ",".join("?" * len(chunk))
            for table in PART_TABLES:
                conn.execute(
                    f"UPDATE {table} SET valid_to = ? WHERE valid_to IS NULL "
                    f"AND record_id IN ({marks})",
                    [now, *chunk],
                )
        for chunk in _chunks(batch.close_history):
            marks = ",".join("?" * len(chunk))
            conn.execute(
                f"UPDATE history SET valid_to = ? WHERE object_type = 'record' "
                f"AND valid_to IS NULL AND object_id IN ({marks})",
                [now, *chunk],
            )
        conn.executemany(
            "INSERT INTO records (id, dataset, entity_id, hash, content_hash, merge, "
            "version, created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?)",
            batch.new_records,
        )
        conn.executemany(
            "UPDATE records SET hash = ?, content_hash = ?, version = ?, updated_at = ?, "
            "removed_at = ?, deleted_at = NULL WHERE id = ?",
            batch.updated_records,
        )
        last_name = conn.execute("SELECT COALESCE(MAX(id), 0) FROM names").fetchone()[0]
        conn.executemany(
            "INSERT INTO names (record_id, entity_id, name, kind, script, lang, source_id, key, "
            "valid_from) VALUES (?,?,?,?,?,?,?,?,?)",
            batch.names,
        )
        conn.execute(
            "INSERT INTO names_fts (rowid, name) SELECT id, name FROM names WHERE id > ?",
            (last_name,),
        )
        conn.executemany(
            "INSERT INTO identifiers (record_id, entity_id, scheme, value, value_norm, country, "
            "note, source_id, valid_from) VALUES (?,?,?,?,?,?,?,?,?)",
            batch.identifiers,
        )
        conn.executemany(
            'INSERT INTO addresses (record_id, entity_id, "full", street, city, region, '
            "postal_code, country, source_id, valid_from) VALUES (?,?,?,?,?,?,?,?,?,?)",
            batch.addresses,
        )
        conn.executemany(
            "INSERT INTO birth_dates (record_id, entity_id, date, date_start, date_end, "
            "valid_from) VALUES (?,?,?,?,?,?)",
            batch.birth_dates,
        )
        conn.executemany(
            "INSERT INTO nationalities (record_id, entity_id, country, valid_from) "
            "VALUES (?,?,?,?)",
            batch.nationalities,
        )
        if batch.designations:
            # Row ids chosen here (we hold the write lock) so their sources can be linked.
            next_row = conn.execute(
                "SELECT COALESCE(MAX(row_id), 0) + 1 FROM designations"
            ).fetchone()[0]
            rows: list[tuple[Any, ...]] = []
            links: list[tuple[int, str]] = []
            for offset, (*values, sources) in enumerate(batch.designations):
                rows.append((next_row + offset, *values))
                links.extend((next_row + offset, s) for s in sources)
            conn.executemany(
                "INSERT INTO designations (row_id, id, record_id, entity_id, jurisdiction, "
                "authority, list, program, listed_date, listed_start, listed_end, "
                "delisted_date, conduct, legal_basis, reference, action_id, evidence, "
                "valid_from) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO designation_sources (designation_row, "
                "source_id) VALUES (?, ?)",
                links,
            )
        conn.executemany(
            "INSERT INTO history (object_type, object_id, entity_id, dataset, version, change, "
            "at, actor, run_id, doc, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            batch.history,
        )
        if batch.history or batch.new_records or batch.updated_records:
            self.changed_anything = True

    def _delist_missing(
        self, batch: _Batch, dataset: str, present: set[str], snapshot: Snapshot
    ) -> Counts:
        counts = Counts()
        rows = [
            row
            for row in self.conn.execute(
                "SELECT id, entity_id, version FROM records WHERE dataset = ? "
                "AND removed_at IS NULL AND deleted_at IS NULL",
                (dataset,),
            ).fetchall()
            if row[0] not in present
        ]
        docs = current_docs(self.conn, [row[0] for row in rows])
        for record_id, entity_id, version in rows:
            after = delist(docs[record_id], snapshot.date, snapshot.evidence)
            payload, digest = encode(after)
            batch.updated_records.append(
                (digest, content_hash(after), version + 1, self.now, self.now, record_id)
            )
            batch.close_parts.append(record_id)
            batch.close_history.append(record_id)
            self._add_parts(batch, record_id, entity_id, after)
            self._record_history(
                batch, record_id, entity_id, dataset, version + 1, "removed", payload, digest
            )
            self.written_docs[record_id] = after
            self.touched_entities.add(entity_id)
            counts.add("removed")
        return counts

    def _refresh_entities(self, entity_ids: Iterable[str]) -> None:
        for chunk in _chunks(sorted(entity_ids)):
            marks = ",".join("?" * len(chunk))
            members: dict[str, list[tuple[str, dict[str, Any]]]] = {i: [] for i in chunk}
            unread: list[tuple[str, str]] = []
            for rid, eid in self.conn.execute(
                f"SELECT id, entity_id FROM records WHERE entity_id IN ({marks}) "
                f"AND deleted_at IS NULL",
                list(chunk),
            ):
                if rid in self.written_docs:
                    members[eid].append((rid, self.written_docs[rid]))
                else:
                    unread.append((rid, eid))
            owner = dict(unread)
            for rid, doc in current_docs(self.conn, owner).items():
                members[owner[rid]].append((rid, doc))
            rows = []
            for eid, records in members.items():
                if records:
                    summary = summarise_entity(eid, records)
                else:
                    prior = self.conn.execute(
                        "SELECT type, name, country FROM entities WHERE id = ?", (eid,)
                    ).fetchone() or ("unknown", eid, None)
                    summary = {
                        "id": eid,
                        "type": prior[0],
                        "name": prior[1],
                        "country": prior[2],
                        "status": "deleted",
                        "first_listed": None,
                    }
                rows.append(
                    (
                        summary["id"],
                        summary["type"],
                        summary["name"],
                        summary["country"],
                        summary["status"],
                        summary["first_listed"],
                        self.now,
                        self.now,
                    )
                )
            self.conn.execute(
                f"UPDATE entity_history SET valid_to = ? WHERE valid_to IS NULL "
                f"AND id IN ({marks})",
                [self.now, *chunk],
            )
            self.conn.executemany(
                "INSERT INTO entity_history (id, type, name, country, status, first_listed, "
                "valid_from) VALUES (?,?,?,?,?,?,?)",
                [row[:7] for row in rows],
            )
            self.conn.executemany(
                "INSERT INTO entities (id, type, name, country, status, first_listed, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET type=excluded.type, name=excluded.name, "
                "country=excluded.country, status=excluded.status, "
                "first_listed=excluded.first_listed, updated_at=excluded.updated_at",
                rows,
            )


def _all_delisted(doc: Mapping[str, Any]) -> bool:
    designations = doc.get("designations", [])
    return bool(designations) and all(d.get("delisted_date") for d in designations)
