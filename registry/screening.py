"""Screening: names against the registry, with filters, decisions and as-of.

The name index (`matching.NameIndex`) is built from the registry's names by
`build_index`; `screen_index.IndexCache` keeps it current (built off the request
path, patched after writes) and keeps a few past ones (an `as_of` instant).
Registry filters (jurisdiction, authority, programme) narrow the entities a name
may match; recorded decisions are shown on matches and false positives can be
hidden.

A query may also carry a date of birth, a nationality and an identifier number
(`matching.evidence` says what each does to a score). They stay out of the
index: the entities sharing the identifier are found by an indexed lookup of
its value, and the dates of birth and nationalities of all the candidates of a
batch are read in one query per 500 entities.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import (
    Callable,
    Collection,
    Container,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from schemas.fields import name_problem, parse_partial_date, text_problem

from .decisions import decisions_for, false_positive_entities, query_key
from .importers.countries import CODES, country_code
from .matching import DEFAULT_THRESHOLD, Match, NameIndex
from .matching.analysis import MAX_NAME_WORDS, word_count
from .matching.evidence import (
    IDENTIFIER_MATCH_BONUS,
    LIST_REFERENCE_SCHEMES,
    MAX_RAISE_WITHOUT_IDENTIFIER,
    Evidence,
    dob_evidence,
    id_key,
    identifier_evidence,
    nationality_evidence,
    summary,
    weigh,
)
from .matching.scorer import MAX_SLASH_PARTS, slash_parts
from .names import identifier_key
from .problems import Problem
from .queries import designation_briefs, valid
from .records import with_related_countries
from .screen_index import (
    PACE_EVERY,
    Allowed,
    BuiltIndex,
    IndexCache,
    IndexUnavailable,
    IndexView,
    build_pace,
)

__all__ = [
    "BuiltIndex",
    "IndexCache",
    "IndexUnavailable",
    "ScreenOptions",
    "ScreenQuery",
    "build_index",
    "check_query",
    "screen",
    "screen_chunks",
]

log = logging.getLogger(__name__)
ENTITY_TYPES = ("person", "company", "organisation", "vessel", "aircraft", "unknown")
#: The fields of a query (JSON object keys, CSV columns, `registry screen` columns).
QUERY_FIELDS = ("id", "name", "type", "country", "dob", "nationality", "id_number")
# Candidates the index returns when evidence may reorder them (limit's maximum).
EVIDENCE_CANDIDATES = 100
MIN_ID_NUMBER = 4  # letters and digits an id_number needs to mean something


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
    # What an API's own filters allow (yente's datasets and exclude_entity_ids):
    # the entities a query may match at most (None: any) and those it never matches.
    within: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @property
    def floor(self) -> float:
        return self.threshold if self.min_score is None else min(self.min_score, self.threshold)


@dataclass(frozen=True)
class ScreenQuery:
    """A checked query. A date of birth, a nationality and an identifier may each
    come as one value or as a list of them (a yente or reconciliation query
    carries lists): the evidence takes the best agreement of any of them."""

    name: str
    id: str | None = None
    type: str | None = None
    country: str | None = None
    dobs: tuple[str, ...] = ()  # YYYY, YYYY-MM or YYYY-MM-DD
    nationalities: tuple[str, ...] = ()  # ISO 3166-1 alpha-2
    id_numbers: tuple[str, ...] = ()  # as given; compared by evidence.id_key

    @property
    def dob(self) -> str | None:
        return self.dobs[0] if self.dobs else None

    @property
    def nationality(self) -> str | None:
        return self.nationalities[0] if self.nationalities else None

    @property
    def id_number(self) -> str | None:
        return self.id_numbers[0] if self.id_numbers else None

    def echo(self) -> dict[str, Any]:
        """The query as the answer repeats it (nationalities as their codes; a field
        given several values as their list)."""
        return {
            "name": self.name,
            "type": self.type,
            "country": self.country,
            "dob": _one_or_list(self.dobs),
            "nationality": _one_or_list(self.nationalities),
            "id_number": _one_or_list(self.id_numbers),
        }


def _one_or_list(values: tuple[str, ...]) -> str | list[str] | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


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
    pace = build_pace()  # (the service's background builds give way to requests)
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
                if pace is not None and count % PACE_EVERY == 0:
                    pace()
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


class _Except:
    """Entity ids allowed (all, or those of `base`) except some."""

    def __init__(self, base: Container[str] | None, excluded: frozenset[str]) -> None:
        self.base = base
        self.excluded = excluded

    def __contains__(self, entity_id: object) -> bool:
        if entity_id in self.excluded:
            return False
        return self.base is None or entity_id in self.base


def _allowed(
    db: sqlite_utils.Database, view: IndexView, options: ScreenOptions
) -> Container[str] | None:
    """Entity ids a query may match under the options, or None for any."""
    base = _allowed_by_listing(db, view, options)
    if options.within is not None:
        within = options.within
        base = within if base is None else frozenset(e for e in within if e in base)
    if options.exclude:
        return _Except(base, options.exclude)
    return base


def _allowed_by_listing(
    db: sqlite_utils.Database, view: IndexView, options: ScreenOptions
) -> Container[str] | None:
    """Entity ids the registry filters (listing, delisting) allow, or None for any."""
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
    elif name_problem(name):
        problems.append(Problem(str(name_problem(name)), field="name"))
    elif (words := word_count(name)) > MAX_NAME_WORDS:
        # Not a name (the longest listed one has 52 words), and the matcher would
        # read only its first words: refused rather than screened in part.
        problems.append(
            Problem(
                f"Names are at most {MAX_NAME_WORDS} words; this one has {words}.", field="name"
            )
        )
    elif len(slash_parts(name)) > MAX_SLASH_PARTS:
        problems.append(
            Problem(
                f"A name lists at most {MAX_SLASH_PARTS} alternatives separated by '/'.",
                field="name",
            )
        )
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
    dobs = _values(raw.get("dob"), "dob", _check_dob, problems)
    nationalities = _values(raw.get("nationality"), "nationality", _check_nationality, problems)
    id_numbers = _values(raw.get("id_number"), "id_number", _check_id_number, problems)
    if problems:
        return None, problems
    return ScreenQuery(
        name=str(name),
        id=None if query_id is None else str(query_id),
        type=entity_type,
        country=country.upper() if country else None,
        dobs=dobs,
        nationalities=nationalities,
        id_numbers=id_numbers,
    ), []


MAX_VALUES = 20  # values of one attribute in one query


def _values(
    value: Any,
    field: str,
    check: Callable[[Any, str, list[Problem]], str | None],
    problems: list[Problem],
) -> tuple[str, ...]:
    """One value, or a list of them, each checked (a problem names its position)."""
    if not isinstance(value, list):
        one = check(value, field, problems)
        return () if one is None else (one,)
    if len(value) > MAX_VALUES:
        problems.append(Problem(f"Give at most {MAX_VALUES} values.", field=field))
        return ()
    out: list[str] = []
    for position, item in enumerate(value):
        checked = check(item, f"{field}[{position}]", problems)
        if checked is not None and checked not in out:
            out.append(checked)
    return tuple(out)


def _text_value(value: Any, field: str, what: str, problems: list[Problem]) -> str | None:
    """A string field: None when absent or blank; a problem when not a string."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(Problem(f"Give the {what} as a string.", field=field))
        return None
    problem = text_problem(value, multiline=False)
    if problem:
        problems.append(Problem(problem, field=field))
        return None
    return value.strip() or None


def _check_dob(value: Any, field: str, problems: list[Problem]) -> str | None:
    text = _text_value(value, field, "date of birth", problems)
    if text is None:
        return None
    try:
        parse_partial_date(text)
    except ValueError:
        problems.append(
            Problem("Not a date of birth: use YYYY-MM-DD, YYYY-MM or YYYY.", field=field)
        )
        return None
    if not 1850 <= int(text[:4]) <= dt.date.today().year:
        problems.append(
            Problem(f"A year of birth is between 1850 and {dt.date.today().year}.", field=field)
        )
        return None
    return text


def _check_nationality(value: Any, field: str, problems: list[Problem]) -> str | None:
    text = _text_value(value, field, "nationality", problems)
    if text is None:
        return None
    code = text.upper() if len(text) == 2 and text.isalpha() else country_code(text[:100])
    if code not in CODES:
        problems.append(
            Problem(
                "Not a country: use a two-letter ISO 3166-1 code (RU) or a country's "
                "English name (Russia).",
                field=field,
            )
        )
        return None
    return code


def _check_id_number(value: Any, field: str, problems: list[Problem]) -> str | None:
    text = _text_value(value, field, "identifier number", problems)
    if text is None:
        return None
    if len(text) > 100:
        problems.append(Problem("An id_number is at most 100 characters.", field=field))
        return None
    if len(id_key(text)) < MIN_ID_NUMBER:
        problems.append(
            Problem(
                f"An id_number needs at least {MIN_ID_NUMBER} letters or digits.",
                field=field,
            )
        )
        return None
    return text


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


@dataclass
class _Found:
    """A valid query of a batch and what the index found for it."""

    position: int
    query: ScreenQuery
    matches: list[Match]
    holders: Mapping[str, list[tuple[str, str]]]  # entity -> its (scheme, value) of the id
    false_positives: set[str]


def screen(
    db: sqlite_utils.Database, cache: IndexCache, queries: Sequence[Any], options: ScreenOptions
) -> list[dict[str, Any]]:
    """Screen each query (a dict, checked row by row); results in input order."""
    return [result for chunk in screen_chunks(db, cache, queries, options) for result in chunk]


def screen_chunks(
    db: sqlite_utils.Database,
    cache: IndexCache,
    queries: Sequence[Any],
    options: ScreenOptions,
    size: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """`screen`, `size` queries at a time (all at once by default): the results of
    each chunk, in input order, as soon as they are made, so a large batch can be
    answered while it is screened (POST /screen streams them). One index view for
    every chunk; run it inside one read snapshot (`db.view`) for one version of the
    registry. A chunk's results are the same as those of the whole batch."""
    checked = [check_query(raw) for raw in queries]
    valid_queries = any(query is not None for query, _ in checked)
    # One view for every name of the request; none when no row can be screened
    # (a bad query gets its 400 at once, not after waiting for an index build).
    view = cache.view(db, options.as_of) if valid_queries else None
    allowed = view.restrict(_allowed(db, view, options)) if view is not None else ()
    step = max(1, size or len(checked))
    for start in range(0, max(1, len(checked)), step):
        yield _screen_chunk(db, view, allowed, queries, checked, start, start + step, options)


def _screen_chunk(
    db: sqlite_utils.Database,
    view: IndexView | None,
    allowed: Allowed,
    queries: Sequence[Any],
    checked: Sequence[tuple[ScreenQuery | None, list[Problem]]],
    start: int,
    end: int,
    options: ScreenOptions,
) -> list[dict[str, Any]]:
    """The results of queries[start:end] (positions in the whole batch)."""
    valid_queries = [query for query, _ in checked[start:end] if query is not None]
    hidden = (
        false_positive_entities(db, (q.name for q in valid_queries), options.as_of)
        if options.hide_false_positives
        else {}
    )
    holders = _identifier_holders(
        db, (value for q in valid_queries for value in q.id_numbers), options.as_of
    )
    results: list[dict[str, Any]] = []
    found: list[_Found] = []
    for position in range(start, min(end, len(checked))):
        query, problems = checked[position]
        if query is None:
            raw = queries[position]
            results.append(
                {
                    "index": position,
                    "id": raw.get("id") if isinstance(raw, Mapping) else None,
                    "query": raw,
                    "matches": [],
                    "hidden_false_positives": 0,
                    "error": {
                        "message": "This row cannot be screened.",
                        "errors": [p.as_dict() for p in problems],
                    },
                }
            )
            continue
        assert view is not None  # (there is a valid query)
        false_positives = hidden.get(query_key(query.name), set()) if hidden else set()
        # A date of birth or a nationality may lift a name below the floor, or
        # lower one above others: ask for more, from lower down.
        attributes = bool(query.dobs or query.nationalities)
        lift = MAX_RAISE_WITHOUT_IDENTIFIER if attributes else 0.0
        matches = view.screen(
            query.name,
            entity_type=query.type,
            country=query.country,
            threshold=max(0.0, options.floor - lift),
            limit=(EVIDENCE_CANDIDATES if attributes else options.limit) + len(false_positives),
            allowed=allowed,
        )
        held: dict[str, list[tuple[str, str]]] = {}
        if query.id_numbers:
            for key in {k for value in query.id_numbers for k in _id_keys(value)}:
                for entity_id, values in holders.get(key, {}).items():
                    held.setdefault(entity_id, []).extend(values)
            others = held.keys() - {m.entity_id for m in matches}
            if others:
                # Entities sharing the identifier, whatever the index found by name.
                matches += view.score_entities(
                    query.name,
                    others,
                    entity_type=query.type,
                    country=query.country,
                    threshold=max(0.0, options.floor - IDENTIFIER_MATCH_BONUS - lift),
                    allowed=allowed,
                )
        found.append(_Found(position, query, matches, held, false_positives))
        results.append({})  # filled below, in input order
    facts = _entity_facts(
        db,
        {m.entity_id for f in found if f.query.dobs or f.query.nationalities for m in f.matches},
        options.as_of,
    )
    for item in found:
        results[item.position - start] = _result(item, facts, options)
    _attach(db, results, options)
    return results


def _result(item: _Found, facts: Mapping[str, _Facts], options: ScreenOptions) -> dict[str, Any]:
    """The answer for one query: evidence weighed, matches ranked and cut, false
    positives hidden (and counted)."""
    query = item.query
    ranked: list[tuple[float, Match, list[Evidence]]] = []
    for match in item.matches:
        evidence: list[Evidence] = []
        held = item.holders.get(match.entity_id)
        if query.id_numbers and held:
            found = identifier_evidence(list(query.id_numbers), held)
            if found is not None:
                evidence.append(found)
        entity = facts.get(match.entity_id)
        if query.dobs and entity is not None:
            found = dob_evidence(list(query.dobs), entity.birth_dates)
            if found is not None:
                evidence.append(found)
        if query.nationalities and entity is not None:
            found = nationality_evidence(
                list(query.nationalities),
                entity.nationalities,
                country_conflict_counted="country" in match.explanation,
            )
            if found is not None:
                evidence.append(found)
        score = weigh(match.score, evidence) if evidence else match.score
        if score >= options.floor:
            ranked.append((score, match, evidence))
    # Best first; at equal scores (1.0 is the most a score can be) the better
    # evidence first, then by id.
    ranked.sort(key=lambda r: (-r[0], -sum((e.effect for e in r[2]), 0.0), r[1].entity_id))
    hidden = sum(1 for _, m, _ in ranked[: options.limit] if m.entity_id in item.false_positives)
    kept = [r for r in ranked if r[1].entity_id not in item.false_positives][: options.limit]
    matches = []
    for score, match, evidence in kept:
        explanation = {
            **match.explanation,
            "name_score": round(match.score, 4),
            "evidence": [e.as_dict() for e in evidence],
        }
        matches.append(
            {
                "entity_id": match.entity_id,
                "matched_name": match.matched_name,
                "name_kind": match.name_kind,
                "score": round(score, 4),
                "match": score >= options.threshold,
                "summary": summary(explanation, match.matched_name, match.name_kind),
                "explanation": explanation,
            }
        )
    return {
        "index": item.position,
        "id": query.id,
        "query": query.echo(),
        "matches": matches,
        "hidden_false_positives": hidden,
        "error": None,
    }


def _id_keys(value: str) -> set[str]:
    """The stored forms (identifiers.value_norm) an id_number may have: its key,
    and its plain upper-case letters and digits ("IMO9187629" kept as such)."""
    return {id_key(value), identifier_key(value)} - {""}


def _identifier_holders(
    db: sqlite_utils.Database, values: Iterable[str], as_of: str | None
) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """value key -> entity -> its (scheme, value) pairs with that key: the
    entities that carry one of the identifier numbers (list references aside)."""
    keys = sorted({key for value in values for key in _id_keys(value)})
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    if not keys:
        return out
    clause, clause_params = valid("i", as_of)
    skip = sorted(LIST_REFERENCE_SCHEMES)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for key, entity_id, scheme, value in db.conn.execute(
            f"SELECT i.value_norm, i.entity_id, i.scheme, i.value FROM identifiers i "
            f"WHERE i.value_norm IN ({','.join('?' * len(chunk))}) AND {clause} "
            f"AND i.scheme NOT IN ({','.join('?' * len(skip))})",
            [*chunk, *clause_params, *skip],
        ):
            out.setdefault(key, {}).setdefault(entity_id, []).append((scheme, value))
    return out


@dataclass
class _Facts:
    birth_dates: list[str]
    nationalities: list[str]


def _entity_facts(
    db: sqlite_utils.Database, entity_ids: Iterable[str], as_of: str | None
) -> dict[str, _Facts]:
    """Dates of birth and nationalities of the entities, one query per 500 of them."""
    wanted = sorted(set(entity_ids))
    out: dict[str, _Facts] = {}
    b_valid, b_params = valid("b", as_of)
    n_valid, n_params = valid("n", as_of)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for entity_id, kind, value in db.conn.execute(
            f"SELECT b.entity_id, 'dob', b.date FROM birth_dates b "
            f"WHERE b.entity_id IN ({marks}) AND {b_valid} "
            f"UNION ALL SELECT n.entity_id, 'nationality', n.country FROM nationalities n "
            f"WHERE n.entity_id IN ({marks}) AND {n_valid}",
            [*chunk, *b_params, *chunk, *n_params],
        ):
            facts = out.setdefault(entity_id, _Facts([], []))
            (facts.birth_dates if kind == "dob" else facts.nationalities).append(value)
    return out


def _attach(
    db: sqlite_utils.Database, results: list[dict[str, Any]], options: ScreenOptions
) -> None:
    """Entity summaries and decisions on every match."""
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
        for match in result["matches"]:
            entity = briefs.get(match["entity_id"], {})
            match["name"] = entity.get("name")
            match["entity"] = entity
            match["decision"] = decided.get((result["query"]["name"], match["entity_id"]))
