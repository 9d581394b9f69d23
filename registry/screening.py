"""Screening: names against the registry, with filters, decisions and as-of.

The name index (`matching.NameIndex`) is built from the registry's names and
cached: the current one until a write bumps the data generation, past ones (an
`as_of` instant) for good, since the past does not change. Registry filters
(jurisdiction, authority, programme) narrow the entities a name may match;
recorded decisions are shown on matches and false positives can be hidden.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from schemas.fields import name_problem

from .db import connect, generation, utcnow
from .decisions import decisions_for
from .matching import DEFAULT_THRESHOLD, NameIndex
from .problems import Problem
from .queries import designation_briefs, valid
from .records import with_related_countries

log = logging.getLogger(__name__)
ENTITY_TYPES = ("person", "company", "organisation", "vessel", "aircraft", "unknown")


@dataclass(frozen=True)
class ScreenOptions:
    threshold: float = DEFAULT_THRESHOLD  # a score at or above it is a match
    min_score: float | None = None  # list candidates down to this score (default: threshold)
    limit: int = 10
    jurisdiction: str | None = None
    authority: str | None = None
    program: str | None = None
    include_delisted: bool = False
    hide_false_positives: bool = False
    as_of: str | None = None

    @property
    def floor(self) -> float:
        return self.threshold if self.min_score is None else min(self.min_score, self.threshold)


@dataclass(frozen=True)
class ScreenQuery:
    name: str
    id: str | None = None
    type: str | None = None
    country: str | None = None


@dataclass
class BuiltIndex:
    index: NameIndex
    active: frozenset[str]  # entities with a listing in force
    names: int
    seconds: float


class IndexCache:
    """The current index (rebuilt after writes) and a few past ones, per database."""

    def __init__(self, keep_past: int = 4) -> None:
        self._lock = threading.Lock()
        self._current: tuple[int, BuiltIndex] | None = None
        self._past: OrderedDict[str, BuiltIndex] = OrderedDict()
        self._keep_past = keep_past

    def get(self, db: sqlite_utils.Database, as_of: str | None = None) -> BuiltIndex:
        if as_of is not None and as_of >= utcnow():
            as_of = None  # the future looks like now
        with self._lock:
            if as_of is None:
                gen = generation(db)
                if self._current is None or self._current[0] != gen:
                    self._current = None  # let the old index go before building the new
                    self._current = (gen, _settled(build_index(db)))
                return self._current[1]
            if as_of not in self._past:
                self._past[as_of] = _settled(build_index(db, as_of))
                while len(self._past) > self._keep_past:
                    self._past.popitem(last=False)
            self._past.move_to_end(as_of)
            return self._past[as_of]

    def warm(self, db_path: str | Path, busy_timeout_ms: int = 10_000) -> threading.Thread:
        """Build the current index in the background, so the first screening after
        start-up does not wait for it."""

        def run() -> None:
            db = connect(db_path, busy_timeout_ms=busy_timeout_ms)
            try:
                started = time.perf_counter()
                built = self.get(db)
                log.info(
                    "screening index: %d names in %.1f s (%.1f s in all)",
                    built.names,
                    built.seconds,
                    time.perf_counter() - started,
                )
            finally:
                db.close()

        thread = threading.Thread(target=run, name="index-warm-up", daemon=True)
        thread.start()
        return thread


def _settled(built: BuiltIndex) -> BuiltIndex:
    """Move the index's millions of objects out of the garbage collector's sight:
    otherwise a full collection during a request stalls it for half a second."""
    gc.collect()
    gc.freeze()
    return built


def build_index(db: sqlite_utils.Database, as_of: str | None = None) -> BuiltIndex:
    """Every name of every entity not deleted, with its type and countries."""
    started = time.perf_counter()
    entity_table = "entities" if as_of is None else "entity_history"
    e_valid, e_params = ("1 = 1", []) if as_of is None else valid("e", as_of)
    entities = {
        row[0]: (row[1], row[2], row[3])
        for row in db.conn.execute(
            f"SELECT e.id, e.type, e.country, e.status FROM {entity_table} e "
            f"WHERE e.status != 'deleted' AND {e_valid}",
            e_params,
        )
    }
    countries: dict[str, set[str]] = {eid: {c} for eid, (_, c, _) in entities.items() if c}
    a_valid, a_params = valid("a", as_of)
    for entity_id, country in db.conn.execute(
        f"SELECT a.entity_id, a.country FROM addresses a WHERE a.country IS NOT NULL AND {a_valid}",
        a_params,
    ):
        countries.setdefault(entity_id, set()).add(country)
    index = NameIndex()
    n_valid, n_params = valid("n", as_of)
    count = 0
    with index.bulk():  # many names at once (pauses the cyclic garbage collector)
        for entity_id, name, kind in db.conn.execute(
            f"SELECT n.entity_id, n.name, n.kind FROM names n WHERE {n_valid} "
            f"ORDER BY n.entity_id, n.id",
            n_params,
        ):
            info = entities.get(entity_id)
            if info is None:
                continue
            # A Hong Kong address is in China: neither hint conflicts with the other.
            index.add(
                entity_id,
                name,
                name_kind=kind,
                entity_type=info[0],
                countries=with_related_countries(countries.get(entity_id, ())),
            )
            count += 1
    active = frozenset(eid for eid, (_, _, status) in entities.items() if status == "active")
    return BuiltIndex(index, active, count, time.perf_counter() - started)


def _allowed(
    db: sqlite_utils.Database, built: BuiltIndex, options: ScreenOptions
) -> frozenset[str] | None:
    """Entity ids a query may match under the options, or None for any."""
    conds, params = [], []
    for column, value, collate in (
        ("jurisdiction", options.jurisdiction, ""),
        ("authority", options.authority, " COLLATE NOCASE"),
        ("program", options.program, " COLLATE NOCASE"),
    ):
        if value:
            conds.append(f"d.{column} = ?{collate}")
            params.append(value)
    if not options.include_delisted:
        conds.append("d.delisted_date IS NULL")
    if not conds or conds == ["d.delisted_date IS NULL"]:
        return None if options.include_delisted else built.active
    clause, clause_params = valid("d", options.as_of)
    ids = {
        row[0]
        for row in db.conn.execute(
            f"SELECT DISTINCT d.entity_id FROM designations d WHERE {clause} AND "
            + " AND ".join(conds),
            [*clause_params, *params],
        )
    }
    return frozenset(ids)


def check_query(raw: Any) -> tuple[ScreenQuery | None, list[Problem]]:
    """One row of a batch, validated on its own so a bad row fails alone."""
    if not isinstance(raw, Mapping):
        return None, [Problem("Give an object with at least a name.", field="")]
    problems = []
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("Give a name with at least one letter or digit.", field="name"))
    elif len(name) > 500:
        problems.append(Problem("Names are at most 500 characters.", field="name"))
    elif name_problem(name):
        problems.append(Problem(str(name_problem(name)), field="name"))
    query_id = raw.get("id")
    if query_id is not None and not isinstance(query_id, str | int):
        problems.append(Problem("An id is a string or a number.", field="id"))
    entity_type = raw.get("type") or None
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        problems.append(Problem(f"Use one of {', '.join(ENTITY_TYPES)}.", field="type"))
    country = raw.get("country") or None
    if country is not None and not (
        isinstance(country, str) and re.fullmatch("[A-Za-z]{2}", country)
    ):
        problems.append(Problem("Use a two-letter country code.", field="country"))
    if problems:
        return None, problems
    return ScreenQuery(
        name=str(name),
        id=None if query_id is None else str(query_id),
        type=entity_type,
        country=country.upper() if country else None,
    ), []


def _entity_briefs(
    db: sqlite_utils.Database, ids: Iterable[str], as_of: str | None
) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    table = "entities" if as_of is None else "entity_history"
    e_valid, e_params = ("1 = 1", []) if as_of is None else valid("e", as_of)
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.conn.execute(
            f"SELECT e.id, e.name, e.type, e.country, e.status FROM {table} e "
            f"WHERE e.id IN ({marks}) AND {e_valid}",
            [*chunk, *e_params],
        ):
            out[row[0]] = {
                "id": row[0],
                "name": row[1],
                "type": row[2],
                "country": row[3],
                "status": row[4],
                "designations": [],
            }
        for entity_id, briefs in designation_briefs(db, list(chunk), as_of).items():
            if entity_id in out:
                out[entity_id]["designations"] = briefs
    return out


def screen(
    db: sqlite_utils.Database, cache: IndexCache, queries: Sequence[Any], options: ScreenOptions
) -> list[dict[str, Any]]:
    """Screen each query (a dict, checked row by row); results in input order."""
    built = cache.get(db, options.as_of)
    allowed = _allowed(db, built, options)
    results: list[dict[str, Any]] = []
    for position, raw in enumerate(queries):
        query, problems = check_query(raw)
        if query is None:
            raw_id = raw.get("id") if isinstance(raw, Mapping) else None
            results.append(
                {
                    "index": position,
                    "id": raw_id,
                    "query": raw,
                    "matches": [],
                    "error": {
                        "message": "This row cannot be screened.",
                        "errors": [p.as_dict() for p in problems],
                    },
                }
            )
            continue
        matches = built.index.screen(
            query.name,
            entity_type=query.type,
            country=query.country,
            threshold=options.floor,
            limit=options.limit,
            allowed_ids=allowed,
        )
        results.append(
            {
                "index": position,
                "id": query.id,
                "query": {"name": query.name, "type": query.type, "country": query.country},
                "matches": [
                    {
                        "entity_id": m.entity_id,
                        "matched_name": m.matched_name,
                        "name_kind": m.name_kind,
                        "score": round(m.score, 4),
                        "match": m.score >= options.threshold,
                        "explanation": m.explanation,
                    }
                    for m in matches
                ],
                "error": None,
            }
        )
    _attach(db, results, options)
    return results


def _attach(
    db: sqlite_utils.Database, results: list[dict[str, Any]], options: ScreenOptions
) -> None:
    """Entity summaries and decisions on every match; hide decided false positives."""
    pairs = [
        (r["query"]["name"], m["entity_id"])
        for r in results
        if r["error"] is None
        for m in r["matches"]
    ]
    briefs = _entity_briefs(db, (entity_id for _, entity_id in pairs), options.as_of)
    decided = decisions_for(db, pairs, options.as_of)
    for result in results:
        if result["error"] is not None:
            continue
        kept = []
        for match in result["matches"]:
            entity = briefs.get(match["entity_id"], {})
            decision = decided.get((result["query"]["name"], match["entity_id"]))
            if (
                options.hide_false_positives
                and decision
                and decision["verdict"] == "false_positive"
            ):
                continue
            match["name"] = entity.get("name")
            match["entity"] = entity
            match["decision"] = decision
            kept.append(match)
        result["matches"] = kept
