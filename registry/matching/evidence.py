"""More than a name: dates of birth, nationalities and identifiers as evidence,
and the one-sentence summary of a match.

A screening query may carry a date of birth, a nationality and an identifier
number besides the name. Each is compared with what the lists say of a
candidate entity, and the result moves the name's score:

===============================  ==========  =========================================
evidence                          effect      why
===============================  ==========  =========================================
identical identifier              +0.30       a passport or registration number names
                                              one subject; lifts a name scoring 0.5
date of birth conflicts           -0.30       a different person: an identical name
                                              (1.0) falls to 0.70, below the threshold
date of birth matches: full date  +0.05       modest: many people share a birthday,
                      month       +0.03       more share a month or a year
                      year        +0.02
                      range       +0.01       ("1949/1953": the list is unsure)
nationality matches               +0.03       modest: millions share one
nationality conflicts             -0.10       like the country hint; not twice when
                                              the country hint already conflicted
===============================  ==========  =========================================

The score is the name's score (after the country hint) plus these effects,
kept in [0, 1]. Without an identifier, a query can gain at most
`MAX_RAISE_WITHOUT_IDENTIFIER` (0.08): the name index is asked for candidates
that much below the floor, so that none the evidence lifts is lost. Entities
that share an identifier with the query are found by the identifier itself.

Dates compare as the intervals of days they cover: 1962 covers the whole year,
1962-03 the month, "1961/1963" (a list's "1961 to 1963") three years; a list's
"circa 1962" is held as 1960/1964. Two dates conflict when their intervals do
not meet: a different year, or the same year and a different month or day when
both sides give them. Lists use 1 January as a stand-in for "day and month
unknown" (among the full dates of birth a list gives it is about 10 to over 40
times as common as an average day), so on either side it counts as the year
alone. An entity with several dates of birth conflicts only when each of them
does.

Identifiers compare by `id_key`: case, spaces and punctuation ignored, "IMO
9187629" as 9187629. Only the numbers a subject carries count (passports,
national ids, registrations, IMO numbers ...), never the lists' own row
references (`LIST_REFERENCE_SCHEMES`).

Pure Python, no Flask, no SQL, compiled with the rest of the matcher.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DOB_CONFLICT_PENALTY",
    "DOB_MATCH_BONUS",
    "IDENTIFIER_MATCH_BONUS",
    "LIST_REFERENCE_SCHEMES",
    "MAX_RAISE_WITHOUT_IDENTIFIER",
    "NATIONALITY_CONFLICT_PENALTY",
    "NATIONALITY_MATCH_BONUS",
    "Evidence",
    "compare_dob",
    "dob_evidence",
    "id_key",
    "identifier_evidence",
    "nationality_evidence",
    "summary",
    "weigh",
]

IDENTIFIER_MATCH_BONUS: Final = 0.3
DOB_CONFLICT_PENALTY: Final = 0.3
DOB_MATCH_BONUS: Final = {"day": 0.05, "month": 0.03, "year": 0.02, "range": 0.01}
NATIONALITY_MATCH_BONUS: Final = 0.03
# The same as the country hint's conflict (index.COUNTRY_MISMATCH_PENALTY).
NATIONALITY_CONFLICT_PENALTY: Final = 0.1
#: The most a date of birth and a nationality can add to a name's score (0.08).
MAX_RAISE_WITHOUT_IDENTIFIER: Final = max(DOB_MATCH_BONUS.values()) + NATIONALITY_MATCH_BONUS

#: Identifier schemes that are a list's own reference for its row, not a number
#: the subject carries: a customer's passport number must not meet them.
LIST_REFERENCE_SCHEMES: Final = frozenset(
    {"us-ofac-uid", "uk-sanctions-list-ref", "ofsi-group-id", "eu-fsf-id", "un-ref"}
)

_PRECISIONS: Final = ("day", "month", "year", "range")  # most precise first
_IMO: Final = re.compile(r"IMO([0-9]{7})")
# Lists file Hong Kong and Macau under China or on their own (as records.COUNTRY_FAMILIES).
_RELATED: Final = frozenset({("CN", "HK"), ("HK", "CN"), ("CN", "MO"), ("MO", "CN")})


def id_key(value: str) -> str:
    """An identifier without case, spaces or punctuation: 'ab-12 345' -> 'AB12345';
    'IMO 9187629' -> '9187629' (the lists keep IMO numbers as their digits)."""
    key = "".join(ch for ch in unicodedata.normalize("NFKC", value).upper() if ch.isalnum())
    imo = _IMO.fullmatch(key)
    return imo.group(1) if imo is not None else key


# -- dates of birth ----------------------------------------------------------------


def _bounds(value: str) -> tuple[str, str, str]:
    """(first day, last day, precision) of a date as lists give it: YYYY, YYYY-MM,
    YYYY-MM-DD, or 'A/B' between two of those. Days are compared as text, so a
    month ends on its 31st whatever its length. 1 January counts as the year."""
    if "/" in value:
        start, _, end = value.partition("/")
        return _bounds(start)[0], _bounds(end)[1], "range"
    parts = value.split("-")
    year = parts[0]
    if len(parts) == 3 and not (parts[1] == "01" and parts[2] == "01"):
        return value, value, "day"
    if len(parts) == 2:
        return f"{year}-{parts[1]}-01", f"{year}-{parts[1]}-31", "month"
    return f"{year}-01-01", f"{year}-12-31", "year"


def compare_dob(query: str, listed: str) -> tuple[bool, str]:
    """(compatible, precision): whether two dates of birth can be the same day,
    and to what precision they agree (the coarser of the two: day, month, year
    or range). Incompatible dates conflict."""
    q_start, q_end, q_precision = _bounds(query)
    l_start, l_end, l_precision = _bounds(listed)
    compatible = q_start <= l_end and l_start <= q_end
    precision = _PRECISIONS[max(_PRECISIONS.index(q_precision), _PRECISIONS.index(l_precision))]
    return compatible, precision


@dataclass(frozen=True)
class Evidence:
    """What one attribute says about a candidate: `result` match or conflict,
    `effect` the amount added to the score (negative: subtracted)."""

    attribute: str  # date_of_birth | nationality | identifier
    query: str
    listed: tuple[str, ...]
    result: str  # match | conflict
    effect: float
    detail: str  # a clause of the summary: "the date of birth 1965 conflicts with 1962"

    def as_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "query": self.query,
            "listed": list(self.listed),
            "result": self.result,
            "effect": self.effect,
            "detail": self.detail,
        }


def _listing(values: Sequence[str]) -> str:
    """'1962', '1962 and 1963', '1961, 1962 and 1963'."""
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " and " + values[-1]


def dob_evidence(query_dobs: Sequence[str], listed: Sequence[str]) -> Evidence | None:
    """A date of birth against the entity's: the most precise agreement of any
    pair, else a conflict (every pair conflicts); None when a side has none."""
    if not query_dobs or not listed:
        return None
    best: tuple[int, str, str] | None = None  # (rank of precision, query, listed)
    for q in query_dobs:
        for value in listed:
            compatible, precision = compare_dob(q, value)
            if compatible:
                rank = _PRECISIONS.index(precision)
                if best is None or rank < best[0]:
                    best = (rank, q, value)
    shown = tuple(sorted(set(listed)))
    if best is None:
        query = query_dobs[0]
        return Evidence(
            "date_of_birth",
            query,
            shown,
            "conflict",
            -DOB_CONFLICT_PENALTY,
            f"the date of birth {query} conflicts with {_listing(shown)}",
        )
    precision = _PRECISIONS[best[0]]
    how = {"day": "", "month": " to the month", "year": " to the year", "range": ""}[precision]
    within = "is within" if precision == "range" else "matches"
    return Evidence(
        "date_of_birth",
        best[1],
        shown,
        "match",
        DOB_MATCH_BONUS[precision],
        f"the date of birth {best[1]} {within} {best[2]}{how}",
    )


# -- nationality ----------------------------------------------------------------------


def _same_country(a: str, b: str) -> bool:
    return a == b or (a, b) in _RELATED


def nationality_evidence(
    query: Sequence[str], listed: Collection[str], *, country_conflict_counted: bool = False
) -> Evidence | None:
    """A nationality against the entity's nationalities (two-letter codes; Hong
    Kong and Macau count as China). A conflict costs nothing more when the
    country hint already lowered the score for one."""
    if not query or not listed:
        return None
    shown = tuple(sorted(set(listed)))
    for q in query:
        if any(_same_country(q, value) for value in shown):
            return Evidence(
                "nationality",
                q,
                shown,
                "match",
                NATIONALITY_MATCH_BONUS,
                f"the nationality {q} matches",
            )
    effect = 0.0 if country_conflict_counted else -NATIONALITY_CONFLICT_PENALTY
    return Evidence(
        "nationality",
        query[0],
        shown,
        "conflict",
        effect,
        f"the nationality {query[0]} conflicts with {_listing(shown)}",
    )


# -- identifiers ----------------------------------------------------------------------


def identifier_evidence(
    query_ids: Sequence[str], listed: Sequence[tuple[str, str]]
) -> Evidence | None:
    """The query's identifier numbers against the entity's (scheme, value) pairs:
    a match when one has the same `id_key` (list references aside). A different
    number is no evidence against: people hold several passports."""
    for q in query_ids:
        key = id_key(q)
        if not key:
            continue
        found = sorted(
            {
                f"{scheme} {value}"
                for scheme, value in listed
                if scheme not in LIST_REFERENCE_SCHEMES and id_key(value) == key
            }
        )
        if found:
            return Evidence(
                "identifier",
                q,
                tuple(found),
                "match",
                IDENTIFIER_MATCH_BONUS,
                f"the identifier {q} matches {_listing(found)}",
            )
    return None


def weigh(name_score: float, evidence: Sequence[Evidence]) -> float:
    """The name's score moved by the evidence, kept in [0, 1]."""
    score = name_score + sum((e.effect for e in evidence), 0.0)
    return round(max(0.0, min(1.0, score)), 6)


# -- the summary sentence ---------------------------------------------------------------

_KIND_PHRASES: Final = {
    "primary": "the primary name",
    "aka": "an alias",
    "fka": "a former name",
    "variation": "a spelling variant",
    "other_script": "a name in another script",
    "weak_aka": "a weak alias",
}


def _quoted(words: Sequence[str]) -> str:
    return _listing([f"'{w}'" for w in words])


def summary(explanation: Mapping[str, Any], matched_name: str, name_kind: str) -> str:
    """One plain sentence a reviewer reads: how much of the query matches which
    listed name, what lowered the score, and what the other evidence says.

    "All 2 words of the query match FINDER TECHNOLOGY LTD (the primary name); the
    listed name also has 'ltd'; the date of birth 1965 conflicts with 1962."
    """
    alignment: list[Any] = list(explanation.get("alignment") or [])
    unmatched_q: list[Any] = list(explanation.get("unmatched_query") or [])
    unmatched_c: list[Any] = list(explanation.get("unmatched_candidate") or [])
    kind = _KIND_PHRASES.get(name_kind, "a listed name")
    aligned = sum(len(str(a["query_word"]).split()) for a in alignment)
    total = aligned + len(unmatched_q)
    approximate = [a for a in alignment if float(a["similarity"]) < 1.0]
    target = f"{matched_name} ({kind})"
    if total == 0 or aligned == 0:
        clause = f"No word of the query matches {target}"
    elif aligned == total:
        clause = (
            f"The query's word matches {target}"
            if total == 1
            else f"All {total} words of the query match {target}"
        )
    else:
        clause = f"{aligned} of {total} words of the query match {target}"
    if approximate and aligned:
        pairs = [f"'{a['query_word']}' for '{a['listed_word']}'" for a in approximate[:3]]
        if total == 1:
            clause += f", approximately ({pairs[0]})"
        else:
            many = len(approximate) > 1
            count = str(len(approximate)) if many else "one"
            clause += f", {count} of them approximately ({_listing(pairs)})"
    clauses = [clause]
    if unmatched_q and aligned:
        verb = "has" if len(unmatched_q) == 1 else "have"
        clauses.append(f"{_quoted(unmatched_q[:4])} {verb} no counterpart")
    if unmatched_c:
        more = f" and {len(unmatched_c) - 4} more" if len(unmatched_c) > 4 else ""
        clauses.append(f"the listed name also has {_quoted(unmatched_c[:4])}{more}")
    if explanation.get("rule") == "generic_only_cap":
        clauses.append("only generic words and legal forms match, so the score is capped")
    for penalty in explanation.get("penalties") or []:
        clauses.append(f"lowered by {float(penalty['amount']):.2f} ({penalty['reason']})")
    country = explanation.get("country")
    if isinstance(country, Mapping):
        entity_countries = ", ".join(str(c) for c in country.get("entity") or [])
        clauses.append(
            f"the country {country.get('query')} is not among the entity's ({entity_countries})"
        )
    for item in explanation.get("evidence") or []:
        clauses.append(str(item["detail"]))
    return "; ".join(clauses) + "."
