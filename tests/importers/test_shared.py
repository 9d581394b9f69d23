"""Unit tests of the shared pieces: remarks, identifiers, countries, ids, dates."""

from __future__ import annotations

import pytest

from registry.importers.base import (
    alias,
    designation_id,
    entity_type,
    parse_dmy,
    parse_us_short,
    record_id,
)
from registry.importers.countries import country_code
from registry.importers.identifiers import identifier, parse_remarks

REMARK_IDS = [
    ("Tax ID No. 4345029946 (Russia).", [("tax-id", "4345029946", "RU")]),
    (
        "Registration Number 1034316578680 (Russia)",
        [("registration-number", "1034316578680", "RU")],
    ),
    (
        "Unified Social Credit Code (USCC) 91440300MA5GN73B4F (China)",
        [("cn-uscc", "91440300MA5GN73B4F", "CN")],
    ),
    ("Vessel Registration Identification IMO 9187629", [("imo", "9187629", None)]),
    ("Company Number IMO 5055293", [("imo-company", "5055293", None)]),
    (
        "Passport 645720381 (Russia) issued 01 Jan 2010 expires 01 Jan 2020",
        [("passport", "645720381", "RU")],
    ),
    ("alt. Passport 472220033 (Korea, North)", [("passport", "472220033", "KP")]),
    ("SWIFT/BIC SABRRUMM", [("swift-bic", "SABRRUMM", None)]),
    ("Legal Entity Number 253400V1H6ART1UQ0N98 (Russia)", [("lei", "253400V1H6ART1UQ0N98", "RU")]),
    ("D-U-N-S Number 52-024-2307", [("duns", "52-024-2307", None)]),
    ("National ID No. 216040 (Yemen)", [("national-id", "216040", "YE")]),
    (
        "Folio Mercantil No. 22839 (Jalisco) (Mexico)",
        [("registration-number", "22839 (Jalisco)", "MX")],
    ),
    (
        "Registration Number 131082000061293 (China)",
        [("registration-number", "131082000061293", "CN")],
    ),
    (
        "Digital Currency Address - XBT 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h",
        [("crypto-wallet", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", None)],
    ),
    ("DOB 15 Jan 1955; POB Moscow, Russia; Gender Male; Website www.x.ru", []),
    ("Secondary sanctions risk: section 1(b) of Executive Order 13224", []),
    (
        "Tax ID No. 7707083893 (Russia); Registration Number 1027700132195 (Russia); "
        "Linked To: STATE CORPORATION ROSTEC.",
        [("tax-id", "7707083893", "RU"), ("registration-number", "1027700132195", "RU")],
    ),
]


@pytest.mark.parametrize(("remarks", "expected"), REMARK_IDS)
def test_remarks_identifiers(remarks: str, expected: list[tuple[str, str, str | None]]) -> None:
    found = [
        (i["scheme"], i["value"], i.get("country")) for i in parse_remarks(remarks).identifiers
    ]
    assert found == expected


REMARK_NAMES = [
    ("a.k.a. 'BNC'.", [("weak_aka", "BNC")]),
    ("f.k.a. 'KYONGYONG CREDIT BANK'.", [("fka", "KYONGYONG CREDIT BANK")]),
    (
        "Tax ID No. 1 (Russia); a.k.a. 'SBERBANK INDIA'; a.k.a. 'SBERBANK MUMBAI'.",
        [("weak_aka", "SBERBANK INDIA"), ("weak_aka", "SBERBANK MUMBAI")],
    ),
    ("a.k.a. 'AL-QA'IDA'", [("weak_aka", "AL-QA'IDA")]),
    ("DOB 1962; POB Shati.", []),
]


@pytest.mark.parametrize(("remarks", "expected"), REMARK_NAMES)
def test_remarks_aliases(remarks: str, expected: list[tuple[str, str]]) -> None:
    assert parse_remarks(remarks).aliases == expected


def test_remarks_nationality_and_links() -> None:
    parsed = parse_remarks("nationality Russia; alt. citizen Korea, North; Linked To: HAMAS.")
    assert parsed.nationalities == ["RU", "KP"]
    assert parsed.linked_to == ["HAMAS"]
    assert parse_remarks(None).identifiers == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Korea, North", "KP"),
        ("South Korea", "KR"),
        ("Burma", "MM"),
        ("U.A.E.", "AE"),
        ("Crimea Region of Ukraine", "UA"),
        ("Region: North Gaza", "PS"),
        ("Virgin Islands, British", "VG"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo, Republic of the", "CG"),
        ("the Netherlands", "NL"),
        ("Hong Kong", "HK"),
        ("CN", "CN"),
        ("00", None),
        ("Jalisco", None),
        ("Region: Kafia Kingi", None),
        ("", None),
    ],
)
def test_country_code(value: str, code: str | None) -> None:
    assert country_code(value) == code


def test_identifier_normalises() -> None:
    assert identifier("tax-id", "91440300MA5GN73B4F", "CN") == {
        "scheme": "cn-uscc",
        "value": "91440300MA5GN73B4F",
        "country": "CN",
    }
    assert identifier("tax-id", "7707083893", "RU") == {
        "scheme": "tax-id",
        "value": "7707083893",
        "country": "RU",
    }
    assert identifier("imo", "IMO 9187629")["value"] == "9187629"  # type: ignore[index]
    assert identifier("passport", "  ") is None


def test_ids_are_valid_and_stable() -> None:
    assert record_id("un-sc", "CDi.001") == "un-sc:cdi.001"
    assert record_id("gb-hmt", "RUS2110") == "gb-hmt:rus2110"
    assert record_id("x", "Büyükdere İş Merkezi") == "x:buyukdere-is-merkezi"
    long = record_id("us-bis-entity-list", "word " * 60)
    assert len(long) <= 100 and long == record_id("us-bis-entity-list", "word " * 60)
    did = designation_id(long, "UKRAINE-EO13662")
    assert len(did) <= 128 and did.startswith(long)


def test_dates() -> None:
    assert parse_dmy("22/02/2024") == "2024-02-22"
    assert parse_dmy("31/02/2024") is None
    assert parse_us_short("2", "27", "24") == "2024-02-27"
    assert parse_us_short("11", "19", "98") == "1998-11-19"


def test_alias_scripts() -> None:
    assert alias("巨航航空科技（深圳）有限公司") == {
        "name": "巨航航空科技（深圳）有限公司",
        "kind": "other_script",
        "script": "Hani",
        "lang": "zh",
    }
    cyrillic = alias("АО НПО Высокоточные комплексы")
    assert cyrillic is not None and cyrillic["kind"] == "other_script"
    assert "lang" not in cyrillic  # Cyrillic alone does not tell the language
    assert alias("Qoussaï Saddam Hussein", "aka") == {
        "name": "Qoussaï Saddam Hussein",
        "kind": "aka",
    }
    assert alias("   ") is None


def test_entity_type() -> None:
    assert entity_type("FINDER TECHNOLOGY LTD") == "company"
    assert entity_type("Ministry of Defense") == "organisation"
    assert entity_type("Abdul Satar Ghoura", default="unknown") == "unknown"
