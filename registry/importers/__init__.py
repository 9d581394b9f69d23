"""Parsers of official sanctions lists into registry record documents.

    from registry.importers import parse
    parsed = parse("uk-csv", [Path("shared/data/uk_covyr")])
    parsed.records   # EntitySchema-shaped documents, ids "<dataset>:<key>"
    parsed.sources   # one SourceSchema-shaped document per input file
    parsed.warnings  # malformed rows that were skipped (strict=True raises instead)

Pure Python: no Flask, no SQL. One module per format; `base` holds what they share.

    format     dataset             files
    ofac-csv   us-ofac-sdn         SDN.CSV (+ ALT.CSV, ADD.CSV, SDN_COMMENTS.CSV)
               us-ofac-cons        CONS_PRIM.CSV (+ CONS_ALT, CONS_ADD, CONS_COMMENTS)
    ofac-json  us-ofac-sdn         SDN JSON {uid, name, type, programs, alternateNames}
                                   (+ ALT.CSV, ADD.CSV, SDN_COMMENTS.CSV)
    csl-csv    us-csl              trade.gov consolidated.csv
    bis-json   us-bis-entity-list  Entity List entries parsed from the eCFR
    uk-fcdo-csv gb-hmt             UK-Sanctions-List.csv as the FCDO publishes it
    uk-csv     gb-hmt              subjects.csv + subject_{names,identifiers,countries,dobs}.csv
                                   (tables derived from that list by a third party)
    eu-fsf-xml eu-fsf              the Commission's full sanctions list XML (FSF 1.1)
    eu-json    eu-fsf              EU (+ UN) aggregate {metadata, entities} (derived)
    un-xml     un-sc               UN Security Council consolidated.xml

A folder stands for its files. Record ids are "<dataset>:<key>" (the list's own key:
OFAC uid, UK reference, EU logicalId, UN reference number, CSL source + _id, BIS name),
so the same entry keeps its id from one snapshot to the next; `snapshot_date` is the
list's publication date where the files state it (the date a delisting takes effect).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from .base import ImportFormatError, ParsedList, ParseWarning, Progress, Run
from .bis import BisJson
from .csl import CslCsv
from .eu import EuJson
from .eu_fsf import EuFsfXml
from .ofac import OfacCsv, OfacJson
from .uk import UkCsv
from .uk_fcdo import UkFcdoCsv
from .un import UnXml

# Always present in ParsedList.stats; formats add their own (rows per source list, rows
# of joined files that matched no entry, entries merged, duplicates dropped, ...).
STAT_KEYS = ("rows", "records", "names", "aliases", "addresses", "identifiers", "skipped")


class Importer(Protocol):
    format: str
    description: str

    def parse(self, paths: list[Path], run: Run) -> ParsedList: ...


FORMATS: dict[str, Importer] = {
    importer.format: importer
    for importer in (
        OfacCsv(),
        OfacJson(),
        CslCsv(),
        BisJson(),
        UkFcdoCsv(),
        UkCsv(),
        EuFsfXml(),
        EuJson(),
        UnXml(),
    )
}


def parse(
    format: str,
    paths: Sequence[Path | str],
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> ParsedList:
    """Parse the files of one official list.

    Malformed rows are skipped with a warning; with `strict=True` the parse raises
    ImportFormatError naming every file and line at fault. A file that is not of the
    format at all always raises. `progress(done_rows, total_rows_or_None)` is called
    about every 1,000 rows.
    """
    importer = FORMATS.get(format)
    if importer is None:
        raise ImportFormatError(
            f"Unknown format {format!r}; use one of: {', '.join(sorted(FORMATS))}."
        )
    if isinstance(paths, str | Path):
        paths = [paths]
    run = Run(format, strict=strict, progress=progress)
    # Parsing builds hundreds of thousands of small dicts and frees none of them: the cyclic
    # garbage collector would only rescan them, so it is paused for the parse.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = importer.parse([Path(p) for p in paths], run)
    finally:
        if collecting:
            gc.enable()
    run.finish()
    if strict and run.warnings:
        raise ImportFormatError(
            f"{format}: {len(run.warnings)} malformed row(s) (strict mode)", run.warnings
        )
    result.warnings = run.warnings
    run.stats["warnings"] = len(run.warnings)
    for key in STAT_KEYS:
        run.stats.setdefault(key, 0)
    result.stats = dict(sorted(run.stats.items()))
    return result


__all__ = [
    "FORMATS",
    "ImportFormatError",
    "Importer",
    "ParseWarning",
    "ParsedList",
    "parse",
]
