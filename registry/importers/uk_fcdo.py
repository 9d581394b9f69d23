"""uk-fcdo-csv: the UK Sanctions List as the FCDO publishes it (UK-Sanctions-List.csv).

    Report Date: 13-Feb-2026
    Last Updated,Unique ID,OFSI Group ID,UN Reference Number,Name 6,Name 1,...,Name 5,
    Name type,Alias strength,Title,Name non-latin script,...,Regime Name,Designation Type,
    ...,Other Information,UK Statement of Reasons,Address Line 1..6,Address Postal Code,
    Address Country,...,Date Designated,D.O.B,Nationality(/ies),National Identifier number,
    ...,Passport number,...,Business registration number (s),IMO number,... (58 columns)

One line per name (and address) of a designated subject; the lines of one subject share
its Unique ID (the UK sanctions list reference, e.g. RUS2110), which keys the record, so
records keep the ids of the uk-csv tables derived from the same list. Name 6 is the family
name (or the whole name of an entity): a person's name reads "Name 1 .. Name 5 Name 6".
The first line states the publication date.
"""

from __future__ import annotations

import csv
import datetime as dt
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
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    one_file,
    parse_dmy,
    partial_date,
    record_id,
    single,
)
from .countries import country_code
from .identifiers import identifier
from .uk import PROGRAMS

DATASET = "gb-hmt"
URL = "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv"
PUBLISHER = "Foreign, Commonwealth & Development Office"
REQUIRED = ("Unique ID", "Name 6", "Name type", "Designation Type")
NAME_PARTS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")
TYPES = {"individual": "person", "ship": "vessel"}
ADDRESS_LINES = tuple(f"Address Line {i}" for i in range(1, 7))
_REPORT_DATE = re.compile(r"^\s*Report Date:\s*(\d{1,2}-[A-Za-z]{3}-\d{4})\s*$")
_REGIME = re.compile(r"^(?:The\s+)?(.+?)\s+\(Sanctions\)", re.IGNORECASE)
# identifier columns -> (scheme, column with more about it)
ID_COLUMNS = {
    "National Identifier number": ("national-id", "National Identifier additional information"),
    "Passport number": ("passport", "Passport additional information"),
    "Business registration number (s)": ("registration-number", None),
    "IMO number": ("imo", None),
}


def _report_date(line: str) -> str | None:
    match = _REPORT_DATE.match(line)
    if not match:
        return None
    try:
        return dt.datetime.strptime(match.group(1), "%d-%b-%Y").date().isoformat()
    except ValueError:
        return None


def _name(row: dict[str, str]) -> str:
    return " ".join(" ".join(row.get(p, "").split()) for p in NAME_PARTS if row.get(p, "").strip())


def _dob(text: str) -> str | None:
    """The D.O.B column: dd/mm/yyyy, with 00 (or nothing) for what the list does not know."""
    parts = [p.strip() for p in text.strip().split("/")]
    if len(parts) == 3 and parts[2].isdigit():
        day, month, year = parts
        known_month = month if month.strip("0") else None
        known_day = day if day.strip("0") and known_month else None
        return partial_date(year, known_month, known_day)
    return birth_date(text)


def _countries(text: str) -> list[str]:
    """Nationality(/ies): names, several split by commas, semicolons or (1) (2) numbering."""
    return [
        code
        for part in re.split(r"[,;|]|\(\d+\)", text or "")
        if part.strip() and (code := country_code(part.strip()))
    ]


def _program(ref: str, regime: str) -> str | None:
    match = _REGIME.match(regime or "")
    if match:
        return match.group(1)
    prefix = "".join(ch for ch in ref[:3] if ch.isalpha()).upper()
    return PROGRAMS.get(prefix) or (regime or None)


class UkFcdoCsv:
    format = "uk-fcdo-csv"
    description = "UK Sanctions List CSV as the FCDO publishes it (UK-Sanctions-List.csv)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        file = one_file(expand_paths(paths, (".csv",)), "uk-fcdo-csv", "UK-Sanctions-List.csv")
        lines = file.text("utf-8").splitlines(keepends=True)
        published = _report_date(lines[0]) if lines else None
        skip = 1 if lines and lines[0].lstrip().lower().startswith("report date") else 0
        reader = csv.reader(io.StringIO("".join(lines[skip:]), newline=""))
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportFormatError(
                f"{file.name}: not the UK Sanctions List CSV: no {', '.join(missing)} column "
                f"in the header ({', '.join(header)[:120] or 'none'}). Expected the FCDO file "
                "(UK-Sanctions-List.csv); the five derived tables are the uk-csv format."
            )
        source = file.source(
            DATASET,
            title="UK Sanctions List",
            publisher=PUBLISHER,
            url=URL,
            published=published,
            published_as_stated=lines[0].strip() if published else None,
            notes="The UK Sanctions List as the FCDO publishes it: one line per name of a "
            "designated subject.",
        )
        groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
        width = len(header)
        start = skip + 2
        for fields in reader:
            line, start = start, skip + reader.line_num + 1
            run.tick()
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > width:
                run.warn(file.name, line, f"{len(fields)} fields, the header has {width}")
                continue
            if len(fields) < width:
                run.stats["short_rows"] += 1  # trailing empty columns left out
                fields = fields + [""] * (width - len(fields))
            row = dict(zip(header, fields, strict=True))
            ref = row["Unique ID"].strip()
            if not ref:
                run.warn(file.name, line, "no Unique ID")
                continue
            groups.setdefault(ref, []).append((line, row))
        records = []
        for ref, rows in groups.items():
            doc = self._record(ref, rows, file.name, source["id"], run)
            if doc is not None:
                records.append(finish_record(doc, run.stats))
        return ParsedList(self.format, DATASET, [source], records, published)

    def _record(
        self, ref: str, rows: list[tuple[int, dict[str, str]]], file: str, source: str, run: Run
    ) -> Doc | None:
        named = [(line, row) for line, row in rows if _name(row)]
        if not named:
            run.warn(file, rows[0][0], f"{ref} has no name")
            return None
        line, first = next(
            ((n, r) for n, r in named if r["Name type"].strip().lower() == "primary name"),
            named[0],
        )
        name = _name(first)
        rid = record_id(DATASET, ref)
        names: list[Doc | None] = []
        addresses: list[Doc] = []
        identifiers: list[Doc | None] = [
            identifier("uk-sanctions-list-ref", ref, "GB", source=source),
            identifier("ofsi-group-id", first.get("OFSI Group ID", ""), "GB", source=source),
            identifier("un-ref", first.get("UN Reference Number", ""), source=source),
        ]
        for _, row in rows:
            full = _name(row)
            if full and row is not first:
                kind = row["Name type"].strip().lower()
                strength = row.get("Alias strength", "").lower()
                names.append(
                    alias(
                        full,
                        "weak_aka"
                        if "low" in strength
                        else "variation"
                        if kind.startswith("primary")
                        else "aka",
                        source,
                    )
                )
            script = row.get("Name non-latin script", "").strip()
            if script:
                names.append(alias(script, "other_script", source))
            address = self._address(row, source)
            if address:
                addresses.append(address)
            for column, (scheme, info) in ID_COLUMNS.items():
                value = row.get(column, "").strip()
                if value:
                    note = " ".join(row.get(info, "").split()) if info else ""
                    label = f"UK Sanctions List {column}" + (f"; {note}" if note else "")
                    identifiers.append(identifier(scheme, value, None, label[:1000], source))
        kind = TYPES.get(first["Designation Type"].strip().lower()) or entity_type(name)
        nationalities: list[str] = []
        birth_dates: list[str] = []
        if kind == "person":
            for _, r in rows:
                nationalities += _countries(r.get("Nationality(/ies)", ""))
                dob = _dob(r.get("D.O.B", ""))
                if dob:
                    birth_dates.append(dob)
            nationalities = list(dict.fromkeys(nationalities))
            country = single(nationalities)
        else:
            country = single(a.get("country") for a in addresses)
        date_text = next((r["Date Designated"] for _, r in rows if r.get("Date Designated")), "")
        listed = parse_dmy(date_text)
        if date_text and not listed:
            message = f"{ref}: Date Designated {date_text!r} is not dd/mm/yyyy"
            run.warn(file, line, message, skipped=False)
        regime = " ".join(first.get("Regime Name", "").split())
        reasons = " ".join(first.get("UK Statement of Reasons", "").split())
        notes = [
            f"Sanctions imposed: {first['Sanctions Imposed']}"
            if first.get("Sanctions Imposed")
            else "",
            " ".join(first.get("Other Information", "").split()),
        ]
        designation = {
            "id": designation_id(rid, "uksl"),
            "jurisdiction": "GB",
            "authority": "FCDO",
            "list": "UK Sanctions List",
            "program": _program(ref, regime),
            "listed_date": listed,
            "conduct": clip(reasons or None, 20_000),
            "legal_basis": clip(regime or None, 2_000),
            "reference": ref,
            "evidence": [
                {
                    "source": source,
                    "locator": f"{file}:{line}",
                    "row": {k: v for k, v in first.items() if v.strip()},
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
            "addresses": addresses,
            "designations": [designation],
            "birth_dates": list(dict.fromkeys(birth_dates)),
            "nationalities": nationalities,
            "notes": clip(" | ".join(n for n in notes if n), 20_000),
        }

    @staticmethod
    def _address(row: dict[str, str], source: str) -> Doc | None:
        lines = [" ".join(row.get(c, "").split()) for c in ADDRESS_LINES]
        postal = " ".join(row.get("Address Postal Code", "").split())
        country = " ".join(row.get("Address Country", "").split())
        parts = [p for p in (*lines, postal, country) if p]
        if not parts:
            return None
        return {
            "full": ", ".join(parts),
            "street": lines[0] or None,
            "region": lines[5] or None,
            "postal_code": postal or None,
            "country": country_code(country),
            "source": source,
        }
