"""Writes to the registry: sources, actions and records, with history.

Every function here runs inside a transaction its caller opened (see
`db.immediate`), so a whole load or import commits or rolls back as one. Rows
are never updated away: a changed record closes its old part rows and inserts
new ones, and its previous document stays in `history`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from schemas.fields import date_bounds

from .db import bump_generation
from .names import identifier_key, name_key
from .records import (
    ExistingRecord,
    canonical_entity,
    choose_entity,
    compact,
    delist,
    doc_hash,
    dumps,
    merge_keys,
    summarise_entity,
)

PART_TABLES = ("names", "identifiers", "addresses", "designations")
CHUNK = 500


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
class Writer:
    """Writes one transaction's worth of changes, all stamped `now` and `actor`."""

    db: sqlite_utils.Database
    now: str
    actor: str
    run_id: str | None = None
    touched_entities: set[str] = field(default_factory=set)
    changed_anything: bool = False

    def __post_init__(self) -> None:
        if not self.db.conn.in_transaction:
            raise RuntimeError("registry writes must run inside a transaction")

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    # -- history ---------------------------------------------------------------

    def _history(
        self,
        object_type: str,
        object_id: str,
        version: int,
        change: str,
        doc: Any,
        *,
        entity_id: str | None = None,
        dataset: str | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE history SET valid_to = ? WHERE object_type = ? AND object_id = ? "
            "AND valid_to IS NULL",
            (self.now, object_type, object_id),
        )
        self.conn.execute(
            "INSERT INTO history (object_type, object_id, entity_id, dataset, version, change, "
            "at, actor, run_id, doc, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                object_type,
                object_id,
                entity_id,
                dataset,
                version,
                change,
                self.now,
                self.actor,
                self.run_id,
                None if doc is None else dumps(doc),
                None if doc is None else doc_hash(doc),
            ),
        )
        self.changed_anything = True

    # -- sources ---------------------------------------------------------------

    def write_sources(self, sources: Iterable[Mapping[str, Any]]) -> Counts:
        counts = Counts()
        for source in sources:
            doc = {k: v for k, v in source.items() if k not in ("path", "text")}
            text = source.get("text")
            if text is not None:
                doc["text_sha256"] = doc_hash({"text": text})
            doc = compact(doc)
            digest = doc_hash(doc)
            row = self.conn.execute(
                "SELECT hash, (SELECT MAX(version) FROM history WHERE object_type='source' "
                "AND object_id = sources.id) FROM sources WHERE id = ?",
                (doc["id"],),
            ).fetchone()
            if row and row[0] == digest:
                counts.add("unchanged")
                continue
            change = "changed" if row else "added"
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
            if row:
                sets = ", ".join(f"{k} = :{k}" for k in values if k != "id")
                self.conn.execute(f"UPDATE sources SET {sets} WHERE id = :id", values)
            else:
                values["created_at"] = self.now
                cols = ", ".join(values)
                self.conn.execute(
                    f"INSERT INTO sources ({cols}) VALUES ({', '.join(':' + k for k in values)})",
                    values,
                )
            self._history("source", doc["id"], (row[1] or 0) + 1 if row else 1, change, doc)
            counts.add(change)
        return counts

    # -- actions ---------------------------------------------------------------

    def write_actions(self, actions: Iterable[Mapping[str, Any]]) -> Counts:
        counts = Counts()
        for action in actions:
            doc = compact(dict(action))
            digest = doc_hash(doc)
            row = self.conn.execute(
                "SELECT hash, (SELECT MAX(version) FROM history WHERE object_type='action' "
                "AND object_id = actions.id) FROM actions WHERE id = ?",
                (doc["id"],),
            ).fetchone()
            if row and row[0] == digest:
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
                dumps(doc),
                digest,
                self.now,
                doc["id"],
            )
            if row:
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
            change = "changed" if row else "added"
            self._history("action", doc["id"], (row[1] or 0) + 1 if row else 1, change, doc)
            counts.add(change)
        return counts

    # -- records ---------------------------------------------------------------

    def write_records(
        self,
        dataset: str,
        docs: Sequence[Mapping[str, Any]],
        *,
        snapshot: Snapshot | None = None,
        changes: list[dict[str, Any]] | None = None,
    ) -> Counts:
        """Upsert records of one dataset by id. With `snapshot`, current records of
        the dataset missing from `docs` are delisted (kept, with a delisted date).
        `changes`, when given, receives one entry per record that changed."""
        counts = Counts()
        canon = [canonical_entity(doc) for doc in docs]
        existing = self._existing_records([d["id"] for d in canon])
        for doc in canon:
            record_id = doc["id"]
            digest = doc_hash(doc)
            old = existing.get(record_id)
            if old is not None and old["dataset"] != dataset:
                raise WriteConflict(
                    f"Record {record_id!r} belongs to dataset {old['dataset']!r}, not {dataset!r}.",
                    record_id=record_id,
                )
            if old is None:
                entity_id, merge = self._choose_entity(record_id, dataset, doc)
                self._insert_record(record_id, dataset, entity_id, doc, digest, merge)
                change = "added"
            elif old["hash"] == digest and not old["deleted_at"] and not old["removed_at"]:
                counts.add("unchanged")
                continue
            else:
                if old["deleted_at"]:
                    change = "restored"
                elif old["removed_at"]:
                    change = "relisted"
                else:
                    change = "changed"
                entity_id = old["entity_id"]
                self._replace_record(record_id, entity_id, doc, digest, old["version"] + 1)
            self._history(
                "record",
                record_id,
                1 if old is None else old["version"] + 1,
                change,
                doc,
                entity_id=entity_id,
                dataset=dataset,
            )
            if changes is not None:
                changes.append(
                    {
                        "record_id": record_id,
                        "entity_id": entity_id,
                        "change": change,
                        "before": old["doc"] if old else None,
                        "after": doc,
                    }
                )
            self.touched_entities.add(entity_id)
            counts.add(change)
        if snapshot is not None:
            present = {d["id"] for d in canon}
            counts.merge(self._delist_missing(dataset, present, snapshot, changes))
        return counts

    def delete_record(self, record_id: str) -> str:
        """Take a record out of the current registry by hand; its history stays."""
        old = self._existing_records([record_id]).get(record_id)
        if old is None or old["deleted_at"]:
            raise KeyError(record_id)
        self._close_parts(record_id)
        version = old["version"] + 1
        self.conn.execute(
            "UPDATE records SET deleted_at = ?, updated_at = ?, version = ? WHERE id = ?",
            (self.now, self.now, version, record_id),
        )
        self._history(
            "record",
            record_id,
            version,
            "deleted",
            None,
            entity_id=old["entity_id"],
            dataset=old["dataset"],
        )
        self.touched_entities.add(old["entity_id"])
        return str(old["entity_id"])

    def finish(self) -> None:
        """Refresh the summaries of touched entities and mark the data as changed."""
        self._refresh_entities(self.touched_entities)
        if self.changed_anything:
            bump_generation(self.db)

    # -- internals ---------------------------------------------------------------

    def _existing_records(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, dataset, entity_id, hash, version, removed_at, deleted_at, doc "
                f"FROM records WHERE id IN ({marks})",
                chunk,
            ):
                found[row[0]] = {
                    "dataset": row[1],
                    "entity_id": row[2],
                    "hash": row[3],
                    "version": row[4],
                    "removed_at": row[5],
                    "deleted_at": row[6],
                    "doc": json.loads(row[7]),
                }
        return found

    def _choose_entity(
        self, record_id: str, dataset: str, doc: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        keys = merge_keys(doc)
        candidate_ids: set[str] = set()
        values = sorted({value for _, value, _ in keys.identifiers})
        if values:
            marks = ",".join("?" * len(values))
            candidate_ids.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT record_id FROM identifiers WHERE valid_to IS NULL "
                    f"AND value_norm IN ({marks})",
                    values,
                )
            )
        if keys.names and keys.type != "person":
            names = sorted(keys.names)
            marks = ",".join("?" * len(names))
            candidate_ids.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT record_id FROM names WHERE valid_to IS NULL "
                    f"AND key IN ({marks})",
                    names,
                )
            )
        candidates = []
        for rid, cand in self._existing_records(sorted(candidate_ids)).items():
            if cand["deleted_at"]:
                continue
            candidates.append(
                ExistingRecord(rid, cand["entity_id"], cand["dataset"], merge_keys(cand["doc"]))
            )
        return choose_entity(record_id, dataset, keys, candidates)

    def _insert_record(
        self,
        record_id: str,
        dataset: str,
        entity_id: str,
        doc: Mapping[str, Any],
        digest: str,
        merge: Mapping[str, Any],
    ) -> None:
        self.conn.execute(
            "INSERT INTO records (id, dataset, entity_id, doc, hash, merge, version, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,1,?,?)",
            (record_id, dataset, entity_id, dumps(doc), digest, dumps(merge), self.now, self.now),
        )
        self._insert_parts(record_id, entity_id, doc)

    def _replace_record(
        self,
        record_id: str,
        entity_id: str,
        doc: Mapping[str, Any],
        digest: str,
        version: int,
        *,
        removed: bool = False,
    ) -> None:
        self._close_parts(record_id)
        self.conn.execute(
            "UPDATE records SET doc = ?, hash = ?, version = ?, updated_at = ?, "
            "removed_at = ?, deleted_at = NULL WHERE id = ?",
            (dumps(doc), digest, version, self.now, self.now if removed else None, record_id),
        )
        self._insert_parts(record_id, entity_id, doc)

    def _close_parts(self, record_id: str) -> None:
        for table in PART_TABLES:
            self.conn.execute(
                f"UPDATE {table} SET valid_to = ? WHERE record_id = ? AND valid_to IS NULL",
                (self.now, record_id),
            )

    def _insert_parts(self, record_id: str, entity_id: str, doc: Mapping[str, Any]) -> None:
        base = (record_id, entity_id)
        self.conn.executemany(
            "INSERT INTO names (record_id, entity_id, name, kind, script, lang, source_id, key, "
            "valid_from) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    *base,
                    n["name"],
                    n["kind"],
                    n.get("script"),
                    n.get("lang"),
                    n.get("source"),
                    name_key(n["name"]),
                    self.now,
                )
                for n in doc.get("names", [])
            ],
        )
        self.conn.executemany(
            "INSERT INTO identifiers (record_id, entity_id, scheme, value, value_norm, country, "
            "note, source_id, valid_from) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    *base,
                    i["scheme"],
                    i["value"],
                    identifier_key(i["value"]),
                    i.get("country"),
                    i.get("note"),
                    i.get("source"),
                    self.now,
                )
                for i in doc.get("identifiers", [])
            ],
        )
        self.conn.executemany(
            'INSERT INTO addresses (record_id, entity_id, "full", street, city, region, '
            "postal_code, country, source_id, valid_from) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    *base,
                    a["full"],
                    a.get("street"),
                    a.get("city"),
                    a.get("region"),
                    a.get("postal_code"),
                    a.get("country"),
                    a.get("source"),
                    self.now,
                )
                for a in doc.get("addresses", [])
            ],
        )
        for d in doc.get("designations", []):
            start, end = date_bounds(d["listed_date"]) if d.get("listed_date") else (None, None)
            cursor = self.conn.execute(
                "INSERT INTO designations (id, record_id, entity_id, jurisdiction, authority, "
                "list, program, listed_date, listed_start, listed_end, delisted_date, conduct, "
                "legal_basis, reference, action_id, evidence, valid_from) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    d["id"],
                    *base,
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
                    self.now,
                ),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO designation_sources (designation_row, source_id) "
                "VALUES (?, ?)",
                [(cursor.lastrowid, e["source"]) for e in d["evidence"]],
            )

    def _delist_missing(
        self,
        dataset: str,
        present: set[str],
        snapshot: Snapshot,
        changes: list[dict[str, Any]] | None,
    ) -> Counts:
        counts = Counts()
        rows = self.conn.execute(
            "SELECT id, entity_id, doc, version FROM records WHERE dataset = ? "
            "AND removed_at IS NULL AND deleted_at IS NULL",
            (dataset,),
        ).fetchall()
        for record_id, entity_id, raw, version in rows:
            if record_id in present:
                continue
            before = json.loads(raw)
            after = delist(before, snapshot.date, snapshot.evidence)
            self._replace_record(
                record_id, entity_id, after, doc_hash(after), version + 1, removed=True
            )
            self._history(
                "record",
                record_id,
                version + 1,
                "removed",
                after,
                entity_id=entity_id,
                dataset=dataset,
            )
            if changes is not None:
                changes.append(
                    {
                        "record_id": record_id,
                        "entity_id": entity_id,
                        "change": "removed",
                        "before": before,
                        "after": after,
                    }
                )
            self.touched_entities.add(entity_id)
            counts.add("removed")
        return counts

    def _refresh_entities(self, entity_ids: Iterable[str]) -> None:
        ids = sorted(entity_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            members: dict[str, list[tuple[str, dict[str, Any]]]] = {i: [] for i in chunk}
            for rid, eid, raw in self.conn.execute(
                f"SELECT id, entity_id, doc FROM records WHERE entity_id IN ({marks}) "
                f"AND deleted_at IS NULL",
                chunk,
            ):
                members[eid].append((rid, json.loads(raw)))
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
            self.conn.executemany(
                "INSERT INTO entities (id, type, name, country, status, first_listed, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET type=excluded.type, name=excluded.name, "
                "country=excluded.country, status=excluded.status, "
                "first_listed=excluded.first_listed, updated_at=excluded.updated_at",
                rows,
            )
