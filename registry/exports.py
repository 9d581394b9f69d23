"""Exports of the registry: a flat CSV and FollowTheMoney entities (JSON lines).

Pure functions over entity details (the shape of `queries.get_entity`); the
HTTP layer streams them page by page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# A spreadsheet runs a cell that begins with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "id",
    "name",
    "type",
    "country",
    "status",
    "first_listed",
    "aliases",
    "identifiers",
    "addresses",
    "birth_dates",
    "nationalities",
    "jurisdictions",
    "authorities",
    "lists",
    "programs",
    "listed_dates",
    "references",
    "sources",
)


def neutralise(cell: str) -> str:
    """Make a cell inert for spreadsheets (OWASP CSV injection): a leading quote
    keeps `=HYPERLINK(...)` or `-2+3` as text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _join(values: Iterable[Any]) -> str:
    seen: list[str] = []
    for value in values:
        if value not in (None, "") and str(value) not in seen:
            seen.append(str(value))
    return "; ".join(seen)


def csv_row(entity: Mapping[str, Any]) -> list[str]:
    designations = entity.get("designations", [])
    row = {
        "id": entity["id"],
        "name": entity["name"],
        "type": entity.get("type"),
        "country": entity.get("country"),
        "status": entity.get("status"),
        "first_listed": entity.get("first_listed"),
        "aliases": _join(n["name"] for n in entity.get("names", []) if n["kind"] != "primary"),
        "identifiers": _join(f"{i['scheme']}:{i['value']}" for i in entity.get("identifiers", [])),
        "addresses": _join(a["full"] for a in entity.get("addresses", [])),
        "birth_dates": _join(b["date"] for b in entity.get("birth_dates", [])),
        "nationalities": _join(n["country"] for n in entity.get("nationalities", [])),
        "jurisdictions": _join(d["jurisdiction"] for d in designations),
        "authorities": _join(d["authority"] for d in designations),
        "lists": _join(d["list"] for d in designations),
        "programs": _join(d.get("program") for d in designations),
        "listed_dates": _join(d.get("listed_date") for d in designations),
        "references": _join(d.get("reference") for d in designations),
        "sources": _join(s["id"] for s in entity.get("sources", [])),
    }
    return [neutralise("" if row[c] is None else str(row[c])) for c in CSV_COLUMNS]


def csv_lines(entities: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then one CSV line per entity."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for entity in entities:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row(entity))
        yield buffer.getvalue()


FTM_SCHEMAS = {
    "person": "Person",
    "company": "Company",
    "organisation": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "unknown": "LegalEntity",
}
NAME_PROPERTIES = {
    "primary": "name",
    "aka": "alias",
    "variation": "alias",
    "other_script": "alias",
    "weak_aka": "weakAlias",
    "fka": "previousName",
}
IDENTIFIER_PROPERTIES = {
    "imo": "imoNumber",
    "tax-id": "taxNumber",
    "inn": "innCode",
    "passport": "passportNumber",
    "national-id": "idNumber",
    "swift-bic": "swiftBic",
    "lei": "leiCode",
    "duns": "dunsCode",
}


def _add(properties: dict[str, list[str]], key: str, value: Any) -> None:
    if value in (None, ""):
        return
    values = properties.setdefault(key, [])
    if str(value) not in values:
        values.append(str(value))


def ftm_dates(value: str) -> list[str]:
    """FollowTheMoney dates for a date of birth: the date itself, or for a range
    ("1950/1954") each year it spans, as alternatives (its two ends when it spans
    more than ten years)."""
    if "/" not in value:
        return [value]
    start, _, end = value.partition("/")
    first, last = int(start[:4]), int(end[:4])
    if first == last:
        return [start[:4]]
    if last - first > 10:
        return [start, end]
    return [str(year) for year in range(first, last + 1)]


def ftm_entities(entity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entity as FollowTheMoney entities: the subject and one Sanction per listing."""
    props: dict[str, list[str]] = {}
    for name in entity.get("names", []):
        _add(props, NAME_PROPERTIES.get(name["kind"], "alias"), name["name"])
    _add(props, "country", (entity.get("country") or "").lower())
    for address in entity.get("addresses", []):
        _add(props, "address", address["full"])
        _add(props, "country", (address.get("country") or "").lower())
    for birth in entity.get("birth_dates", []):
        for date in ftm_dates(birth["date"]):
            _add(props, "birthDate", date)
    for nationality in entity.get("nationalities", []):
        _add(props, "nationality", nationality["country"].lower())
    for ident in entity.get("identifiers", []):
        _add(
            props, IDENTIFIER_PROPERTIES.get(ident["scheme"], "registrationNumber"), ident["value"]
        )
    designations = entity.get("designations", [])
    if any(d.get("status") == "active" for d in designations):
        _add(props, "topics", "sanction")
    urls = {s["id"]: s.get("url") for s in entity.get("sources", [])}
    out = [
        {
            "id": entity["id"],
            "schema": FTM_SCHEMAS.get(entity.get("type", ""), "LegalEntity"),
            "properties": props,
        }
    ]
    for d in designations:
        sanction: dict[str, list[str]] = {}
        _add(sanction, "entity", entity["id"])
        _add(sanction, "authority", d.get("authority"))
        _add(sanction, "country", d.get("jurisdiction", "").lower())
        _add(sanction, "program", d.get("program") or d.get("list"))
        _add(sanction, "authorityId", d.get("reference"))
        _add(sanction, "startDate", d.get("listed_date"))
        _add(sanction, "endDate", d.get("delisted_date"))
        _add(sanction, "reason", d.get("conduct"))
        _add(sanction, "provisions", d.get("legal_basis"))
        for evidence in d.get("evidence", []):
            _add(sanction, "sourceUrl", urls.get(evidence["source"]))
            _add(sanction, "summary", evidence.get("quote"))
        out.append(
            {"id": f"{entity['id']}.{d['id']}", "schema": "Sanction", "properties": sanction}
        )
    return out


def ftm_lines(entities: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for entity in entities:
        for item in ftm_entities(entity):
            yield json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"
