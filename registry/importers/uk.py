"""uk-csv: the UK Sanctions List as five CSV files joined on unique_id.

    subjects.csv             unique_id, subject_type, un_reference_number, ofsi_group_id,
                             date_designated (dd/mm/yyyy), last_updated
    subject_names.csv        name_id, unique_id, name_type, alias_strength, full_name, ...
    subject_identifiers.csv  id, unique_id, ofsi_group_id, raw_value, identifier_type,
                             additional_info
    subject_countries.csv    id, unique_id, raw_value, country_type, iso, ...
    subject_dobs.csv         dob_id, unique_id, year, month, day, precision, parse_issues

Files are recognised by their header, so a folder or the files in any order will do.
The data holds no street addresses and no statement of reasons.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from .base import (
    Doc,
    ImportFormatError,
    InputFile,
    ParsedList,
    Run,
    alias,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    parse_dmy,
    partial_date,
    record_id,
    single,
)
from .identifiers import identifier

DATASET = "gb-hmt"
URL = "https://www.gov.uk/government/publications/the-uk-sanctions-list"
PUBLISHER = "Foreign, Commonwealth & Development Office"

# header columns that identify each file
KINDS: dict[str, set[str]] = {
    "subjects": {"unique_id", "subject_type", "date_designated"},
    "names": {"unique_id", "name_type", "full_name"},
    "identifiers": {"unique_id", "raw_value", "identifier_type"},
    "countries": {"unique_id", "country_type", "iso"},
    "dobs": {"unique_id", "dob_id", "year"},
}
TITLES = {
    "subjects": "UK Sanctions List: designated subjects",
    "names": "UK Sanctions List: names",
    "identifiers": "UK Sanctions List: identifiers",
    "countries": "UK Sanctions List: countries",
    "dobs": "UK Sanctions List: dates of birth",
}

# The regime of a UK reference prefix, as the designations under each prefix show it
# (their UN references, countries and dates: AQD rows carry QD UN refs, GIM rows start in
# July 2025 with people-smuggling gangs, ...).
PROGRAMS = {
    "AFG": "Afghanistan",
    "AQD": "ISIL (Da'esh) and Al-Qaida",
    "BEL": "Belarus",
    "BIH": "Bosnia and Herzegovina",
    "CAF": "Central African Republic",
    "CHW": "Chemical Weapons",
    "CTD": "Counter-Terrorism (Domestic)",
    "CTI": "Counter-Terrorism (International)",
    "CYB": "Cyber",
    "DPR": "Democratic People's Republic of Korea",
    "DRC": "Democratic Republic of the Congo",
    "GAC": "Global Anti-Corruption",
    "GHR": "Global Human Rights",
    "GIM": "Global Irregular Migration and Trafficking in Persons",
    "GUB": "Guinea-Bissau",
    "GUC": "Republic of Guinea",
    "HAI": "Haiti",
    "INU": "Iran (Nuclear)",
    "IRN": "Iran",
    "IRQ": "Iraq",
    "LIB": "Libya",
    "MAL": "Mali",
    "MYA": "Myanmar",
    "NIC": "Nicaragua",
    "RUS": "Russia",
    "SOM": "Somalia",
    "SSU": "South Sudan",
    "SUD": "Sudan",
    "SYR": "Syria",
    "VEN": "Venezuela",
    "YEM": "Yemen",
}
TYPES = {"individual": "person", "ship": "vessel"}
# subject_identifiers.csv identifier_type -> the shared scheme (see identifiers.py)
ID_TYPES = {
    "passport": "passport",
    "passports": "passport",
    "national": "national-id",
    "business_registration_numbers": "registration-number",
    "imo": "imo",
}
NAME_KINDS = {"primary": "variation", "primary_variation": "variation", "alias": "aka"}
STRENGTH = {"good_quality_aka": "aka", "low_quality_aka": "weak_aka"}


class Table:
    def __init__(self, file: InputFile, kind: str, rows: list[tuple[int, dict[str, str]]]):
        self.file = file
        self.kind = kind
        self.rows = rows
        self.source: Doc = {}


def _read(path: Path) -> Table:
    file = InputFile.read(path)
    reader = csv.reader(io.StringIO(file.text("utf-8"), newline=""))
    header = next(reader, [])
    kind = next((k for k, cols in KINDS.items() if cols <= set(header)), None)
    if kind is None:
        raise ImportFormatError(
            f"{file.name}: not a UK Sanctions List file: its header "
            f"({', '.join(header or ['none'])[:120]}) matches none of subjects, "
            "subject_names, subject_identifiers, subject_countries, subject_dobs."
        )
    width = len(header)
    rows: list[tuple[int, dict[str, str]]] = []
    start = 2
    for fields in reader:
        line, start = start, reader.line_num + 1
        # a row of the wrong width is kept empty: _good() rejects it with its line
        rows.append((line, dict(zip(header, fields, strict=True)) if len(fields) == width else {}))
    return Table(file, kind, rows)


def _good(row: dict[str, str]) -> bool:
    return bool(row.get("unique_id", "").strip())


class UkCsv:
    format = "uk-csv"
    description = "UK Sanctions List CSV files (subjects + names, identifiers, countries, dobs)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        tables: dict[str, Table] = {}
        for path in expand_paths(paths, (".csv",)):
            table = _read(path)
            if table.kind in tables:
                raise ImportFormatError(
                    f"{table.file.name} and {tables[table.kind].file.name} are both "
                    f"{table.kind} files; give one of each."
                )
            tables[table.kind] = table
        if "subjects" not in tables:
            raise ImportFormatError(
                "uk-csv needs subjects.csv (unique_id, subject_type, date_designated); the "
                "other files only add names, identifiers, countries and dates of birth."
            )
        run.expect(sum(len(t.rows) for t in tables.values()))
        for table in tables.values():
            table.source = table.file.source(
                DATASET,
                title=TITLES[table.kind],
                publisher=PUBLISHER,
                url=URL,
                notes="UK Sanctions List rows as transformed into CSV tables joined on "
                "unique_id (the UK sanctions list reference).",
            )

        joined: dict[str, dict[str, list[tuple[int, dict[str, str]]]]] = {
            kind: defaultdict(list) for kind in KINDS
        }
        for kind, table in tables.items():
            if kind == "subjects":
                continue
            for line, row in table.rows:
                run.tick()
                if not _good(row):
                    run.warn(table.file.name, line, "malformed row (field count or unique_id)")
                    continue
                joined[kind][row["unique_id"].strip()].append((line, row))
            run.stats[f"{kind}_rows"] = len(table.rows)

        subjects = tables["subjects"]
        records = []
        seen: set[str] = set()
        for line, row in subjects.rows:
            run.tick()
            if not _good(row):
                run.warn(subjects.file.name, line, "malformed row (field count or unique_id)")
                continue
            ref = row["unique_id"].strip()
            if ref in seen:
                run.warn(subjects.file.name, line, f"{ref} listed twice")
                continue
            seen.add(ref)
            doc = self._record(ref, line, row, joined, tables, run)
            if doc:
                records.append(finish_record(doc, run.stats))
        for kind in ("names", "identifiers", "countries", "dobs"):
            run.stats[f"{kind}_rows_unmatched"] = sum(
                len(v) for k, v in joined[kind].items() if k not in seen
            )
        sources = [subjects.source] + [t.source for k, t in tables.items() if k != "subjects"]
        return ParsedList(self.format, DATASET, sources, records, None)

    def _record(
        self,
        ref: str,
        line: int,
        row: dict[str, str],
        joined: dict[str, dict[str, list[tuple[int, dict[str, str]]]]],
        tables: dict[str, Table],
        run: Run,
    ) -> Doc | None:
        subjects = tables["subjects"]
        rid = record_id(DATASET, ref)
        name_rows = [r for _, r in joined["names"].get(ref, ())]
        names_source = tables["names"].source.get("id") if "names" in tables else None
        primary = next((r for r in name_rows if r["name_type"] == "primary"), None)
        if primary is None and not name_rows:
            run.warn(subjects.file.name, line, f"{ref} has no name")
            return None
        primary = primary or name_rows[0]
        name = " ".join(primary["full_name"].split())
        names = []
        for r in name_rows:
            if r is primary:
                continue
            kind = STRENGTH.get(r.get("alias_strength", "")) or NAME_KINDS.get(
                r["name_type"], "aka"
            )
            names.append(alias(r["full_name"], kind, names_source))

        ids_source = tables["identifiers"].source.get("id") if "identifiers" in tables else None
        identifiers = [
            identifier("uk-sanctions-list-ref", ref, "GB", source=subjects.source["id"]),
            identifier(
                "ofsi-group-id", row.get("ofsi_group_id", ""), "GB", source=subjects.source["id"]
            ),
            identifier("un-ref", row.get("un_reference_number", ""), source=subjects.source["id"]),
        ]
        id_rows = [r for _, r in joined["identifiers"].get(ref, ())]
        for r in id_rows:
            field = r["identifier_type"].strip()
            info = " ".join((r.get("additional_info") or "").split())
            note = f"UK Sanctions List field {field}" + (f"; {info}" if info else "")
            scheme = ID_TYPES.get(field, field.removesuffix("s"))
            identifiers.append(identifier(scheme, r["raw_value"], None, note[:1000], ids_source))

        country_rows = [r for _, r in joined["countries"].get(ref, ())]
        kind = TYPES.get(row["subject_type"].strip().lower()) or entity_type(name)
        wanted = "nationality" if kind == "person" else "address"
        country = single(r["iso"].strip() for r in country_rows if r["country_type"] == wanted)

        listed = parse_dmy(row.get("date_designated"))
        if row.get("date_designated") and not listed:
            run.warn(
                subjects.file.name,
                line,
                f"{ref}: date_designated {row['date_designated']!r} is not a dd/mm/yyyy date",
                skipped=False,
            )
        evidence_row = {k: v for k, v in row.items() if v}
        evidence_row["primary_name"] = primary["full_name"]
        others = _unique(
            f"{r['name_type']}:{r['full_name']}" for r in name_rows if r is not primary
        )
        evidence_row["other_names(name_type:full_name)"] = " | ".join(others)
        evidence_row["identifiers"] = " | ".join(
            _unique(f"{r['identifier_type']}:{r['raw_value']}" for r in id_rows)
        )
        evidence_row["countries"] = " | ".join(
            _unique(f"{r['country_type']}:{r['iso'] or r['raw_value']}" for r in country_rows)
        )
        dob_rows = [r for _, r in joined["dobs"].get(ref, ())]
        dobs = _unique(
            "-".join(p for p in (r["year"], r["month"], r["day"]) if p) for r in dob_rows
        )
        # The year, month and day the file gives (its parse_issues say which are missing).
        birth_dates = _unique(
            partial_date(r["year"], r.get("month"), r.get("day")) or "" for r in dob_rows
        )
        nationalities = _unique(
            r["iso"].strip() for r in country_rows if r["country_type"] == "nationality"
        )
        if dobs:
            evidence_row["dobs"] = " | ".join(dobs)
        prefix = "".join(ch for ch in ref[:3] if ch.isalpha()).upper()
        designation = {
            "id": designation_id(rid, "uksl"),
            "jurisdiction": "GB",
            "authority": "FCDO",
            "list": "UK Sanctions List",
            "program": PROGRAMS.get(prefix),
            "listed_date": listed,
            "reference": ref,
            "evidence": [
                {
                    "source": subjects.source["id"],
                    "locator": f"{subjects.file.name}:{line}",
                    "row": {k: v for k, v in evidence_row.items() if v},
                }
            ],
        }
        return {
            "id": rid,
            "type": kind,
            "name": name,
            "country": country,
            "names": names,
            "identifiers": identifiers,
            "designations": [designation],
            "birth_dates": birth_dates,
            "nationalities": [c for c in nationalities if len(c) == 2 and c.isupper()],
        }


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out
