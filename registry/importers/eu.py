"""eu-json: the EU consolidated financial sanctions list (with the UN list merged in), as
aggregated into {metadata, entities: [{name, type, aliases, birthdates, identifiers,
source, source_id}]}. Dates of birth are kept as the file gives them: its many 1
January dates stand for a year whose day is unknown, and screening reads them so.

An entity on both lists gets an EU designation (Council of the EU) and a UN one (UN
Security Council). Entities only on the OFAC non-SDN list are out of scope (the ofac-csv
format reads that list from OFAC's own files) and are counted, not parsed. The data
gives no programmes, listing dates or addresses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .base import (
    Doc,
    ImportFormatError,
    ParsedList,
    Run,
    alias,
    birth_date,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    load_json,
    one_file,
    parse_iso,
    record_id,
)
from .countries import country_code
from .identifiers import EU_ID_TYPES, identifier, ofac_scheme

DATASET = "eu-fsf"
URL = "https://webgate.ec.europa.eu/fsd/fsf"
NOTE = "The EU data held gives no programme or listing date."
_UN_REF = re.compile(r"^[A-Z]{2}[ie]\.\d+$")
TYPES = {"individual": "person", "person": "person", "vessel": "vessel", "aircraft": "aircraft"}


def _identifiers(items: list[Any], source: str) -> list[Doc | None]:
    out: list[Doc | None] = []
    for item in items:
        if not isinstance(item, dict) or not item.get("type") or not item.get("number"):
            continue  # untyped entries repeat a typed one
        label = " ".join(str(item["type"]).split())
        scheme = EU_ID_TYPES.get(label) or EU_ID_TYPES.get(label.lower()) or ofac_scheme(label)
        if not scheme:
            continue
        country = country_code(str(item.get("country") or ""))
        out.append(identifier(scheme, str(item["number"]), country, f"EU field {label}", source))
    return out


class EuJson:
    format = "eu-json"
    description = "EU consolidated financial sanctions list + UN list, aggregated JSON"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files = expand_paths(paths, (".json",))
        files = [p for p in files if p.name != "manifest.json"]
        file = one_file(files, "eu-json", "all.json")
        data = load_json(file, "the EU/UN aggregate")
        entities = data.get("entities") if isinstance(data, dict) else None
        if (
            not isinstance(entities, list)
            or not entities
            or not any(
                isinstance(e, dict) and {"name", "source", "source_id"} <= set(e)
                for e in entities[:10]
            )
        ):
            raise ImportFormatError(
                f"{file.name}: not the EU/UN aggregate JSON: expected {{metadata, entities: "
                "[{name, type, aliases, identifiers, source, source_id}]}."
            )
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        generated = parse_iso(str(meta.get("generated") or ""))
        source = file.source(
            DATASET,
            title="Consolidated list of persons, groups and entities subject to EU financial "
            "sanctions",
            publisher="European Commission",
            url=URL,
            published=generated,
            published_as_stated=f"generated {meta['generated']}" if generated else None,
            notes="Aggregate of the EU list (with the UN list merged in): names, aliases and "
            "identifiers, without programmes, listing dates or addresses.",
        )
        run.expect(len(entities))
        records = []
        seen: set[str] = set()
        for number, entity in enumerate(entities, 1):
            run.tick()
            if not isinstance(entity, dict):
                run.warn(file.name, number, f"entity {number} is not an object")
                continue
            lists = entity.get("source") if isinstance(entity.get("source"), list) else []
            name = " ".join(str(entity.get("name") or "").split())
            key = str(entity.get("source_id") or "").strip()
            if not name or not key or not lists:
                run.warn(file.name, number, f"entity {number} lacks a name, source or source_id")
                continue
            for listed in lists:
                run.stats[f"listed_{str(listed).lower()}"] += 1
            on_eu, on_un = "EU" in lists, "UN" in lists
            if not (on_eu or on_un):
                run.stats["out_of_scope"] += 1
                continue
            rid = record_id(DATASET, key)
            if rid in seen:
                run.warn(file.name, number, f"source_id {key} listed twice")
                continue
            seen.add(rid)
            evidence = [
                {
                    "source": source["id"],
                    "locator": f"{file.name}:{number}",
                    "row": entity,
                    "note": NOTE,
                }
            ]
            designations: list[Doc] = []
            if on_eu:
                designations.append(
                    {
                        "id": designation_id(rid, "eu"),
                        "jurisdiction": "EU",
                        "authority": "Council of the EU",
                        "list": "EU consolidated financial sanctions list",
                        "reference": key,
                        "evidence": evidence,
                    }
                )
            if on_un:
                designations.append(
                    {
                        "id": designation_id(rid, "un"),
                        "jurisdiction": "UN",
                        "authority": "UN Security Council",
                        "list": "UN Security Council Consolidated List",
                        "reference": key if _UN_REF.match(key) else None,
                        "evidence": evidence,
                    }
                )
            identifiers: list[Doc | None] = []
            if on_eu:
                identifiers.append(identifier("eu-fsf-id", key, source=source["id"]))
            elif _UN_REF.match(key):
                identifiers.append(identifier("un-ref", key, source=source["id"]))
            identifiers += _identifiers(entity.get("identifiers") or [], source["id"])
            raw_type = str(entity.get("type") or "").lower()
            doc = {
                "id": rid,
                "type": TYPES.get(raw_type) or entity_type(name),
                "name": name,
                "names": [alias(str(a), "aka", source["id"]) for a in entity.get("aliases") or ()],
                "identifiers": identifiers,
                "designations": designations,
                # ISO dates or "12 Feb 1961" (some entries also hold numbers and booleans)
                "birth_dates": [
                    d
                    for d in (
                        birth_date(b) for b in entity.get("birthdates") or [] if isinstance(b, str)
                    )
                    if d is not None
                ],
            }
            records.append(finish_record(doc, run.stats))
        return ParsedList(self.format, DATASET, [source], records, generated)
