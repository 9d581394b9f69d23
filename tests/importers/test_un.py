"""un-xml: the UN Security Council Consolidated List, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers import ImportFormatError, parse

from .conftest import by_id, expect_warning, real, write


def test_real_file() -> None:
    parsed = real("un-xml")
    assert len(parsed.records) == 1_003
    assert (parsed.stats["individual"], parsed.stats["entity"]) == (730, 273)
    assert parsed.snapshot_date == "2026-02-27"
    docs = by_id(parsed)
    badege = docs["un-sc:cdi.001"]
    assert badege["name"] == "ERIC BADEGE"
    assert badege["type"] == "person" and badege["country"] == "CD"
    designation = badege["designations"][0]
    assert designation["listed_date"] == "2012-12-31"
    assert designation["program"] == "DRC"
    assert designation["reference"] == "CDi.001"
    assert designation["conduct"].startswith("He fled to Rwanda")
    assert designation["evidence"][0]["locator"] == "UN_consolidated.xml:4"
    aiai = docs["un-sc:qde.002"]
    assert aiai["type"] == "organisation"
    assert {"name": "الاتحاد الاسلامي", "kind": "other_script"}.items() <= aiai["names"][0].items()
    adf = docs["un-sc:cde.001"]
    assert ("ADF/NALU", "fka") in {(n["name"], n["kind"]) for n in adf["names"]}
    kinds = {n["kind"] for r in parsed.records for n in r.get("names", ())}
    assert {"aka", "weak_aka", "fka", "other_script"} <= kinds
    passports = [i for r in parsed.records for i in r["identifiers"] if i["scheme"] == "passport"]
    assert len(passports) > 250


UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <FIRST_NAME>ERIC</FIRST_NAME>
      <SECOND_NAME>BADEGE</SECOND_NAME>
      <REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER>
      <LISTED_ON>2012-12-31</LISTED_ON>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <FIRST_NAME>NO REFERENCE</FIRST_NAME>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES/>
</CONSOLIDATED_LIST>
"""


def test_broken_rows(tmp_path: Path) -> None:
    un = write(tmp_path / "un.xml", UN_XML)
    expect_warning("un-xml", [un], "un.xml", 10, 1)
    parsed = parse("un-xml", [un])
    assert parsed.records[0]["designations"][0]["evidence"][0]["locator"] == "un.xml:4"
    other = write(tmp_path / "eu.xml", '<?xml version="1.0"?>\n<export><a/></export>')
    with pytest.raises(ImportFormatError, match="not the UN consolidated list"):
        parse("un-xml", [other])
    broken = write(tmp_path / "broken.xml", UN_XML.replace("</SECOND_NAME>", ""))
    with pytest.raises(ImportFormatError, match=r"broken.xml:\d+: not well-formed XML"):
        parse("un-xml", [broken])
