"""bis-json: the BIS Entity List from the eCFR, its helpers, and broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse
from registry.importers.bis import (
    citations,
    clean_requirement,
    split_alias_address,
    split_name,
)

from .conftest import by_id, expect_warning, real, write


def test_real_file() -> None:
    parsed = real("bis-json")
    assert parsed.stats["entries"] == 3_409
    assert parsed.stats["rows"] == 3_409
    # entries of one party under several destinations are one record
    assert len(parsed.records) + parsed.stats["entries_merged"] == 3_409
    assert sum(len(r["designations"][0]["evidence"]) for r in parsed.records) == 3_409
    docs = by_id(parsed)
    dennex = docs["us-bis-entity-list:dennex-enterprises-limited"]
    designation = dennex["designations"][0]
    assert designation["listed_date"] == "2024-02-27"
    assert "89 FR 14388" in designation["reference"]
    assert "publication date" in designation["evidence"][0]["note"]
    assert dennex["country"] == "CN"
    assert dennex["addresses"][0]["country"] == "HK"
    assert "734.9(g), 746.8" in designation["legal_basis"]  # footnote digit gone
    bion = docs["us-bis-entity-list:bion-group-ic-ve-dis-ticaret-limited-sirketi"]
    assert sorted(a["country"] for a in bion["addresses"]) == ["HK", "TR"]
    assert len(bion["designations"][0]["evidence"]) == 2
    assert "country" not in bion  # two destinations
    # same name, unrelated entries (different rules and destinations): two records
    assert {"us-bis-entity-list:address-01.china", "us-bis-entity-list:address-01.turkey"} <= set(
        docs
    )
    davidovich = docs["us-bis-entity-list:mikhail-davidovich"]
    assert [n["name"] for n in davidovich["names"]] == ["Mike Davidovich"]
    assert davidovich["addresses"][0]["full"] == "P.O. Box 242, St. Petersburg, Russia 196240"
    neft = docs["us-bis-entity-list:gazprom-neft"]
    assert neft["names"][0]["name"] == "Gazprom Neft OAO"


def test_bis_helpers() -> None:
    found = citations("73 FR 54508,\n9/22/08.\n77 FR 58006, 9/19/12")
    assert [(c.ref, c.date) for c in found] == [
        ("73 FR 54508", "2008-09-22"),
        ("77 FR 58006", "2012-09-19"),
    ]
    assert [(c.ref, c.date) for c in citations("86 FR 67319")] == [("86 FR 67319", None)]
    assert citations("81 FR 61601 preview citation details, 9/7/16")[0].date == "2016-09-07"
    assert (
        clean_requirement("For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3))")
        == "For all items subject to the EAR. (See §§ 734.9(g), 746.8(a)(3))"
    )
    assert clean_requirement("see §§ 734.9(e) 1 and 744.11 of the EAR 2") == (
        "see §§ 734.9(e) and 744.11 of the EAR"
    )
    assert split_name("Gazprom Neft (a.k.a. Gazprom Neft OAO") == (
        "Gazprom Neft",
        [("aka", "Gazprom Neft OAO")],
    )
    assert split_name("Zorsecurity Center (f.k.a., Esage Lab)") == (
        "Zorsecurity Center",
        [("fka", "Esage Lab")],
    )
    assert split_name("Dennex Enterprises Limited") == ("Dennex Enterprises Limited", [])
    # addresses the eCFR parser left in aliases
    assert split_alias_address("Mike Davidovich, P.O. Box 242, St. Petersburg, Russia 196240") == (
        "Mike Davidovich",
        "P.O. Box 242, St. Petersburg, Russia 196240",
    )
    assert split_alias_address("Glavgosekspertiza. 13 Demidova Street, Sevastopol, Ukraine") == (
        "Glavgosekspertiza",
        "13 Demidova Street, Sevastopol, Ukraine",
    )
    assert split_alias_address("XYZ Co., Ltd., 12 Road, Beijing, China") == (
        "XYZ Co., Ltd.",
        "12 Road, Beijing, China",
    )
    assert split_alias_address("Huawei Technologies Co., Ltd.") == (
        "Huawei Technologies Co., Ltd.",
        "",
    )


def test_broken_rows(tmp_path: Path) -> None:
    entity = {
        "name": "Alpha Ltd",
        "aliases": [],
        "country": "China",
        "address": "1 Road, Hong Kong.",
        "federal_register": "89 FR 14388, 2/27/24",
        "notes": "For all items subject to the EAR.",
    }
    data = {"entities": [entity, {**entity, "name": ""}, {**entity, "name": "Beta"}]}
    bis = write(tmp_path / "bis.json", json.dumps(data))
    expect_warning("bis-json", [bis], "bis.json", 2, 2)
    other = write(tmp_path / "eu.json", json.dumps({"entities": [{"name": "x", "type": "y"}]}))
    with pytest.raises(ImportFormatError, match="not the BIS Entity List"):
        parse("bis-json", [other])
