"""Reads from the registry: filtered pages of entities, designations, actions, sources.

All functions take plain arguments and return plain dicts shaped like the
response schemas in `schemas.api`; HTTP handlers only pass them through.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from schemas.fields import parse_birth_date, parse_partial_date

from . import strict_json
from .db import in_view, view
from .names import fold, identifier_key
from .problems import InputError, Problem
from .records import doc_hash


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "next_cursor": self.next_cursor}


def encode_cursor(last_key: Sequence[str | int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(last_key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int = 1) -> list[str | int] | None:
    """The page key a cursor holds (`arity` values), or None for the first page.
    Read with the strict JSON reader: a forged cursor is a 400, never a 500."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = strict_json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (
            isinstance(value, list)
            and len(value) == arity
            and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)
        ):
            return value
    except ValueError:  # bad base64, not JSON (strict_json.JSONBodyError is one too)
        pass
    raise InputError([Problem("Not a cursor this API returned.", field="cursor", location="query")])


def fts_query(text: str) -> str:
    """User text as an FTS5 query of quoted word prefixes (no FTS syntax gets through)."""
    words = re.findall(r"\w+", fold(text))
    if not words:
        raise InputError(
            [Problem("Give at least one letter or digit.", field="q", location="query")]
        )
    return " ".join(f'"{w}"*' for w in words)


def _in(values: Iterable[str]) -> tuple[str, list[str]]:
    items = list(values)
    return ",".join("?" * len(items)), items


# -- time --------------------------------------------------------------------------


def valid(alias: str, as_of: str | None) -> tuple[str, list[str]]:
    """The rows of a versioned table in force now, or at the instant `as_of`."""
    if as_of is None:
        return f"{alias}.valid_to IS NULL", []
    return (
        f"({alias}.valid_from <= ? AND ({alias}.valid_to IS NULL OR {alias}.valid_to > ?))",
        [as_of, as_of],
    )


# -- filters ----------------------------------------------------------------------


class Where:
    """A WHERE clause built condition by condition, with its parameters in order."""

    def __init__(self, *conditions: str) -> None:
        self.conditions = list(conditions)
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def bind(self, *params: Any) -> Where:
        """Parameters for conditions given to the constructor with placeholders."""
        self.params.extend(params)
        return self

    def when(self, value: Any, condition: str) -> None:
        """Add `condition` with `value` as its one parameter, if a value is given."""
        if value:
            self.add(condition, value.isoformat() if isinstance(value, dt.date) else value)

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) or "1 = 1"


def _designation_filters(args: Mapping[str, Any], alias: str = "d") -> Where:
    where = Where()
    where.when(args.get("jurisdiction"), f"{alias}.jurisdiction = ?")
    where.when(args.get("authority"), f"{alias}.authority = ? COLLATE NOCASE")
    where.when(args.get("program"), f"{alias}.program = ? COLLATE NOCASE")
    where.when(args.get("listed_from"), f"{alias}.listed_end >= ?")
    where.when(args.get("listed_to"), f"{alias}.listed_start <= ?")
    where.when(
        args.get("source"),
        f"{alias}.row_id IN (SELECT designation_row FROM designation_sources WHERE source_id = ?)",
    )
    return where


def _entity_where(args: Mapping[str, Any], as_of: str | None) -> Where:
    where = Where("e.status != 'deleted'")
    if as_of is not None:
        where.add(*_flat(valid("e", as_of)))
    where.when(args.get("type"), "e.type = ?")
    where.when(args.get("status"), "e.status = ?")
    if args.get("country"):
        clause, clause_params = valid("a", as_of)
        where.add(
            f"(e.country = ? OR e.id IN (SELECT a.entity_id FROM addresses a "
            f"WHERE a.country = ? AND {clause}))",
            args["country"],
            args["country"],
            *clause_params,
        )
    listing = _designation_filters(args)
    if listing.conditions:
        clause, clause_params = valid("d", as_of)
        where.add(
            f"e.id IN (SELECT d.entity_id FROM designations d WHERE {clause} AND {listing.sql})",
            *clause_params,
            *listing.params,
        )
    if args.get("q"):
        names_valid, names_params = valid("n", as_of)
        ids_valid, ids_params = valid("i", as_of)
        where.add(
            f"(e.id IN (SELECT n.entity_id FROM names n WHERE {names_valid} AND n.id IN "
            f"(SELECT rowid FROM names_fts WHERE names_fts MATCH ?)) "
            f"OR e.id IN (SELECT i.entity_id FROM identifiers i WHERE i.value_norm = ? "
            f"AND {ids_valid}))",
            *names_params,
            fts_query(args["q"]),
            identifier_key(args["q"]),
            *ids_params,
        )
    return where


def _flat(clause: tuple[str, list[str]]) -> tuple[str, ...]:
    return (clause[0], *clause[1])


def page_rows(
    db: sqlite_utils.Database,
    *,
    select: str,
    table: str,
    key: str,
    where: Where,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    tiebreak: str | None = None,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of rows in `key` order (keyset pagination: stable under writes).
    `select` must name the key `_key`; the cursor is the last key of the page,
    and the rows come back without it. When `key` alone is not unique (two
    entities may share a designation id), `tiebreak` names a unique column to
    order by after it: a page boundary between equal keys would drop rows."""
    params = where.params
    with view(db):
        total = db.conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {where.sql}", params
        ).fetchone()[0]
        keys = [key] if tiebreak is None else [key, tiebreak]
        after = decode_cursor(cursor, len(keys))
        direction, compare = ("DESC", "<") if descending else ("ASC", ">")
        page_where = where.sql
        if after is not None:
            marks = ", ".join("?" * len(keys))
            page_where += f" AND ({', '.join(keys)}) {compare} ({marks})"
        page_params = params + (after or [])
        order = ", ".join(f"{k} {direction}" for k in keys)
        extra = "" if tiebreak is None else f", {tiebreak} AS _tiebreak"
        cur = db.conn.execute(
            f"SELECT {select}{extra} FROM {table} WHERE {page_where} ORDER BY {order} LIMIT ?",
            [*page_params, limit + 1],
        )
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            [last["_key"]] if tiebreak is None else [last["_key"], last["_tiebreak"]]
        )
    for row in rows:
        del row["_key"]
        row.pop("_tiebreak", None)
    return rows[:limit], total, next_cursor


# -- entities ---------------------------------------------------------------------


@in_view
def list_entities(
    db: sqlite_utils.Database, args: Mapping[str, Any], as_of: str | None = None
) -> Page:
    """A page of entities matching the filters, now or as the registry stood at `as_of`."""
    where = _entity_where(args, as_of)
    rows, total, next_cursor = page_rows(
        db,
        select="e.id AS _key, e.id, e.name, e.type, e.country, e.status, e.first_listed",
        table="entities e" if as_of is None else "entity_history e",
        key="e.id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    briefs = designation_briefs(db, [r["id"] for r in rows], as_of)
    items = []
    for row in rows:
        row["designations"] = briefs.get(row["id"], [])
        items.append(row)
    return Page(items, total, next_cursor)


def designation_briefs(
    db: sqlite_utils.Database, entity_ids: list[str], as_of: str | None
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not entity_ids:
        return out
    marks, params = _in(entity_ids)
    clause, clause_params = valid("d", as_of)
    for row in db.conn.execute(
        f"SELECT entity_id, id, jurisdiction, authority, list, program, listed_date, "
        f"delisted_date FROM designations d WHERE {clause} AND entity_id IN ({marks}) "
        f"ORDER BY listed_start, id",
        [*clause_params, *params],
    ):
        out.setdefault(row[0], []).append(
            {
                "id": row[1],
                "jurisdiction": row[2],
                "authority": row[3],
                "list": row[4],
                "program": row[5],
                "listed_date": row[6],
                "delisted_date": row[7],
                "status": "delisted" if row[7] else "active",
            }
        )
    return out


def entity_status(db: sqlite_utils.Database, entity_id: str) -> str | None:
    row = db.conn.execute("SELECT status FROM entities WHERE id = ?", (entity_id,)).fetchone()
    return row[0] if row else None


def _entity_row(
    db: sqlite_utils.Database, entity_id: str, as_of: str | None
) -> dict[str, Any] | None:
    if as_of is None:
        cur = db.conn.execute(
            "SELECT id, name, type, country, status, first_listed, created_at, updated_at "
            "FROM entities WHERE id = ? AND status != 'deleted'",
            (entity_id,),
        )
    else:
        cur = db.conn.execute(
            "SELECT e.id, e.name, e.type, e.country, e.status, e.first_listed, "
            "(SELECT MIN(valid_from) FROM entity_history WHERE id = e.id) AS created_at, "
            "e.valid_from AS updated_at FROM entity_history e WHERE e.id = ? "
            "AND e.status != 'deleted' AND e.valid_from <= ? "
            "AND (e.valid_to IS NULL OR e.valid_to > ?)",
            (entity_id, as_of, as_of),
        )
    rows = _rows(cur)
    return rows[0] if rows else None


def _parts(
    db: sqlite_utils.Database,
    table: str,
    columns: str,
    entity_id: str,
    as_of: str | None,
    order: str = "id",
) -> list[dict[str, Any]]:
    clause, params = valid("p", as_of)
    return _rows(
        db.conn.execute(
            f"SELECT {columns} FROM {table} p WHERE p.entity_id = ? AND {clause} ORDER BY {order}",
            [entity_id, *params],
        )
    )


def _records(db: sqlite_utils.Database, entity_id: str, as_of: str | None) -> list[dict[str, Any]]:
    """The entity's records (list entries) with why they were merged; as of an
    instant, from the record versions in force then."""
    if as_of is None:
        rows = _rows(
            db.conn.execute(
                # A correlated subquery, so the plan starts from the entity's records.
                "SELECT r.id, r.dataset, r.merge, r.created_at, r.updated_at, r.removed_at, "
                "(SELECT h.doc FROM history h WHERE h.object_type = 'record' "
                "AND h.object_id = r.id AND h.valid_to IS NULL) AS doc "
                "FROM records r WHERE r.entity_id = ? AND r.deleted_at IS NULL "
                "ORDER BY r.id != ?, r.id",
                (entity_id, entity_id),
            )
        )
    else:
        rows = _rows(
            db.conn.execute(
                "SELECT h.object_id AS id, h.dataset, r.merge, "
                "(SELECT MIN(at) FROM history WHERE object_type = 'record' "
                " AND object_id = h.object_id) AS created_at, h.at AS updated_at, "
                "CASE WHEN h.change = 'removed' THEN h.at END AS removed_at, h.doc "
                "FROM history h JOIN records r ON r.id = h.object_id "
                "WHERE h.object_type = 'record' AND h.entity_id = ? AND h.change != 'deleted' "
                "AND h.at <= ? AND (h.valid_to IS NULL OR h.valid_to > ?) "
                "ORDER BY h.object_id != ?, h.object_id",
                (entity_id, as_of, as_of, entity_id),
            )
        )
    for row in rows:
        row["merge"] = json.loads(row["merge"])
        row["doc"] = json.loads(row["doc"])
    return rows


@in_view
def get_entity(
    db: sqlite_utils.Database, entity_id: str, as_of: str | None = None
) -> dict[str, Any] | None:
    """The entity with every part of every record, and the sources they cite: now,
    or as the registry stood at the instant `as_of`."""
    entity = _entity_row(db, entity_id, as_of)
    if entity is None:
        return None
    entity["names"] = _parts(
        db,
        "names",
        "name, kind, script, lang, source_id AS source, record_id AS record",
        entity_id,
        as_of,
    )
    entity["identifiers"] = _parts(
        db,
        "identifiers",
        "scheme, value, country, note, source_id AS source, record_id AS record",
        entity_id,
        as_of,
    )
    entity["addresses"] = _parts(
        db,
        "addresses",
        '"full", street, city, region, postal_code, country, source_id AS source, '
        "record_id AS record",
        entity_id,
        as_of,
    )
    entity["birth_dates"] = _parts(db, "birth_dates", "date, record_id AS record", entity_id, as_of)
    for item in entity["birth_dates"]:
        item["precision"] = parse_birth_date(item["date"])[1]
    entity["nationalities"] = _parts(
        db, "nationalities", "country, record_id AS record", entity_id, as_of
    )
    designations = _parts(
        db,
        "designations",
        "id, jurisdiction, authority, list, program, listed_date, delisted_date, conduct, "
        "legal_basis, reference, action_id AS action, evidence, record_id AS record",
        entity_id,
        as_of,
        order="listed_start, id",
    )
    actions = action_briefs(db, {d["action"] for d in designations if d["action"]})
    for d in designations:
        d["evidence"] = json.loads(d["evidence"])
        d["status"] = "delisted" if d["delisted_date"] else "active"
        d["listed_date_precision"] = (
            parse_partial_date(d["listed_date"])[1] if d["listed_date"] else None
        )
        d["action"] = actions.get(d["action"]) if d["action"] else None
    entity["designations"] = designations
    records = _records(db, entity_id, as_of)
    entity["notes"] = (
        "\n\n".join(r["doc"]["notes"] for r in records if r["doc"].get("notes")) or None
    )
    for record in records:
        record.pop("doc")
    entity["records"] = records
    cited = {e["source"] for d in designations for e in d["evidence"]}
    for part in ("names", "identifiers", "addresses"):
        cited.update(item["source"] for item in entity[part] if item.get("source"))
    entity["sources"] = source_briefs(db, cited)
    entity["as_of"] = as_of
    return entity


def entity_etag(entity: Mapping[str, Any]) -> str:
    """A strong entity tag (RFC 9110) of an entity detail: any change to what it
    shows (its records, their parts, the sources and actions they cite) changes it."""
    return doc_hash(entity)[:32]


def _rows(cursor: Any) -> list[dict[str, Any]]:
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def action_briefs(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    marks, params = _in(sorted(ids))
    if not params:
        return {}
    return {
        row[0]: {
            "id": row[0],
            "title": row[1],
            "date": row[2],
            "jurisdiction": row[3],
            "authority": row[4],
        }
        for row in db.conn.execute(
            f"SELECT id, title, date, jurisdiction, authority FROM actions WHERE id IN ({marks})",
            params,
        )
    }


def source_briefs(db: sqlite_utils.Database, ids: Iterable[str]) -> list[dict[str, Any]]:
    marks, params = _in(sorted(ids))
    if not params:
        return []
    return _rows(
        db.conn.execute(
            f"SELECT id, kind, title, publisher, url, published FROM sources "
            f"WHERE id IN ({marks}) ORDER BY id",
            params,
        )
    )


# -- designations -----------------------------------------------------------------


@in_view
def list_designations(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where = _designation_filters(args)
    where.conditions.insert(0, "d.valid_to IS NULL")
    where.when(args.get("entity"), "d.entity_id = ?")
    where.when(args.get("action"), "d.action_id = ?")
    if args.get("status") == "active":
        where.add("d.delisted_date IS NULL")
    elif args.get("status") == "delisted":
        where.add("d.delisted_date IS NOT NULL")
    rows, total, next_cursor = page_rows(
        db,
        select="d.id AS _key, d.id, d.jurisdiction, d.authority, d.list, d.program, "
        "d.listed_date, d.delisted_date, d.conduct, d.legal_basis, d.reference, "
        "d.action_id AS action, d.evidence, d.record_id AS record, d.entity_id, "
        "(SELECT name FROM entities WHERE id = d.entity_id) AS entity_name, "
        "(SELECT type FROM entities WHERE id = d.entity_id) AS entity_type",
        table="designations d",
        key="d.id",
        tiebreak="d.row_id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    actions = action_briefs(db, {r["action"] for r in rows if r["action"]})
    items = []
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
        row["status"] = "delisted" if row["delisted_date"] else "active"
        row["listed_date_precision"] = (
            parse_partial_date(row["listed_date"])[1] if row["listed_date"] else None
        )
        row["action"] = actions.get(row["action"]) if row["action"] else None
        row["entity"] = {
            "id": row.pop("entity_id"),
            "name": row.pop("entity_name"),
            "type": row.pop("entity_type"),
        }
        items.append(row)
    return Page(items, total, next_cursor)


# -- actions ----------------------------------------------------------------------


def _action_out(db: sqlite_utils.Database, row: Mapping[str, Any]) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    doc["created_at"] = row["created_at"]
    doc["updated_at"] = row["updated_at"]
    doc["designations"] = [
        {"id": r[0], "entity": {"id": r[1], "name": r[2], "type": r[3]}}
        for r in db.conn.execute(
            "SELECT d.id, d.entity_id, e.name, e.type FROM designations d "
            "JOIN entities e ON e.id = d.entity_id "
            "WHERE d.action_id = ? AND d.valid_to IS NULL ORDER BY d.id",
            (row["id"],),
        )
    ]
    return doc


@in_view
def list_actions(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where = Where()
    where.when(args.get("jurisdiction"), "jurisdiction = ?")
    where.when(args.get("authority"), "authority = ? COLLATE NOCASE")
    where.when(args.get("date_from"), "date_end >= ?")
    where.when(args.get("date_to"), "date_start <= ?")
    rows, total, next_cursor = page_rows(
        db,
        select="id AS _key, id, doc, created_at, updated_at",
        table="actions",
        key="id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return Page([_action_out(db, r) for r in rows], total, next_cursor)


@in_view
def get_action(db: sqlite_utils.Database, action_id: str) -> dict[str, Any] | None:
    cur = db.conn.execute(
        "SELECT id, doc, created_at, updated_at FROM actions WHERE id = ?", (action_id,)
    )
    rows = _rows(cur)
    return _action_out(db, rows[0]) if rows else None


# -- sources ----------------------------------------------------------------------

_SOURCE_COLUMNS = (
    "id, kind, title, publisher, url, language, published, published_as_stated, checksum, "
    "size, notes, created_at, updated_at"
)


@in_view
def list_sources(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where = Where()
    where.when(args.get("kind"), "kind = ?")
    rows, total, next_cursor = page_rows(
        db,
        select=f"id AS _key, {_SOURCE_COLUMNS}",
        table="sources",
        key="id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    for row in rows:
        row["cited_by"] = _cited_by(db, row["id"])
    return Page(rows, total, next_cursor)


@in_view
def get_source(db: sqlite_utils.Database, source_id: str) -> dict[str, Any] | None:
    rows = _rows(
        db.conn.execute(f"SELECT {_SOURCE_COLUMNS}, text FROM sources WHERE id = ?", (source_id,))
    )
    if not rows:
        return None
    source = rows[0]
    source["cited_by"] = _cited_by(db, source_id)
    return source


def _cited_by(db: sqlite_utils.Database, source_id: str) -> dict[str, int]:
    designations = db.conn.execute(
        "SELECT COUNT(*) FROM designation_sources s JOIN designations d "
        "ON d.row_id = s.designation_row WHERE s.source_id = ? AND d.valid_to IS NULL",
        (source_id,),
    ).fetchone()[0]
    actions = db.conn.execute(
        "SELECT COUNT(*) FROM actions a WHERE EXISTS (SELECT 1 FROM json_each(a.doc, "
        "'$.evidence') WHERE json_extract(value, '$.source') = ?)",
        (source_id,),
    ).fetchone()[0]
    return {"designations": designations, "actions": actions}


# -- stats ------------------------------------------------------------------------


@in_view
def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    conn = db.conn

    def grouped(sql: str) -> dict[str, int]:
        return {str(k): v for k, v in conn.execute(sql).fetchall()}

    return {
        "entities": conn.execute(
            "SELECT COUNT(*) FROM entities WHERE status != 'deleted'"
        ).fetchone()[0],
        "by_status": grouped(
            "SELECT status, COUNT(*) FROM entities WHERE status != 'deleted' GROUP BY status"
        ),
        "by_type": grouped(
            "SELECT type, COUNT(*) FROM entities WHERE status != 'deleted' GROUP BY type"
        ),
        "designations": conn.execute(
            "SELECT COUNT(*) FROM designations WHERE valid_to IS NULL"
        ).fetchone()[0],
        "by_jurisdiction": grouped(
            "SELECT jurisdiction, COUNT(*) FROM designations WHERE valid_to IS NULL "
            "GROUP BY jurisdiction"
        ),
        "by_authority": grouped(
            "SELECT authority, COUNT(*) FROM designations WHERE valid_to IS NULL GROUP BY authority"
        ),
        "actions": conn.execute("SELECT COUNT(*) FROM actions").fetchone()[0],
        "sources": conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0],
        "records_by_dataset": grouped(
            "SELECT dataset, COUNT(*) FROM records WHERE deleted_at IS NULL GROUP BY dataset"
        ),
    }
