"""The FollowTheMoney vocabulary yente and reconciliation clients speak, mapped onto
the registry's screening query (`screening.QUERY_FIELDS`) and its entity details.

A FollowTheMoney example (a schema and lists of property values) becomes the
registry's query fields: the schema its `type`, the name properties its names
(several names are screened one by one and the best score per entity kept), the
country properties its `country` hints, `birthDate` its `dob`, `nationality` and
`citizenship` its `nationality`, and the identifier properties its `id_number`.
Values this service cannot use (a date it cannot read, a country it does not
know, a property the schema does not have) are left out, as yente leaves them
out; the answer echoes what was used. Pure functions: no Flask, no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exports import FTM_SCHEMAS, ftm_entities
from ..importers.countries import CODES, country_code
from ..matching.evidence import id_key
from ..screening import MAX_VALUES, MIN_ID_NUMBER

#: FollowTheMoney schema -> the registry's entity type (None: any type).
SCHEMA_TYPES: dict[str, str | None] = {
    "Thing": None,
    "LegalEntity": None,
    "Person": "person",
    "Organization": "organisation",
    "Company": "company",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
#: Label and plural of each schema (FollowTheMoney's own).
SCHEMA_LABELS: dict[str, tuple[str, str]] = {
    "Thing": ("Thing", "Things"),
    "LegalEntity": ("Legal entity", "Legal entities"),
    "Person": ("Person", "People"),
    "Organization": ("Organization", "Organizations"),
    "Company": ("Company", "Companies"),
    "Vessel": ("Vessel", "Vessels"),
    "Airplane": ("Airplane", "Airplanes"),
}

NAME_PROPERTIES = ("name", "alias", "previousName")
# Joined into a name when an example gives no name (yente does the same).
NAME_PARTS = ("firstName", "secondName", "middleName", "fatherName", "lastName")
DOB_PROPERTIES = ("birthDate",)
NATIONALITY_PROPERTIES = ("nationality", "citizenship")
COUNTRY_PROPERTIES = ("country", "jurisdiction", "mainCountry", "flag")
ID_PROPERTIES = (
    "idNumber",
    "passportNumber",
    "registrationNumber",
    "taxNumber",
    "imoNumber",
    "innCode",
    "ogrnCode",
    "leiCode",
    "vatCode",
    "okpoCode",
    "dunsCode",
    "swiftBic",
    "uniqueEntityId",
    "mmsi",
    "serialNumber",
)

_THING = ("name", "alias", "previousName", "country")
_LEGAL = (
    *_THING,
    "jurisdiction",
    "mainCountry",
    "idNumber",
    "registrationNumber",
    "taxNumber",
    "innCode",
    "ogrnCode",
    "leiCode",
    "vatCode",
    "okpoCode",
    "dunsCode",
    "swiftBic",
    "uniqueEntityId",
)
#: The properties this service uses, per schema (each exists on that schema in
#: FollowTheMoney: tests/test_yente.py checks them against its model).
SCHEMA_PROPERTIES: dict[str, frozenset[str]] = {
    "Thing": frozenset(_THING),
    "LegalEntity": frozenset(_LEGAL),
    "Person": frozenset(
        (*_LEGAL, *NAME_PARTS, "birthDate", "nationality", "citizenship", "passportNumber")
    ),
    "Organization": frozenset(_LEGAL),
    "Company": frozenset(_LEGAL),
    "Vessel": frozenset((*_THING, "imoNumber", "mmsi", "flag", "registrationNumber")),
    "Airplane": frozenset((*_THING, "registrationNumber", "serialNumber")),
}

_DATE = re.compile(r"([0-9]{4})(-[0-9]{2}(-[0-9]{2})?)?")
MAX_NAMES = MAX_VALUES
MAX_COUNTRIES = 5


class ExampleError(ValueError):
    """An example this service cannot screen; the message says why."""


@dataclass
class Example:
    """A FollowTheMoney example as the registry screens it."""

    schema: str
    type: str | None
    names: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    dobs: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    used: dict[str, list[str]] = field(default_factory=dict)  # property -> values used

    def queries(self) -> list[dict[str, Any]]:
        """The screening queries: one per name and country hint."""
        base: dict[str, Any] = {"type": self.type}
        if self.dobs:
            base["dob"] = list(self.dobs)
        if self.nationalities:
            base["nationality"] = list(self.nationalities)
        if self.id_numbers:
            base["id_number"] = list(self.id_numbers)
        countries: list[str | None] = list(self.countries) or [None]
        return [
            {**base, "name": name, "country": country}
            for name in self.names
            for country in countries
        ]


def values_of(raw: Any) -> list[str]:
    """A property's values: a string, a number, or a list of them (nested entities
    and other shapes are left out, as yente does)."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        text = " ".join(str(item).split())
        if text and text not in out:
            out.append(text)
    return out


def parse_example(schema: Any, properties: Any) -> Example:
    """A schema and its properties (the body of a yente query, or the type and
    properties of a reconciliation query) as the registry screens them."""
    if not isinstance(schema, str) or schema not in SCHEMA_TYPES:
        raise ExampleError(
            f"Unknown or non-matchable schema: {schema!r}; use one of {', '.join(SCHEMA_TYPES)}."
        )
    if not isinstance(properties, Mapping):
        raise ExampleError("properties must be an object of property names and values.")
    allowed = SCHEMA_PROPERTIES[schema]
    example = Example(schema=schema, type=SCHEMA_TYPES[schema])
    values = {
        prop: values_of(raw)
        for prop, raw in properties.items()
        if isinstance(prop, str) and prop in allowed
    }

    def use(prop: str, value: str) -> None:
        example.used.setdefault(prop, [])
        if value not in example.used[prop]:
            example.used[prop].append(value)

    for prop in NAME_PROPERTIES:
        for name in values.get(prop, []):
            if name not in example.names:
                example.names.append(name)
            use(prop, name)
    if not example.names:
        parts = [" ".join(values.get(p, [])) for p in NAME_PARTS if values.get(p)]
        if parts:
            example.names.append(" ".join(parts))
            for prop in NAME_PARTS:
                for value in values.get(prop, []):
                    use(prop, value)
    for prop in COUNTRY_PROPERTIES:
        for value in values.get(prop, []):
            code = to_country(value)
            if code is not None:
                if code not in example.countries:
                    example.countries.append(code)
                use(prop, code.lower())
    for prop in NATIONALITY_PROPERTIES:
        for value in values.get(prop, []):
            code = to_country(value)
            if code is not None:
                if code not in example.nationalities:
                    example.nationalities.append(code)
                use(prop, code.lower())
    for prop in DOB_PROPERTIES:
        for value in values.get(prop, []):
            date = to_date(value)
            if date is not None:
                if date not in example.dobs:
                    example.dobs.append(date)
                use(prop, date)
    for prop in ID_PROPERTIES:
        for value in values.get(prop, []):
            if len(id_key(value)) >= MIN_ID_NUMBER and len(value) <= 100:
                if value not in example.id_numbers:
                    example.id_numbers.append(value)
                use(prop, value)
    if not example.names:
        raise ExampleError(
            "Give a name (name, alias, previousName, or firstName and lastName): "
            "this service matches on names."
        )
    for what, found, most in (
        ("names", example.names, MAX_NAMES),
        ("countries", example.countries, MAX_COUNTRIES),
        ("dates of birth", example.dobs, MAX_VALUES),
        ("nationalities", example.nationalities, MAX_VALUES),
        ("identifiers", example.id_numbers, MAX_VALUES),
    ):
        if len(found) > most:
            raise ExampleError(f"Give at most {most} {what}; this example has {len(found)}.")
    return example


def to_country(value: str) -> str | None:
    """A country code (ru, RU) or an English country name, as its ISO code."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code: str | None = text.upper()
    else:
        code = country_code(text[:100])
    return code if code in CODES else None


def to_date(value: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD, from a date or a date-time; None otherwise."""
    found = _DATE.match(value.strip())
    if found is None:
        return None
    rest = value.strip()[found.end() :]
    if rest and not rest.startswith("T"):
        return None
    date = found.group(0)
    parts = [int(p) for p in date.split("-")]
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        return None
    if len(parts) > 2 and not 1 <= parts[2] <= 31:
        return None
    return date


# -- the registry's entities as FollowTheMoney ----------------------------------------


def schema_of(entity_type: str | None) -> str:
    return FTM_SCHEMAS.get(entity_type or "", "LegalEntity")


def datasets_of(detail: Mapping[str, Any]) -> list[str]:
    return sorted({r["dataset"] for r in detail.get("records", [])})


def entity_response(detail: Mapping[str, Any], *, nested: bool = False) -> dict[str, Any]:
    """An entity detail (`queries.get_entity`) as yente's EntityResponse: the
    FollowTheMoney entity, its datasets and the records merged into it; with
    `nested`, its sanctions (one per designation) nested under `sanctions`, as
    yente nests adjacent entities."""
    subject, *sanctions = ftm_entities(detail)
    datasets = datasets_of(detail)
    properties: dict[str, list[Any]] = dict(subject["properties"])
    if nested and sanctions:
        by_record = {r["id"]: r["dataset"] for r in detail.get("records", [])}
        designations = detail.get("designations", [])
        properties["sanctions"] = [
            {
                "id": sanction["id"],
                "caption": _sanction_caption(sanction),
                "schema": "Sanction",
                # The back-reference to the entity is the parent itself (yente leaves it out).
                "properties": {k: v for k, v in sanction["properties"].items() if k != "entity"},
                "datasets": [by_record.get(d.get("record"), datasets[0] if datasets else "")],
                "referents": [],
                "target": False,
                "first_seen": None,
                "last_seen": None,
                "last_change": None,
            }
            for sanction, d in zip(sanctions, designations, strict=False)
        ]
    active = any(d.get("status") == "active" for d in detail.get("designations", []))
    return {
        "id": detail["id"],
        "caption": detail["name"],
        "schema": subject["schema"],
        "properties": properties,
        "datasets": datasets,
        "referents": [r["id"] for r in detail.get("records", []) if r["id"] != detail["id"]],
        "target": active,
        "first_seen": detail.get("created_at"),
        "last_seen": detail.get("updated_at"),
        "last_change": detail.get("updated_at"),
    }


def _sanction_caption(sanction: Mapping[str, Any]) -> str:
    props = sanction["properties"]
    for key in ("program", "authority", "reason"):
        if props.get(key):
            return str(props[key][0])
    return "Sanction"


def schema_names(types: Iterable[str]) -> list[str]:
    """The FollowTheMoney schemata of registry entity types."""
    return sorted({schema_of(t) for t in types})
