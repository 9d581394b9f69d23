"""The W3C Entity Reconciliation API, version 0.2 (the protocol OpenRefine speaks):
the service manifest, batches of reconciliation queries, and the suggest services.

A query `{query, type, limit, properties: [{pid, v}]}` becomes a FollowTheMoney
example (`ftm.parse_example`): `query` the name, `type` the schema (Person,
Company, Organization, LegalEntity, Vessel, Airplane; or the registry's own
types), and the properties, by FollowTheMoney name (country, nationality,
birthDate, idNumber, passportNumber, registrationNumber ...; "Person:birthDate"
as well) or by the registry's (country, nationality, dob, id_number). The batch
is screened at once by `screening.screen`, so the candidates, scores and match
flags are those /screen gives; candidates are listed down to RECONCILE_MIN_SCORE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from .. import queries as registry_queries
from ..db import view
from ..matching import DEFAULT_THRESHOLD
from ..problems import InputError, Problem
from ..screening import IndexCache, ScreenOptions
from . import ftm
from .matching import screen_examples

VERSIONS = ["0.2"]
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
#: Candidates are listed down to this score (match=false below the threshold), so
#: a reviewer sees the near misses too.
RECONCILE_MIN_SCORE = 0.6
SCHEMA_SPACE = "https://followthemoney.tech/explorer/schemata/"
DEFAULT_TYPES = ("Person", "Company", "Organization", "LegalEntity", "Vessel", "Airplane")
# The registry's own type names, accepted as reconciliation types too.
REGISTRY_TYPES = {
    "person": "Person",
    "company": "Company",
    "organisation": "Organization",
    "organization": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "unknown": "LegalEntity",
}
#: Properties a query can carry: id -> (name, description). The registry's own
#: field names are accepted as aliases (ALIASES).
PROPERTIES = {
    "country": ("Country", "A country the entity is linked to (a code or an English name)."),
    "nationality": ("Nationality", "A person's nationality or citizenship."),
    "birthDate": ("Date of birth", "YYYY, YYYY-MM or YYYY-MM-DD."),
    "idNumber": ("Identifier", "A passport, national id, registration, tax or IMO number."),
    "passportNumber": ("Passport number", "A person's passport number."),
    "registrationNumber": ("Registration number", "A company's or a vessel's registration."),
    "taxNumber": ("Tax number", "A tax identification number."),
    "imoNumber": ("IMO number", "A vessel's IMO number."),
    "jurisdiction": ("Jurisdiction", "Where a company is registered."),
    "alias": ("Other name", "Another name of the entity, screened too."),
}
ALIASES = {"dob": "birthDate", "id_number": "idNumber", "date_of_birth": "birthDate"}


def type_of(schema: str) -> dict[str, str]:
    _label, plural = ftm.SCHEMA_LABELS[schema]
    return {"id": schema, "name": plural}


def manifest(base_url: str) -> dict[str, Any]:
    """The service manifest (GET /reconcile)."""
    base = base_url.rstrip("/")
    service = {"service_url": base}
    return {
        "versions": VERSIONS,
        "name": "Sanctions registry",
        "identifierSpace": f"{base}/entities/",
        "schemaSpace": SCHEMA_SPACE,
        "documentation": f"{base}/docs",
        "serviceVersion": "1",
        "view": {"url": f"{base}/entity/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}", "width": 430, "height": 300},
        "suggest": {
            "entity": {**service, "service_path": "/reconcile/suggest/entity"},
            "type": {**service, "service_path": "/reconcile/suggest/type"},
            "property": {**service, "service_path": "/reconcile/suggest/property"},
        },
        "defaultTypes": [type_of(schema) for schema in DEFAULT_TYPES],
        # Not in the 0.2 schema, read by OpenRefine: queries per request.
        "batchSize": 25,
    }


def parse_batch(raw: Any) -> dict[str, Any]:
    """A batch of queries: a JSON object, or its text (the `queries` form field)."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InputError(
                [Problem("The queries are not valid JSON.", field="queries")]
            ) from None
    if not isinstance(raw, Mapping):
        raise InputError(
            [Problem("Give the queries as a JSON object {key: query}.", field="queries")]
        )
    return dict(raw)


def _schema(raw: Any, key: str) -> str:
    """The FollowTheMoney schema of a query's `type` (the first known of a list)."""
    if raw is None or raw == "" or raw == []:
        return "LegalEntity"
    for value in raw if isinstance(raw, list) else [raw]:
        if not isinstance(value, str):
            continue
        if value in ftm.SCHEMA_TYPES:
            return value
        if value.lower() in REGISTRY_TYPES:
            return REGISTRY_TYPES[value.lower()]
    raise InputError(
        [
            Problem(
                f"Unknown type {raw!r}; use one of {', '.join(DEFAULT_TYPES)}.",
                field=f"queries.{key}.type",
            )
        ]
    )


def _property_values(raw: Any) -> list[Any]:
    values = raw if isinstance(raw, list) else [raw]
    out = []
    for value in values:
        if isinstance(value, Mapping):  # an entity reconciled before: its name
            value = value.get("name") or value.get("id")
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append(value)
    return out


def example_of(key: str, query: Any) -> tuple[ftm.Example, int]:
    """A reconciliation query as a FollowTheMoney example, and its limit."""
    if not isinstance(query, Mapping):
        raise InputError([Problem("A query is an object.", field=f"queries.{key}")])
    schema = _schema(query.get("type"), key)
    limit = query.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not limit >= 1:
        raise InputError([Problem("limit is a number from 1.", field=f"queries.{key}.limit")])
    properties: dict[str, list[Any]] = {}
    name = query.get("query")
    if name is not None and not isinstance(name, str):
        raise InputError([Problem("query is a string.", field=f"queries.{key}.query")])
    if name and name.strip():
        properties["name"] = [name]
    given = query.get("properties") or []
    if not isinstance(given, list):
        raise InputError(
            [Problem("properties is a list of {pid, v}.", field=f"queries.{key}.properties")]
        )
    for item in given:
        if not isinstance(item, Mapping) or not isinstance(item.get("pid"), str):
            raise InputError(
                [Problem("Each property is {pid, v}.", field=f"queries.{key}.properties")]
            )
        pid = item["pid"].rsplit(":", 1)[-1]  # "Person:birthDate" as birthDate
        pid = ALIASES.get(pid, pid)
        properties.setdefault(pid, []).extend(_property_values(item.get("v")))
    try:
        return ftm.parse_example(schema, properties), int(min(limit, MAX_LIMIT))
    except ftm.ExampleError as exc:
        raise InputError([Problem(str(exc), field=f"queries.{key}")]) from None


def reconcile(
    db: sqlite_utils.Database, cache: IndexCache, batch: Mapping[str, Any], *, max_queries: int
) -> dict[str, Any]:
    """{key: {result: [candidates]}} for a batch of queries."""
    parsed = {key: example_of(str(key), query) for key, query in batch.items()}
    planned = sum(len(example.queries()) for example, _ in parsed.values())
    if len(parsed) > max_queries or planned > max_queries:
        raise InputError(
            [
                Problem(
                    f"Send at most {max_queries} names per request (each query's names "
                    f"times its countries); this one has {planned}.",
                    field="queries",
                )
            ]
        )
    if not parsed:
        return {}
    options = ScreenOptions(
        threshold=DEFAULT_THRESHOLD,
        min_score=RECONCILE_MIN_SCORE,
        limit=max(limit for _, limit in parsed.values()),
    )
    with view(db):
        try:
            found = screen_examples(db, cache, {k: e for k, (e, _) in parsed.items()}, options)
        except ftm.ExampleError as exc:
            raise InputError([Problem(f"Query {exc}", field="queries")]) from None
    out: dict[str, Any] = {}
    for key, (_, limit) in parsed.items():
        out[key] = {"result": [candidate(m) for m in found[key][:limit]]}
    return out


def candidate(match: Mapping[str, Any]) -> dict[str, Any]:
    """One candidate of a reconciliation result."""
    entity = match.get("entity") or {}
    schema = ftm.schema_of(entity.get("type"))
    features = [{"id": "name_score", "value": match["explanation"].get("name_score", 0.0)}]
    for item in match["explanation"].get("evidence") or []:
        features.append({"id": item["attribute"], "value": item["effect"]})
    return {
        "id": match["entity_id"],
        "name": match.get("name") or match["matched_name"],
        "description": match["summary"],
        "score": match["score"],
        "match": match["match"],
        "type": [type_of(schema)],
        "features": features,
    }


# -- suggest ---------------------------------------------------------------------------------


def _matches_prefix(prefix: str, *texts: str) -> bool:
    wanted = prefix.strip().lower()
    return not wanted or any(wanted in text.lower() for text in texts)


def suggest_types(prefix: str) -> dict[str, Any]:
    return {
        "result": [
            {**type_of(schema), "description": ftm.SCHEMA_LABELS[schema][0]}
            for schema in DEFAULT_TYPES
            if _matches_prefix(prefix, schema, *ftm.SCHEMA_LABELS[schema])
        ]
    }


def suggest_properties(prefix: str) -> dict[str, Any]:
    return {
        "result": [
            {"id": pid, "name": name, "description": description}
            for pid, (name, description) in PROPERTIES.items()
            if _matches_prefix(prefix, pid, name)
        ]
    }


def suggest_entities(db: sqlite_utils.Database, prefix: str, limit: int) -> dict[str, Any]:
    """Entities whose names start with the prefix's words (the /entities name search)."""
    if not prefix.strip():
        return {"result": []}
    try:
        page = registry_queries.list_entities(db, {"q": prefix, "limit": limit, "cursor": None})
    except InputError:  # a prefix without a word to search for
        return {"result": []}
    return {
        "result": [
            {
                "id": item["id"],
                "name": item["name"],
                "description": ", ".join(
                    sorted({f"{d['jurisdiction']} {d['list']}" for d in item["designations"]})
                ),
                "notable": [type_of(ftm.schema_of(item.get("type")))],
            }
            for item in page.items
        ]
    }
