"""eu-json: the EU (+ UN) aggregate, and broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse

from .conftest import by_id, expect_warning, real, write


def test_real_file() -> None:
    parsed = real("eu-json")
    stats = parsed.stats
    assert (stats["listed_eu"], stats["listed_un"], stats["listed_ofac"]) == (5_795, 998, 442)
    assert stats["out_of_scope"] == 441  # OFAC-only; one OFAC entity is also on the EU list
    assert len(parsed.records) == 6_814 - 441
    assert parsed.snapshot_date == "2026-01-28"
    designations = [d for r in parsed.records for d in r["designations"]]
    assert sum(d["jurisdiction"] == "EU" for d in designations) == 5_795
    assert sum(d["jurisdiction"] == "UN" for d in designations) == 998
    juhang = by_id(parsed)["eu-fsf:171452"]
    assert juhang["name"] == "Juhang Aviation"
    chinese = [n for n in juhang["names"] if n["kind"] == "other_script"]
    assert [(n["name"], n["lang"]) for n in chinese] == [("巨航航空科技（深圳）有限公司", "zh")]
    assert ("cn-uscc", "91440300MA5GN73B4F", "CN") in {
        (i["scheme"], i["value"], i.get("country")) for i in juhang["identifiers"]
    }
    (designation,) = juhang["designations"]
    assert designation["authority"] == "Council of the EU"
    both = by_id(parsed)["eu-fsf:13"]
    assert [d["authority"] for d in both["designations"]] == [
        "Council of the EU",
        "UN Security Council",
    ]


def test_broken_rows(tmp_path: Path) -> None:
    base = {"type": "entity", "aliases": [], "birthdates": [], "identifiers": []}
    data = {
        "metadata": {"generated": "2026-01-28T06:31:48Z"},
        "entities": [
            {**base, "name": "A", "source": ["EU"], "source_id": "1"},
            {**base, "name": "", "source": ["EU"], "source_id": "2"},
            {**base, "name": "C", "source": ["OFAC"], "source_id": "3"},
        ],
    }
    eu = write(tmp_path / "all.json", json.dumps(data))
    expect_warning("eu-json", [eu], "all.json", 2, 1)
    assert parse("eu-json", [eu]).stats["out_of_scope"] == 1
    with pytest.raises(ImportFormatError, match="not the EU/UN aggregate"):
        parse("eu-json", [write(tmp_path / "x.json", "[1, 2]")])
