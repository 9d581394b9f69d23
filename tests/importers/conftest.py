"""Real list files from ../shared/data, parsed once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.paths import SHARED_DATA
from registry.importers import ImportFormatError, ParsedList, parse

DATA = SHARED_DATA

# name -> (format, files)
REAL = {
    "ofac-csv-2024-02-20": ("ofac-csv", ["ofac_sdn_snapshots/sdn_2024-02-20.csv"]),
    "ofac-csv-2024-02-23": ("ofac-csv", ["ofac_sdn_snapshots/sdn_2024-02-23.csv"]),
    "ofac-csv-2024-05-03": ("ofac-csv", ["ofac_sdn_snapshots/sdn_2024-05-03.csv"]),
    "ofac-csv-cons": ("ofac-csv", ["watchman/ofac_nonsdn_2025-12"]),
    "ofac-json": ("ofac-json", ["ofac_sdn_kindrat86/ofac-sdn.json"]),
    "ofac-json-add-alt": (
        "ofac-json",
        [
            "ofac_sdn_kindrat86/ofac-sdn.json",
            "ofac_add_alt_mino6225/add.csv",
            "ofac_add_alt_mino6225/alt.csv",
        ],
    ),
    "csl-csv": ("csl-csv", ["watchman/csl_2022-05/consolidated.csv"]),
    "bis-json": ("bis-json", ["bis_nsfreg/bis_entity_list.json"]),
    "uk-csv": ("uk-csv", ["uk_covyr"]),
    "eu-json": ("eu-json", ["eu_un_pakote/all.json"]),
    "un-xml": ("un-xml", ["watchman/un_2026-02/UN_consolidated.xml"]),
}

_cache: dict[str, ParsedList] = {}


def real(name: str) -> ParsedList:
    """The parse of one real file set (cached: several tests look at the same parse)."""
    if not DATA.is_dir():
        pytest.skip(f"real list files not found: {DATA} (the shared data folder) is absent")
    if name not in _cache:
        fmt, files = REAL[name]
        _cache[name] = parse(fmt, [DATA / f for f in files])
    return _cache[name]


def by_id(parsed: ParsedList) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in parsed.records}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def expect_warning(fmt: str, files: list[Path], file: str, line: int, records: int) -> None:
    """The parse skips one bad row with a warning at file:line; strict mode raises there."""
    parsed = parse(fmt, files)
    assert len(parsed.records) == records
    assert [(w.file, w.line) for w in parsed.warnings] == [(file, line)]
    assert parsed.stats["skipped"] == 1
    with pytest.raises(ImportFormatError) as caught:
        parse(fmt, files, strict=True)
    assert f"{file}:{line}" in str(caught.value)
    assert caught.value.problems[0].line == line
