"""The publishers' own formats: the FCDO UK Sanctions List CSV and the EU financial sanctions
file (FSF XML), on the small real samples under tests/samples (see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse
from schemas import EntitySchema

from .conftest import DATA, by_id, real, write

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
UK = SAMPLES / "UK-Sanctions-List.csv"
EU = SAMPLES / "eu-fsf-2018-12-21.xml"


def test_uk_sanctions_list_csv() -> None:
    parsed = parse("uk-fcdo-csv", [UK])
    assert (parsed.dataset, parsed.snapshot_date) == ("gb-hmt", "2026-02-13")
    assert parsed.sources[0]["published"] == "2026-02-13"
    assert parsed.warnings == []
    docs = by_id(parsed)
    assert sorted(docs) == ["gb-hmt:afg0001", "gb-hmt:afg0006"]
    exchange = docs["gb-hmt:afg0001"]
    assert (exchange["type"], exchange["name"]) == (
        "company",
        "HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE",
    )
    assert exchange["country"] == "PK"  # its address
    assert {n["kind"] for n in exchange["names"]} == {"other_script"}
    designation = exchange["designations"][0]
    assert designation["listed_date"] == "2012-06-29"
    assert designation["program"] == "Afghanistan"
    assert designation["legal_basis"] == "The Afghanistan (Sanctions) (EU Exit) Regulations 2020"
    assert designation["evidence"][0]["locator"] == "UK-Sanctions-List.csv:3"
    assert designation["evidence"][0]["row"]["Unique ID"] == "AFG0001"
    akhund = docs["gb-hmt:afg0006"]
    # Name 6 is the family name: "Name 1 .. Name 5 Name 6", as the derived tables write it
    assert (akhund["type"], akhund["name"], akhund["country"]) == (
        "person",
        "MOHAMMAD HASSAN AKHUND",
        "AF",
    )
    assert (akhund["birth_dates"], akhund["nationalities"]) == (["1958-01-01"], ["AF"])
    ids = {(i["scheme"], i["value"]) for i in akhund["identifiers"]}
    assert ids >= {
        ("uk-sanctions-list-ref", "AFG0006"),
        ("un-ref", "TAi.002"),
        ("passport", "A1234567"),
        ("national-id", "12345"),
    }
    for doc in parsed.records:
        assert EntitySchema().validate(doc) == {}


@pytest.mark.skipif(not (DATA / "uk_covyr").is_dir(), reason="no shared data")
def test_uk_official_csv_keeps_the_ids_and_names_of_the_derived_tables() -> None:
    derived = by_id(real("uk-csv"))
    for rid, doc in by_id(parse("uk-fcdo-csv", [UK])).items():
        assert derived[rid]["name"] == doc["name"]
        assert derived[rid]["type"] == doc["type"]


def test_uk_lines_of_one_subject_make_one_record(tmp_path: Path) -> None:
    # The sample plus one alias line for AFG0001, as the list writes each further name.
    extra = "12/01/2022,AFG0001,12703,TAe.010,Haji Alim Hawala,,,,,,Alias,Good quality,"
    text = UK.read_text(encoding="utf-8") + extra + "," * (57 - extra.count(",")) + "\n"
    parsed = parse("uk-fcdo-csv", [write(tmp_path / "UK-Sanctions-List.csv", text)])
    exchange = by_id(parsed)["gb-hmt:afg0001"]
    assert {(n["name"], n["kind"]) for n in exchange["names"]} >= {("Haji Alim Hawala", "aka")}
    assert len(parsed.records) == 2


def test_uk_wrong_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    subjects = write(tmp_path / "subjects.csv", "unique_id,subject_type,date_designated\n")
    with pytest.raises(ImportFormatError, match="uk-csv format"):
        parse("uk-fcdo-csv", [subjects])
    latin = write(tmp_path / "UK-Sanctions-List.csv", UK.read_text("utf-8")[:200] + "é", "latin-1")
    with pytest.raises(ImportFormatError, match="not utf-8"):
        parse("uk-fcdo-csv", [latin])


def test_eu_financial_sanctions_file() -> None:
    parsed = parse("eu-fsf-xml", [EU])
    assert (parsed.dataset, parsed.snapshot_date) == ("eu-fsf", "2018-12-21")
    assert parsed.warnings == []
    docs = by_id(parsed)
    assert sorted(docs) == ["eu-fsf:1", "eu-fsf:207"]
    mugabe = docs["eu-fsf:1"]
    assert (mugabe["type"], mugabe["name"]) == ("person", "Robert Gabriel Mugabe")
    assert {(i["scheme"], i["value"]) for i in mugabe["identifiers"]} == {
        ("eu-fsf-id", "1"),
        ("passport", "AD001095"),
    }
    assert mugabe["birth_dates"] == ["1924-02-21"]
    assert "nationalities" not in mugabe  # the file gives none
    designation = mugabe["designations"][0]
    assert (designation["reference"], designation["program"]) == ("EU.36.64", "ZWE")
    assert designation["legal_basis"] == "Regulation 2018/223 (OJ L43)"
    assert designation["evidence"][0]["row"]["birthdate"]["birthdate"] == "1924-02-21"
    front = docs["eu-fsf:207"]
    assert front["type"] == "organisation"  # "Front", in its English name
    assert len(front["names"]) == 18  # its 19 names but the primary
    cyrillic = next(n for n in front["names"] if n["name"].startswith("Фронт"))
    assert (cyrillic["kind"], cyrillic["lang"]) == ("other_script", "bg")
    assert {"IBDA-C", "Great Islamic Eastern Warriors Front"} <= {n["name"] for n in front["names"]}
    for doc in parsed.records:
        assert EntitySchema().validate(doc) == {}


@pytest.mark.skipif(not (DATA / "eu_un_pakote").is_dir(), reason="no shared data")
def test_eu_xml_keys_records_as_the_derived_aggregate() -> None:
    derived = by_id(real("eu-json"))
    assert "Great Islamic Eastern Warriors Front" in {
        n["name"] for n in derived["eu-fsf:207"]["names"]
    } | {derived["eu-fsf:207"]["name"]}


def test_eu_wrong_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="expected <export>"):
        parse("eu-fsf-xml", [write(tmp_path / "a.xml", "<CONSOLIDATED_LIST/>")])
    with pytest.raises(ImportFormatError, match="not well-formed"):
        parse("eu-fsf-xml", [write(tmp_path / "b.xml", EU.read_text("utf-8")[:3000])])
    bomb = '<!DOCTYPE export [<!ENTITY a "aaaaaaaa">]><export>&a;</export>'
    with pytest.raises(ImportFormatError, match="entities"):
        parse("eu-fsf-xml", [write(tmp_path / "c.xml", bomb)])
