"""Screening decisions: an analyst's verdict that a screened name and a listed
entity are a false positive or a true match.

A decision applies to every later screening of the same name (compared by its
normalised key) against the same entity. A newer verdict supersedes the old one
and a withdrawal ends it; neither deletes it, so the chain is the history and
any past screening can be shown with the decisions in force then.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from .db import immediate, in_view, utcnow
from .names import name_key
from .problems import InputError, Problem, not_found
from .queries import Page, Where, page_rows

VERDICTS = ("false_positive", "true_match")
_COLUMNS = "id, query, entity_id, verdict, note, actor, created_at, valid_to, ended_by, ended_actor"


def query_key(name: str) -> str:
    """Names that differ only in case, accents, punctuation or legal-form spelling
    share decisions."""
    return name_key(name) or name.strip().casefold()


def _row(cursor: Any) -> list[dict[str, Any]]:
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def record_decision(
    db: sqlite_utils.Database,
    *,
    query: str,
    entity_id: str,
    verdict: str,
    note: str | None,
    actor: str,
) -> dict[str, Any]:
    key = query_key(query)
    with immediate(db):
        if db.conn.execute("SELECT 1 FROM entities WHERE id = ?", (entity_id,)).fetchone() is None:
            raise InputError(
                [Problem(f"No entity {entity_id!r}.", field="entity_id", location="json")]
            )
        now = utcnow()
        decision_id = f"dec-{secrets.token_hex(6)}"
        db.conn.execute(
            "UPDATE decisions SET valid_to = ?, ended_by = ?, ended_actor = ? "
            "WHERE query_key = ? AND entity_id = ? AND valid_to IS NULL",
            (now, decision_id, actor, key, entity_id),
        )
        db.conn.execute(
            "INSERT INTO decisions (id, query, query_key, entity_id, verdict, note, actor, "
            "created_at) VALUES (?,?,?,?,?,?,?,?)",
            (decision_id, query, key, entity_id, verdict, note, actor, now),
        )
    found = get_decision(db, decision_id)
    assert found is not None
    return found


def withdraw_decision(db: sqlite_utils.Database, decision_id: str, *, actor: str) -> None:
    with immediate(db):
        row = db.conn.execute(
            "SELECT valid_to, ended_by FROM decisions WHERE id = ?", (decision_id,)
        ).fetchone()
        if row is None:
            raise not_found(f"No decision {decision_id!r}.")
        if row[0] is not None:
            why = "was withdrawn" if row[1] == "withdrawn" else f"was superseded by {row[1]}"
            raise InputError(
                [
                    Problem(
                        f"Decision {decision_id!r} {why} at {row[0]}.", field="id", location="path"
                    )
                ],
                status=409,
                title="Conflict",
            )
        db.conn.execute(
            "UPDATE decisions SET valid_to = ?, ended_by = 'withdrawn', ended_actor = ? "
            "WHERE id = ?",
            (utcnow(), actor, decision_id),
        )


@in_view
def get_decision(db: sqlite_utils.Database, decision_id: str) -> dict[str, Any] | None:
    rows = _row(
        db.conn.execute(f"SELECT {_COLUMNS}, query_key FROM decisions WHERE id = ?", (decision_id,))
    )
    if not rows:
        return None
    decision = rows[0]
    decision["history"] = _row(
        db.conn.execute(
            f"SELECT {_COLUMNS} FROM decisions WHERE query_key = ? AND entity_id = ? "
            f"ORDER BY created_at",
            (decision.pop("query_key"), decision["entity_id"]),
        )
    )
    return decision


@in_view
def list_decisions(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where = Where()
    if not args.get("include_ended"):
        where.add("valid_to IS NULL")
    where.when(args.get("entity"), "entity_id = ?")
    where.when(args.get("query") and query_key(args["query"]), "query_key = ?")
    where.when(args.get("verdict"), "verdict = ?")
    rows, total, next_cursor = page_rows(
        db,
        select=f"created_at || id AS _key, {_COLUMNS}",
        table="decisions",
        key="created_at || id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return Page(rows, total, next_cursor)


@in_view
def decisions_for(
    db: sqlite_utils.Database, pairs: Iterable[tuple[str, str]], as_of: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The decision in force (now or at `as_of`) for each (screened name, entity id)."""
    by_key: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for query, entity_id in pairs:
        by_key.setdefault((query_key(query), entity_id), []).append((query, entity_id))
    if not by_key:
        return {}
    if as_of is None:
        clause, params = "d.valid_to IS NULL", []
    else:
        clause = "d.created_at <= ? AND (d.valid_to IS NULL OR d.valid_to > ?)"
        params = [as_of, as_of]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    keys = sorted({key for key, _ in by_key})
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in _row(
            db.conn.execute(
                f"SELECT id, query_key, entity_id, verdict, note, actor, created_at "
                f"FROM decisions d WHERE {clause} AND query_key IN ({marks})",
                [*params, *chunk],
            )
        ):
            for pair in by_key.get((row.pop("query_key"), row["entity_id"]), []):
                out[pair] = row
    return out


def false_positive_entities(
    db: sqlite_utils.Database, names: Iterable[str], as_of: str | None = None
) -> dict[str, set[str]]:
    """For each screened name's key (see `query_key`), the entities decided to be
    false positives for it (now or at `as_of`)."""
    keys = sorted({query_key(name) for name in names})
    if as_of is None:
        clause, params = "d.valid_to IS NULL", []
    else:
        clause = "d.created_at <= ? AND (d.valid_to IS NULL OR d.valid_to > ?)"
        params = [as_of, as_of]
    out: dict[str, set[str]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for key, entity_id in db.conn.execute(
            f"SELECT query_key, entity_id FROM decisions d WHERE {clause} "
            f"AND verdict = 'false_positive' AND query_key IN ({marks})",
            [*params, *chunk],
        ):
            out.setdefault(key, set()).add(entity_id)
    return out
