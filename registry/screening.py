"""Screening: names against the registry, with filters, decisions and as-of.

The name index (`matching.NameIndex`) is built from the registry's names by
`build_index`; `screen_index.IndexCache` keeps it current (built off the request
path, patched after writes) and keeps a few past ones (an `as_of` instant).
Registry filters (jurisdiction, authority, programme) narrow the entities a name
may match; recorded decisions are shown on matches and false positives can be
hidden.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .decisions import decisions_for
from .matching import DEFAULT_THRESHOLD, NameIndex
from .problems import Problem
from .queries import designation_briefs, valid
from .records import with_related_countries
from .screen_index import BuiltIndex, IndexCache, IndexUnavailable, IndexView

__all__ = [
    "BuiltIndex",
    "IndexCache",
    "IndexUnavailable",
    "ScreenOptions",
    "ScreenQuery",
    "build_index",
    "check_query",
    "screen",
]

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


def build_index(
    db: sqlite_utils.Database,
    as_of: str | None = None,
    entity_ids: Collection[str] | None = None,
) -> BuiltIndex:
    """Every name of every entity not deleted (or of `entity_ids` only), with its
    type and countries. Run it inside one read transaction (`versions.read_snapshot`)
    for an index of one version of the registry."""
    started = time.perf_counter()
    chunks: list[list[str]] | list[None] = (
        [None] if entity_ids is None else _chunked(sorted(set(entity_ids)))
    )
    entity_table = "entities" if as_of is None else "entity_history"
    e_valid, e_params = ("1 = 1", []) if as_of is None else valid("e", as_of)
    a_valid, a_params = valid("a", as_of)
    n_valid, n_params = valid("n", as_of)
    entities: dict[str, tuple[str, str | None, str]] = {}
    countries: dict[str, set[str]] = {}
    index = NameIndex()
    count = 0
    # Many names at once: pause the cyclic garbage collector (not worth it for a few).
    adding = index.bulk() if entity_ids is None or len(entity_ids) > 1000 else nullcontext()
    with adding:
        for chunk in chunks:
            e_in, a_in, n_in, in_params = _subset(chunk)
            for row in db.conn.execute(
                f"SELECT e.id, e.type, e.country, e.status FROM {entity_table} e "
                f"WHERE e.status != 'deleted' AND {e_valid}{e_in}",
                [*e_params, *in_params],
            ):
                entities[row[0]] = (row[1], row[2], row[3])
                if row[2]:
                    countries[row[0]] = {row[2]}
            for entity_id, country in db.conn.execute(
                f"SELECT a.entity_id, a.country FROM addresses a "
                f"WHERE a.country IS NOT NULL AND {a_valid}{a_in}",
                [*a_params, *in_params],
            ):
                countries.setdefault(entity_id, set()).add(country)
            for entity_id, name, kind in db.conn.execute(
                f"SELECT n.entity_id, n.name, n.kind FROM names n WHERE {n_valid}{n_in} "
                f"ORDER BY n.entity_id, n.id",
                [*n_params, *in_params],
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
    return BuiltIndex(index, active, count, time.perf_counter() - started, entities=len(entities))


def _chunked(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _subset(chunk: list[str] | None) -> tuple[str, str, str, list[str]]:
    """SQL restricting build_index's three queries to the entities of `chunk`."""
    if chunk is None:
        return "", "", "", []
    marks = ",".join("?" * len(chunk))
    return (
        f" AND e.id IN ({marks})",
        f" AND a.entity_id IN ({marks})",
        f" AND n.entity_id IN ({marks})",
        list(chunk),
    )


def _allowed(
    db: sqlite_utils.Database, view: IndexView, options: ScreenOptions
) -> Container[str] | None:
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
        return None if options.include_delisted else view.active
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
    elif not any(ch.isalnum() for ch in name):
        problems.append(Problem("Give a name with at least one letter or digit.", field="name"))
    query_id = raw.get("id")
    if query_id is not None and not isinstance(query_id, str | int):
        problems.append(Problem("An id is a string or a number.", field="id"))
    entity_type = raw.get("type") or None
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        problems.append(Problem(f"Use one of {', '.join(ENTITY_TYPES)}.", field="type"))
    country = raw.get("country") or None
    if country is not None and not (
        isinstance(country, str) and len(country) == 2 and country.isalpha()
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
    view = cache.view(db, options.as_of)  # one view for every name of the request
    allowed = view.restrict(_allowed(db, view, options))
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
        matches = view.screen(
            query.name,
            entity_type=query.type,
            country=query.country,
            threshold=options.floor,
            limit=options.limit,
            allowed=allowed,
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
