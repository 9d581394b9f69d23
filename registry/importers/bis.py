"""bis-json: the BIS Entity List (Supplement No. 4 to 15 CFR Part 744) as parsed
from the eCFR text: {name, aliases, country (destination), address,
federal_register, notes (licence requirement)}.

One listed party, one record. The eCFR repeats a party under each destination
where it has an address, and says so ("See alternate address under Turkey").
Entries with the same name are one party when they share a Federal Register
citation or point at each other's destination; they become one record with
every address and one designation whose evidence holds every entry. Same-named
entries that do neither (e.g. the "Address 01" placeholders of different rules)
stay separate records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import (
    Doc,
    ImportFormatError,
    ParsedList,
    Run,
    alias,
    clip,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    load_json,
    one_file,
    parse_iso,
    parse_us_short,
    record_id,
    slug,
)
from .countries import country_code

DATASET = "us-bis-entity-list"
URL = (
    "https://www.ecfr.gov/current/title-15/subtitle-B/chapter-VII/subchapter-C/part-744/"
    "appendix-Supplement%20No.%204%20to%20Part%20744"
)
FIELDS = {"name", "country", "address", "federal_register"}

# "89 FR 14388, 2/27/24" (the comma, a stray "preview citation details" or a newline may
# stand between the page and the date; the date may be missing)
_CITATION = re.compile(r"(\d+)\s*F\.?\s?R\.?\s+(\d[\d,]*)")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})")
# "Name (a.k.a. Other" / "Name (f.k.a., Other)"
_MERGED_ALIAS = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>[af])\.k\.a\.?,?\s*(?P<alias>.*)$")
_SPILLED_ALIAS = re.compile(r"^(?P<alias>[^(),]+)\),\s*(?P<rest>.+)$", re.DOTALL)
_SEE_ALSO = re.compile(r"\(\s*(?:see|for)\b[^()]*(?:\([^()]*\)[^()]*)*\)?\.?\s*$", re.IGNORECASE)
# footnote markers the eCFR text leaves in the licence requirement: "734.9(g),3 746.8",
# "734.9(e) 1 and", "of the EAR 2", "of the EAR) 4"
_FOOTNOTES = (
    (re.compile(r"\),(\d) "), "), "),
    (re.compile(r"\) (\d) (?=and\b)"), ") "),
    (re.compile(r"(\bEAR\)?\.?)\s+\d$"), r"\1"),
)
_ADDRESS_SPLIT = re.compile(r";\s*and\s+|;\s+(?=\S)|\s+Alt Address:\s*")


@dataclass
class Citation:
    volume: str
    page: str
    date: str | None
    text: str

    @property
    def ref(self) -> str:
        return f"{self.volume} FR {self.page}"


def citations(text: str | None) -> list[Citation]:
    """Federal Register citations in order, each with the date printed after it."""
    if not text:
        return []
    found = list(_CITATION.finditer(text))
    out = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        tail = text[match.end() : end]
        date = _DATE.search(tail)
        iso = parse_us_short(*date.groups()) if date else None
        page = match[2].replace(",", "")
        out.append(Citation(match[1], page, iso, " ".join(text[match.start() : end].split())))
    return out


def clean_requirement(text: str) -> str:
    """The licence requirement without the eCFR footnote digits."""
    for pattern, repl in _FOOTNOTES:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def split_name(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """`Gazprom Neft (a.k.a. Gazprom Neft OAO` -> primary and a.k.a./f.k.a. names the
    eCFR parser left in the name."""
    name = " ".join(raw.split())
    match = _MERGED_ALIAS.match(name)
    if not match:
        return name, []
    other = match["alias"].strip(" )“”\"'.,")
    kind = "fka" if match["kind"] == "f" else "aka"
    return match["name"].strip(" ,"), ([(kind, other)] if other else [])


def split_addresses(text: str | None, destination: str | None) -> list[Doc]:
    if not text:
        return []
    text = " ".join(text.split())
    out = []
    for part in _ADDRESS_SPLIT.split(text.removeprefix("Address: ")):
        part = _SEE_ALSO.sub("", part).strip(" ;,")
        if not part:
            continue
        out.append({"full": part, "country": _address_country(part) or destination})
    return out


_LEGAL_FORM_START = re.compile(r"(?i)(ltd|limited|llc|inc|co|corp|gmbh|s\.?a|jsc|ojsc)\b")
_NAME_DOT_NUMBER = re.compile(r"^(?P<name>.+?)\.\s+(?P<street>\d.*)$")


def split_alias_address(text: str) -> tuple[str, str]:
    """`Mike Davidovich, P.O. Box 242, St. Petersburg, Russia 196240` -> the name and the
    address the eCFR parser left in an alias (the rest after a comma must hold a digit and
    end with a country); other aliases come back whole."""
    start = 0
    while (cut := text.find(", ", start)) > 0:
        rest, name = text[cut + 2 :], text[:cut].strip()
        dotted = _NAME_DOT_NUMBER.match(name)  # "Glavgosekspertiza. 13 Demidova Street"
        if (
            (dotted or any(c.isdigit() for c in rest))
            and not _LEGAL_FORM_START.match(rest)
            and _address_country(rest)
        ):
            if dotted:
                return dotted["name"], f"{dotted['street']}, {rest}"
            return name, rest
        start = cut + 2
    return text, ""


def _address_country(address: str) -> str | None:
    """The country an address ends with ("..., Sheung Wan, Hong Kong." -> HK)."""
    parts = [p.strip(" .") for p in address.split(",")]
    for part in reversed(parts[-3:]):
        words = part.split()
        # "Riga, Latvia 1004", "Beijing 100022 China", "Dubai U.A.E"
        for n in (len(words), 3, 2, 1):
            chunk = " ".join(words[-n:]).strip(" .0123456789-")
            code = country_code(chunk) if chunk else None
            if code and not (len(chunk) == 2 and chunk.isupper()):
                return code
    return None


@dataclass
class Entry:
    number: int
    row: dict[str, Any]
    name: str
    merged_aliases: list[tuple[str, str]]
    destination: str | None
    cites: list[Citation]
    address: str


def _same_party(a: Entry, b: Entry) -> bool:
    if a.destination and a.destination == b.destination:
        return True
    if {c.ref for c in a.cites} & {c.ref for c in b.cites}:
        return True
    for x, y in ((a, b), (b, a)):
        text = str(x.row.get("address") or "").lower()
        dest = str(y.row.get("country") or "").lower()
        if dest and ("alternate address" in text or "see also" in text) and dest in text:
            return True
    return False


class BisJson:
    format = "bis-json"
    description = "BIS Entity List entries parsed from the eCFR (JSON)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files = expand_paths(paths, (".json",))
        file = one_file(files, "bis-json", "bis_entity_list.json")
        data = load_json(file, "the BIS Entity List")
        items = data.get("entities") if isinstance(data, dict) else data
        if (
            not isinstance(items, list)
            or not items
            or not any(isinstance(i, dict) and set(i) >= FIELDS for i in items[:10])
        ):
            raise ImportFormatError(
                f"{file.name}: not the BIS Entity List JSON: expected entities with "
                f"{', '.join(sorted(FIELDS))}."
            )
        meta = data if isinstance(data, dict) else {}
        extracted = parse_iso(str(meta.get("extracted") or ""))
        source = file.source(
            DATASET,
            title="Entity List, Supplement No. 4 to 15 CFR Part 744 (eCFR)",
            publisher="Bureau of Industry and Security, U.S. Department of Commerce (eCFR)",
            url=URL,
            published=extracted,
            published_as_stated=f"extracted {meta['extracted']}" if extracted else None,
            notes="Entries parsed from the eCFR text of the Entity List.",
        )
        run.expect(len(items))

        entries: list[Entry] = []
        for number, item in enumerate(items, 1):
            run.tick()
            if not isinstance(item, dict) or not str(item.get("name") or "").strip():
                run.warn(file.name, number, f"entry {number} has no name")
                continue
            name, merged = split_name(str(item["name"]))
            if name != " ".join(str(item["name"]).split()):
                run.stats["names_split"] += 1
            address = str(item.get("address") or "")
            spill = _SPILLED_ALIAS.match(address)
            if spill and not merged and "k.a." in str(item["name"]):
                # "Sabanican Company (a.k.a." + address "Sabanican Pad Co.), Unit #23, ..."
                merged = [("aka", spill["alias"].strip())]
                address = spill["rest"]
            cites = citations(str(item.get("federal_register") or ""))
            destination = country_code(item.get("country"))
            entries.append(Entry(number, item, name, merged, destination, cites, address))

        # one party per group of same-named entries that refer to each other
        by_name: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            by_name[entry.name].append(entry)
        groups: list[list[Entry]] = []
        for same in by_name.values():
            clusters: list[list[Entry]] = []
            for entry in same:
                home = next((c for c in clusters if any(_same_party(entry, o) for o in c)), None)
                if home is None:
                    clusters.append([entry])
                else:
                    home.append(entry)
            groups.extend(clusters)
        groups.sort(key=lambda g: g[0].number)

        used: set[str] = set()
        records = []
        for group in groups:
            first = group[0]
            if len(group) > 1:
                run.stats["entries_merged"] += len(group) - 1
            key = slug(first.name) or f"entry-{first.number}"
            if len(by_name[first.name]) > len(group):  # same name, other parties
                key = f"{key}.{slug(str(first.row.get('country') or ''))}"
            candidate, n = key, 2
            while candidate in used:
                candidate, n = f"{key}-{n}", n + 1
            used.add(candidate)
            doc = self._record(group, candidate, source, file.name)
            records.append(finish_record(doc, run.stats))
        run.stats["entries"] = len(entries)
        return ParsedList(self.format, DATASET, [source], records, extracted)

    def _record(self, group: list[Entry], key: str, source: Doc, file_name: str) -> Doc:
        rid = record_id(DATASET, key)
        first = group[0]
        names: list[Doc | None] = []
        addresses: list[Doc] = []
        cites: list[Citation] = []
        requirements: list[str] = []
        for entry in group:
            names += [alias(n, kind, source["id"]) for kind, n in entry.merged_aliases]
            spilled: list[str] = []
            for text in entry.row.get("aliases") or ():
                alias_name, others = split_name(str(text))
                alias_name, address_part = split_alias_address(alias_name)
                names.append(alias(alias_name, "aka", source["id"]))
                names += [alias(n, kind, source["id"]) for kind, n in others]
                if address_part and not entry.address:
                    spilled.append(address_part)
            for text in [entry.address] if entry.address else spilled:
                for address in split_addresses(text, entry.destination):
                    address["source"] = source["id"]
                    addresses.append(address)
            for cite in entry.cites:
                if cite.ref not in {c.ref for c in cites}:
                    cites.append(cite)
            notes = str(entry.row.get("notes") or "").strip()
            if notes and clean_requirement(notes) not in requirements:
                requirements.append(clean_requirement(notes))
        dated = [e.cites[0] for e in group if e.cites and e.cites[0].date]
        first_cite = min(dated, key=lambda c: c.date or "") if dated else None
        destinations = {e.destination for e in group if e.destination}
        evidence: list[Doc] = []
        for entry in group:
            item: Doc = {
                "source": source["id"],
                "locator": f"{file_name}:{entry.number}",
                "row": entry.row,
            }
            if entry is first and first_cite:
                item["note"] = (
                    f"listed_date {first_cite.date} is the publication date of the first "
                    f"Federal Register citation ({first_cite.text}), not the rule's effective "
                    "date."
                )
            evidence.append(item)
        designation = {
            "id": designation_id(rid, "el"),
            "jurisdiction": "US",
            "authority": "BIS",
            "list": "Entity List",
            "program": None,
            "listed_date": first_cite.date if first_cite else None,
            "legal_basis": clip(" | ".join(requirements), 2_000),
            "reference": clip("; ".join(c.ref for c in cites), 500),
            "evidence": evidence,
        }
        return {
            "id": rid,
            "type": entity_type(first.name, default="unknown"),
            "name": first.name,
            "country": destinations.pop() if len(destinations) == 1 else None,
            "names": names,
            "addresses": addresses,
            "designations": [designation],
        }
