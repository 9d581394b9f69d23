"""yente's matching API over the registry: `POST /match/{dataset}`, `/catalog`,
`/algorithms`, and FollowTheMoney entities for `GET /entities/{id}?nested=...`.

The shapes are yente's own (yente/data/common.py: EntityMatchQuery,
EntityMatchResponse, ScoredEntityResponse, DataCatalogModel, AlgorithmResponse),
so a client written for yente works unchanged. The matching is the registry's:
each example becomes screening queries (`ftm.Example.queries`), all of a batch
are screened at once by `screening.screen` in one snapshot, and each example's
matches are merged by entity, keeping the best score. A result carries yente's
fields (`score`, `match`, `features`, `explanations`) and the registry's own
(`matched_name`, `summary`, `explanation`), the same as `/screen` gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .. import queries as registry_queries
from ..db import view
from ..matching import DEFAULT_THRESHOLD
from ..matching.evidence import (
    DOB_CONFLICT_PENALTY,
    DOB_MATCH_BONUS,
    IDENTIFIER_MATCH_BONUS,
    NATIONALITY_CONFLICT_PENALTY,
    NATIONALITY_MATCH_BONUS,
)
from ..screening import IndexCache, ScreenOptions
from . import ftm
from .matching import screen_examples

ALGORITHM = "registry-v1"
#: yente's algorithm names, answered by this registry's one matcher so that a
#: client configured for one of them works unchanged.
YENTE_ALGORITHMS = (
    "best",
    "default",
    "logic-v2",
    "logic-v1",
    "name-based",
    "name-qualified",
    "regression-v1",
    "regression-v2",
)
DEFAULT_LIMIT = 5  # yente's MATCH_PAGE
MAX_LIMIT = 500  # yente's MAX_MATCHES
MAX_EXCLUDED_IDS = 50  # yente's limit on exclude_entity_ids
DEFAULT_DATASET = "default"
TOPIC = "sanction"  # every entity the registry screens is listed: FollowTheMoney's topic
DATASET_TITLES = {
    "us-ofac-sdn": "OFAC Specially Designated Nationals (SDN) List",
    "us-ofac-cons": "OFAC Consolidated Sanctions List (non-SDN)",
    "us-csl": "US Consolidated Screening List (trade.gov)",
    "us-bis-entity-list": "US BIS Entity List",
    "gb-hmt": "UK Sanctions List",
    "eu-fsf": "EU Financial Sanctions Files",
    "un-sc": "UN Security Council Consolidated List",
    "fixtures": "Registry seed records (news sources and official list rows)",
}
FEATURES = {
    "name_score": (
        "The score of the best name or alias against the query's names (0-1), after "
        "the country hint.",
        1.0,
    ),
    "date_of_birth": (
        f"A date of birth that agrees adds up to {max(DOB_MATCH_BONUS.values())}; one "
        f"that conflicts with every listed date takes {DOB_CONFLICT_PENALTY}.",
        1.0,
    ),
    "nationality": (
        f"A nationality that matches adds {NATIONALITY_MATCH_BONUS}; one that conflicts "
        f"takes {NATIONALITY_CONFLICT_PENALTY}.",
        1.0,
    ),
    "identifier": (
        f"The same passport, registration, tax or IMO number adds {IDENTIFIER_MATCH_BONUS}.",
        1.0,
    ),
}


class MatchError(Exception):
    """A request yente would refuse: the status and the message (its `detail`)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True)
class MatchParams:
    dataset: str = DEFAULT_DATASET
    threshold: float = DEFAULT_THRESHOLD
    cutoff: float | None = None
    limit: int = DEFAULT_LIMIT
    algorithm: str = "best"
    include_dataset: tuple[str, ...] = ()
    exclude_dataset: tuple[str, ...] = ()
    exclude_schema: tuple[str, ...] = ()
    exclude_entity_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    changed_since: str | None = None


def check_algorithm(name: str) -> str:
    clean = name.strip().lower()
    if clean != ALGORITHM and clean not in YENTE_ALGORITHMS:
        raise MatchError(400, f"Invalid algorithm: {name}", field="algorithm")
    return ALGORITHM


# -- the catalogue ---------------------------------------------------------------------


def dataset_names(db: sqlite_utils.Database) -> list[str]:
    return [
        row[0]
        for row in db.conn.execute(
            "SELECT DISTINCT dataset FROM records WHERE deleted_at IS NULL ORDER BY dataset"
        )
    ]


def check_dataset(db: sqlite_utils.Database, name: str) -> None:
    if name != DEFAULT_DATASET and name not in dataset_names(db):
        raise MatchError(404, "No such dataset.", field="dataset")


def catalog(db: sqlite_utils.Database, titles: Mapping[str, str] | None = None) -> dict[str, Any]:
    """yente's DataCatalogModel: each dataset of the registry, and `default`, the
    collection of them all. Every dataset is indexed as loaded (the screening
    index follows every write), so all are current."""
    with view(db):
        counts = dict(
            db.conn.execute(
                "SELECT dataset, COUNT(DISTINCT entity_id) FROM records "
                "WHERE deleted_at IS NULL GROUP BY dataset"
            ).fetchall()
        )
        updated = dict(
            db.conn.execute(
                "SELECT dataset, MAX(updated_at) FROM records WHERE deleted_at IS NULL "
                "GROUP BY dataset"
            ).fetchall()
        )
        total = db.conn.execute(
            "SELECT COUNT(*) FROM entities WHERE status != 'deleted'"
        ).fetchone()[0]
    names = sorted(counts)

    def model(
        name: str, title: str, count: int, version: str | None, children: list[str]
    ) -> dict[str, Any]:
        return {
            "name": name,
            "title": title,
            "summary": None,
            "url": None,
            "updated_at": version,
            "entity_count": count,
            "thing_count": count,
            "version": version,
            "tags": [],
            "resources": [],
            "children": children,
            "deprecated": False,
            "load": not children,
            "entities_url": None,
            "namespace": False,
            "index_version": version,
            "index_current": True,
        }

    latest = max((v for v in updated.values() if v), default=None)
    datasets = [
        model(DEFAULT_DATASET, "All the registry's lists", total, latest, names),
        *(
            model(
                n, (titles or {}).get(n) or DATASET_TITLES.get(n, n), counts[n], updated.get(n), []
            )
            for n in names
        ),
    ]
    return {
        "datasets": datasets,
        "current": [d["name"] for d in datasets],
        "outdated": [],
        "index_stale": False,
    }


def algorithms(docs_url: str) -> dict[str, Any]:
    """yente's AlgorithmResponse: the one matcher, and what each feature does."""
    features = {
        name: {"description": text, "coefficient": coefficient, "url": docs_url}
        for name, (text, coefficient) in FEATURES.items()
    }
    description = (
        "The registry's name matcher (normalised names, word alignment, legal forms, "
        "transliteration) with dates of birth, nationalities and identifiers as evidence: "
        "the same scores as /screen. yente's algorithm names are accepted and answered "
        "by it."
    )
    return {
        "algorithms": [
            {
                "name": ALGORITHM,
                "description": description,
                "features": features,
                "docs": {
                    "name": ALGORITHM,
                    "description": description,
                    "config": {},
                    "features": features,
                },
            }
        ],
        "default": ALGORITHM,
        "best": ALGORITHM,
    }


# -- matching ------------------------------------------------------------------------------

_SCHEMA_TO_TYPE = {"LegalEntity": "unknown", **{k: v for k, v in ftm.SCHEMA_TYPES.items() if v}}


def _scope(db: sqlite_utils.Database, params: MatchParams) -> frozenset[str] | None:
    """The entities the request lets a query match (None: any)."""
    if params.topics and TOPIC not in params.topics:
        return frozenset()
    every = dataset_names(db)
    datasets = set(every) if params.dataset == DEFAULT_DATASET else {params.dataset}
    if params.include_dataset:
        datasets &= set(params.include_dataset)
    datasets -= set(params.exclude_dataset)
    if not datasets:
        return frozenset()
    conds: list[str] = []
    args: list[str] = []
    if datasets != set(every):
        marks = ",".join("?" * len(datasets))
        conds.append(
            f"e.id IN (SELECT r.entity_id FROM records r WHERE r.deleted_at IS NULL "
            f"AND r.dataset IN ({marks}))"
        )
        args.extend(sorted(datasets))
    types = sorted({_SCHEMA_TO_TYPE[s] for s in params.exclude_schema if s in _SCHEMA_TO_TYPE})
    if types:
        conds.append(f"e.type NOT IN ({','.join('?' * len(types))})")
        args.extend(types)
    if params.changed_since:
        conds.append("e.updated_at > ?")
        args.append(params.changed_since)
    if not conds:
        return None
    return frozenset(
        row[0]
        for row in db.conn.execute(f"SELECT e.id FROM entities e WHERE {' AND '.join(conds)}", args)
    )


def _excluded(db: sqlite_utils.Database, ids: Sequence[str]) -> frozenset[str]:
    """The entities named, by their id or by the id of one of their records."""
    if not ids:
        return frozenset()
    marks = ",".join("?" * len(ids))
    found = {
        row[0]
        for row in db.conn.execute(
            f"SELECT entity_id FROM records WHERE id IN ({marks})", list(ids)
        )
    }
    return frozenset({*ids, *found})


def parse_examples(queries: Any, max_queries: int) -> dict[str, ftm.Example]:
    """The examples of a request body's `queries`, each checked."""
    if not isinstance(queries, Mapping) or not queries:
        raise MatchError(400, "No queries provided.", field="queries")
    examples: dict[str, ftm.Example] = {}
    for key, raw in queries.items():
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            raise MatchError(400, f"Cannot parse example entity {key!r}: not an object.")
        try:
            examples[key] = ftm.parse_example(raw.get("schema"), raw.get("properties", {}))
        except ftm.ExampleError as exc:
            raise MatchError(
                400, f"Cannot parse example entity {key!r}: {exc}", field=f"queries.{key}"
            ) from None
    if not examples:
        raise MatchError(400, "No queries provided.", field="queries")
    planned = sum(len(e.queries()) for e in examples.values())
    if planned > max_queries:
        raise MatchError(
            400,
            f"Too many queries in one batch (limit: {max_queries} names; this batch "
            f"makes {planned}: each name, times each country, is one).",
            field="queries",
        )
    return examples


def match(
    db: sqlite_utils.Database,
    cache: IndexCache,
    body: Mapping[str, Any],
    params: MatchParams,
    *,
    max_queries: int,
) -> dict[str, Any]:
    """yente's EntityMatchResponse for a body {queries: {key: example}}."""
    config = body.get("config") or {}
    if isinstance(config, Mapping):
        for key in config:
            raise MatchError(
                400, f"Invalid configuration parameter: {key} for algorithm {ALGORITHM}"
            )
    examples = parse_examples(body.get("queries"), max_queries)
    with view(db):  # scope, screening, entity details: one snapshot
        check_dataset(db, params.dataset)
        options = ScreenOptions(
            threshold=params.threshold,
            min_score=None if params.cutoff is None else min(params.cutoff, params.threshold),
            limit=params.limit,
            within=_scope(db, params),
            exclude=_excluded(db, params.exclude_entity_ids),
        )
        try:
            found = screen_examples(db, cache, examples, options)
        except ftm.ExampleError as exc:
            raise MatchError(400, f"Cannot parse example entity {exc}") from None
        ranked = {key: matches[: params.limit] for key, matches in found.items()}
        details = {
            entity_id: registry_queries.get_entity(db, entity_id)
            for found in ranked.values()
            for entity_id in {m["entity_id"] for m in found}
        }
    responses = {}
    for key, example in examples.items():
        shown = [m for m in ranked[key] if details.get(m["entity_id"]) is not None]
        responses[key] = {
            "status": 200,
            "results": [_scored(details[m["entity_id"]], m) for m in shown],  # type: ignore[arg-type]
            "total": {"value": sum(1 for m in shown if m["match"]), "relation": "eq"},
            "query": {
                "id": _example_id(body, key),
                "schema": example.schema,
                "properties": example.used,
            },
        }
    return {"responses": responses, "limit": params.limit}


def _example_id(body: Mapping[str, Any], key: str) -> str | None:
    raw = body["queries"].get(key)
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


def _scored(detail: Mapping[str, Any], m: Mapping[str, Any]) -> dict[str, Any]:
    """yente's ScoredEntityResponse of one match, with the registry's explanation."""
    explanation = m["explanation"]
    features: dict[str, float] = {"name_score": explanation.get("name_score", m["score"])}
    explanations: dict[str, dict[str, Any]] = {
        "name_score": {
            "score": features["name_score"],
            "detail": m["summary"],
            "query": m["query_name"],
            "candidate": m["matched_name"],
        }
    }
    for item in explanation.get("evidence") or []:
        features[item["attribute"]] = item["effect"]
        explanations[item["attribute"]] = {
            "score": item["effect"],
            "detail": item["detail"],
            "query": item["query"],
            "candidate": ", ".join(item["listed"]),
        }
    return {
        **ftm.entity_response(detail),
        "score": m["score"],
        "match": m["match"],
        "features": features,
        "explanations": explanations,
        "matched_name": m["matched_name"],
        "name_kind": m["name_kind"],
        "summary": m["summary"],
        "explanation": explanation,
    }
