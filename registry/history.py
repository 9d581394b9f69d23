"""Reading history: every version of an entity's records, who wrote it and what changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from .db import in_view
from .queries import Page, Where, page_rows
from .records import diff_docs


def _previous_doc(
    db: sqlite_utils.Database, object_type: str, object_id: str, version: int
) -> dict[str, Any] | None:
    """The last document before `version` (a deletion has none: look further back)."""
    row = db.conn.execute(
        "SELECT doc FROM history WHERE object_type = ? AND object_id = ? AND version < ? "
        "AND doc IS NOT NULL ORDER BY version DESC LIMIT 1",
        (object_type, object_id, version),
    ).fetchone()
    return json.loads(row[0]) if row else None


def entry(db: sqlite_utils.Database, row: Mapping[str, Any]) -> dict[str, Any]:
    after = json.loads(row["doc"]) if row["doc"] else None
    before = (
        _previous_doc(db, row["object_type"], row["object_id"], row["version"])
        if row["version"] > 1
        else None
    )
    return {
        "version": row["version"],
        "record": row["object_id"],
        "dataset": row["dataset"],
        "change": row["change"],
        "at": row["at"],
        "actor": row["actor"],
        "run_id": row["run_id"],
        "before": before,
        "after": after,
        "diff": diff_docs(before, after) if before is not None or after is not None else None,
    }


@in_view
def entity_history(db: sqlite_utils.Database, entity_id: str, args: Mapping[str, Any]) -> Page:
    """Every change to the entity's records (hand edits, loads, imports), oldest first."""
    rows, total, next_cursor = page_rows(
        db,
        select="printf('%012d', id) AS _key, object_type, object_id, dataset, version, change, "
        "at, actor, run_id, doc",
        table="history",
        key="printf('%012d', id)",
        where=Where("object_type = 'record'", "entity_id = ?").bind(entity_id),
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return Page([entry(db, r) for r in rows], total, next_cursor)


def entity_existed(db: sqlite_utils.Database, entity_id: str) -> bool:
    return (
        db.conn.execute(
            "SELECT 1 FROM history WHERE object_type = 'record' AND entity_id = ? LIMIT 1",
            (entity_id,),
        ).fetchone()
        is not None
    )
