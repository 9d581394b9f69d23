"""un-xml: the UN Security Council Consolidated List (consolidated.xml).

    <CONSOLIDATED_LIST dateGenerated="...">
      <INDIVIDUALS><INDIVIDUAL> DATAID, FIRST_NAME..FOURTH_NAME, UN_LIST_TYPE,
        REFERENCE_NUMBER, LISTED_ON, NAME_ORIGINAL_SCRIPT, COMMENTS1, NATIONALITY/VALUE,
        INDIVIDUAL_ALIAS (QUALITY, ALIAS_NAME), INDIVIDUAL_ADDRESS, INDIVIDUAL_DOCUMENT,
        INDIVIDUAL_DATE_OF_BIRTH ...
      <ENTITIES><ENTITY> ... ENTITY_ALIAS, ENTITY_ADDRESS ...

Parsed with expat through xml.etree's TreeBuilder, one record element at a time, so
each record knows the line it starts on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.parsers import expat

from .base import (
    Doc,
    ImportFormatError,
    InputFile,
    ParsedList,
    Run,
    alias,
    birth_date,
    circa,
    clip,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    one_file,
    parse_iso,
    record_id,
    single,
)
from .countries import country_code
from .identifiers import EU_ID_TYPES, identifier

DATASET = "un-sc"
URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
RECORD_TAGS = ("INDIVIDUAL", "ENTITY")
ALIAS_KINDS = {"good": "aka", "low": "weak_aka", "a.k.a.": "aka", "f.k.a.": "fka"}
DOCUMENT_TYPES = {
    "passport": "passport",
    "national identification number": "national-id",
    **{k.lower(): v for k, v in EU_ID_TYPES.items()},
}


def _records(file: InputFile, run: Run) -> tuple[dict[str, str], list[tuple[int, ET.Element]]]:
    """The root's attributes and every INDIVIDUAL / ENTITY element with its line."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    found: list[tuple[int, ET.Element]] = []
    root_attrs: dict[str, str] = {}
    depth = 0
    starts: list[int] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, root_attrs
        depth += 1
        if depth == 1:
            if tag != "CONSOLIDATED_LIST":
                raise ImportFormatError(
                    f"{file.name}:{parser.CurrentLineNumber}: not the UN consolidated list: "
                    f"the root element is <{tag}>, expected <CONSOLIDATED_LIST>."
                )
            root_attrs = dict(attrs)
        if depth == 3 and tag in RECORD_TAGS:
            starts.append(parser.CurrentLineNumber)
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        element = builder.end(tag)
        if depth == 3 and tag in RECORD_TAGS:
            found.append((starts.pop(), element))
            run.tick()
        elif depth == 2:
            element.clear()  # the record elements are kept in `found`
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(file.data, True)
    except expat.ExpatError as exc:
        raise ImportFormatError(
            f"{file.name}:{exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)})."
        ) from None
    if not root_attrs and not found:
        raise ImportFormatError(f"{file.name}: no <CONSOLIDATED_LIST> in the file.")
    return root_attrs, found


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def as_row(element: ET.Element) -> dict[str, Any]:
    """The record as published: leaf children as text, nested ones as dicts, repeated
    ones as lists; `<X><VALUE>a</VALUE></X>` as X: a; empty fields left out."""
    collected: dict[str, list[Any]] = {}
    for child in element:
        value: Any = as_row(child) if len(child) else (child.text or "").strip()
        if isinstance(value, dict) and list(value) == ["VALUE"]:
            value = value["VALUE"]
        if value in ("", {}, []):
            continue
        collected.setdefault(child.tag, []).append(value)
    return {tag: values[0] if len(values) == 1 else values for tag, values in collected.items()}


def _address(element: ET.Element, source: str) -> Doc | None:
    parts = {
        tag: _text(element.find(tag))
        for tag in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")
    }
    full = ", ".join(v for v in parts.values() if v)
    if not full:
        return None
    return {
        "full": full,
        "street": parts["STREET"] or None,
        "city": parts["CITY"] or None,
        "region": parts["STATE_PROVINCE"] or None,
        "postal_code": parts["ZIP_CODE"] or None,
        "country": country_code(parts["COUNTRY"]),
        "source": source,
    }


def _entity_default(element: ET.Element) -> str:
    """Entities of the Al-Qaida and Taliban lists are groups unless their name says company."""
    program = _text(element.find("UN_LIST_TYPE"))
    return "organisation" if program in ("Al-Qaida", "Taliban") else "company"


def _birth_date(element: ET.Element) -> str | None:
    """<INDIVIDUAL_DATE_OF_BIRTH>: EXACT with DATE or YEAR, APPROXIMATELY with YEAR,
    BETWEEN FROM_YEAR and TO_YEAR, or a NOTE alone ("Nov. 1973")."""
    kind = _text(element.find("TYPE_OF_DATE")).upper()
    date, year = _text(element.find("DATE")), _text(element.find("YEAR"))
    if kind == "BETWEEN":
        start, end = _text(element.find("FROM_YEAR")), _text(element.find("TO_YEAR"))
        return birth_date(f"{start} to {end}") if start and end else None
    if kind == "APPROXIMATELY" and year.isdigit():
        return circa(int(year))
    if date or year:
        return birth_date(date or year)
    return birth_date(_text(element.find("NOTE")))


def _document(element: ET.Element, source: str) -> Doc | None:
    number = _text(element.find("NUMBER"))
    if not number:
        return None
    label = _text(element.find("TYPE_OF_DOCUMENT"))
    scheme = DOCUMENT_TYPES.get(label.lower(), "other")
    country = country_code(_text(element.find("ISSUING_COUNTRY"))) or country_code(
        _text(element.find("COUNTRY_OF_ISSUE"))
    )
    bits = [label or "document"]
    for tag in ("TYPE_OF_DOCUMENT2", "NOTE", "DATE_OF_ISSUE", "CITY_OF_ISSUE"):
        value = _text(element.find(tag))
        if value:
            bits.append(f"{tag.lower()}: {value}")
    return identifier(scheme, number, country, clip("UN: " + "; ".join(bits), 1_000), source)


class UnXml:
    format = "un-xml"
    description = "UN Security Council Consolidated List XML"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        files = expand_paths(paths, (".xml",))
        file = one_file(files, "un-xml", "consolidated XML")
        attrs, elements = _records(file, run)
        generated = parse_iso(attrs.get("dateGenerated"))
        source = file.source(
            DATASET,
            title="United Nations Security Council Consolidated List",
            publisher="United Nations Security Council",
            url=URL,
            published=generated,
            published_as_stated=f"dateGenerated {attrs['dateGenerated']}" if generated else None,
        )
        records = []
        seen: set[str] = set()
        for line, element in elements:
            ref = _text(element.find("REFERENCE_NUMBER"))
            name = " ".join(
                _text(element.find(tag))
                for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
                if _text(element.find(tag))
            )
            if not ref or not name:
                what = "REFERENCE_NUMBER" if not ref else "name"
                run.warn(file.name, line, f"<{element.tag}> without {what}")
                continue
            rid = record_id(DATASET, ref)
            if rid in seen:
                run.warn(file.name, line, f"{ref} listed twice")
                continue
            seen.add(rid)
            run.stats[element.tag.lower()] += 1
            records.append(
                finish_record(
                    self._record(element, rid, ref, name, line, file.name, source, run), run.stats
                )
            )
        return ParsedList(self.format, DATASET, [source], records, generated)

    def _record(
        self,
        element: ET.Element,
        rid: str,
        ref: str,
        name: str,
        line: int,
        file_name: str,
        source: Doc,
        run: Run,
    ) -> Doc:
        sid = source["id"]
        person = element.tag == "INDIVIDUAL"
        names = []
        for item in element.iter(f"{element.tag}_ALIAS"):
            alias_name = _text(item.find("ALIAS_NAME"))
            quality = _text(item.find("QUALITY")).lower()
            if alias_name:
                names.append(alias(alias_name, ALIAS_KINDS.get(quality, "aka"), sid))
        original = _text(element.find("NAME_ORIGINAL_SCRIPT"))
        if original:
            names.append(alias(original, "other_script", sid))
        addresses = [_address(a, sid) for a in element.iter(f"{element.tag}_ADDRESS")]
        identifiers = [identifier("un-ref", ref, source=sid)]
        identifiers += [_document(d, sid) for d in element.iter("INDIVIDUAL_DOCUMENT")]
        nationalities: list[str] = []
        birth_dates: list[str] = []
        if person:
            nationality = element.find("NATIONALITY")
            values = nationality.findall("VALUE") if nationality is not None else []
            country = single(country_code(_text(v)) for v in values)
            nationalities = [c for v in values if (c := country_code(_text(v)))]
            birth_dates = [
                d for e in element.iter("INDIVIDUAL_DATE_OF_BIRTH") if (d := _birth_date(e))
            ]
        else:
            country = single(a["country"] for a in addresses if a)
        listed_on = _text(element.find("LISTED_ON"))
        listed = parse_iso(listed_on)
        if listed_on and not listed:
            run.warn(
                file_name, line, f"{ref}: LISTED_ON {listed_on!r} is not a date", skipped=False
            )
        comments = " ".join((element.findtext("COMMENTS1") or "").split())
        designation = {
            "id": designation_id(rid, "unsc"),
            "jurisdiction": "UN",
            "authority": "UN Security Council",
            "list": "UN Security Council Consolidated List",
            "program": _text(element.find("UN_LIST_TYPE")) or None,
            "listed_date": listed,
            "conduct": clip(comments, 20_000) if comments else None,
            "reference": ref,
            "evidence": [{"source": sid, "locator": f"{file_name}:{line}", "row": as_row(element)}],
        }
        return {
            "id": rid,
            "type": "person" if person else entity_type(name, default=_entity_default(element)),
            "name": name,
            "country": country,
            "names": names,
            "identifiers": identifiers,
            "addresses": addresses,
            "designations": [designation],
            "birth_dates": birth_dates,
            "nationalities": nationalities,
        }
