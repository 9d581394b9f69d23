"""Record documents: canonical form, content hash, merge keys and entity summaries.

A record is what one dataset (a fixture set, a list import, a hand edit) says
about one subject. Its document has the shape of `schemas.EntitySchema`. These
functions are pure: no SQL, no Flask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.fields import date_bounds

from .names import detect_script, identifier_key, name_key

# Identifier values shorter than this are too common to merge records on
# unless both records use the same scheme.
MIN_CROSS_SCHEME_IDENTIFIER = 8


_EMPTY: tuple[Any, ...] = (None, "", [], {})


def compact(value: Any) -> Any:
    """Drop None, empty strings and empty containers, recursively, so that an
    absent field and an explicit null hash the same. Official rows quoted as
    evidence (`row`) are kept exactly as published."""
    if isinstance(value, Mapping):
        out = {k: v if k == "row" else compact(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in _EMPTY}
    if isinstance(value, list):
        items = [compact(v) for v in value]
        return [v for v in items if v not in _EMPTY]
    return value


def _strip(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v not in _EMPTY}


def canonical_entity(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of an entity document: primary name listed among the
    names, duplicate names dropped, scripts filled in, nulls removed.

    Written for the document shape rather than with `compact`, because imports
    canonicalise tens of thousands of records."""
    out = _strip(doc)
    for part in ("identifiers", "addresses"):
        if part in out:
            out[part] = [_strip(item) for item in out[part]]
    if "designations" in out:
        out["designations"] = [
            {**_strip(d), "evidence": [_strip(e) for e in d["evidence"]]}
            for d in out["designations"]
        ]
    for part in ("birth_dates", "nationalities"):
        if part in out:
            out[part] = list(dict.fromkeys(out[part]))  # each once, in the order given
    names: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for item in [{"name": out["name"], "kind": "primary"}, *out.get("names", [])]:
        item = _strip(item)
        item.setdefault("kind", "aka")
        if item["kind"] == "primary" and item["name"] != out["name"]:
            item["kind"] = "variation"  # one primary per record: the record's name
        if (item["name"], item["kind"]) in seen:
            continue
        seen.add((item["name"], item["kind"]))
        if "script" not in item:
            script = detect_script(item["name"])
            if script:
                item["script"] = script
        names.append(item)
    out["names"] = names
    return out


def dumps(doc: Any) -> str:
    """The one serialisation of documents: stored, hashed and compared as is.
    Compact, UTF-8, sorted keys (the same text json.dumps would give, 10x faster)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()


def encode(doc: Any) -> tuple[str, str]:
    """(serialised document, its SHA-256), computed once."""
    raw = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return raw.decode(), hashlib.sha256(raw).hexdigest()


def doc_hash(doc: Any) -> str:
    return encode(doc)[1]


_POINTERS = ("source", "locator")


def content_hash(doc: Mapping[str, Any]) -> str:
    """The hash of what a record says, without where it was last read: evidence
    and part `source`/`locator` pointers are left out, official rows kept. Two
    snapshots of a list give the same content hash for an unchanged entry."""

    def strip(items: Any) -> list[Any]:
        return [{k: v for k, v in i.items() if k not in _POINTERS} for i in items or []]

    content = dict(doc)
    for part in ("names", "identifiers", "addresses"):
        if part in content:
            content[part] = strip(content[part])
    if "designations" in content:
        content["designations"] = [
            {**d, "evidence": strip(d.get("evidence"))} for d in content["designations"]
        ]
    return doc_hash(content)


@dataclass(frozen=True)
class MergeKeys:
    """What may tie a new record to an existing entity."""

    identifiers: frozenset[tuple[str, str, str | None]]  # (scheme, value key, country)
    names: frozenset[str]  # exact name keys
    countries: frozenset[str]
    type: str


def merge_keys(doc: Mapping[str, Any]) -> MergeKeys:
    identifiers = frozenset(
        (str(i["scheme"]), identifier_key(str(i["value"])), i.get("country"))
        for i in doc.get("identifiers", [])
        if identifier_key(str(i["value"]))
    )
    names = frozenset(
        key
        for key in (
            name_key(n["name"]) for n in doc.get("names", []) if n.get("kind") != "weak_aka"
        )
        if key
    )
    return MergeKeys(identifiers, names, entity_countries(doc), str(doc.get("type", "unknown")))


# Lists file Hong Kong and Macau addresses under China or on their own: for
# deciding whether two records share a country, they do.
COUNTRY_FAMILIES = {"CN": {"CN", "HK", "MO"}, "HK": {"CN", "HK"}, "MO": {"CN", "MO"}}


def with_related_countries(countries: Iterable[str]) -> frozenset[str]:
    """The countries, plus those a list may file the same place under."""
    out: set[str] = set()
    for country in countries:
        out |= COUNTRY_FAMILIES.get(country, {country})
    return frozenset(out)


def entity_countries(doc: Mapping[str, Any]) -> frozenset[str]:
    countries = {doc["country"]} if doc.get("country") else set()
    countries.update(a["country"] for a in doc.get("addresses", []) if a.get("country"))
    return frozenset(countries)


def identifiers_agree(a: tuple[str, str, str | None], b: tuple[str, str, str | None]) -> bool:
    """Two identifiers name the same subject: same value, compatible country, and
    either the same scheme or a value long enough to be unambiguous."""
    scheme_a, value_a, country_a = a
    scheme_b, value_b, country_b = b
    if value_a != value_b:
        return False
    if country_a and country_b and country_a != country_b:
        return False
    return scheme_a == scheme_b or (
        len(value_a) >= MIN_CROSS_SCHEME_IDENTIFIER and any(c.isdigit() for c in value_a)
    )


def types_compatible(a: str, b: str) -> bool:
    if "unknown" in (a, b) or a == b:
        return True
    return {a, b} == {"company", "organisation"}


@dataclass(frozen=True)
class ExistingRecord:
    """A current record of another dataset, as merge candidates are described."""

    record_id: str
    entity_id: str
    dataset: str
    keys: MergeKeys


def choose_entity(
    record_id: str, dataset: str, keys: MergeKeys, candidates: Iterable[ExistingRecord]
) -> tuple[str, dict[str, Any]]:
    """Pick the entity a new record joins, and say why.

    Only two rules merge, in this order: a shared strong identifier; or, for
    anything but a person, an identical normalised name plus a shared country.
    Records of the same dataset are never merged (a list does not list one
    subject twice), and a fuzzy score never merges anything.
    """
    by_identifier: list[tuple[str, str]] = []
    by_name: list[tuple[str, str]] = []
    for cand in candidates:
        if cand.dataset == dataset or not types_compatible(keys.type, cand.keys.type):
            continue
        shared = sorted(
            f"{mine[0]} {mine[1]} = {theirs[0]} {theirs[1]}"
            for mine in keys.identifiers
            for theirs in cand.keys.identifiers
            if identifiers_agree(mine, theirs)
        )
        if shared:
            by_identifier.append(
                (cand.entity_id, f"identifier {shared[0]} (record {cand.record_id})")
            )
            continue
        if "person" in (keys.type, cand.keys.type):
            continue
        names = sorted(keys.names & cand.keys.names)
        countries = sorted(
            (keys.countries & with_related_countries(cand.keys.countries))
            | (cand.keys.countries & with_related_countries(keys.countries))
        )
        if names and countries:
            by_name.append(
                (
                    cand.entity_id,
                    f"name '{names[0]}' and country {countries[0]} (record {cand.record_id})",
                )
            )
    for rule, found in (("identifier", by_identifier), ("name_and_country", by_name)):
        if found:
            entity_id, detail = sorted(found)[0]
            return entity_id, {"rule": rule, "detail": detail}
    return record_id, {"rule": "new", "detail": "no record of another list matched"}


def delist(doc: Mapping[str, Any], date: str, evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The document after its list dropped it: every open designation gets a
    delisted date and the evidence of its absence. Nothing else changes."""
    out = json.loads(json.dumps(doc))
    for designation in out.get("designations", []):
        if not designation.get("delisted_date"):
            designation["delisted_date"] = date
            designation["evidence"] = [*designation.get("evidence", []), dict(evidence)]
    return out


def designation_status(designation: Mapping[str, Any]) -> str:
    return "delisted" if designation.get("delisted_date") else "active"


def summarise_entity(
    entity_id: str, records: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """The entity's summary row from its current (not deleted) records.

    The record that founded the entity (same id) names it; type and country come
    from the first record that states them.
    """
    ordered = sorted(records, key=lambda r: (r[0] != entity_id, r[0]))
    docs = [doc for _, doc in ordered]
    entity_type = next(
        (d["type"] for d in docs if d.get("type") not in (None, "unknown")), "unknown"
    )
    country = next((d["country"] for d in docs if d.get("country")), None)
    designations = [x for d in docs for x in d.get("designations", [])]
    if any(designation_status(x) == "active" for x in designations):
        status = "active"
    elif designations:
        status = "delisted"
    else:
        status = "unlisted"
    listed = [date_bounds(x["listed_date"])[0] for x in designations if x.get("listed_date")]
    return {
        "id": entity_id,
        "type": entity_type,
        "name": docs[0]["name"],
        "country": country,
        "status": status,
        "first_listed": min(listed) if listed else None,
    }


def diff_docs(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """What changed between two versions of a document: fields with old and new
    values; for lists, the items added and removed."""
    before, after = before or {}, after or {}
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if _keyed(old) and _keyed(new) and (old or new):
            # Designations have ids: say which changed and how, not remove-and-add.
            before_by_id = {i["id"]: i for i in old or []}
            after_by_id = {i["id"]: i for i in new or []}
            out[key] = {
                "added": [after_by_id[i] for i in after_by_id if i not in before_by_id],
                "removed": [before_by_id[i] for i in before_by_id if i not in after_by_id],
                "changed": {
                    i: diff_docs(before_by_id[i], after_by_id[i])
                    for i in after_by_id
                    if i in before_by_id and before_by_id[i] != after_by_id[i]
                },
            }
        elif isinstance(old, list) or isinstance(new, list):
            # Compare what items say, not where they were read (see content_hash).
            old_items = [dumps(_unpointed(i)) for i in old or []]
            new_items = [dumps(_unpointed(i)) for i in new or []]
            if sorted(old_items) == sorted(new_items):
                continue
            out[key] = {
                "added": [json.loads(i) for i in new_items if i not in old_items],
                "removed": [json.loads(i) for i in old_items if i not in new_items],
            }
        else:
            out[key] = {"before": old, "after": new}
    return out


def _keyed(items: Any) -> bool:
    return items is None or (
        isinstance(items, list) and all(isinstance(i, Mapping) and "id" in i for i in items)
    )


def _unpointed(item: Any) -> Any:
    return (
        {k: v for k, v in item.items() if k not in _POINTERS} if isinstance(item, Mapping) else item
    )
