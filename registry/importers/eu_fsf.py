"""eu-fsf-xml: the EU consolidated financial sanctions list as the Commission publishes it
(the Financial Sanctions Files "full sanctions list" XML, version 1.1).

    <export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="...">
      <sanctionEntity designationDate? designationDetails unitedNationId euReferenceNumber
                      logicalId>
        <remark/>  <regulation programme numberTitle entryIntoForceDate ...>
        <subjectType code="person|enterprise"/>
        <nameAlias wholeName firstName lastName nameLanguage strong .../>
        <citizenship countryIso2Code/>  <birthdate/>  <identification number ... />
        <address street city zipCode region place poBox countryIso2Code> <contactInfo/>

Records are keyed by logicalId (as the eu-json aggregate keys its EU entries), so either
format maintains the same records of the eu-fsf dataset. `generationDate` is the
publication date.
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
    circa,
    clip,
    designation_id,
    entity_type,
    expand_paths,
    finish_record,
    one_file,
    parse_iso,
    partial_date,
    record_id,
    single,
)
from .countries import country_code
from .identifiers import EU_ID_TYPES, identifier

DATASET = "eu-fsf"
URL = (
    "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content"
    "?token=dG9rZW4tMjAxNw"
)
_FALSE = {"false", "0", "no", ""}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _entities(file: InputFile, run: Run) -> tuple[dict[str, str], list[tuple[int, ET.Element]]]:
    """The root's attributes and every sanctionEntity element with the line it starts on."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    found: list[tuple[int, ET.Element]] = []
    root: dict[str, str] = {}
    depth = 0
    starts: list[int] = []

    def refuse_entities(*_: Any) -> None:
        # Entity declarations serve no list and can expand without bound.
        raise ImportFormatError(f"{file.name}: declares XML entities; refused.")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, root
        depth += 1
        if depth == 1:
            if tag != "export":
                raise ImportFormatError(
                    f"{file.name}:{parser.CurrentLineNumber}: not the EU financial sanctions "
                    f"file: the root element is <{tag}>, expected <export>."
                )
            root = dict(attrs)
        if depth == 2 and tag == "sanctionEntity":
            starts.append(parser.CurrentLineNumber)
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        element = builder.end(tag)
        if depth == 2 and tag == "sanctionEntity":
            found.append((starts.pop(), element))
            run.tick()
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse_entities
    parser.buffer_text = True
    try:
        parser.Parse(file.data, True)
    except expat.ExpatError as exc:
        raise ImportFormatError(
            f"{file.name}:{exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)})."
        ) from None
    if not root:
        raise ImportFormatError(f"{file.name}: no <export> element in the file.")
    return root, found


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _country(element: ET.Element) -> str | None:
    code = element.get("countryIso2Code") or ""
    return country_code(code) or country_code(element.get("countryDescription"))


def _address(element: ET.Element, source: str) -> Doc | None:
    parts = {
        key: " ".join((element.get(key) or "").split())
        for key in ("street", "poBox", "place", "city", "zipCode", "region")
    }
    country = _country(element)
    description = element.get("countryDescription") or ""
    full = ", ".join(
        [v for v in parts.values() if v] + ([description] if description != "UNKNOWN" else [])
    )
    if not full:
        return None
    return {
        "full": full,
        "street": parts["street"] or None,
        "city": parts["city"] or None,
        "region": parts["region"] or None,
        "postal_code": parts["zipCode"] or None,
        "country": country,
        "source": source,
    }


def _identifier(element: ET.Element, source: str) -> Doc | None:
    number = element.get("number") or element.get("latinNumber") or ""
    code = element.get("identificationTypeCode") or ""
    scheme = EU_ID_TYPES.get(code) or EU_ID_TYPES.get(code.lower()) or "other"
    label = element.get("identificationTypeDescription") or code
    remarks = "; ".join(_text(r) for r in element.findall("remark") if _text(r))
    note = f"EU field {label}" + (f"; {remarks}" if remarks else "")
    return identifier(scheme, number, _country(element), note[:1000], source)


def _birth_date(element: ET.Element) -> str | None:
    """<birthdate birthdate="1924-02-21" year="1924" monthOfYear="2" dayOfMonth="21"
    circa="false" .../>, or only some of its parts."""
    year = element.get("year") or (element.get("birthdate") or "")[:4]
    if (element.get("circa") or "").lower() == "true" and year.isdigit():
        return circa(int(year))
    if element.get("birthdate"):
        return parse_iso(element.get("birthdate"))
    return partial_date(year, element.get("monthOfYear"), element.get("dayOfMonth"))


def _row(element: ET.Element) -> dict[str, Any]:
    """The entry as published, flattened: its attributes, then each kind of child with the
    attributes that say something (empty ones and regulation summaries left out)."""
    row: dict[str, Any] = {k: v for k, v in element.attrib.items() if v}
    for child in element:
        tag = child.tag
        if tag == "remark":
            value: Any = _text(child)
        else:
            value = {k: v for k, v in child.attrib.items() if v and k != "regulationLanguage"}
            for inner in child:
                if inner.tag == "regulationSummary":
                    continue
                text = _text(inner)
                if inner.attrib:
                    text = text or "; ".join(f"{k}={v}" for k, v in inner.attrib.items() if v)
                if text:
                    value[inner.tag] = text
        if value:
            row.setdefault(tag, []).append(value)
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in row.items()}


class EuFsfXml:
    format = "eu-fsf-xml"
    description = "EU consolidated financial sanctions list, the Commission's XML (FSF 1.1)"

    def parse(self, paths: list[Path], run: Run) -> ParsedList:
        file = one_file(expand_paths(paths, (".xml",)), "eu-fsf-xml", "full sanctions list XML")
        root, entities = _entities(file, run)
        generated = parse_iso(root.get("generationDate"))
        source = file.source(
            DATASET,
            title="Consolidated list of persons, groups and entities subject to EU financial "
            "sanctions",
            publisher="European Commission",
            url=URL,
            published=generated,
            published_as_stated=f"generationDate {root['generationDate']}" if generated else None,
            notes="The Financial Sanctions Files full list (XML 1.1) as the Commission "
            "publishes it.",
        )
        records = []
        seen: set[str] = set()
        for line, element in entities:
            key = (element.get("logicalId") or "").strip()
            if not key:
                run.warn(file.name, line, "<sanctionEntity> without logicalId")
                continue
            rid = record_id(DATASET, key)
            if rid in seen:
                run.warn(file.name, line, f"logicalId {key} listed twice")
                continue
            doc = self._record(element, rid, key, line, file.name, source["id"], run)
            if doc is not None:
                seen.add(rid)
                records.append(finish_record(doc, run.stats))
        return ParsedList(self.format, DATASET, [source], records, generated)

    def _record(
        self,
        element: ET.Element,
        rid: str,
        key: str,
        line: int,
        file: str,
        source: str,
        run: Run,
    ) -> Doc | None:
        aliases = [
            (a, " ".join((a.get("wholeName") or "").split())) for a in element.findall("nameAlias")
        ]
        aliases = [
            (a, whole or " ".join(a.get(p) or "" for p in ("firstName", "middleName", "lastName")))
            for a, whole in aliases
        ]
        aliases = [(a, " ".join(n.split())) for a, n in aliases if n.strip()]
        if not aliases:
            run.warn(file, line, f"logicalId {key} has no name")
            return None
        strong = [(a, n) for a, n in aliases if (a.get("strong") or "true").lower() not in _FALSE]
        untranslated = [(a, n) for a, n in strong if not a.get("nameLanguage")]
        primary, name = (untranslated or strong or aliases)[0]
        names: list[Doc | None] = []
        for item, text in aliases:
            if item is primary:
                continue
            weak = (item.get("strong") or "true").lower() in _FALSE
            doc = alias(text, "weak_aka" if weak else "aka", source)
            lang = (item.get("nameLanguage") or "").lower()
            if doc is not None and lang and "lang" not in doc and len(lang) in (2, 3):
                doc["lang"] = lang
            names.append(doc)
        subject = element.find("subjectType")
        code = (subject.get("code") or "").lower() if subject is not None else ""
        # A group or a company: any of its names may say which ("Front", "Bank" ...).
        kind = "person" if code == "person" else entity_type(" | ".join(n for _, n in aliases))
        addresses = [a for a in (_address(e, source) for e in element.findall("address")) if a]
        nationalities: list[str] = []
        birth_dates: list[str] = []
        if kind == "person":
            citizenships = [_country(c) for c in element.findall("citizenship")]
            nationalities = list(dict.fromkeys(c for c in citizenships if c))
            country = single(nationalities)
            births = (_birth_date(b) for b in element.findall("birthdate"))
            birth_dates = list(dict.fromkeys(d for d in births if d))
        else:
            country = single(a.get("country") for a in addresses)
        identifiers: list[Doc | None] = [identifier("eu-fsf-id", key, source=source)]
        un_ref = (element.get("unitedNationId") or "").strip()
        if un_ref:
            identifiers.append(identifier("un-ref", un_ref, source=source))
        identifiers += [_identifier(e, source) for e in element.findall("identification")]
        regulations = element.findall("regulation")
        programmes = [r.get("programme") or "" for r in regulations if r.get("programme")]
        titles = [r.get("numberTitle") or "" for r in regulations if r.get("numberTitle")]
        basis = "; ".join(dict.fromkeys(titles))
        details = " ".join((element.get("designationDetails") or "").split())
        remarks = " | ".join(_text(r) for r in element.findall("remark") if _text(r))
        designation = {
            "id": designation_id(rid, "eu"),
            "jurisdiction": "EU",
            "authority": "Council of the EU",
            "list": "EU consolidated financial sanctions list",
            "program": ", ".join(dict.fromkeys(programmes)) or None,
            "listed_date": parse_iso(element.get("designationDate")),
            "conduct": clip(details or None, 20_000),
            "legal_basis": clip(f"Regulation {basis}" if basis else None, 2_000),
            "reference": element.get("euReferenceNumber") or None,
            "evidence": [{"source": source, "locator": f"{file}:{line}", "row": _row(element)}],
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
            "birth_dates": birth_dates,
            "nationalities": nationalities,
            "notes": clip(remarks or None, 20_000),
        }
