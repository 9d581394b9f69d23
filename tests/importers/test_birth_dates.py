"""Dates of birth, nationalities and identifiers read from every list that publishes them."""

from __future__ import annotations

import pytest

from registry.importers.base import birth_date, partial_date
from registry.importers.identifiers import parse_remarks

from .conftest import by_id, real

# As the lists write them (OFAC remarks, the CSL, the EU aggregate, UN notes).
WRITTEN = [
    ("10 Dec 1948", "1948-12-10"),
    ("04 Sep 1957.", "1957-09-04"),
    ("1946", "1946"),
    ("Aug 1946", "1946-08"),
    ("1973-03-25", "1973-03-25"),
    ("1962-02", "1962-02"),
    ("Nov. 1973", "1973-11"),
    ("August 1961", "1961-08"),
    ("1951 to 1953", "1951/1953"),
    ("01 Jan 1961 to 31 Dec 1962", "1961-01-01/1962-12-31"),
    ("Mar 1962 to Feb 1963", "1962-03/1963-02"),
    ("1962 to 1962", "1962"),
    ("circa 1951", "1949/1953"),  # circa: two years either side
    ("circa 07 Jul 1966", "1964/1968"),
    ("circa 1979-1982", "1977/1984"),
    ("approximately 1966", "1964/1968"),
    # not dates of birth: left to the evidence row
    ("Between Aug. and Sep. 1977", None),
    ("78477", None),
    ("true", None),
    ("1965 to 1960", None),
    ("31 Feb 1960", None),
    ("1960-13", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), WRITTEN)
def test_birth_date(text: str, expected: str | None) -> None:
    assert birth_date(text) == expected


def test_partial_date() -> None:
    # the UK file's year, month and day columns (parse_issues say which are missing)
    assert partial_date("1967", "01", "01") == "1967-01-01"
    assert partial_date("1968", "", "") == "1968"
    assert partial_date("1962", "02", "") == "1962-02"
    assert partial_date("1962", "13", "") == "1962"
    assert partial_date("1962", "02", "30") == "1962-02"
    assert partial_date("x", "01", "01") is None


def test_ofac_remarks() -> None:
    remarks = parse_remarks(
        "DOB circa 1947; alt. DOB circa 1946; POB Pyongan-Pukto, North Korea; "
        "nationality Korea, North; citizen Korea, North; Passport 472336944 (Korea, North)"
    )
    assert remarks.birth_dates == ["1945/1949", "1944/1948"]
    assert remarks.nationalities == ["KP"]
    assert [(i["scheme"], i["value"], i.get("country")) for i in remarks.identifiers] == [
        ("passport", "472336944", "KP")
    ]


def test_ofac_identifier_labels_that_were_missing() -> None:
    remarks = parse_remarks(
        "C.U.I.T. 30-68074603-2 (Argentina).; US FEIN 95-4227517; Travel Document Number "
        "A0020375 (Germany).; Aircraft Construction Number (also called L/N or S/N or F/N) 8401"
    )
    assert [(i["scheme"], i["value"], i.get("country")) for i in remarks.identifiers] == [
        ("tax-id", "30-68074603-2", "AR"),
        ("tax-id", "95-4227517", None),
        ("passport", "A0020375", "DE"),
        ("aircraft-msn", "8401", None),
    ]


def test_ofac_sdn_csv() -> None:
    docs = by_id(real("ofac-csv-2024-02-23"))
    kim = docs["us-ofac-sdn:17614"]  # KIM, Yong Chol: DOB 18 Feb 1962; nationality Korea, North
    assert (kim["birth_dates"], kim["nationalities"]) == (["1962-02-18"], ["KP"])
    namesake = docs["us-ofac-sdn:12211"]  # KIM, Yong Chol: DOB circa 1947; alt. DOB circa 1946
    assert namesake["birth_dates"] == ["1945/1949", "1944/1948"]
    assert "nationalities" not in namesake
    bazghandi = docs["us-ofac-sdn:42599"]  # Passport D10008106 (Iran)
    assert ("passport", "D10008106", "IR") in {
        (i["scheme"], i["value"], i.get("country")) for i in bazghandi["identifiers"]
    }
    parsed = real("ofac-csv-2024-02-23")
    assert parsed.stats["birth_dates"] > 7_000 and parsed.stats["nationalities"] > 5_000


def test_csl() -> None:
    docs = by_id(real("csl-csv"))
    kim = docs["us-csl:sdn.17614"]
    assert (kim["birth_dates"], kim["nationalities"]) == (["1962-02-18"], ["KP"])
    assert docs["us-csl:sdn.12211"]["birth_dates"] == ["1945/1949", "1944/1948"]


def test_uk() -> None:
    akhund = by_id(real("uk-csv"))["gb-hmt:afg0006"]
    assert akhund["birth_dates"][:4] == ["1967-01-01", "1969-06-04", "1968", "1958"]
    assert akhund["nationalities"] == ["AF"]
    ids = {(i["scheme"], i["value"]) for i in akhund["identifiers"]}
    assert ("passport", "P04581926") in ids
    # the UK's identifier types in the shared vocabulary
    schemes = {i["scheme"] for r in real("uk-csv").records for i in r["identifiers"]}
    assert {"passport", "national-id", "registration-number", "imo"} <= schemes
    assert not schemes & {"national", "business_registration_number"}


def test_eu() -> None:
    docs = by_id(real("eu-json"))
    assert docs["eu-fsf:13"]["birth_dates"] == ["1937-04-28"]  # Saddam Hussein Al-Tikriti
    # as the file gives them (screening reads 1 January as the year alone)
    assert docs["eu-fsf:54"]["birth_dates"] == ["1946-01-01", "1960-01-01", "1949-01-01"]


def test_un() -> None:
    docs = by_id(real("un-xml"))
    # EXACT DATE, and BETWEEN ... with the note Approximately
    mujyambere = docs["un-sc:cdi.014"]
    assert (mujyambere["birth_dates"], mujyambere["nationalities"]) == (
        ["1962-03-17", "1964/1968"],
        ["RW"],
    )
    adam = docs["un-sc:cfi.002"]  # several nationalities, passports with and without country
    assert adam["nationalities"] == ["CF", "SD"]
    assert {("passport", "D00001184", "CF"), ("passport", "P04838205", None)} <= {
        (i["scheme"], i["value"], i.get("country")) for i in adam["identifiers"]
    }


@pytest.mark.parametrize(
    ("name", "ratio"),
    [("ofac-csv-2024-02-23", 9.5), ("csl-csv", 9.5), ("uk-csv", 9.5), ("un-xml", 9.5),
     ("eu-json", 40)],
)  # fmt: skip
def test_first_of_january_stands_for_an_unknown_day(name: str, ratio: float) -> None:
    """Why screening reads a listed 1 January as the year alone (README, evidence.py):
    among the full dates of birth of every list it is about 10 (OFAC) to over 40 (EU)
    times as common as an average day."""
    full = [d for r in real(name).records for d in r.get("birth_dates", []) if len(d) == 10]
    first = sum(1 for d in full if d.endswith("-01-01"))
    assert len(full) > 400
    assert first / len(full) > ratio / 365
