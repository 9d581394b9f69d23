"""uk-csv: the UK Sanctions List tables, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse

from .conftest import by_id, real, write


def test_real_file() -> None:
    parsed = real("uk-csv")
    assert len(parsed.records) == 6_046
    assert parsed.stats["names_rows"] == 15_050
    # every name row is a name of its record, but for 8 that repeat another of the same subject
    assert parsed.stats["names"] + parsed.stats["duplicate_names"] == 15_050
    assert parsed.warnings == []
    assert len(parsed.sources) == 5
    docs = by_id(parsed)
    finder = docs["gb-hmt:rus2110"]
    assert finder["name"] == "FINDER TECHNOLOGY LTD"
    assert finder["country"] == "CN"
    ids = {(i["scheme"], i["value"]) for i in finder["identifiers"]}
    assert ids >= {
        ("uk-sanctions-list-ref", "RUS2110"),
        ("ofsi-group-id", "16455"),
        ("registration-number", "HK0017526777"),
    }
    designation = finder["designations"][0]
    assert designation["listed_date"] == "2024-02-22"
    assert (designation["authority"], designation["list"], designation["program"]) == (
        "FCDO",
        "UK Sanctions List",
        "Russia",
    )
    assert designation["evidence"][0]["row"]["date_designated"] == "22/02/2024"
    juhang = docs["gb-hmt:rus2111"]
    assert juhang["name"] == "JUHANG AVIATION TECHNOLOGY (SHENZHEN) CO., LIMITED"
    assert [(n["name"], n["kind"]) for n in juhang["names"]] == [
        ("SHENZHEN JUHANG INTERNATIONAL WULIU CO., LTD.", "variation")
    ]
    akhund = docs["gb-hmt:afg0006"]
    assert akhund["type"] == "person" and akhund["country"] == "AF"
    assert ("un-ref", "TAi.002") in {(i["scheme"], i["value"]) for i in akhund["identifiers"]}
    assert "1967-01-01" in akhund["designations"][0]["evidence"][0]["row"]["dobs"]
    assert {r["designations"][0].get("program") for r in parsed.records} >= {"Russia", "Belarus"}
    assert all(r["designations"][0].get("program") for r in parsed.records)


def test_broken_rows(tmp_path: Path) -> None:
    folder = tmp_path / "uk"
    folder.mkdir()
    write(
        folder / "subjects.csv",
        "unique_id,subject_type,un_reference_number,ofsi_group_id,date_designated,last_updated\n"
        "RUS1,entity,,1,22/02/2024,\n"
        "RUS2,entity,,2\n"
        "RUS3,individual,,3,31/02/2024,\n",
    )
    write(
        folder / "subject_names.csv",
        "name_id,unique_id,name_type,alias_strength,full_name\n"
        "1,RUS1,primary,,Alpha\n2,RUS3,primary,,Beta\n3,RUS3,alias,low_quality_aka,Bet\n",
    )
    parsed = parse("uk-csv", [folder])
    assert len(parsed.records) == 2
    assert [(w.file, w.line) for w in parsed.warnings] == [
        ("subjects.csv", 3),  # too few fields: skipped
        ("subjects.csv", 4),  # not a date: kept without a listing date
    ]
    beta = parsed.records[1]
    assert beta["names"][0]["kind"] == "weak_aka"
    assert "listed_date" not in beta["designations"][0]
    with pytest.raises(ImportFormatError, match=r"subjects.csv:3"):
        parse("uk-csv", [folder], strict=True)
    write(folder / "other.csv", "x,y\n")
    with pytest.raises(ImportFormatError, match="not a UK Sanctions List file"):
        parse("uk-csv", [folder])
    with pytest.raises(ImportFormatError, match=r"needs subjects\.csv"):
        parse("uk-csv", [folder / "subject_names.csv"])
