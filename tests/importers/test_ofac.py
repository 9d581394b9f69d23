"""ofac-csv and ofac-json: the real OFAC files, and broken ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse

from .conftest import DATA, by_id, expect_warning, real, write


def test_sdn_snapshot_counts() -> None:
    for name, rows in (
        ("ofac-csv-2024-02-20", 13_931),
        ("ofac-csv-2024-02-23", 14_484),
        ("ofac-csv-2024-05-03", 14_965),
    ):
        parsed = real(name)
        assert parsed.stats["rows"] == rows
        assert len(parsed.records) == rows
        assert parsed.warnings == []
        assert parsed.dataset == "us-ofac-sdn"
    assert real("ofac-csv-2024-02-23").snapshot_date == "2024-02-23"


def test_snapshot_ids_stable_and_553_new() -> None:
    before = {d["id"] for d in real("ofac-csv-2024-02-20").records}
    after = {d["id"] for d in real("ofac-csv-2024-02-23").records}
    new = after - before
    assert len(new) == 553
    with (DATA / "goal1" / "ofac_2024-02-23_new_uids.csv").open(encoding="utf-8") as f:
        expected = {f"us-ofac-sdn:{row['uid']}" for row in csv.DictReader(f)}
    assert new == expected
    # the same entry has the same id in both snapshots and in the JSON
    assert "us-ofac-sdn:306" in before & after
    assert "us-ofac-sdn:306" in by_id(real("ofac-json"))


def test_sdn_record_from_remarks() -> None:
    doc = by_id(real("ofac-csv-2024-02-23"))["us-ofac-sdn:18795"]
    assert doc["type"] == "company"
    assert [d["program"] for d in doc["designations"]] == ["UKRAINE-EO13662", "RUSSIA-EO14024"]
    ids = {(i["scheme"], i["value"], i.get("country")) for i in doc["identifiers"]}
    assert ("tax-id", "4345029946", "RU") in ids
    assert ("registration-number", "1034316578680", "RU") in ids
    assert ("us-ofac-uid", "18795", None) in ids
    designation = doc["designations"][0]
    assert designation["authority"] == "OFAC" and designation["list"] == "SDN List"
    assert designation["jurisdiction"] == "US"
    evidence = designation["evidence"][0]
    assert evidence["locator"].startswith("sdn_2024-02-23.csv:")
    assert evidence["row"]["ent_num"] == "18795"
    assert "Linked To: STATE CORPORATION ROSTEC" in doc["notes"]
    cuba = by_id(real("ofac-csv-2024-02-23"))["us-ofac-sdn:306"]
    assert {
        "name": "BNC",
        "kind": "weak_aka",
        "source": cuba["designations"][0]["evidence"][0]["source"],
    } in cuba["names"]


def test_person_country_from_nationality() -> None:
    people = [d for d in real("ofac-csv-2024-02-23").records if d["type"] == "person"]
    assert len(people) == 6_757
    with_country = [d for d in people if d.get("country")]
    assert len(with_country) > 3_000


def test_consolidated_list() -> None:
    parsed = real("ofac-csv-cons")
    assert parsed.dataset == "us-ofac-cons"
    # 443 lines in cons_prim.csv: 442 entries and the trailing 0x1A end-of-file line
    assert len(parsed.records) == 442
    assert parsed.warnings == []
    assert {d["list"] for r in parsed.records for d in r["designations"]} == {
        "Consolidated (non-SDN) List"
    }
    assert [s["url"].rsplit("/", 1)[1] for s in parsed.sources] == [
        "CONS_PRIM.CSV",
        "CONS_ADD.CSV",
        "CONS_ALT.CSV",
        "CONS_COMMENTS.CSV",
    ]
    doc = by_id(parsed)["us-ofac-cons:9639"]
    assert doc["type"] == "person" and doc["name"] == "HANIYA, Ismail Abdul Salah"
    assert {"name": "HANIYA, Ismail", "kind": "aka"} in [
        {k: n[k] for k in ("name", "kind")} for n in doc["names"]
    ]
    assert parsed.stats["alt_rows_unmatched"] == 0


def test_json_counts() -> None:
    parsed = real("ofac-json")
    assert len(parsed.records) == 19_249
    assert parsed.snapshot_date == "2026-08-20"
    assert parsed.sources[0]["published"] == "2026-08-20"
    # 20,194 alternate names: 4 repeat the primary name and are not kept as aliases
    assert parsed.stats["aliases"] + parsed.stats["duplicate_names"] == 20_194
    assert parsed.stats["aliases"] == 20_190
    types = {d["type"] for d in parsed.records}
    assert types <= {"person", "company", "organisation", "vessel", "aircraft"}


def test_json_with_add_and_alt() -> None:
    parsed = real("ofac-json-add-alt")
    doc = by_id(parsed)["us-ofac-sdn:48589"]
    assert doc["name"] == "FINDER TECHNOLOGY LTD"
    assert [d["program"] for d in doc["designations"]] == ["RUSSIA-EO14024"]
    (address,) = doc["addresses"]
    assert "Chai Wan" in address["full"] and "Hong Kong" in address["full"]
    assert address["country"] == "HK"
    assert doc["country"] == "HK"
    add_source = next(s for s in parsed.sources if s["notes"].startswith("File add.csv"))
    assert address["source"] == add_source["id"]
    # typed alt.csv names win over the JSON's untyped ones
    fka = [n for d in parsed.records for n in d.get("names", ()) if n["kind"] == "fka"]
    assert len(fka) > 400
    assert len(parsed.sources) == 3


SDN_ROWS = (
    '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"a.k.a. 'BNC'.\"\r\n"
)


def test_ofac_csv_bad_row(tmp_path: Path) -> None:
    text = SDN_ROWS + '475,"CASA DE CUBA",-0- ,"CUBA"\r\n'
    text += '480,"CECOEX, S.A.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a'
    sdn = write(tmp_path / "sdn_2024-01-02.csv", text, "latin-1")
    expect_warning("ofac-csv", [sdn], "sdn_2024-01-02.csv", 3, 3)
    parsed = parse("ofac-csv", [sdn])
    assert parsed.snapshot_date == "2024-01-02"
    assert parsed.stats["rows"] == 4


def test_ofac_csv_not_ofac(tmp_path: Path) -> None:
    with_header = write(tmp_path / "ofac-sdn.csv", "uid,name,type,programs,alternate_names\n")
    with pytest.raises(ImportFormatError, match="not an OFAC legacy CSV"):
        parse("ofac-csv", [with_header])
    alt = write(tmp_path / "alt.csv", '36,12,"aka","AERO-CARIBBEAN",-0- \r\n', "latin-1")
    with pytest.raises(ImportFormatError, match="base list file"):
        parse("ofac-csv", [alt])


def test_ofac_csv_alt_add_join(tmp_path: Path) -> None:
    sdn = write(tmp_path / "sdn.csv", SDN_ROWS, "latin-1")
    alt = write(tmp_path / "alt.csv", '36,12,"aka","AERO-CARIBBEAN",-0- \r\n99,1\r\n', "latin-1")
    add = write(tmp_path / "add.csv", '36,25,-0- ,"Havana","Cuba",-0- \r\n', "latin-1")
    parsed = parse("ofac-csv", [sdn, alt, add])
    doc = parsed.records[0]
    assert doc["names"][0]["name"] == "AERO-CARIBBEAN"
    assert doc["addresses"][0] == {
        "full": "Havana, Cuba",
        "city": "Havana",
        "country": "CU",
        "source": parsed.sources[2]["id"],
    }
    assert [(w.file, w.line) for w in parsed.warnings] == [("alt.csv", 2)]


def test_ofac_json(tmp_path: Path) -> None:
    entries = [
        {"uid": 1, "name": "A", "type": "entity", "programs": ["SDGT"], "alternateNames": []},
        {"name": "no uid", "type": "entity", "programs": [], "alternateNames": []},
        {"uid": 3, "name": "C", "type": "individual", "programs": [], "alternateNames": ["D"]},
    ]
    good = write(tmp_path / "sdn.json", json.dumps({"published": "2026-01-02", "entries": entries}))
    expect_warning("ofac-json", [good], "sdn.json", 2, 2)
    assert parse("ofac-json", [good]).snapshot_date == "2026-01-02"
    other = write(tmp_path / "other.json", json.dumps({"entities": [{"name": "x"}]}))
    with pytest.raises(ImportFormatError, match="not the OFAC SDN JSON"):
        parse("ofac-json", [other])
    broken = write(tmp_path / "broken.json", '{"entries": [\n{"uid": 1,\n')
    with pytest.raises(ImportFormatError, match=r"broken.json:\d+: not JSON"):
        parse("ofac-json", [broken])


def test_progress(tmp_path: Path) -> None:
    rows = "".join(
        f'{i},"NAME {i}",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
        for i in range(1, 2_501)
    )
    sdn = write(tmp_path / "sdn.csv", rows, "latin-1")
    calls: list[tuple[int, int | None]] = []
    parse("ofac-csv", [sdn], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1_000, None), (2_000, None), (2_500, 2_500)]
