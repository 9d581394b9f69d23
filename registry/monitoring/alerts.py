"""Alerts: what a book's matches became after a screening, and what analysts did.

A book keeps the matches each record has now (`book_matches`), each with a
fingerprint of the entity's listings (jurisdiction, authority, list, programme,
listed and delisted dates). After a screening:

- a match the record did not have opens a `new` alert, unless the last alert on
  that pair was cleared or escalated while the listings were the same (a decision
  was taken on exactly this);
- a match whose listings changed opens a `changed` alert;
- a match the record no longer has (the entity delisted or deleted, or its names
  no longer match) opens a `removed` alert.

Clearing (a false positive) or escalating (a true match) records a decision
through `registry.decisions` with the analyst's key and note, and an event in
the alert's history. Alerts are written in the same transaction as the matches
and as their webhook deliveries (an outbox): none is lost or sent twice.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from .. import decisions
from ..db import immediate, in_view, utcnow
from ..problems import InputError, Problem, not_found
from ..queries import designation_briefs
from . import webhooks

KINDS = ("new", "changed", "removed")
STATUSES = ("open", "cleared", "escalated")
ACTIONS = {"clear": ("cleared", "false_positive"), "escalate": ("escalated", "true_match")}


def listing_fingerprint(designations: Iterable[Mapping[str, Any]]) -> str:
    """What an entity's listings are, as a short hash (a change is a `changed` alert)."""
    rows = sorted(
        (
            str(d.get("jurisdiction")),
            str(d.get("authority")),
            str(d.get("list")),
            str(d.get("program")),
            str(d.get("listed_date")),
            str(d.get("delisted_date")),
        )
        for d in designations
    )
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()[:32]


@dataclass
class Outcome:
    alerts: list[str]
    matches: int


def reconcile(
    db: sqlite_utils.Database,
    book_id: str,
    records: Mapping[str, dict[str, Any]],
    results: Mapping[str, list[dict[str, Any]]],
    scope: Iterable[tuple[str, str]],
    version: int,
) -> Outcome:
    """Bring the book's matches in line with screening `results` (record id -> its
    matches) and open the alerts that follow. `scope` holds the (record, entity)
    pairs that screening could have found again: those among the stored matches
    not found this time are removed. Call inside a write transaction."""
    now = utcnow()
    conn = db.conn
    opened: list[str] = []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for record_id, matches in results.items():
        for match in matches:
            if match.get("match"):
                found[(record_id, match["entity_id"])] = match
    pairs = set(found) | set(scope)
    stored = _stored(conn, book_id, pairs)
    kept = 0
    gone = [pair for pair in stored if pair not in found]
    gone_briefs = _briefs(db, {entity_id for _, entity_id in gone})
    for (record_id, entity_id), match in found.items():
        listing = listing_fingerprint(match["entity"].get("designations", []))
        previous = stored.get((record_id, entity_id))
        conn.execute(
            "INSERT INTO book_matches (book_id, record_id, entity_id, score, listing, updated_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT (book_id, record_id, entity_id) DO UPDATE SET "
            "score = excluded.score, listing = excluded.listing, updated_at = excluded.updated_at",
            (book_id, record_id, entity_id, match["score"], listing, now),
        )
        kept += 1
        if previous == listing:
            continue
        if previous is None and _decided(conn, book_id, record_id, entity_id, listing):
            continue
        kind = "new" if previous is None else "changed"
        doc = _doc(records[record_id], match["entity"], match)
        opened.append(
            _open(
                db, book_id, record_id, entity_id, kind, match["score"], listing, doc, version, now
            )
        )
    for record_id, entity_id in gone:
        conn.execute(
            "DELETE FROM book_matches WHERE book_id = ? AND record_id = ? AND entity_id = ?",
            (book_id, record_id, entity_id),
        )
        entity = gone_briefs.get(
            entity_id, {"id": entity_id, "status": "deleted", "designations": []}
        )
        if entity["status"] == "active":
            reason = "The record's name no longer matches the entity's names."
        else:
            reason = f"The entity is {entity['status']}: no listing of it is in force."
        record = records.get(record_id) or _record(conn, book_id, record_id) or {"id": record_id}
        doc = _doc(record, entity, None, reason)
        listing = listing_fingerprint(entity.get("designations", []))
        opened.append(
            _open(db, book_id, record_id, entity_id, "removed", None, listing, doc, version, now)
        )
    return Outcome(opened, kept)


def _stored(conn: Any, book_id: str, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    records = sorted({record_id for record_id, _ in pairs})
    for start in range(0, len(records), 500):
        chunk = records[start : start + 500]
        for record_id, entity_id, listing in conn.execute(
            f"SELECT record_id, entity_id, listing FROM book_matches WHERE book_id = ? "
            f"AND record_id IN ({','.join('?' * len(chunk))})",
            [book_id, *chunk],
        ):
            if (record_id, entity_id) in pairs:
                out[(record_id, entity_id)] = listing
    return out


def _decided(conn: Any, book_id: str, record_id: str, entity_id: str, listing: str) -> bool:
    """The last alert on the pair was decided while the listings were these."""
    row = conn.execute(
        "SELECT status, listing FROM alerts WHERE book_id = ? AND record_id = ? AND entity_id = ? "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (book_id, record_id, entity_id),
    ).fetchone()
    return row is not None and row[0] in ("cleared", "escalated") and row[1] == listing


def _briefs(db: sqlite_utils.Database, entity_ids: set[str]) -> dict[str, dict[str, Any]]:
    if not entity_ids:
        return {}
    ids = sorted(entity_ids)
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in db.conn.execute(
            f"SELECT id, name, type, country, status FROM entities "
            f"WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[row[0]] = dict(zip(("id", "name", "type", "country", "status"), row, strict=True))
        for entity_id, briefs in designation_briefs(db, chunk, None).items():
            if entity_id in out:
                out[entity_id]["designations"] = briefs
    for entity in out.values():
        entity.setdefault("designations", [])
    return out


def _record(conn: Any, book_id: str, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT id, name, type, country, dob, nationality, id_number FROM book_records "
        "WHERE book_id = ? AND id = ?",
        (book_id, record_id),
    ).fetchone()
    if row is None:
        return None
    return dict(
        zip(("id", "name", "type", "country", "dob", "nationality", "id_number"), row, strict=True)
    )


def _doc(
    record: Mapping[str, Any],
    entity: Mapping[str, Any],
    match: Mapping[str, Any] | None,
    reason: str | None = None,
) -> dict[str, Any]:
    fields = ("id", "name", "type", "country", "dob", "nationality", "id_number")
    return {
        "record": {k: record.get(k) for k in fields},
        "entity": dict(entity),
        "matched_name": match.get("matched_name") if match else None,
        "name_kind": match.get("name_kind") if match else None,
        "summary": match.get("summary") if match else reason,
        "explanation": match.get("explanation") if match else None,
    }


def _open(
    db: sqlite_utils.Database,
    book_id: str,
    record_id: str,
    entity_id: str,
    kind: str,
    score: float | None,
    listing: str,
    doc: dict[str, Any],
    version: int,
    now: str,
) -> str:
    alert_id = f"alr-{secrets.token_hex(8)}"
    db.conn.execute(
        "INSERT INTO alerts (id, book_id, record_id, entity_id, kind, status, score, listing, "
        "data_version, doc, created_at, updated_at) VALUES (?,?,?,?,?,'open',?,?,?,?,?,?)",
        (alert_id, book_id, record_id, entity_id, kind, score, listing, version,
         orjson.dumps(doc).decode(), now, now),
    )  # fmt: skip
    db.conn.execute(
        "INSERT INTO alert_events (alert_id, at, action, actor, note) VALUES (?,?,?,?,?)",
        (alert_id, now, "opened", "monitor", None),
    )
    webhooks.enqueue(db, book_id, _as_dict(_row(db, alert_id), with_history=False), now)
    return alert_id


_COLUMNS = (
    "id, book_id, record_id, entity_id, kind, status, score, data_version, doc, created_at, "
    "updated_at"
)


def _row(db: sqlite_utils.Database, alert_id: str) -> tuple[Any, ...]:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise not_found(f"No alert {alert_id!r}.")
    return tuple(row)


def _as_dict(
    row: tuple[Any, ...], history: list[dict[str, Any]] | None = None, *, with_history: bool = True
) -> dict[str, Any]:
    (
        alert_id,
        book_id,
        record_id,
        entity_id,
        kind,
        status,
        score,
        version,
        doc,
        created,
        updated,
    ) = row
    out = {
        "id": alert_id,
        "book_id": book_id,
        "record_id": record_id,
        "entity_id": entity_id,
        "kind": kind,
        "status": status,
        "score": score,
        "data_version": version,
        "created_at": created,
        "updated_at": updated,
        **orjson.loads(doc),
    }
    if with_history:
        out["history"] = history or []
    return out


def _history(db: sqlite_utils.Database, alert_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in alert_ids}
    for start in range(0, len(alert_ids), 500):
        chunk = alert_ids[start : start + 500]
        for alert_id, at, action, actor, note, decision_id in db.conn.execute(
            f"SELECT alert_id, at, action, actor, note, decision_id FROM alert_events "
            f"WHERE alert_id IN ({','.join('?' * len(chunk))}) ORDER BY at, rowid",
            chunk,
        ):
            out[alert_id].append(
                {
                    "at": at,
                    "action": action,
                    "actor": actor,
                    "note": note,
                    "decision_id": decision_id,
                }
            )
    return out


@in_view
def get_alert(db: sqlite_utils.Database, alert_id: str) -> dict[str, Any]:
    row = _row(db, alert_id)
    return _as_dict(row, _history(db, [alert_id])[alert_id])


@in_view
def list_alerts(db: sqlite_utils.Database, args: Mapping[str, Any]) -> dict[str, Any]:
    """Alerts, newest first, filtered by book, status, entity, kind and `since`;
    paged by a cursor (the last alert's creation instant and id)."""
    conds: list[str] = []
    params: list[Any] = []
    for column, key in (("book_id", "book"), ("status", "status"), ("entity_id", "entity"),
                        ("kind", "kind"), ("record_id", "record")):  # fmt: skip
        if args.get(key):
            conds.append(f"{column} = ?")
            params.append(args[key])
    if args.get("since"):
        conds.append("created_at >= ?")
        params.append(args["since"])
    where = " AND ".join(conds) or "1 = 1"
    total = db.conn.execute(f"SELECT COUNT(*) FROM alerts WHERE {where}", params).fetchone()[0]
    page_where = where
    page_params = list(params)
    cursor = args.get("cursor")
    if cursor:
        created, _, last_id = str(cursor).partition("|")
        page_where += " AND (created_at, id) < (?, ?)"
        page_params += [created, last_id]
    limit = int(args.get("limit") or 50)
    rows = db.conn.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE {page_where} ORDER BY created_at DESC, id DESC "
        f"LIMIT ?",
        [*page_params, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    history = _history(db, [r[0] for r in rows])
    items = [_as_dict(tuple(r), history[r[0]]) for r in rows]
    next_cursor = f"{rows[-1][9]}|{rows[-1][0]}" if more and rows else None
    return {"items": items, "total": total, "next_cursor": next_cursor}


def decide(
    db: sqlite_utils.Database, alert_id: str, action: str, *, actor: str, note: str | None
) -> dict[str, Any]:
    """Clear (a false positive) or escalate (a true match) an alert: a decision on its
    record's name and entity, with the analyst's key and note, in one transaction."""
    status, verdict = ACTIONS[action]
    with immediate(db):
        row = _row(db, alert_id)
        current = row[5]
        if current != "open":
            raise InputError(
                [Problem(f"Alert {alert_id!r} is already {current}.", field="id", location="path")],
                status=409,
                title="Conflict",
            )
        doc = orjson.loads(row[8])
        decision_id = None
        if db.conn.execute("SELECT 1 FROM entities WHERE id = ?", (row[3],)).fetchone():
            decision = decisions.record_decision(
                db, query=doc["record"]["name"], entity_id=row[3], verdict=verdict, note=note,
                actor=actor,
            )  # fmt: skip
            decision_id = decision["id"]
        now = utcnow()
        db.conn.execute(
            "UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?", (status, now, alert_id)
        )
        db.conn.execute(
            "INSERT INTO alert_events (alert_id, at, action, actor, note, decision_id) "
            "VALUES (?,?,?,?,?,?)",
            (alert_id, now, status, actor, note, decision_id),
        )
    return get_alert(db, alert_id)
