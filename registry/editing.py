"""Hand edits of single entities (the API's POST/PUT/PATCH/DELETE).

Edits go through the loader, so they meet the same checks as a fixture load.
Only records of hand-kept datasets (fixtures, manual edits, bulk loads) can be
edited; records an import maintains would be overwritten by its next run, so
editing them is a conflict.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import sqlite_utils
from marshmallow import ValidationError

from schemas import EntitySchema

from .db import current_docs, immediate, utcnow
from .loader import FixtureDoc, apply_fixtures, problems_from_messages
from .problems import InputError, Problem, not_found
from .store import Writer

MANUAL_DATASET = "manual"


def _not_found(entity_id: str) -> InputError:
    return not_found(f"No entity {entity_id!r}.")


def _record(db: sqlite_utils.Database, record_id: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        "SELECT id, dataset, entity_id, deleted_at FROM records WHERE id = ?", (record_id,)
    ).fetchone()
    if row is None:
        return None
    return {
        "id": row[0],
        "dataset": row[1],
        "entity_id": row[2],
        "deleted_at": row[3],
        "doc": current_docs(db.conn, [record_id]).get(record_id, {}),
    }


def import_owned(db: sqlite_utils.Database, dataset: str) -> bool:
    return (
        db.conn.execute(
            "SELECT 1 FROM import_runs WHERE dataset = ? LIMIT 1", (dataset,)
        ).fetchone()
        is not None
    )


def _check_editable(db: sqlite_utils.Database, record: Mapping[str, Any]) -> None:
    if import_owned(db, record["dataset"]):
        raise InputError(
            [
                Problem(
                    f"Entity {record['id']!r} is maintained by imports of dataset "
                    f"{record['dataset']!r}; its next import would undo a hand edit.",
                    field="id",
                    location="path",
                )
            ],
            status=409,
            title="Conflict",
        )


def new_entity_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "entity"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def _write(
    db: sqlite_utils.Database,
    dataset: str,
    entity: Mapping[str, Any],
    *,
    actor: str,
    create_only: bool = False,
) -> None:
    doc = FixtureDoc(
        name="request body",
        data={
            "version": 1,
            "dataset": dataset,
            "include": [],
            "sources": [],
            "entities": [dict(entity)],
            "actions": [],
        },
    )
    # The caller addresses the entity by this id, so it is never merged away.
    apply_fixtures(db, [doc], actor=actor, create_only=create_only, merge=False)


def create_entity(db: sqlite_utils.Database, entity: dict[str, Any], *, actor: str) -> str:
    entity_id = entity.get("id") or new_entity_id(entity["name"])
    _write(db, MANUAL_DATASET, {**entity, "id": entity_id}, actor=actor, create_only=True)
    return entity_id


def replace_entity(
    db: sqlite_utils.Database, entity_id: str, entity: dict[str, Any], *, actor: str
) -> bool:
    """Replace (or create) the entity's own record; True when it was created."""
    if entity.get("id") not in (None, entity_id):
        raise InputError([Problem("Must match the id in the path.", field="id", location="json")])
    record = _record(db, entity_id)
    if record is not None:
        _check_editable(db, record)
    dataset = record["dataset"] if record else MANUAL_DATASET
    _write(db, dataset, {**entity, "id": entity_id}, actor=actor)
    return record is None or bool(record["deleted_at"])


def patch_entity(
    db: sqlite_utils.Database, entity_id: str, patch: Mapping[str, Any], *, actor: str
) -> None:
    record = _record(db, entity_id)
    if record is None or record["deleted_at"]:
        raise _not_found(entity_id)
    _check_editable(db, record)
    stored = dict(record["doc"])
    # The stored names include the primary name; it follows `name`, not the list.
    stored["names"] = [n for n in stored.get("names", []) if n.get("kind") != "primary"]
    merged = {**stored, **patch, "id": entity_id}
    try:
        entity = EntitySchema().load(merged)
    except ValidationError as exc:
        problems = problems_from_messages({"entities": {0: exc.messages}}, {"entities": [merged]})
        raise InputError(
            [Problem(p.message, field=p.field, location="json") for p in problems]
        ) from None
    _write(db, record["dataset"], entity, actor=actor)


def delete_entity(db: sqlite_utils.Database, entity_id: str, *, actor: str) -> None:
    """Take the entity out of the current registry; every version stays in history."""
    with immediate(db):
        rows = db.conn.execute(
            "SELECT id, dataset FROM records WHERE entity_id = ? AND deleted_at IS NULL",
            (entity_id,),
        ).fetchall()
        if not rows:
            raise _not_found(entity_id)
        for record_id, dataset in rows:
            _check_editable(db, {"id": record_id, "dataset": dataset})
        writer = Writer(db, now=utcnow(), actor=actor)
        for record_id, _ in rows:
            writer.delete_record(record_id)
        writer.finish()
