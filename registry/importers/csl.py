"""csl-csv: the trade.gov Consolidated Screening List (CSV, 28 columns, header).

One record per row: the CSL repeats a party once per source list, and each row
is that list's listing (an SDN row and an SSI row of the same uid are two
records of dataset us-csl, keyed by source abbreviation + `_id`).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .base import (
    Doc,
    ImportFormatError,
    ParsedList,
    Run,
    alias,
    birth_date,
    clip,
    date_from_name,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    one_file,
    parse_iso,
    record_id,
    single,
)
from .bis import clean_requirement
from .countries import country_code
from .identifiers import identifier, ofac_scheme

DATASET = "us-csl"
URL = "https://www.trade.gov/consolidated-screening-list"
COLUMNS = (
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
)
REQUIRED = {"_id", "source", "name"}

# abbreviation -> (authority, list)
SOURCES: dict[str, tuple[str, str]] = {
    "SDN": ("OFAC", "SDN List"),
    "EL": ("BIS", "Entity List"),
    "DTC": ("DDTC", "ITAR Debarred (DTC)"),
    "DPL": ("BIS", "Denied Persons List (DPL)"),
    "SSI": ("OFAC", "Sectoral Sanctions Identifications List (SSI)"),
    "UVL": ("BIS", "Unverified List (UVL)"),
    "ISN": ("State ISN", "Nonproliferation Sanctions (ISN)"),
    "PLC": ("OFAC", "Palestinian Legislative Council List (PLC)"),
    "MEU": ("BIS", "Military End User (MEU) List"),
    "CMIC": ("OFAC", "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC)"),
    "CAP": ("OFAC", "Capta List (CAP)"),
    "MBS": ("OFAC", "Non-SDN Menu-Based Sanctions List (NS-MBS List)"),
    "FSE": ("OFAC", "Foreign Sanctions Evaders (FSE)"),
}
_AGENCY = {
    "Treasury Department": "OFAC",
    "Bureau of Industry and Security": "BIS",
    "State Department": "State",
}
_ABBR = re.compile(r"\(([A-Z][A-Z-]*)(?: List)?\)")
TYPES = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft"}


def source_list(value: str) -> tuple[str, str, str] | None:
    """`Entity List (EL) - Bureau of Industry and Security` -> (EL, BIS, Entity List)."""
    match = _ABBR.search(value)
    if not match:
        return None
    abbr = match[1].removeprefix("NS-")
    if abbr in SOURCES:
        return (abbr, *SOURCES[abbr])
    name, _, agency = value.partition(" - ")
    return abbr, _AGENCY.get(agency.strip(), agency.strip() or "unknown"), name.strip()


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _ids(text: str, source: str) -> list[Doc]:
    """`CN, 91110000MA005UCQ5P, Unified Social Credit Code (USCC); 5030056754, Tax ID No.`

    Items are "[country, ][dates, ]value, label"; only identifier labels are kept.
    """
    out = []
    for item in text.split("; "):
        parts = [p.strip() for p in item.split(", ")]
        if len(parts) < 2:
            continue
        label = parts[-1]
        scheme = ofac_scheme(label)
        if not scheme:
            continue
        country = country_code(parts[0]) if len(parts) >= 3 else None
        doc = identifier(scheme, parts[-2], country, f"CSL: {label}", source)
        if doc:
            out.append(doc)
    return out


def _addresses(text: str, source: str) -> list[Doc]:
    out: list[Doc] = []
    for part in text.split("; "):
        part = part.strip()
        if not part:
            continue
        last = part.rsplit(",", 1)[-1].strip()
        country = country_code(last) if len(last) == 2 else None
        out.append({"full": part, "country": country, "source": source})
    return out


class CslCsv:
    format = "csl-csv"
    description = "trade.gov Consolidated Screening List CSV (one record per row)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files = expand_paths(paths, (".csv",))
        file = one_file(files, "csl-csv", "consolidated.csv")
        text = file.text("utf-8")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = set(reader.fieldnames or ())
        if not header >= REQUIRED:
            raise ImportFormatError(
                f"{file.name}: not a Consolidated Screening List CSV: the header lacks "
                f"{', '.join(sorted(REQUIRED - header))} (expected the 28 CSL columns)."
            )
        published = date_from_name(file.name)
        source = file.source(
            DATASET,
            title="Consolidated Screening List (CSL)",
            publisher="International Trade Administration, U.S. Department of Commerce",
            url=URL,
            published=published,
            published_as_stated=f"file name {file.name}" if published else None,
            notes="Lists of the Departments of Commerce, State and the Treasury in one file.",
        )
        records: list[Doc] = []
        by_id: dict[str, Doc] = {}
        start = 2
        for row in reader:
            line, start = start, reader.line_num + 1
            run.tick()
            if None in row or any(v is None for v in row.values()):
                run.warn(file.name, line, f"expected {len(reader.fieldnames or ())} fields")
                continue
            name = " ".join((row.get("name") or "").split())
            listed = source_list(row.get("source") or "")
            if not name or not row.get("_id") or listed is None:
                what = "no name" if not name else "no _id" if not row.get("_id") else "source"
                run.warn(file.name, line, f"unusable row ({what}): {row.get('source')!r}")
                continue
            abbr, authority, list_name = listed
            key = f"{abbr}.{row['_id']}"
            rid = record_id(DATASET, key)
            run.stats[f"rows_{abbr}"] += 1
            evidence_item = {
                "source": source["id"],
                "locator": f"{file.name}:{line}",
                "row": {k: v for k, v in row.items() if v},
            }
            if rid in by_id:
                # the same listing printed twice (CAP 15268 in the May 2022 file): one record,
                # both rows as evidence
                lists = {id(d["evidence"]): d["evidence"] for d in by_id[rid]["designations"]}
                for evidence_list in lists.values():
                    evidence_list.append(evidence_item)
                run.stats["duplicate_rows_merged"] += 1
                continue
            row = {c: row.get(c) or "" for c in (*COLUMNS, *row)}
            kind = TYPES.get(row["type"].lower())
            if kind is None:
                kind = entity_type(name, default="company" if row["type"] else "unknown")
            addresses = _addresses(row["addresses"], source["id"])
            if kind == "person":
                country = single(
                    country_code(c)
                    for c in _split(row["nationalities"] + ";" + row["citizenships"])
                )
            else:
                country = single(a["country"] for a in addresses)
            names = [
                alias(n.removeprefix("and "), "aka", source["id"]) for n in _split(row["alt_names"])
            ]
            ids: list[Doc | None] = [*_ids(row["ids"], source["id"])]
            if row["entity_number"].isdigit():
                ids.insert(0, identifier("us-ofac-uid", row["entity_number"]))
            start_date = parse_iso(row["start_date"])
            if row["start_date"] and not start_date:
                run.warn(
                    file.name,
                    line,
                    f"start_date {row['start_date']!r} is not a date",
                    skipped=False,
                )
            evidence = [evidence_item]
            programs: list[str | None] = [*_split(row["programs"])] or [None]
            designations = [
                {
                    "id": designation_id(rid, f"{abbr}-{program}" if program else abbr),
                    "jurisdiction": "US",
                    "authority": authority,
                    "list": list_name,
                    "program": program,
                    "listed_date": start_date,
                    "legal_basis": clip(clean_requirement(row["license_requirement"]), 2_000),
                    "reference": row["federal_register_notice"][:500] or None,
                    "evidence": evidence,
                }
                for program in programs
            ]
            doc: Doc = {
                "id": rid,
                "type": kind,
                "name": name,
                "country": country,
                "names": names,
                "identifiers": ids,
                "addresses": addresses,
                "designations": designations,
                "birth_dates": [
                    d for d in map(birth_date, _split(row["dates_of_birth"])) if d is not None
                ],
                "nationalities": [
                    c
                    for c in map(
                        country_code, _split(row["nationalities"] + ";" + row["citizenships"])
                    )
                    if c is not None
                ],
                "notes": " | ".join(
                    t for t in (row["title"] and f"Title: {row['title']}", row["remarks"]) if t
                )[:20_000]
                or None,
            }
            by_id[rid] = finish_record(doc, run.stats)
            records.append(by_id[rid])
        return ParsedList(self.format, DATASET, [source], records, published)
