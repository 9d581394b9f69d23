"""The catalogue of sources: where each official list is published, in which format, and
what a sane file of it looks like.

The URLs are the publishers' own, as the tools that download these lists every day use them
(moov-io/watchman's download code; opensanctions' dataset definitions for the EU file).
`registry sources` prints the catalogue as JSON; `registry refresh --sources FILE` (or
REGISTRY_SOURCES) takes a file of the same shape instead, so a mirror, a proxy or a test
server can stand in for the publishers (schemas/sources.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from schemas.sources import SourcesSchema

from .problems import InputError, Problem, flatten_messages

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")
XML_TYPES = ("application/xml", "text/xml")
JSON_TYPES = ("application/json", "text/json")
FORMAT_TYPES: dict[str, tuple[str, ...]] = {
    "ofac-csv": CSV_TYPES,
    "ofac-json": JSON_TYPES + CSV_TYPES,
    "csl-csv": CSV_TYPES,
    "bis-json": JSON_TYPES,
    "uk-fcdo-csv": CSV_TYPES,
    "uk-csv": CSV_TYPES,
    "eu-fsf-xml": XML_TYPES,
    "eu-json": JSON_TYPES,
    "un-xml": XML_TYPES,
}
FORMAT_SUFFIX = {"csv": ".csv", "xml": ".xml", "json": ".json"}
MAX_BYTES = 512 * 1024 * 1024

OFAC_EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"


@dataclass(frozen=True)
class Dataset:
    """One list: the dataset its files load, their format and where they are published."""

    name: str
    format: str
    urls: tuple[str, ...]
    title: str | None = None
    publisher: str | None = None
    page: str | None = None
    min_records: int | None = None
    content_types: tuple[str, ...] = field(default=())
    max_bytes: int = MAX_BYTES
    included_in: str | None = None
    note: str | None = None

    @property
    def accepted_types(self) -> tuple[str, ...]:
        return self.content_types or FORMAT_TYPES.get(self.format, ())

    @property
    def suffix(self) -> str:
        return FORMAT_SUFFIX.get(self.format.rsplit("-", 1)[-1], "")

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "format": self.format, "urls": list(self.urls)}
        for key in ("title", "publisher", "page", "min_records", "included_in", "note"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        doc["content_types"] = list(self.accepted_types)
        doc["max_bytes"] = self.max_bytes
        return doc


CATALOGUE: tuple[Dataset, ...] = (
    Dataset(
        name="us-ofac-sdn",
        format="ofac-csv",
        urls=tuple(
            OFAC_EXPORTS + name for name in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
        ),
        title="OFAC Specially Designated Nationals and Blocked Persons List (SDN)",
        publisher="US Treasury, Office of Foreign Assets Control",
        page="https://ofac.treasury.gov/specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists",
        min_records=10_000,
    ),
    Dataset(
        name="us-ofac-cons",
        format="ofac-csv",
        urls=tuple(
            OFAC_EXPORTS + name
            for name in ("CONS_PRIM.CSV", "CONS_ADD.CSV", "CONS_ALT.CSV", "CONS_COMMENTS.CSV")
        ),
        title="OFAC Consolidated Sanctions List (non-SDN lists)",
        publisher="US Treasury, Office of Foreign Assets Control",
        page="https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists",
        min_records=200,
    ),
    Dataset(
        name="us-csl",
        format="csl-csv",
        urls=(
            "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
        ),
        title="Consolidated Screening List",
        publisher="US Department of Commerce, International Trade Administration",
        page="https://www.trade.gov/consolidated-screening-list",
        min_records=5_000,
        note="Eleven export screening lists of Commerce, State and Treasury in one file, the "
        "BIS Entity List among them.",
    ),
    Dataset(
        name="us-bis-entity-list",
        format="bis-json",
        urls=(),
        title="BIS Entity List (Supplement No. 4 to Part 744 of the EAR)",
        publisher="US Department of Commerce, Bureau of Industry and Security",
        page="https://www.bis.gov/entity-list",
        included_in="us-csl",
        note="BIS publishes no machine-readable file of its own: the Entity List arrives "
        "with the Consolidated Screening List (us-csl, source 'Entity List (EL) - Bureau of "
        "Industry and Security'). bis-json files parsed from the eCFR can still be imported.",
    ),
    Dataset(
        name="gb-hmt",
        format="uk-fcdo-csv",
        urls=("https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv",),
        title="UK Sanctions List",
        publisher="Foreign, Commonwealth & Development Office",
        page="https://www.gov.uk/government/publications/the-uk-sanctions-list",
        min_records=3_000,
    ),
    Dataset(
        name="eu-fsf",
        format="eu-fsf-xml",
        urls=(
            "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/"
            "content?token=dG9rZW4tMjAxNw",
        ),
        title="Consolidated list of persons, groups and entities subject to EU financial sanctions",
        publisher="European Commission (Financial Sanctions Files)",
        page="https://data.europa.eu/data/datasets/consolidated-list-of-persons-groups-and-entities-subject-to-eu-financial-sanctions",
        min_records=3_000,
    ),
    Dataset(
        name="un-sc",
        format="un-xml",
        urls=("https://scsanctions.un.org/resources/xml/en/consolidated.xml",),
        title="United Nations Security Council Consolidated List",
        publisher="United Nations Security Council",
        page="https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
        min_records=500,
    ),
)


def catalogue_json(datasets: tuple[Dataset, ...] | list[Dataset] = CATALOGUE) -> dict[str, Any]:
    return {"datasets": [d.as_dict() for d in datasets]}


def parse_sources(doc: Any, *, name: str = "sources") -> list[Dataset]:
    """Datasets from a catalogue document; InputError naming each field at fault."""
    try:
        data = SourcesSchema().load(doc if isinstance(doc, dict) else {"datasets": doc})
    except ValidationError as exc:
        raise InputError(
            [Problem(m, field=f or None, file=name) for f, m in flatten_messages(exc.messages)],
            title="Bad sources file",
        ) from None
    return [
        Dataset(
            name=item["name"],
            format=item["format"],
            urls=tuple(item["urls"]),
            title=item.get("title"),
            publisher=item.get("publisher"),
            page=item.get("page"),
            min_records=item.get("min_records"),
            content_types=tuple(item.get("content_types") or ()),
            max_bytes=item.get("max_bytes") or MAX_BYTES,
            included_in=item.get("included_in"),
            note=item.get("note"),
        )
        for item in data["datasets"]
    ]


def load_sources(path: str | Path) -> list[Dataset]:
    """The catalogue in a JSON file of the shape `registry sources` prints."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            [Problem(f"cannot read it as JSON: {exc}", file=str(path))], title="Bad sources file"
        ) from None
    return parse_sources(doc, name=str(path))


def catalogue(sources_file: str | Path | None = None) -> list[Dataset]:
    """The catalogue in force: a sources file when given, else the built-in one."""
    return load_sources(sources_file) if sources_file else list(CATALOGUE)
