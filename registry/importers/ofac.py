"""OFAC: the legacy SDN.CSV family (ofac-csv) and the SDN JSON mirror (ofac-json).

Legacy layout (no header, latin-1, `-0-` for empty, a trailing 0x1A line):

    SDN.CSV / CONS_PRIM.CSV  ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
                             Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks
    ADD.CSV / CONS_ADD.CSV   ent_num, Add_num, Address, City/State/Province/Postal Code,
                             Country, Add_remarks
    ALT.CSV / CONS_ALT.CSV   ent_num, alt_num, alt_type, alt_name, alt_remarks
    SDN_COMMENTS.CSV         ent_num, Remarks_Extension (the remarks past 1,000 characters)

Files are told apart by their number of columns, not their names; the SDN and
the Consolidated (non-SDN) list by the base file's name (`cons_prim.csv`).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import (
    Doc,
    ImportFormatError,
    InputFile,
    ParsedList,
    Run,
    alias,
    date_from_name,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    load_json,
    record_id,
    single,
)
from .countries import country_code
from .identifiers import identifier, parse_remarks

PUBLISHER = "Office of Foreign Assets Control, U.S. Department of the Treasury"
EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"

SDN_COLUMNS = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
ADD_COLUMNS = (
    "ent_num",
    "Add_num",
    "Address",
    "City/State/Province/Postal Code",
    "Country",
    "Add_remarks",
)
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
COMMENTS_COLUMNS = ("ent_num", "Remarks_Extension")
REMARKS_WIDTH = 1_000  # SDN.CSV remarks are cut here; SDN_COMMENTS.CSV holds the rest
LAYOUTS = {12: "base", 6: "add", 5: "alt", 2: "comments"}
COLUMNS = {
    "base": SDN_COLUMNS,
    "add": ADD_COLUMNS,
    "alt": ALT_COLUMNS,
    "comments": COMMENTS_COLUMNS,
}

ALT_KINDS = {"aka": "aka", "fka": "fka", "nka": "aka", "weak": "weak_aka", "weak aka": "weak_aka"}
TYPES = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft"}


@dataclass(frozen=True)
class ListInfo:
    dataset: str
    list: str
    short: str  # designation key when a row has no programme
    files: dict[str, tuple[str, str]]  # layout -> (official file name, title)


SDN = ListInfo(
    "us-ofac-sdn",
    "SDN List",
    "sdn",
    {
        "base": ("SDN.CSV", "OFAC Specially Designated Nationals and Blocked Persons List (SDN)"),
        "add": ("ADD.CSV", "OFAC SDN List: addresses (ADD.CSV)"),
        "alt": ("ALT.CSV", "OFAC SDN List: alternate names (ALT.CSV)"),
        "comments": ("SDN_COMMENTS.CSV", "OFAC SDN List: remarks overflow (SDN_COMMENTS.CSV)"),
    },
)
CONS = ListInfo(
    "us-ofac-cons",
    "Consolidated (non-SDN) List",
    "cons",
    {
        "base": ("CONS_PRIM.CSV", "OFAC Consolidated Sanctions List (non-SDN lists)"),
        "add": ("CONS_ADD.CSV", "OFAC Consolidated (non-SDN) List: addresses (CONS_ADD.CSV)"),
        "alt": ("CONS_ALT.CSV", "OFAC Consolidated (non-SDN) List: alternate names"),
        "comments": ("CONS_COMMENTS.CSV", "OFAC Consolidated (non-SDN) List: remarks overflow"),
    },
)


@dataclass
class Row:
    line: int
    values: list[str]


@dataclass
class LegacyFile:
    file: InputFile
    layout: str
    rows: list[Row]
    source: Doc | None = None


def _legacy_rows(file: InputFile) -> Iterator[Row]:
    """Rows with the line they start on; `-0-` as empty, the 0x1A end marker dropped."""
    reader = csv.reader(io.StringIO(file.text("latin-1"), newline=""))
    start = 1
    for fields in reader:
        line, start = start, reader.line_num + 1
        if not fields or fields == ["\x1a"] or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield Row(line, [("" if v.strip() == "-0-" else v.strip()) for v in fields])


def read_legacy(path: Path) -> LegacyFile:
    file = InputFile.read(path)
    rows = list(_legacy_rows(file))
    if not rows:
        raise ImportFormatError(f"{file.name}: empty file: no OFAC rows.")
    first = rows[0]
    layout = LAYOUTS.get(len(first.values))
    if layout is None or not first.values[0].isdigit():
        what = (
            f"its first row (line {first.line}) has {len(first.values)} fields"
            if layout is None
            else f"its first field is {first.values[0][:30]!r}, not an entity number"
        )
        raise ImportFormatError(
            f"{file.name}: not an OFAC legacy CSV (SDN.CSV, ADD.CSV, ALT.CSV, SDN_COMMENTS.CSV "
            f"or CONS_* layout, no header): {what}."
        )
    return LegacyFile(file, layout, rows)


def _row_dict(columns: tuple[str, ...], values: list[str]) -> dict[str, str]:
    return {c: v for c, v in zip(columns, values, strict=False) if v}


def _programs(text: str) -> list[str]:
    """`UKRAINE-EO13662] [RUSSIA-EO14024` -> both programmes."""
    return [p.strip(" []") for p in text.split("] [") if p.strip(" []")]


class Enrichment:
    """Addresses, alternate names and remarks overflow joined on ent_num."""

    def __init__(self, files: list[LegacyFile], run: Run) -> None:
        self.alt: dict[str, list[tuple[LegacyFile, Row]]] = defaultdict(list)
        self.add: dict[str, list[tuple[LegacyFile, Row]]] = defaultdict(list)
        self.comments: dict[str, list[tuple[LegacyFile, Row]]] = defaultdict(list)
        self.used: set[tuple[str, str]] = set()
        width = {"alt": 5, "add": 6, "comments": 2}
        for f in files:
            target = getattr(self, f.layout)
            for row in f.rows:
                run.tick()
                if len(row.values) != width[f.layout] or not row.values[0].isdigit():
                    run.warn(
                        f.file.name,
                        row.line,
                        f"expected {width[f.layout]} fields starting with an entity number, "
                        f"got {len(row.values)}: {','.join(row.values)[:80]!r}",
                    )
                    continue
                target[row.values[0]].append((f, row))

    def names(self, uid: str) -> list[Doc]:
        out = []
        for f, row in self.alt.get(uid, ()):
            self.used.add(("alt", uid))
            kind = ALT_KINDS.get(row.values[2].lower(), "aka")
            doc = alias(row.values[3], kind, f.source["id"] if f.source else None)
            if doc:
                out.append(doc)
        return out

    def addresses(self, uid: str) -> list[Doc]:
        out = []
        for f, row in self.add.get(uid, ()):
            self.used.add(("add", uid))
            _, _, street, city_zip, country, _ = row.values
            full = ", ".join(v for v in (street, city_zip, country) if v)
            if not full:
                continue
            code = country_code(country)
            if code == "CN":  # OFAC files Hong Kong and Macau addresses under China
                place = f"{street} {city_zip}".lower()
                code = "HK" if "hong kong" in place else "MO" if "maca" in place else code
            has_digits = any(c.isdigit() for c in city_zip)
            out.append(
                {
                    "full": full,
                    "street": street or None,
                    "city": city_zip if city_zip and not has_digits else None,
                    "country": code,
                    "source": f.source["id"] if f.source else None,
                }
            )
        return out

    def overflow(self, uid: str) -> list[tuple[LegacyFile, Row]]:
        found = self.comments.get(uid, [])
        if found:
            self.used.add(("comments", uid))
        return found

    def count_unmatched(self, run: Run) -> None:
        for layout in ("alt", "add", "comments"):
            table: dict[str, Any] = getattr(self, layout)
            rows = sum(len(v) for k, v in table.items() if (layout, k) not in self.used)
            run.stats[f"{layout}_rows_unmatched"] += rows


def _split_files(paths: list[Path]) -> tuple[list[LegacyFile], list[Path]]:
    legacy, other = [], []
    for path in paths:
        if path.suffix.lower() == ".json":
            other.append(path)
        else:
            legacy.append(read_legacy(path))
    return legacy, other


def _enrichment_sources(files: list[LegacyFile], info: ListInfo) -> None:
    for f in files:
        official, title = info.files[f.layout]
        published = date_from_name(f.file.name)
        f.source = f.file.source(
            info.dataset,
            title=title,
            publisher=PUBLISHER,
            url=EXPORTS + official,
            published=published,
            published_as_stated=f"file name {f.file.name}" if published else None,
            notes=f"OFAC legacy {official} layout.",
        )


def _designations(rid: str, programs: list[str], info: ListInfo, evidence: list[Doc]) -> list[Doc]:
    listed: list[str | None] = [*programs] or [None]
    return [
        {
            "id": designation_id(rid, program or info.short),
            "jurisdiction": "US",
            "authority": "OFAC",
            "list": info.list,
            "program": program,
            "evidence": evidence,
        }
        for program in listed
    ]


def _record(
    *,
    uid: str,
    name: str,
    sdn_type: str,
    programs: list[str],
    info: ListInfo,
    evidence: list[Doc],
    remarks_text: str | None,
    extra: Enrichment,
    base_names: list[Doc | None],
    notes: str | None,
    remarks_source: str,
) -> Doc:
    rid = record_id(info.dataset, uid)
    kind = TYPES.get(sdn_type.lower()) or entity_type(name)
    remarks = parse_remarks(remarks_text, source=remarks_source)
    names: list[Doc | None] = [*extra.names(uid), *base_names]
    names += [alias(n, k, remarks_source) for k, n in remarks.aliases]
    addresses = extra.addresses(uid)
    if kind == "person":
        country = single(remarks.nationalities)
    else:
        country = single(a.get("country") for a in addresses)
    ids = [identifier("us-ofac-uid", uid), *remarks.identifiers]
    return {
        "id": rid,
        "type": kind,
        "name": " ".join(name.split()),
        "country": country,
        "names": names,
        "identifiers": ids,
        "addresses": addresses,
        "designations": _designations(rid, programs, info, evidence),
        "birth_dates": remarks.birth_dates,
        "nationalities": remarks.nationalities,
        "notes": notes,
    }


def _notes(title: str, remarks: str) -> str | None:
    parts = [f"Title: {title}" if title else "", remarks]
    text = " | ".join(p for p in parts if p)
    return text[:20_000] or None


class OfacCsv:
    """ofac-csv: SDN.CSV or CONS_PRIM.CSV, with ALT/ADD/COMMENTS files of the same list."""

    format = "ofac-csv"
    description = "OFAC SDN.CSV / CONS_PRIM.CSV legacy layout (+ ALT, ADD, COMMENTS)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files, other = _split_files(expand_paths(paths, (".csv",)))
        if other:
            raise ImportFormatError(
                f"{other[0].name}: a JSON file; use the ofac-json format for the SDN JSON."
            )
        bases = [f for f in files if f.layout == "base"]
        if not bases:
            raise ImportFormatError(
                "ofac-csv needs the base list file (SDN.CSV or CONS_PRIM.CSV, 12 columns) in the "
                f"same call: {', '.join(f.file.name for f in files)} only add addresses, names or "
                "remarks to a base list. To enrich the SDN JSON, parse it as ofac-json with "
                "these files."
            )
        if len(bases) > 1:
            raise ImportFormatError(
                "ofac-csv takes one base list file per call (one snapshot): got "
                + ", ".join(f.file.name for f in bases)
            )
        base = bases[0]
        info = CONS if "cons" in base.file.name.lower() else SDN
        for f in files:
            if f.layout != "base" and ("cons" in f.file.name.lower()) != (info is CONS):
                raise ImportFormatError(
                    f"{f.file.name} does not belong to the same list as {base.file.name} "
                    "(SDN and Consolidated files cannot be mixed)."
                )
        _enrichment_sources(files, info)
        assert base.source is not None
        snapshot = date_from_name(base.file.name)
        extra = Enrichment([f for f in files if f.layout != "base"], run)
        records: list[Doc] = []
        seen: set[str] = set()
        for row in base.rows:
            run.tick()
            values = row.values
            if len(values) != 12 or not values[0].isdigit() or not values[1]:
                problem = (
                    f"expected 12 fields, got {len(values)}"
                    if len(values) != 12
                    else "no entity number"
                    if not values[0].isdigit()
                    else "no name"
                )
                run.warn(base.file.name, row.line, f"{problem}: {','.join(values)[:80]!r}")
                continue
            uid = values[0]
            if uid in seen:
                run.warn(base.file.name, row.line, f"entity number {uid} listed twice")
                continue
            seen.add(uid)
            evidence: list[Doc] = [
                {
                    "source": base.source["id"],
                    "locator": f"{base.file.name}:{row.line}",
                    "row": _row_dict(SDN_COLUMNS, values),
                }
            ]
            remarks = values[11]
            for f, crow in extra.overflow(uid):
                if len(remarks) < REMARKS_WIDTH:
                    # not a continuation: the comments file is of another version of the list
                    run.stats["comments_not_continuing"] += 1
                    continue
                remarks += crow.values[1]
                assert f.source is not None
                evidence.append(
                    {
                        "source": f.source["id"],
                        "locator": f"{f.file.name}:{crow.line}",
                        "row": _row_dict(COMMENTS_COLUMNS, crow.values),
                    }
                )
            doc = _record(
                uid=uid,
                name=values[1],
                sdn_type=values[2],
                programs=_programs(values[3]),
                info=info,
                evidence=evidence,
                remarks_text=remarks,
                extra=extra,
                base_names=[],
                notes=_notes(values[4], remarks),
                remarks_source=base.source["id"],
            )
            records.append(finish_record(doc, run.stats))
        extra.count_unmatched(run)
        sources = [base.source] + [f.source for f in files if f is not base and f.source]
        return ParsedList(self.format, info.dataset, sources, records, snapshot)


class OfacJson:
    """ofac-json: the SDN list as JSON {uid, name, type, programs, alternateNames}, optionally
    with ALT.CSV / ADD.CSV / SDN_COMMENTS.CSV joined on uid = ent_num."""

    format = "ofac-json"
    description = "OFAC SDN list JSON (uid, name, type, programs, alternateNames) + ALT/ADD CSV"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files, jsons = _split_files(expand_paths(paths, (".json", ".csv")))
        jsons = [p for p in jsons if p.name != "metadata.json"]
        if len(jsons) != 1:
            raise ImportFormatError(
                "ofac-json takes exactly one SDN JSON file (and optionally ALT.CSV, ADD.CSV, "
                f"SDN_COMMENTS.CSV); got {len(jsons)} JSON files."
            )
        if any(f.layout == "base" for f in files):
            raise ImportFormatError(
                "ofac-json joins ALT/ADD/COMMENTS files; a base SDN.CSV belongs to ofac-csv."
            )
        file = InputFile.read(jsons[0])
        data = load_json(file, "the OFAC SDN JSON")
        entries = data.get("entries") if isinstance(data, dict) else data
        if (
            not isinstance(entries, list)
            or not entries
            or not all(isinstance(e, dict) for e in entries[:10])
            or not any("uid" in e and "name" in e for e in entries[:10])
        ):
            raise ImportFormatError(
                f"{file.name}: not the OFAC SDN JSON: expected a list of entries (or "
                '{"entries": [...]}) with uid, name, type, programs and alternateNames.'
            )
        meta = data if isinstance(data, dict) else {}
        published = meta.get("published") if isinstance(meta.get("published"), str) else None
        published = published if published and date_from_name(published) else None
        url = meta.get("sourceUrl")
        source = file.source(
            SDN.dataset,
            title="OFAC Specially Designated Nationals and Blocked Persons List (SDN), JSON",
            publisher=PUBLISHER,
            url=url if isinstance(url, str) and url.startswith("http") else EXPORTS + "SDN.CSV",
            published=published,
            published_as_stated=f"published {meta['published']}" if published else None,
            notes="Machine-readable mirror of SDN.CSV + ALT.CSV: primary names, types, "
            "programmes and alternate names; no addresses or remarks.",
        )
        _enrichment_sources(files, SDN)
        run.expect(len(entries) + sum(len(f.rows) for f in files))
        extra = Enrichment(files, run)
        records: list[Doc] = []
        seen: set[str] = set()
        for number, entry in enumerate(entries, 1):
            run.tick()
            uid = str(entry.get("uid", "")).strip() if isinstance(entry, dict) else ""
            name = entry.get("name") if isinstance(entry, dict) else None
            programs = entry.get("programs", []) if isinstance(entry, dict) else None
            alternates = entry.get("alternateNames", []) if isinstance(entry, dict) else None
            if (
                not uid.isdigit()
                or not isinstance(name, str)
                or not name.strip()
                or not isinstance(programs, list)
                or not isinstance(alternates, list)
            ):
                run.warn(file.name, number, f"entry {number} lacks a numeric uid or a name")
                continue
            if uid in seen:
                run.warn(file.name, number, f"uid {uid} listed twice")
                continue
            seen.add(uid)
            evidence: list[Doc] = [
                {"source": source["id"], "locator": f"{file.name}:{number}", "row": entry}
            ]
            remarks = ""
            remarks_source = source["id"]
            for f, crow in extra.overflow(uid):
                remarks += crow.values[1]
                assert f.source is not None
                remarks_source = f.source["id"]
                evidence.append(
                    {
                        "source": f.source["id"],
                        "locator": f"{f.file.name}:{crow.line}",
                        "row": _row_dict(COMMENTS_COLUMNS, crow.values),
                    }
                )
            doc = _record(
                uid=uid,
                name=name,
                sdn_type=str(entry.get("type") or ""),
                programs=[str(p).strip() for p in programs if str(p).strip()],
                info=SDN,
                evidence=evidence,
                remarks_text=remarks or None,
                extra=extra,
                base_names=[alias(str(n), "aka", source["id"]) for n in alternates if n],
                notes=None,
                remarks_source=remarks_source,
            )
            records.append(finish_record(doc, run.stats))
        extra.count_unmatched(run)
        sources = [source] + [f.source for f in files if f.source]
        return ParsedList(self.format, SDN.dataset, sources, records, published)
