"""csl-csv: the trade.gov Consolidated Screening List, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse

from .conftest import by_id, expect_warning, real, write

CSL_ROWS = {
    "SDN": 10_026,
    "EL": 2_001,
    "DTC": 727,
    "DPL": 462,
    "SSI": 290,
    "UVL": 201,
    "ISN": 163,
    "PLC": 78,
    "MEU": 71,
    "CMIC": 68,
    "CAP": 53,
    "MBS": 17,
    "FSE": 3,
}


def test_csl_counts() -> None:
    parsed = real("csl-csv")
    assert parsed.stats["rows"] == 14_160
    assert {
        k.removeprefix("rows_"): v for k, v in parsed.stats.items() if k.startswith("rows_")
    } == CSL_ROWS
    # CAP 15268 is printed twice (the rows differ only in source_list_url): one record with
    # both rows as evidence
    assert parsed.stats["duplicate_rows_merged"] == 1
    assert len(parsed.records) == 14_159
    assert parsed.warnings == []
    twice = by_id(parsed)["us-csl:cap.15268"]
    assert len(twice["designations"][0]["evidence"]) == 2


def test_csl_records() -> None:
    docs = by_id(real("csl-csv"))
    cmic = docs["us-csl:cmic.30902"]
    assert cmic["designations"][0]["authority"] == "OFAC"
    assert cmic["designations"][0]["program"] == "CMIC-EO13959"
    assert {"scheme": "cn-uscc", "value": "91110000MA005UCQ5P", "country": "CN"}.items() <= (
        cmic["identifiers"][1].items()
    )
    assert cmic["country"] == "CN"
    el = docs["us-csl:el.4398d33e9e93c7477af39f1e0bfffc13ddd47bcc"]
    designation = el["designations"][0]
    assert (designation["authority"], designation["list"]) == ("BIS", "Entity List")
    assert designation["listed_date"] == "2022-04-07"
    assert designation["reference"] == "87 FR 20299"
    assert [n["name"] for n in el["names"]] == [
        "Open Joint Stock Company 140 Repair Plant",
        "JSC 140 Repair Plant",
    ]
    authorities = {d["authority"] for r in docs.values() for d in r["designations"]}
    assert authorities == {"OFAC", "BIS", "DDTC", "State ISN"}


def test_broken_rows(tmp_path: Path) -> None:
    header = "_id,source,entity_number,type,programs,name\n"
    rows = (
        '1,"Entity List (EL) - Bureau of Industry and Security",,,,"Alpha Ltd"\n'
        '2,"Entity List (EL) - Bureau of Industry and Security",,,\n'
        '3,"Specially Designated Nationals (SDN) - Treasury Department",3,Individual,SDGT,"B, C"\n'
    )
    csl = write(tmp_path / "consolidated.csv", header + rows)
    expect_warning("csl-csv", [csl], "consolidated.csv", 3, 2)
    other = write(tmp_path / "other.csv", "a,b\n1,2\n")
    with pytest.raises(ImportFormatError, match="not a Consolidated Screening List"):
        parse("csl-csv", [other])
