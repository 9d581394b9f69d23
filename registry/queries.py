"""Reads from the registry: filtered pages of entities, designations, actions, sources.

All functions take plain arguments and return plain dicts shaped like the
response schemas in `schemas.api`; HTTP handlers only pass them through.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from schemas.fields import parse_partial_date

from .names import fold, identifier_key
from .problems import InputError, Problem


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "next_cursor": self.next_cursor}


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            return value[0]
    except (ValueError, UnicodeDecodeError):
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


# -- filters ----------------------------------------------------------------------


def _designation_conditions(args: Mapping[str, Any], alias: str = "d") -> tuple[list[str], list]:
    conds: list[str] = []
    params: list[Any] = []
    if args.get("jurisdiction"):
        conds.append(f"{alias}.jurisdiction = ?")
        params.append(args["jurisdiction"])
    if args.get("authority"):
        conds.append(f"{alias}.authority = ? COLLATE NOCASE")
        params.append(args["authority"])
    if args.get("program"):
        conds.append(f"{alias}.program = ? COLLATE NOCASE")
        params.append(args["program"])
    if args.get("listed_from"):
        conds.append(f"{alias}.listed_end >= ?")
        params.append(args["listed_from"].isoformat())
    if args.get("listed_to"):
        conds.append(f"{alias}.listed_start <= ?")
        params.append(args["listed_to"].isoformat())
    if args.get("source"):
        conds.append(
            f"{alias}.row_id IN (SELECT designation_row FROM designation_sources "
            f"WHERE source_id = ?)"
        )
        params.append(args["source"])
    return conds, params


def _entity_where(args: Mapping[str, Any]) -> tuple[str, list[Any]]:
    conds = ["e.status != 'deleted'"]
    params: list[Any] = []
    if args.get("type"):
        conds.append("e.type = ?")
        params.append(args["type"])
    if args.get("status"):
        conds.append("e.status = ?")
        params.append(args["status"])
    if args.get("country"):
        conds.append(
            "(e.country = ? OR e.id IN (SELECT entity_id FROM addresses "
            "WHERE country = ? AND valid_to IS NULL))"
        )
        params += [args["country"], args["country"]]
    dconds, dparams = _designation_conditions(args)
    if dconds:
        conds.append(
            "e.id IN (SELECT d.entity_id FROM designations d WHERE d.valid_to IS NULL AND "
            + " AND ".join(dconds)
            + ")"
        )
        params += dparams
    if args.get("q"):
        conds.append(
            "(e.id IN (SELECT entity_id FROM names WHERE valid_to IS NULL AND id IN "
            "(SELECT rowid FROM names_fts WHERE names_fts MATCH ?)) "
            "OR e.id IN (SELECT entity_id FROM identifiers WHERE value_norm = ? "
            "AND valid_to IS NULL))"
        )
        params += [fts_query(args["q"]), identifier_key(args["q"])]
    return " AND ".join(conds), params


def page_rows(
    db: sqlite_utils.Database,
    *,
    select: str,
    table: str,
    key: str,
    where: str,
    params: list[Any],
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of rows in `key` order (keyset pagination: stable under writes).
    `select` must name the key `_key`; the cursor is the last key of the page."""
    total = db.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]
    after = decode_cursor(cursor)
    direction, compare = ("DESC", "<") if descending else ("ASC", ">")
    page_where = where + (f" AND {key} {compare} ?" if after is not None else "")
    page_params = params + ([after] if after is not None else [])
    cur = db.conn.execute(
        f"SELECT {select} FROM {table} WHERE {page_where} ORDER BY {key} {direction} LIMIT ?",
        [*page_params, limit + 1],
    )
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    next_cursor = encode_cursor(rows[limit - 1]["_key"]) if len(rows) > limit else None
    return rows[:limit], total, next_cursor


# -- entities ---------------------------------------------------------------------


def list_entities(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where, params = _entity_where(args)
    rows, total, next_cursor = page_rows(
        db,
        select="e.id AS _key, e.id, e.name, e.type, e.country, e.status, e.first_listed",
        table="entities e",
        key="e.id",
        where=where,
        params=params,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    briefs = _designation_briefs(db, [r["id"] for r in rows])
    items = []
    for row in rows:
        row.pop("_key")
        row["designations"] = briefs.get(row["id"], [])
        items.append(row)
    return Page(items, total, next_cursor)


def _designation_briefs(
    db: sqlite_utils.Database, entity_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not entity_ids:
        return out
    marks, params = _in(entity_ids)
    for row in db.conn.execute(
        f"SELECT entity_id, id, jurisdiction, authority, list, program, listed_date, "
        f"delisted_date FROM designations WHERE valid_to IS NULL AND entity_id IN ({marks}) "
        f"ORDER BY listed_start, id",
        params,
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


def get_entity(db: sqlite_utils.Database, entity_id: str) -> dict[str, Any] | None:
    """The entity with every part of every current record, and the sources they cite."""
    row = db.conn.execute(
        "SELECT id, name, type, country, status, first_listed, created_at, updated_at "
        "FROM entities WHERE id = ? AND status != 'deleted'",
        (entity_id,),
    ).fetchone()
    if row is None:
        return None
    keys = ("id", "name", "type", "country", "status", "first_listed", "created_at", "updated_at")
    entity: dict[str, Any] = dict(zip(keys, row, strict=True))
    conn = db.conn
    entity["names"] = _rows(
        conn.execute(
            "SELECT name, kind, script, lang, source_id AS source, record_id AS record "
            "FROM names WHERE entity_id = ? AND valid_to IS NULL ORDER BY id",
            (entity_id,),
        )
    )
    entity["identifiers"] = _rows(
        conn.execute(
            "SELECT scheme, value, country, note, source_id AS source, record_id AS record "
            "FROM identifiers WHERE entity_id = ? AND valid_to IS NULL ORDER BY id",
            (entity_id,),
        )
    )
    entity["addresses"] = _rows(
        conn.execute(
            'SELECT "full", street, city, region, postal_code, country, source_id AS source, '
            "record_id AS record FROM addresses WHERE entity_id = ? AND valid_to IS NULL "
            "ORDER BY id",
            (entity_id,),
        )
    )
    designations = _rows(
        conn.execute(
            "SELECT id, jurisdiction, authority, list, program, listed_date, delisted_date, "
            "conduct, legal_basis, reference, action_id AS action, evidence, record_id AS record "
            "FROM designations WHERE entity_id = ? AND valid_to IS NULL "
            "ORDER BY listed_start, id",
            (entity_id,),
        )
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
    records = _rows(
        conn.execute(
            "SELECT id, dataset, merge, created_at, updated_at, removed_at, doc FROM records "
            "WHERE entity_id = ? AND deleted_at IS NULL ORDER BY id != ?, id",
            (entity_id, entity_id),
        )
    )
    notes = []
    for record in records:
        record["merge"] = json.loads(record["merge"])
        doc = json.loads(record.pop("doc"))
        if doc.get("notes"):
            notes.append(doc["notes"])
    entity["records"] = records
    entity["notes"] = "\n\n".join(notes) or None
    cited = {e["source"] for d in designations for e in d["evidence"]}
    for part in ("names", "identifiers", "addresses"):
        cited.update(item["source"] for item in entity[part] if item.get("source"))
    entity["sources"] = source_briefs(db, cited)
    return entity


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


def list_designations(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    conds, params = _designation_conditions(args)
    conds.insert(0, "d.valid_to IS NULL")
    if args.get("entity"):
        conds.append("d.entity_id = ?")
        params.append(args["entity"])
    if args.get("action"):
        conds.append("d.action_id = ?")
        params.append(args["action"])
    if args.get("status") == "active":
        conds.append("d.delisted_date IS NULL")
    elif args.get("status") == "delisted":
        conds.append("d.delisted_date IS NOT NULL")
    rows, total, next_cursor = page_rows(
        db,
        select="d.id AS _key, d.id, d.jurisdiction, d.authority, d.list, d.program, "
        "d.listed_date, d.delisted_date, d.conduct, d.legal_basis, d.reference, "
        "d.action_id AS action, d.evidence, d.record_id AS record, d.entity_id, "
        "(SELECT name FROM entities WHERE id = d.entity_id) AS entity_name, "
        "(SELECT type FROM entities WHERE id = d.entity_id) AS entity_type",
        table="designations d",
        key="d.id",
        where=" AND ".join(conds),
        params=params,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    actions = action_briefs(db, {r["action"] for r in rows if r["action"]})
    items = []
    for row in rows:
        row.pop("_key")
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


def list_actions(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    conds: list[str] = ["1 = 1"]
    params: list[Any] = []
    if args.get("jurisdiction"):
        conds.append("jurisdiction = ?")
        params.append(args["jurisdiction"])
    if args.get("authority"):
        conds.append("authority = ? COLLATE NOCASE")
        params.append(args["authority"])
    if args.get("date_from"):
        conds.append("date_end >= ?")
        params.append(args["date_from"].isoformat())
    if args.get("date_to"):
        conds.append("date_start <= ?")
        params.append(args["date_to"].isoformat())
    rows, total, next_cursor = page_rows(
        db,
        select="id AS _key, id, doc, created_at, updated_at",
        table="actions",
        key="id",
        where=" AND ".join(conds),
        params=params,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return Page([_action_out(db, r) for r in rows], total, next_cursor)


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


def list_sources(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where, params = ("kind = ?", [args["kind"]]) if args.get("kind") else ("1 = 1", [])
    rows, total, next_cursor = page_rows(
        db,
        select=f"id AS _key, {_SOURCE_COLUMNS}",
        table="sources",
        key="id",
        where=where,
        params=params,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    for row in rows:
        row.pop("_key")
        row["cited_by"] = _cited_by(db, row["id"])
    return Page(rows, total, next_cursor)


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
