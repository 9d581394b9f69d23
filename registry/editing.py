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
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from marshmallow import ValidationError

from schemas import EntitySchema

from . import queries
from .db import current_docs, immediate, utcnow
from .loader import FixtureDoc, apply_fixtures, problems_from_messages
from .problems import InputError, Problem, not_found
from .records import canonical_entity, dumps
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


@dataclass(frozen=True)
class Precondition:
    """HTTP conditions on a write (RFC 9110): If-Match with the entity tags a
    client read (or "*": it must exist), If-None-Match "*" (it must not)."""

    if_match: frozenset[str] | None = None  # None: no If-Match header
    if_none_match_any: bool = False

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match_any

    def check_entity(self, db: sqlite_utils.Database, entity_id: str) -> None:
        """Check against the entity as it stands (read only when there is a condition)."""
        if self.given:
            self.check(queries.get_entity(db, entity_id))

    def check(self, current: Mapping[str, Any] | None) -> None:
        tag = queries.entity_etag(current) if current is not None else None
        if self.if_match is not None and not (
            tag is not None and ("*" in self.if_match or tag in self.if_match)
        ):
            now = f'its ETag is now "{tag}"' if tag else "it does not exist"
            raise _precondition_failed(
                "If-Match",
                f"The entity changed since you read it ({now}): read it again and "
                "re-apply your change.",
            )
        if self.if_none_match_any and current is not None:
            raise _precondition_failed("If-None-Match", "The entity exists already.")


NO_PRECONDITION = Precondition()


def _precondition_failed(header: str, message: str) -> InputError:
    return InputError(
        [Problem(message, field=header, location="header")],
        status=412,
        title="Precondition Failed",
    )


def replace_entity(
    db: sqlite_utils.Database,
    entity_id: str,
    entity: dict[str, Any],
    *,
    actor: str,
    precondition: Precondition = NO_PRECONDITION,
) -> bool:
    """Replace (or create) the entity's own record; True when it was created.
    Everything it checks is read inside the write transaction."""
    if entity.get("id") not in (None, entity_id):
        raise InputError([Problem("Must match the id in the path.", field="id", location="json")])
    with immediate(db):
        current = queries.get_entity(db, entity_id)
        precondition.check(current)
        record = _record(db, entity_id)
        if record is not None:
            _check_editable(db, record)
        dataset = record["dataset"] if record else MANUAL_DATASET
        doc = {**entity, "id": entity_id}
        if current is not None and record is not None:
            doc = _as_stored(doc, current, record["doc"])
        _write(db, dataset, doc, actor=actor)
    return record is None or bool(record["deleted_at"])


def _as_stored(
    doc: dict[str, Any], current: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """Sending back what a GET showed changes nothing. A field sent as the entity
    shows it keeps the record's own value (the entity's type, country and notes may
    come from its other, merged records), and a list holding the same items as the
    record keeps the record's order (a GET lists designations by date)."""
    out = dict(doc)
    for key in ("type", "country", "notes"):
        if key in out and out[key] == current.get(key) and out[key] != stored.get(key):
            if stored.get(key) is None:
                out.pop(key)
            else:
                out[key] = stored[key]
    sent = canonical_entity(out)
    for part in ("names", "identifiers", "addresses", "designations"):
        kept = stored.get(part) or []
        if sorted(map(dumps, sent.get(part) or [])) == sorted(map(dumps, kept)):
            out[part] = kept
    return out


def patch_entity(
    db: sqlite_utils.Database,
    entity_id: str,
    patch: Mapping[str, Any],
    *,
    actor: str,
    precondition: Precondition = NO_PRECONDITION,
) -> None:
    """Change some fields. The record is read inside the write transaction, so two
    concurrent patches both land (the second applies to what the first wrote)."""
    with immediate(db):
        record = _record(db, entity_id)
        if record is None or record["deleted_at"]:
            precondition.check(None)
            raise _not_found(entity_id)
        precondition.check_entity(db, entity_id)
        _check_editable(db, record)
        stored = dict(record["doc"])
        # The stored names include the primary name; it follows `name`, not the list.
        stored["names"] = [n for n in stored.get("names", []) if n.get("kind") != "primary"]
        merged = {**stored, **patch, "id": entity_id}
        try:
            entity = EntitySchema().load(merged)
        except ValidationError as exc:
            problems = problems_from_messages(
                {"entities": {0: exc.messages}}, {"entities": [merged]}
            )
            raise InputError(
                [Problem(p.message, field=p.field, location="json") for p in problems]
            ) from None
        _write(db, record["dataset"], entity, actor=actor)


def delete_entity(
    db: sqlite_utils.Database,
    entity_id: str,
    *,
    actor: str,
    precondition: Precondition = NO_PRECONDITION,
) -> None:
    """Take the entity out of the current registry; every version stays in history."""
    with immediate(db):
        rows = db.conn.execute(
            "SELECT id, dataset FROM records WHERE entity_id = ? AND deleted_at IS NULL",
            (entity_id,),
        ).fetchall()
        if not rows:
            precondition.check(None)
            raise _not_found(entity_id)
        precondition.check_entity(db, entity_id)
        for record_id, dataset in rows:
            _check_editable(db, {"id": record_id, "dataset": dataset})
        writer = Writer(db, now=utcnow(), actor=actor)
        for record_id, _ in rows:
            writer.delete_record(record_id)
        writer.finish()
