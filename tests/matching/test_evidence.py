"""Dates of birth, nationalities and identifiers as evidence, and the summary
sentence: table-driven, pure functions (registry.matching.evidence)."""

from __future__ import annotations

import pytest

from registry.matching import DEFAULT_THRESHOLD, compare_names
from registry.matching.evidence import (
    DOB_CONFLICT_PENALTY,
    DOB_MATCH_BONUS,
    IDENTIFIER_MATCH_BONUS,
    MAX_RAISE_WITHOUT_IDENTIFIER,
    NATIONALITY_CONFLICT_PENALTY,
    NATIONALITY_MATCH_BONUS,
    Evidence,
    compare_dob,
    dob_evidence,
    id_key,
    identifier_evidence,
    nationality_evidence,
    summary,
    weigh,
)

# (query, listed, compatible, precision of the agreement)
DOB_PAIRS = [
    ("1962-02-18", "1962-02-18", True, "day"),
    ("1962-02-18", "1962-02", True, "month"),
    ("1962-02-18", "1962", True, "year"),
    ("1962", "1962-02-18", True, "year"),
    ("1962-02", "1962-02-18", True, "month"),
    ("1962-02-18", "1962-02-19", False, "day"),  # same month, another day
    ("1962-02-18", "1962-03", False, "month"),  # same year, another month
    ("1962-02", "1962-03-01", False, "month"),
    ("1965", "1962", False, "year"),  # another year
    ("1962-02-18", "1961", False, "year"),
    # a range (OFAC "1961 to 1963", "circa 1962" read as 1960/1964)
    ("1962-05-01", "1961/1963", True, "range"),
    ("1965", "1961/1963", False, "range"),
    ("1962-02-18", "1961-01-01/1962-12-31", True, "range"),
    ("1963-01-01", "1961-01-01/1962-12-31", False, "range"),  # 1 Jan is the year 1963
    # 1 January stands for "day and month unknown" on either side: the year alone counts
    ("1967-05-04", "1967-01-01", True, "year"),
    ("1967-01-01", "1967-05-04", True, "year"),
    ("1967-01-01", "1967-01-01", True, "year"),
    ("1966-12-31", "1967-01-01", False, "year"),
    ("1967-01-02", "1967-01-01", True, "year"),
]


def _result(evidence: Evidence | None) -> str | None:
    return None if evidence is None else evidence.result


@pytest.mark.parametrize(("query", "listed", "compatible", "precision"), DOB_PAIRS)
def test_compare_dob(query: str, listed: str, compatible: bool, precision: str) -> None:
    assert compare_dob(query, listed) == (compatible, precision)


def test_a_date_of_birth_conflicts_only_with_every_listed_date() -> None:
    # KIM Yong Chol (OFAC 17614, DOB 18 Feb 1962) and his namesake (12211, circa 1946 and 1947)
    match = dob_evidence(["1962-02-18"], ["1962-02-18"])
    assert match is not None and match.result == "match"
    assert match.effect == DOB_MATCH_BONUS["day"] == 0.05
    conflict = dob_evidence(["1962-02-18"], ["1945/1949", "1944/1948"])
    assert conflict is not None and conflict.result == "conflict"
    assert conflict.effect == -DOB_CONFLICT_PENALTY == -0.3
    assert conflict.listed == ("1944/1948", "1945/1949")
    assert conflict.detail == "the date of birth 1962-02-18 conflicts with 1944/1948 and 1945/1949"
    # one of several listed dates agreeing is enough: MOHAMMAD HASSAN AKHUND (UK AFG0006)
    akhund = ["1967-01-01", "1969-06-04", "1968", "1958", "1953"]
    best = dob_evidence(["1969-06-04"], akhund)
    assert best is not None and (best.result, best.effect) == ("match", 0.05)
    for query, listed, precision, effect in [
        (["1969"], akhund, "year", 0.02),
        (["1962-02"], ["1962-02-18"], "month", 0.03),
        (["1962"], ["1961/1963"], "range", 0.01),
    ]:
        found = dob_evidence(query, listed)
        assert found is not None and found.effect == DOB_MATCH_BONUS[precision] == effect
    assert _result(dob_evidence(["1990"], akhund)) == "conflict"
    # nothing known on one side: no evidence either way
    assert dob_evidence(["1962"], []) is None
    assert dob_evidence([], ["1962"]) is None


def test_nationality() -> None:
    match = nationality_evidence(["KP"], ["KP"])
    assert match is not None and (match.result, match.effect) == ("match", NATIONALITY_MATCH_BONUS)
    assert NATIONALITY_MATCH_BONUS == 0.03
    conflict = nationality_evidence(["US"], ["KP"])
    assert conflict is not None and (conflict.result, conflict.effect) == ("conflict", -0.1)
    assert conflict.effect == -NATIONALITY_CONFLICT_PENALTY
    # not twice: the country hint already lowered the score for a conflict
    again = nationality_evidence(["US"], ["KP"], country_conflict_counted=True)
    assert again is not None and (again.result, again.effect) == ("conflict", 0.0)
    # Hong Kong and Macau count as China (as the country hint does)
    assert _result(nationality_evidence(["HK"], ["CN"])) == "match"
    assert _result(nationality_evidence(["CN"], ["MO"])) == "match"
    assert _result(nationality_evidence(["HK"], ["MO"])) == "conflict"
    assert nationality_evidence(["RU"], []) is None


IDENTIFIER_KEYS = [
    ("D10008106", "D10008106"),
    ("d-1000 8106", "D10008106"),
    ("ICP 11021902", "ICP11021902"),
    ("IMO 9187629", "9187629"),
    ("imo9187629", "9187629"),
    ("IMO 91876", "IMO91876"),  # not seven digits: not an IMO number
    ("９１８７６２９", "9187629"),  # full-width digits
    (" - / ", ""),
]


@pytest.mark.parametrize(("value", "key"), IDENTIFIER_KEYS)
def test_id_key(value: str, key: str) -> None:
    assert id_key(value) == key


def test_identifier() -> None:
    # BAZGHANDI, Rouhollah (OFAC 42599): Passport D10008106 (Iran)
    listed = [("us-ofac-uid", "42599"), ("passport", "D10008106")]
    found = identifier_evidence(["d1000-8106"], listed)
    assert found is not None and (found.result, found.effect) == ("match", IDENTIFIER_MATCH_BONUS)
    assert IDENTIFIER_MATCH_BONUS == 0.3
    assert found.listed == ("passport D10008106",)
    assert found.detail == "the identifier d1000-8106 matches passport D10008106"
    # a list's own row reference is not a number the subject carries
    assert identifier_evidence(["42599"], listed) is None
    # another number is no evidence against (people hold several passports)
    assert identifier_evidence(["X1234567"], listed) is None


def test_weigh_keeps_scores_in_range() -> None:
    conflict = dob_evidence(["1965"], ["1962"])
    ident = identifier_evidence(["AB123456"], [("passport", "AB 123456")])
    assert conflict is not None and ident is not None
    assert weigh(1.0, [conflict]) == 0.7  # an identical name with another year of birth
    assert weigh(1.0, [conflict]) < DEFAULT_THRESHOLD
    assert weigh(0.5, [ident]) == 0.8  # half a name and the same passport: a match
    assert weigh(0.5, [ident]) >= DEFAULT_THRESHOLD
    assert weigh(0.95, [ident]) == 1.0
    assert weigh(0.2, [conflict]) == 0.0
    assert weigh(0.9, [ident, conflict]) == 0.9
    # the most a date of birth and a nationality can add (the index is asked that much lower)
    best_dob = max(DOB_MATCH_BONUS.values())
    assert pytest.approx(best_dob + NATIONALITY_MATCH_BONUS) == MAX_RAISE_WITHOUT_IDENTIFIER


def _explained(query: str, listed: str, schema: str) -> dict[str, object]:
    return dict(compare_names(query, listed, schema).explanation)


SUMMARIES = [
    (
        ("Finder Technology", "FINDER TECHNOLOGY LTD", "company"),
        "aka",
        "All 2 words of the query match FINDER TECHNOLOGY LTD (an alias); "
        "the listed name also has 'ltd'.",
    ),
    (
        ("Finder Technology Ltd", "FINDER TECHNOLOGY LTD", "company"),
        "primary",
        "All 3 words of the query match FINDER TECHNOLOGY LTD (the primary name).",
    ),
    (
        ("Vladimir Pudin", "Vladimir Putin", "person"),
        "primary",
        "All 2 words of the query match Vladimir Putin (the primary name), one of them "
        "approximately ('pudin' for 'putin').",
    ),
    (
        ("Ruhollah Bazghandi Hosseini", "BAZGHANDI, Rouhollah", "person"),
        "primary",
        "2 of 3 words of the query match BAZGHANDI, Rouhollah (the primary name), one of them "
        "approximately ('ruhollah' for 'rouhollah'); 'hosseini' has no counterpart.",
    ),
    (
        ("Octavian Scholz", "Olaf Scholz", "person"),
        "weak_aka",
        "1 of 2 words of the query match Olaf Scholz (a weak alias); 'octavian' has no "
        "counterpart; the listed name also has 'olaf'; lowered by 0.12 (each name has "
        "distinctive words the other does not explain).",
    ),
]


@pytest.mark.parametrize(("names", "kind", "sentence"), SUMMARIES)
def test_summary_of_the_name(names: tuple[str, str, str], kind: str, sentence: str) -> None:
    explanation = _explained(*names)
    assert summary(explanation, names[1], kind) == sentence


def test_summary_with_evidence_and_country() -> None:
    explanation = _explained("Finder Technology", "FINDER TECHNOLOGY LTD", "company")
    explanation["country"] = {"query": "DE", "entity": ["CN", "HK"], "penalty": 0.1}
    conflict = dob_evidence(["1965"], ["1962"])
    assert conflict is not None
    explanation["evidence"] = [conflict.as_dict()]
    assert summary(explanation, "FINDER TECHNOLOGY LTD", "aka") == (
        "All 2 words of the query match FINDER TECHNOLOGY LTD (an alias); the listed name also "
        "has 'ltd'; the country DE is not among the entity's (CN, HK); the date of birth 1965 "
        "conflicts with 1962."
    )
