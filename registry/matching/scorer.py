"""Score how likely two names designate the same entity.

How a score is made (all constants below are module-level and documented):

1. Both names are analysed (`analysis.analyze`): normalised, split into tokens,
   each token classified and weighted (distinctive word 1, generic org word
   0.45, legal form 0.15, particle 0.2, title 0.1, initial 0.35, number 0.4).
2. Tokens are aligned one-to-one, greedily by similarity. Besides single
   tokens, an alignment may join 2-3 adjacent tokens of one side ("Micro
   Pilot" = "Micropilot", "van der bilt" = "vanderbilt"), read an
   organisation-name token as the initials of adjacent words ("ABC" = "A.B.C."
   is already one token; "HK" = "Hong Kong"), or match an initial to a name
   that starts with it ("V." = "Vladimir"). Legal forms align only with legal
   forms, numbers only with equal numbers.
3. Each aligned pair earns a *credit* from its similarity (`credit`): full for
   identical tokens, about 0.7 at the edge of what is still the same word
   (similarity 0.65: one typo in a short word), nothing below 0.55.
4. Coverage of each side = credited weight / total weight. With `hi` and `lo`
   the larger and smaller coverage, ``base = hi * (1 - EXTRA_WEIGHT * (1 - lo))``:
   the better-covered side must be (nearly) fully explained, and words that only
   the other side has (a middle name, "Europe") cost a little.
5. Penalties are subtracted: a substitution (each side keeps a distinctive word
   the other lacks: "Octavian" vs "Olaf"), conflicting legal forms (AG vs GmbH),
   reordered words, a single-word person name against a longer one, a
   father/son swap around "bin", and (issue 9) matches less believable than
   their coverage says: words common among listed names or in everyday
   language ("Rose Ltd" is not ROSE SHIPPING LIMITED) with the rest of a name
   left over, acronyms, syllables of East Asian names. A match made only of
   generic words and legal forms is capped low: "Co., Ltd." matches nothing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from operator import attrgetter
from typing import Any, Final

from .analysis import (
    _PATRONYMIC,
    AIRCRAFT,
    ORG,
    PERSON,
    UNKNOWN,
    VESSEL,
    WEIGHTS,
    AnalyzedName,
    Kind,
    Tok,
    acronyms_of,
    analyze,
    joins_of,
)
from .legal_forms import legal_form_words, legal_forms_conflict
from .normalize import HAN, HANGUL, LATIN, VOWEL_LOSSY
from .similarity import (
    SKELETON_DISCOUNT,
    latin_similarity,
    string_similarity,
    token_similarity,
)

__all__ = [
    "DEFAULT_THRESHOLD", "NameScore", "compare_analyzed", "compare_names", "credit",
    "evidence_kinds", "score_bound",
]  # fmt: skip

#: The service's single default decision threshold: a score at or above it is a
#: potential match. Scores are calibrated so that equivalent names score near 1
#: (identical 1.0, one typo ~0.9) and different entities fall clearly below.
DEFAULT_THRESHOLD: Final = 0.8

MIN_EDGE_SIM: Final = 0.55  # below this two tokens are not aligned at all
JOIN_MIN_SIM: Final = 0.8  # "micro"+"pilot" vs "micropilot" must be this close
INITIAL_SIM: Final = 0.9  # similarity reported for "V" against "Vladimir"
INITIAL_FULL_CREDIT: Final = 0.6  # share of the full name's weight an initial explains
ACRONYM_SIM: Final = 0.9
LEGAL_SAME_CLASS_SIM: Final = 0.8  # "Ltd" vs "LLC": different spelling, same kind
EXTRA_WEIGHT: Final = 0.3  # how much the less-covered side's unexplained words cost
SUBSTITUTION_PENALTY: Final = 0.12  # per unit of distinctive weight replaced (max 1 unit)
LEGAL_CONFLICT_PENALTY: Final = 0.1
LEGAL_ONE_SIDE_PENALTY: Final = 0.2  # a company's legal form against a person or vessel
ORDER_PENALTY: Final = 0.02
SINGLE_TOKEN_PENALTY: Final = 0.1
PATRONYMIC_SWAP_PENALTY: Final = 0.25
GENERIC_ONLY_CAP: Final = 0.45
NUMBER_MISMATCH_SIM: Final = 0.5
NUMBER_MISMATCH_CREDIT: Final = 0.5
# Precision (issue 9): each of these only lowers a score (the index's bounds
# assume the score can only fall below the coverage formula).
ANCHOR_SIM: Final = 0.9  # a distinctive word matched at least this well anchors a match
NO_ANCHOR_PENALTY: Final = 0.04  # every distinctive word only approximately matched
SYLLABLE_MISMATCH_PENALTY: Final = 0.12  # per syllable of an East Asian name not matched
SYLLABLE_ORDER_PENALTY: Final = 0.2  # given-name syllables in another order
ACRONYM_NOT_WRITTEN_PENALTY: Final = 0.15  # a query word read as initials, not written so
ACRONYM_SHORT_PENALTY: Final = 0.1  # three letters or fewer are all the evidence
SKELETON_ONLY_PENALTY: Final = 0.1  # one word's consonants are all the evidence
COMMON_WORDS_PENALTY: Final = 0.3  # times the unexplained share, times how common the match is
COMMON_FROM: Final = 20  # a word used by this many listed entities starts to be common
COMMON_AT: Final = 400  # ... and is fully common at this many (Mohammad, Ali, Trading)
INITIALS_ONLY_PENALTY: Final = 0.25  # one-letter initials are all that meets a distinctive word
ACRONYM_PARTIAL_PENALTY: Final = 0.15  # initials read from some of a name's words, not all
SPELLED_OUT_PENALTY: Final = 0.2  # a query's words are all a short initialism's evidence
EVERYDAY_NAME_PENALTY: Final = 0.5  # times the share of a name left over, when everyday words match


def credit(sim: float) -> float:
    """Credit earned by an aligned pair of similarity `sim` (piecewise linear).

    1.0 -> 1.0, 0.65 -> 0.7, 0.55 -> 0.0: a steep step around 0.6 separates
    "same word with a typo" from "different word".
    """
    if sim >= 0.65:
        return 0.7 + 0.3 * (sim - 0.65) / 0.35
    if sim <= MIN_EDGE_SIM:
        return 0.0
    return 0.7 * (sim - MIN_EDGE_SIM) / (0.65 - MIN_EDGE_SIM)


def score_bound(cov_q: float, cov_c: float) -> float:
    """An upper bound of the score of a pair whose coverages are at most `cov_q`
    and `cov_c` (the index prunes with it; tests/matching/test_bounds.py checks
    it on many pairs).

    Why it holds: each side's coverage is the credited weight of its tokens over
    its total weight, a token is in at most one aligned edge, so a coverage is at
    most the sum of weight x best credit any edge could give each token; ``base``
    (step 4) does not decrease when either coverage grows; penalties, the
    generic-only cap and the country penalty only lower it; rounding to six
    places is monotone, so the bound is rounded the same way (after 1e-9 for
    float sums made in another order).
    """
    q = 1.0 if cov_q > 1.0 else cov_q
    c = 1.0 if cov_c > 1.0 else cov_c
    hi, lo = (q, c) if q >= c else (c, q)
    return round(hi * (1.0 - EXTRA_WEIGHT * (1.0 - lo)) + 1e-9, 6)


@dataclass(frozen=True)
class NameScore:
    """Result of `compare_names`: `score` in [0, 1] and a JSON-serialisable
    `explanation` (normalised names, alignment, features, penalties, rule)."""

    score: float
    explanation: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class _Edge:
    q: tuple[int, ...]
    c: tuple[int, ...]
    sim: float
    how: str  # token | join | initial | acronym | legal | number
    credit_q: float
    credit_c: float
    order: tuple[float, float, int] = (0.0, 0.0, 0)  # alignment priority, set by _edge


def _edge(
    q: tuple[int, ...], c: tuple[int, ...], sim: float, how: str, cq: float, cc: float,
    qa: AnalyzedName, ca: AnalyzedName,
) -> _Edge:  # fmt: skip
    """An edge with its alignment priority: similarity, then weight, then position."""
    w = sum((qa.tokens[i].weight for i in q), 0.0) + sum((ca.tokens[j].weight for j in c), 0.0)
    return _Edge(q, c, sim, how, cq, cc, (sim, w, -abs(q[0] - c[0])))


_ALIGNABLE: Final = (Kind.NAME, Kind.GENERIC)


def _word_similarity(a: Tok, b: Tok) -> float:
    """Similarity of two NAME or GENERIC tokens (the common case)."""
    if a.script == LATIN and b.script == LATIN:
        sim = latin_similarity(a.text, b.text)
    else:
        sim = token_similarity(a.text, b.text, a.script, b.script, a.native, b.native)
    if (a.kind == Kind.GENERIC or b.kind == Kind.GENERIC) and sim < 1.0:
        # Canonical spellings can drift apart ("motor" vs "mortars"): try the words.
        sim = max(sim, token_similarity(a.raw, b.raw, a.script, b.script))
    return sim


def _pair(a: Tok, b: Tok, schema: str) -> tuple[float, str, float, float] | None:
    """Similarity of two single tokens, with how it was found and side credits."""
    ka, kb = a.kind, b.kind
    if ka <= 1 and kb <= 1:  # NAME or GENERIC on both sides: the common case
        sim = _word_similarity(a, b)
        if sim < MIN_EDGE_SIM:
            return None
        c = credit(sim)
        return sim, "token", c, c
    if ka == Kind.LEGAL or kb == Kind.LEGAL:
        if ka != kb or a.legal is None or b.legal is None:
            # A promoted legal form (the whole name) may still meet its words.
            if a.text == b.text:
                return 1.0, "token", 1.0, 1.0
            return None
        if a.legal.key == b.legal.key:
            return 1.0, "legal", 1.0, 1.0
        if legal_forms_conflict(a.legal, b.legal):
            return None
        return LEGAL_SAME_CLASS_SIM, "legal", 0.8, 0.8
    if ka == Kind.NUMBER or kb == Kind.NUMBER:
        if a.text == b.text:
            return 1.0, "token", 1.0, 1.0
        if ka == kb:
            # Series numbers of one family ("Fund VII" / "Fund VIII"): related.
            return NUMBER_MISMATCH_SIM, "number", NUMBER_MISMATCH_CREDIT, NUMBER_MISMATCH_CREDIT
        return None
    if ka == Kind.INITIAL or kb == Kind.INITIAL:
        if ka == kb:
            return (1.0, "token", 1.0, 1.0) if a.text == b.text else None
        if ka == Kind.INITIAL and b.text.startswith(a.text) and kb in _ALIGNABLE:
            return INITIAL_SIM, "initial", 1.0, INITIAL_FULL_CREDIT
        if kb == Kind.INITIAL and a.text.startswith(b.text) and ka in _ALIGNABLE:
            return INITIAL_SIM, "initial", INITIAL_FULL_CREDIT, 1.0
        return None
    if ka in (Kind.PARTICLE, Kind.HONORIFIC) or kb in (Kind.PARTICLE, Kind.HONORIFIC):
        if ka == kb and a.text == b.text:
            return 1.0, "token", 1.0, 1.0
        if ka in _ALIGNABLE or kb in _ALIGNABLE:
            # "Abu" read as a name on one side and a particle on the other.
            sim = 1.0 if a.text == b.text else 0.0
            return (sim, "token", 1.0, 1.0) if sim else None
        return None
    sim = token_similarity(a.text, b.text, a.script, b.script, a.native, b.native)
    if (ka == Kind.GENERIC or kb == Kind.GENERIC) and sim < 1.0:
        # Canonical spellings can drift apart ("motor" vs "mortars"): try the words.
        sim = max(sim, token_similarity(a.raw, b.raw, a.script, b.script))
    if sim < MIN_EDGE_SIM:
        return None
    c = credit(sim)
    return sim, "token", c, c


_JOINABLE: Final = (Kind.NAME, Kind.GENERIC, Kind.PARTICLE)


# Above this many query tokens, a token met again (the same word repeated, or one
# letter of many) reuses what its first occurrence found in the listed name.
_REPEAT_MEMO_TOKENS: Final = 8
_Hit = tuple[int, float, str, float, float]  # (listed token, sim, how, cq, cc)


def _listed_hits(a: Tok, ctoks: tuple[Tok, ...], schema: str) -> tuple[list[_Hit], bool]:
    """What one query token meets among the listed name's tokens; also whether it
    is a legal form in conflict with one of them."""
    hits: list[_Hit] = []
    legal_conflict = False
    ka = a.kind
    for j, b in enumerate(ctoks):
        kb = b.kind
        if ka == kb and a.text == b.text and a.native == b.native:
            hits.append((j, 1.0, "legal" if ka == Kind.LEGAL else "token", 1.0, 1.0))
            continue
        if ka <= 1 and kb <= 1:
            # NAME or GENERIC on both sides (the common case): what _pair does.
            sim = _word_similarity(a, b)
            if sim < MIN_EDGE_SIM:
                continue
            cr = credit(sim)
            hits.append((j, sim, "token", cr, cr))
            continue
        if ka != kb and a.text != b.text and ka != Kind.INITIAL and kb != Kind.INITIAL:
            continue  # what _pair says of two different words of different kinds
        hit = _pair(a, b, schema)
        if hit is None:
            if (
                ka == Kind.LEGAL
                and b.kind == Kind.LEGAL
                and a.legal
                and b.legal
                and legal_forms_conflict(a.legal, b.legal)
            ):
                legal_conflict = True
            continue
        sim, how, cq, cc = hit
        hits.append((j, sim, how, cq, cc))
    return hits, legal_conflict


def _single_edges(q: AnalyzedName, c: AnalyzedName, schema: str) -> tuple[list[_Edge], bool]:
    """Edges between single tokens; also reports a legal-form conflict."""
    edges: list[_Edge] = []
    legal_conflict = False
    ctoks = c.tokens
    qtoks = q.tokens
    # (what _listed_hits reads of a query token -> its answer; long queries only)
    memo: dict[tuple[Any, ...], tuple[list[_Hit], bool]] | None = (
        {} if len(qtoks) > _REPEAT_MEMO_TOKENS else None
    )
    for i, a in enumerate(qtoks):
        if memo is None:
            hits, conflict = _listed_hits(a, ctoks, schema)
        else:
            key = (a.text, a.kind, a.script, a.native, a.raw, a.legal)
            found = memo.get(key)
            if found is None:
                found = memo[key] = _listed_hits(a, ctoks, schema)
            hits, conflict = found
        if conflict:
            legal_conflict = True
        wa = a.weight
        for j, sim, how, cq, cc in hits:
            edges.append(
                _Edge((i,), (j,), sim, how, cq, cc, (sim, wa + ctoks[j].weight, -abs(i - j)))
            )
    return edges, legal_conflict


def _multi_edges(q: AnalyzedName, c: AnalyzedName, schema: str) -> list[_Edge]:
    """Edges joining adjacent tokens or reading initialisms."""
    edges: list[_Edge] = []
    qt, ct = q.tokens, c.tokens
    for side_joins, other, flip in ((joins_of(c), qt, False), (joins_of(q), ct, True)):
        if not side_joins:
            continue
        # (position, token, its text, its length + 3, first letter, first two)
        words = [
            (k, t, t.raw, len(t.raw) + 3, t.raw[:1], t.raw[:2])
            for k, t in enumerate(other)
            if t.kind <= Kind.GENERIC
        ]
        for idx, joined in side_joins:
            length, first, first2 = len(joined), joined[:1], joined[:2]
            for k, t, raw, length3, r_first, r_first2 in words:
                if (
                    length3 < length
                    # a joined form that matches starts alike (one letter may be lost)
                    or (r_first not in first2 and first not in r_first2)
                ):
                    continue
                jscript = (q if flip else c).tokens[idx[0]].script
                if t.script == LATIN and jscript == LATIN:
                    sim = string_similarity(raw, joined)
                else:
                    sim = token_similarity(raw, joined, t.script, jscript)
                if sim < JOIN_MIN_SIM:
                    continue
                cr = credit(sim)
                if flip:
                    edges.append(_edge(idx, (k,), sim, "join", cr, cr, q, c))
                else:
                    edges.append(_edge((k,), idx, sim, "join", cr, cr, q, c))
    # Organisation initialisms: "HK" = "Hong Kong", "PLA" = "People's Liberation Army".
    if schema != PERSON:
        for side_acr, other, flip in ((acronyms_of(c), qt, False), (acronyms_of(q), ct, True)):
            if not side_acr:
                continue
            for k, t in enumerate(other):
                if t.kind != Kind.NAME or not 2 <= len(t.text) <= 6 or not t.text.isalpha():
                    continue
                for idx, letters in side_acr:
                    if letters == t.text:
                        if flip:
                            edges.append(_edge(idx, (k,), ACRONYM_SIM, "acronym", 0.9, 0.9, q, c))
                        else:
                            edges.append(_edge((k,), idx, ACRONYM_SIM, "acronym", 0.9, 0.9, q, c))
    return edges


def _complete(chosen: list[_Edge], q: AnalyzedName, c: AnalyzedName) -> bool:
    """True when single tokens already explain every word well (no joins needed)."""
    mq = [False] * len(q.tokens)
    mc = [False] * len(c.tokens)
    for e in chosen:
        if e.sim >= 0.9:
            for i in e.q:
                mq[i] = True
            for j in e.c:
                mc[j] = True
    for k, t in enumerate(q.tokens):
        if not mq[k] and t.kind in _JOINABLE:
            return False
    for k, t in enumerate(c.tokens):  # noqa: SIM110 (a loop is faster than all() here)
        if not mc[k] and t.kind in _JOINABLE:
            return False
    return True


def _align(edges: list[_Edge], nq: int, nc: int) -> list[_Edge]:
    """Greedy one-to-one alignment: best similarity first, then heavier, then in order."""
    used_q = [False] * nq
    used_c = [False] * nc
    chosen = []
    edges.sort(key=_priority, reverse=True)  # (stable: equal priorities keep their order)
    for e in edges:
        eq, ec = e.q, e.c
        if len(eq) == 1 and len(ec) == 1:
            i, j = eq[0], ec[0]
            if used_q[i] or used_c[j]:
                continue
            used_q[i] = used_c[j] = True
        else:
            if any(used_q[i] for i in eq) or any(used_c[j] for j in ec):
                continue
            for i in eq:
                used_q[i] = True
            for j in ec:
                used_c[j] = True
        chosen.append(e)
        if len(chosen) >= nq or len(chosen) >= nc:
            break
    return chosen


_priority = attrgetter("order")


def _inversions(chosen: list[_Edge]) -> int:
    order = sorted(chosen, key=lambda e: e.q[0])
    pos = [e.c[0] for e in order]
    return sum(1 for i in range(len(pos)) for j in range(i + 1, len(pos)) if pos[i] > pos[j])


def _son_father(toks: tuple[Tok, ...]) -> tuple[int, int] | None:
    """Positions of (son, father) in "X bin Y" (the first such pattern)."""
    for k in range(1, len(toks) - 1):
        t = toks[k]
        if (
            t.kind == Kind.PARTICLE
            and t.text == "bin"
            and toks[k - 1].kind == Kind.NAME
            and toks[k + 1].kind == Kind.NAME
        ):
            return k - 1, k + 1
    return None


@dataclass(slots=True)
class ScoreDetail:
    """Everything a score was made of; `explanation()` renders it for people."""

    q: AnalyzedName
    c: AnalyzedName
    schema: str
    score: float
    rule: str
    chosen: list[_Edge]
    matched_q: list[bool]
    matched_c: list[bool]
    cov_q: float
    cov_c: float
    base: float
    penalties: list[tuple[str, float, str]]

    def explanation(self) -> dict[str, Any]:
        q, c = self.q, self.c
        order = sorted(self.chosen, key=lambda e: e.q[0])
        return {
            "query": q.original,
            "candidate": c.original,
            "schema": self.schema,
            "query_normalized": q.normalized,
            "candidate_normalized": c.normalized,
            "alignment": [
                {
                    "query_word": " ".join(q.tokens[i].text for i in e.q),
                    "listed_word": " ".join(c.tokens[j].text for j in e.c),
                    "similarity": round(e.sim, 4),
                    "weight": round(
                        (
                            sum((q.tokens[i].weight for i in e.q), 0.0)
                            + sum((c.tokens[j].weight for j in e.c), 0.0)
                        )
                        / 2,
                        4,
                    ),
                    "method": e.how,
                }
                for e in order
            ],
            "unmatched_query": [t.text for k, t in enumerate(q.tokens) if not self.matched_q[k]],
            "unmatched_candidate": [
                t.text for k, t in enumerate(c.tokens) if not self.matched_c[k]
            ],
            "features": {
                "query_coverage": round(self.cov_q, 4),
                "candidate_coverage": round(self.cov_c, 4),
                "base": round(self.base, 4),
            },
            "penalties": [
                {"name": n, "amount": round(a, 4), "reason": r} for n, a, r in self.penalties
            ],
            "rule": self.rule,
        }


def score_detail(q: AnalyzedName, c: AnalyzedName) -> ScoreDetail:
    """Score two analysed names and keep the pieces (see the module docstring)."""
    detail = _score(q, c, -1.0)
    assert detail is not None
    return detail


def score_detail_from(q: AnalyzedName, c: AnalyzedName, floor: float) -> ScoreDetail | None:
    """`score_detail`, or None as soon as the score is known to be below `floor`
    (once the alignment's coverage is: the penalties can only lower it)."""
    return _score(q, c, floor)


def _score(q: AnalyzedName, c: AnalyzedName, floor: float) -> ScoreDetail | None:
    schema = q.schema if q.schema != UNKNOWN else c.schema
    nq, nc = len(q.tokens), len(c.tokens)
    if not nq or not nc:
        return ScoreDetail(
            q, c, schema, 0.0, "empty_name", [], [False] * nq, [False] * nc, 0.0, 0.0, 0.0, []
        )
    if q.normalized == c.normalized and [t.native for t in q.tokens] == [
        t.native for t in c.tokens
    ]:
        chosen = [
            _Edge((k,), (k,), 1.0, "token", 1.0, 1.0, (1.0, 2 * t.weight, 0))
            for k, t in enumerate(q.tokens)
        ]
        return ScoreDetail(
            q, c, schema, 1.0, "identical_normalized", chosen, [True] * nq, [True] * nc,
            1.0, 1.0, 1.0, [],
        )  # fmt: skip

    edges, legal_conflict = _single_edges(q, c, schema)
    chosen = _align(edges, nq, nc)
    if not _complete(chosen, q, c):
        edges.extend(_multi_edges(q, c, schema))
        chosen = _align(edges, nq, nc)
    qt, ct = q.tokens, c.tokens
    eq = ec = 0.0
    matched_q = [False] * nq
    matched_c = [False] * nc
    distinctive_pair = False
    for e in chosen:
        for i in e.q:
            eq += qt[i].weight * e.credit_q
            matched_q[i] = True
        for j in e.c:
            ec += ct[j].weight * e.credit_c
            matched_c[j] = True
        if not distinctive_pair and e.sim >= 0.65:
            distinctive_pair = any(qt[i].kind == Kind.NAME for i in e.q) or any(
                ct[j].kind == Kind.NAME for j in e.c
            )
    cov_q = min(1.0, eq / q.total_weight)
    cov_c = min(1.0, ec / c.total_weight)
    hi, lo = (cov_q, cov_c) if cov_q >= cov_c else (cov_c, cov_q)
    base = hi * (1.0 - EXTRA_WEIGHT * (1.0 - lo))
    if round(min(1.0, base), 6) < floor:
        return None  # (the score is rounded from at most this, and rounding is monotone)
    penalties: list[tuple[str, float, str]] = []
    sub = min(_unexplained(qt, matched_q, chosen, True), _unexplained(ct, matched_c, chosen, False))
    if sub > 0:
        penalties.append(
            (
                "substitution",
                SUBSTITUTION_PENALTY * min(1.0, sub),
                "each name has distinctive words the other does not explain",
            )
        )
    if legal_conflict:
        penalties.append(
            ("legal_form_conflict", LEGAL_CONFLICT_PENALTY, "incompatible legal forms")
        )
    if len(chosen) > 1 and _inversions([e for e in chosen if e.how in _NAME_HOWS]) > 0:
        penalties.append(("word_order", ORDER_PENALTY, "aligned words appear in a different order"))
    pq, pc = q.part_count, c.part_count
    if min(pq, pc) == 1 and max(pq, pc) >= 2:
        if schema in _NAMED_ONE_WORD:
            # One given name, or a one-word vessel or aircraft name, inside a longer
            # name: "Olga Smith" is not the vessel OLGA.
            penalties.append(
                ("single_name", SINGLE_TOKEN_PENALTY, "a single name against a full name")
            )
        elif schema == ORG and (_name_left_over(qt, matched_q) or _name_left_over(ct, matched_c)):
            # One distinctive word of an organisation's several: "Santos" is not
            # AGROGANADERA LOS SANTOS S.A., "Isis Gomes" not ISIS.
            penalties.append(
                (
                    "single_name",
                    SINGLE_TOKEN_PENALTY,
                    "one distinctive word against a name with several",
                )
            )
    if (
        schema in _NAMED_ONE_WORD
        and _has_legal(qt) != _has_legal(ct)
        and (q.schema == UNKNOWN or c.schema == UNKNOWN)
    ):
        # A company's legal form on one side only, against a person, vessel or
        # aircraft: "Daniel S.A.S." is not the vessel DANIEL.
        penalties.append(
            (
                "legal_form_on_one_side",
                LEGAL_ONE_SIDE_PENALTY,
                "a company's legal form against a person, vessel or aircraft",
            )
        )
    if schema == PERSON:
        sf_q, sf_c = _son_father(qt), _son_father(ct)
        if sf_q and sf_c:
            pairs = {(e.q[0], e.c[0]) for e in chosen if len(e.q) == len(e.c) == 1}
            if (sf_q[0], sf_c[1]) in pairs or (sf_q[1], sf_c[0]) in pairs:
                penalties.append(
                    (
                        "patronymic_swap",
                        PATRONYMIC_SWAP_PENALTY,
                        "the son's name of one is the father's name of the other ('X bin Y')",
                    )
                )
    if distinctive_pair:
        _precision_penalties(q, c, chosen, matched_q, matched_c, penalties)
    substantive, initials, wordy = evidence_kinds(chosen, qt, ct)
    if initials and not substantive:
        # "Triangulatica" is not DON T: a name's initial standing for a whole
        # word is all that matches.
        penalties.append(
            (
                "initials_only",
                INITIALS_ONLY_PENALTY,
                "only initials match the other name's distinctive words",
            )
        )
    partial = _partial_acronym(chosen, qt, ct, matched_q, matched_c)
    if partial:
        penalties.append(
            (
                "acronym_partial",
                ACRONYM_PARTIAL_PENALTY,
                f"'{partial}' stands for some of the other name's words, not all of them",
            )
        )
    score = base - sum((p[1] for p in penalties), 0.0)
    rule = "alignment"
    if not distinctive_pair and (q.name_count or c.name_count or not wordy):
        # (a name of legal forms only, "COMPANY", matches no other name)
        if score > GENERIC_ONLY_CAP:
            score = GENERIC_ONLY_CAP
        rule = "generic_only_cap" if q.name_count or c.name_count else "legal_form_only"
    score = round(max(0.0, min(1.0, score)), 6)
    return ScoreDetail(
        q, c, schema, score, rule, chosen, matched_q, matched_c, cov_q, cov_c, base, penalties
    )


_NAME_HOWS: Final = frozenset({"token", "join", "initial"})
_FORMAL: Final = (Kind.LEGAL, Kind.NUMBER)


def evidence_kinds(
    chosen: list[_Edge], qt: tuple[Tok, ...], ct: tuple[Tok, ...]
) -> tuple[bool, bool, bool]:
    """What a match rests on: (a distinctive word met by more than an initial with
    similarity 0.65 or more, an initial edge, any edge beyond legal forms and
    numbers). The index bounds scores by the same three facts."""
    substantive = initials = wordy = False
    for e in chosen:
        if e.how == "initial":
            initials = wordy = True
            continue
        if not wordy:
            for i in e.q:
                if qt[i].kind not in _FORMAL:
                    wordy = True
            for j in e.c:
                if ct[j].kind not in _FORMAL:
                    wordy = True
        if not substantive and e.sim >= 0.65 and _names_a_word(e, qt, ct):
            substantive = True
    return substantive, initials, wordy


def _partial_acronym(
    chosen: list[_Edge],
    qt: tuple[Tok, ...],
    ct: tuple[Tok, ...],
    matched_q: list[bool],
    matched_c: list[bool],
) -> str:
    """The initials of an acronym edge whose words are only part of their name's
    distinctive words ("NPC" for "NATIONAL PAYMENT CARD" of "... CARD SYSTEM"), or ""."""
    for e in chosen:
        if e.how != "acronym":
            continue
        if len(e.q) > 1:
            toks, matched, single = qt, matched_q, ct[e.c[0]]
        else:
            toks, matched, single = ct, matched_c, qt[e.q[0]]
        for k, t in enumerate(toks):
            if t.kind <= Kind.GENERIC and not matched[k] and not _legal_word(t.text):
                return single.raw
    return ""


_NAMED_ONE_WORD: Final = frozenset({PERSON, VESSEL, AIRCRAFT})


def _name_left_over(toks: tuple[Tok, ...], matched: list[bool]) -> bool:
    """Whether a distinctive word of this side is aligned with nothing (a word of a
    legal form, or one letter from one, does not count)."""
    for k, t in enumerate(toks):
        if t.kind == Kind.NAME and not matched[k] and not _legal_word(t.text):
            return True
    return False


def _legal_word(text: str) -> bool:
    """A word of a legal form, or one edit from one ("limitd", "jonit", "compeany")."""
    if text in legal_form_words():
        return True
    if len(text) < _LEGAL_TYPO_MIN:
        return False  # ("gomez" less a letter is a word of a Czech form)
    near = _legal_near()
    if text in near:
        return True
    for k in range(len(text)):  # noqa: SIM110 (a loop is faster than any() here)
        if text[:k] + text[k + 1 :] in near:
            return True
    return False


_LEGAL_TYPO_MIN: Final = 5  # shorter words are not read as legal-form words with a typo


@lru_cache(maxsize=1)
def _legal_near() -> frozenset[str]:
    """Legal-form words of five letters or more, and each with one letter deleted:
    a word within one edit of one shares a key with it (SymSpell)."""
    words = [w for w in legal_form_words() if len(w) >= _LEGAL_TYPO_MIN]
    return frozenset(words) | {w[:k] + w[k + 1 :] for w in words for k in range(len(w))}


def _precision_penalties(
    q: AnalyzedName,
    c: AnalyzedName,
    chosen: list[_Edge],
    matched_q: list[bool],
    matched_c: list[bool],
    penalties: list[tuple[str, float, str]],
) -> None:
    """Penalties for matches that are less believable than their coverage says
    (issue 9): each only lowers the score."""
    qt, ct = q.tokens, c.tokens
    anchored = False
    for e in chosen:
        if e.how == "acronym":
            anchored = True  # (judged by the acronym rules below)
            break
        if e.sim >= ANCHOR_SIM and _names_a_word(e, qt, ct):
            anchored = True
            break
    if not anchored and (
        q.schema in _ONE_WORD_THINGS
        or c.schema in _ONE_WORD_THINGS
        or _legal_keys(qt) != _legal_keys(ct)
    ):
        # One short word with a typo is weak evidence once anything else differs
        # too: "Rivera Inc" is not JSC RIMERA, nor "Castro" the vessel CASTOR
        # (vessels are named with ordinary words); "Appel Inc." may be Apple Inc.
        penalties.append(
            (
                "no_exact_word",
                NO_ANCHOR_PENALTY,
                "no distinctive word matches closely, only approximately",
            )
        )
    if q.schema != PERSON and c.schema != PERSON and _one_skeleton(chosen, qt, ct):
        # Written without vowels (Arabic, Persian) against a romanised name, one
        # word's consonants say little of a company: ساسان is not SINIE. (A
        # person's one-word given name, משה = Moshe, is judged as before.)
        penalties.append(
            (
                "consonants_only",
                SKELETON_ONLY_PENALTY,
                "one word matches by its consonants alone (no vowels written)",
            )
        )
    if (
        q.schema not in _NAMED_ONE_WORD
        and c.schema not in _NAMED_ONE_WORD
        and _everyday_evidence(chosen, qt, ct)
    ):
        # (an unaligned legal form on one side: the other's legal-form words may be
        # that form broken up by a typo or reordering, not a second name)
        legal_q = _legal_left(qt, matched_q)
        legal_c = _legal_left(ct, matched_c)
        left = max(_left_over(qt, matched_q, legal_c), _left_over(ct, matched_c, legal_q))
        if left > 0.0:
            # An organisation named by everyday words, matched within a longer
            # name: "Rose Ltd" is not ROSE SHIPPING LIMITED, nor "Blanc" BLANC BANK
            # LLC. (A rare word, "Sogaz" for SOGAZ INSURANCE, is evidence; a
            # person's common names are judged by common_words.)
            penalties.append(
                (
                    "everyday_words",
                    EVERYDAY_NAME_PENALTY * left,
                    "the words that match are everyday words, and the rest of one name differs",
                )
            )
    common = _common_share(chosen, qt, ct, matched_q, matched_c)
    if common > 0.0:
        penalties.append(
            (
                "common_words",
                common,
                "the words that match are common among listed names, and the rest differs",
            )
        )
    syl = _syllable_problems(q, c, chosen, matched_q) or _syllable_problems(
        c, q, [_Edge(e.c, e.q, e.sim, e.how, e.credit_c, e.credit_q) for e in chosen], matched_c
    )
    if syl is not None:
        differing, reordered = syl
        if differing:
            penalties.append(
                (
                    "syllable_mismatch",
                    SYLLABLE_MISMATCH_PENALTY * min(2, differing),
                    "syllables of an East Asian name differ or are missing",
                )
            )
        if reordered:
            penalties.append(
                (
                    "syllable_order",
                    SYLLABLE_ORDER_PENALTY,
                    "the given name's syllables are in another order",
                )
            )
    for e in chosen:
        if e.how == "acronym" and len(e.q) > 1:
            # The query's words spelled out as a listed name's initials: "Mary
            # Powell" is not MP LLC, nor "Milan Schleich" MS-13, unless another
            # word matches too ("Hong Kong Blue Ocean" / HK BLUE OCEAN).
            letters = ct[e.c[0]].text
            if len(letters) <= 3 and not any(
                f.how != "acronym" and f.sim >= ANCHOR_SIM and _names_a_word(f, qt, ct)
                for f in chosen
            ):
                penalties.append(
                    (
                        "spelled_out_initials",
                        SPELLED_OUT_PENALTY,
                        f"the query's words are read as the initials '{letters}', and "
                        "nothing else matches",
                    )
                )
            break
    for e in chosen:
        if e.how != "acronym" or len(e.q) != 1:
            continue  # (only a query word read as initials is judged here)
        word = qt[e.q[0]]
        if not written_as_acronym(q.original, word.raw):
            penalties.append(
                (
                    "acronym_not_written",
                    ACRONYM_NOT_WRITTEN_PENALTY,
                    f"'{word.raw}' is not written as initials",
                )
            )
        elif (
            len(word.text) <= 3
            and not _alone_as_acronym(q, word.raw)
            and not any(
                f.how != "acronym"
                and f.sim >= ANCHOR_SIM
                and any(qt[i].kind == Kind.NAME for i in f.q)
                for f in chosen
            )
        ):
            penalties.append(
                (
                    "short_acronym",
                    ACRONYM_SHORT_PENALTY,
                    f"three letters ('{word.raw}') are all the match rests on",
                )
            )
        break


def _names_a_word(e: _Edge, qt: tuple[Tok, ...], ct: tuple[Tok, ...]) -> bool:
    """Whether an aligned pair involves a distinctive word on either side."""
    for i in e.q:
        if qt[i].kind == Kind.NAME:
            return True
    for j in e.c:  # noqa: SIM110 (a loop is faster than any() here)
        if ct[j].kind == Kind.NAME:
            return True
    return False


def _one_skeleton(chosen: list[_Edge], qt: tuple[Tok, ...], ct: tuple[Tok, ...]) -> bool:
    """Whether the match's distinctive evidence is one word matched only by its
    consonant skeleton (a script without vowels against one with them)."""
    skeletons = 0
    for e in chosen:
        if not _names_a_word(e, qt, ct):
            continue
        if e.sim > SKELETON_DISCOUNT or len(e.q) != 1 or len(e.c) != 1:
            return False
        a, b = qt[e.q[0]], ct[e.c[0]]
        if (a.script in VOWEL_LOSSY) == (b.script in VOWEL_LOSSY):
            return False
        skeletons += 1
    return skeletons == 1


@lru_cache(maxsize=1)
def word_frequency() -> dict[str, int]:
    """Listed entities using each common word (registry/data/name_word_frequency.json,
    built by scripts/build_word_frequency.py; words not there are rare)."""
    raw = resources.files("registry.data").joinpath("name_word_frequency.json")
    table: dict[str, int] = json.loads(raw.read_text("utf-8"))["words"]
    return table


def commonness(word: str) -> float:
    """0 for a word few listed entities use, 1 for one used by COMMON_AT or more
    (logarithmic in between)."""
    n = word_frequency().get(word, 0)
    if n <= COMMON_FROM:
        return 0.0
    if n >= COMMON_AT:
        return 1.0
    return math.log(n / COMMON_FROM) / math.log(COMMON_AT / COMMON_FROM)


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """Words of listed names that are everyday words of some language (Zipf
    frequency 4 or more: registry/data/everyday_words.json, built by
    scripts/build_everyday_words.py with wordfreq; other words are not)."""
    raw = resources.files("registry.data").joinpath("everyday_words.json")
    words: list[str] = json.loads(raw.read_text("utf-8"))["words"]
    return frozenset(words)


def everyday(word: str) -> bool:
    """Whether a (folded, Latin) word of a listed name is an everyday word."""
    return word in everyday_words()


def _everyday_evidence(chosen: list[_Edge], qt: tuple[Tok, ...], ct: tuple[Tok, ...]) -> bool:
    """Whether every aligned pair that names a distinctive word is made of everyday
    words: a single word that is one on either side, or words joined ("casa
    grande" / "casagrande") that all are."""
    any_name = False
    for e in chosen:
        if not _names_a_word(e, qt, ct):
            continue
        if e.how != "token" and e.how != "join":
            return False
        if e.sim >= 1.0 and not (_all_everyday(e.q, qt) or _all_everyday(e.c, ct)):
            return False  # (a rare word matched exactly; one matched roughly is weak too)
        any_name = True
    return any_name


def _all_everyday(idx: tuple[int, ...], toks: tuple[Tok, ...]) -> bool:
    for i in idx:
        t = toks[i]
        if t.script != LATIN or not everyday(t.raw):
            return False
    return True


def _legal_left(toks: tuple[Tok, ...], matched: list[bool]) -> bool:
    """Whether a legal form of this name is aligned with nothing."""
    for k, t in enumerate(toks):  # noqa: SIM110 (a loop is faster than any() here)
        if t.kind == Kind.LEGAL and not matched[k]:
            return True
    return False


def _left_over(toks: tuple[Tok, ...], matched: list[bool], other_legal_left: bool) -> float:
    """Share of a name's distinctive and generic weight aligned with nothing: like
    `_left_share`, but an organisation's generic word ("Bank", "Industries") counts
    although some legal form uses it too (unless the other name keeps a legal
    form unaligned, or this one words of a legal form, broken up)."""
    if not other_legal_left:
        for k, t in enumerate(toks):
            if not matched[k] and t.kind == Kind.NAME and _legal_word(t.text):
                other_legal_left = True  # ("joint stock ... pubic": a legal form broken up)
                break
    total = left = 0.0
    for k, t in enumerate(toks):
        if (t.kind == Kind.GENERIC and not other_legal_left) or (
            t.kind <= Kind.GENERIC and not _legal_word(t.text)
        ):
            total += t.weight
            if not matched[k] and not (k > 0 and _PATRONYMIC.search(t.text)):
                left += t.weight
    return left / total if total > 0.0 else 0.0


def _common_share(
    chosen: list[_Edge],
    qt: tuple[Tok, ...],
    ct: tuple[Tok, ...],
    matched_q: list[bool],
    matched_c: list[bool],
) -> float:
    """The common_words penalty: COMMON_WORDS_PENALTY times the share of a name
    left unexplained (by weight, the less-covered side), times how common the
    aligned words are (weighted mean). A name matched in full, however common
    its words (a true namesake), pays nothing: "Maria Martinez" against CHAVEZ
    MARTINEZ, Maria Icela pays, "Maria Martinez" against MARIA MARTINEZ does not."""
    total = common = 0.0
    for e in chosen:
        if e.how == "legal" or e.how == "number":
            continue
        # (the weight of the better-weighted side, so that the penalty does not
        # depend on which name is the query: "R" against "ra xi" as "ra xi" against "R")
        w_q = w_c = 0.0
        c = 0.0
        for i in e.q:
            t = qt[i]
            if t.kind <= Kind.GENERIC and not _legal_word(t.text):
                w_q += t.weight
                c = max(c, commonness(t.text))
        for j in e.c:
            t = ct[j]
            if t.kind <= Kind.GENERIC and not _legal_word(t.text):
                w_c += t.weight
                c = max(c, commonness(t.text))
        w = max(w_q, w_c)
        total += w
        common += w * c
    if total <= 0.0 or common <= 0.0:
        return 0.0
    left = max(_left_share(qt, matched_q), _left_share(ct, matched_c))
    return COMMON_WORDS_PENALTY * left * common / total


def _left_share(toks: tuple[Tok, ...], matched: list[bool]) -> float:
    """Share of a name's distinctive and generic weight aligned with nothing (the
    words of a legal form broken by a typo or reordering left out)."""
    total = left = 0.0
    for k, t in enumerate(toks):
        if t.kind <= Kind.GENERIC and not _legal_word(t.text):
            total += t.weight
            if not matched[k] and not (k > 0 and _PATRONYMIC.search(t.text)):
                left += t.weight  # (a patronymic is often left out: not a second name)
    return left / total if total > 0.0 else 0.0


_ONE_WORD_THINGS: Final = (VESSEL, AIRCRAFT)


def _legal_keys(toks: tuple[Tok, ...]) -> set[str]:
    return {t.legal.key for t in toks if t.legal is not None}


_SYLLABIC: Final = (HAN, HANGUL)


def _syllable_problems(
    a: AnalyzedName, b: AnalyzedName, chosen: list[_Edge], matched_a: list[bool]
) -> tuple[int, bool] | None:
    """For a person's name written in Hangul or Chinese characters (`a`) against a
    romanised one (`b`): how many of its syllables are missing or differ, and
    whether the given name's syllables come in another order. None when `a` is
    not such a name.

    In these names each syllable is a whole part of the name: 김상철 (Kim
    Sang-chol) is not KIM Song Chol, and 김광수 (Kim Kwang-su) not KIM Su-Kwang,
    although their romanisations differ by one letter or one swap.
    """
    at = a.tokens
    if not at or len(at) > 4 or a.schema == ORG:
        return None
    for t in at:
        if t.kind != Kind.NAME or t.script not in _SYLLABIC or not t.native:
            return None
    bt = b.tokens
    if any(t.script in _SYLLABIC and t.native for t in bt):
        return None  # both written natively: compared character by character already
    differing = sum(1 for k in range(len(at)) if not matched_a[k])
    positions: list[tuple[int, int]] = []
    for e in chosen:
        if len(e.q) == 1 and len(e.c) == 1:
            i, j = e.q[0], e.c[0]
            ta, tb = at[i], bt[j]
            if tb.kind == Kind.NAME and not _same_syllable(ta, tb.text):
                differing += 1
            if i > 0:  # (the family name comes first, and may move)
                positions.append((i, j))
        elif len(e.c) > 1 and len(e.q) == 1:
            # A Chinese given name written in parts ("jin ping"): the parts in order.
            joined = "".join(bt[j].text for j in e.c)
            if not _same_syllable(at[e.q[0]], joined):
                differing += 1
    positions.sort()
    reordered = any(positions[k][1] > positions[k + 1][1] for k in range(len(positions) - 1))
    return differing, reordered


def _same_syllable(tok: Tok, latin: str) -> bool:
    """Whether a romanised word may be this Hangul or Chinese syllable (or run of
    them) in another romanisation."""
    if tok.text == latin:
        return True
    if tok.script == HANGUL:
        return korean_key(tok.text) == korean_key(latin)
    return False  # (pinyin spellings are exact)


_KOREAN_VOWELS: Final = (
    ("eo", "o"), ("eu", "u"), ("ae", "e"), ("oe", "e"), ("ui", "i"), ("ee", "i"),
    ("oo", "u"), ("ou", "o"), ("yi", "i"), ("u", "o"), ("w", ""),
)  # fmt: skip
_KOREAN_CONSONANTS: Final = str.maketrans("gdbjr", "ktpcl")


def korean_key(syllables: str) -> str:
    """A key equal for the usual romanisations of one Korean syllable (or run):
    Revised, McCune-Reischauer without marks, and common spellings (Kwang/Gwang,
    Jong/Jung/Chong/Jeong, Un/Eun, Ryong/Yong, Lee/Ri/Yi)."""
    s = syllables.lower().replace("ch", "c").replace("sh", "s").replace("-", "")
    for old, new in _KOREAN_VOWELS:
        s = s.replace(old, new)
    s = s.translate(_KOREAN_CONSONANTS)
    if len(s) > 1 and s[0] in "ln" and s[1] in "iy":
        s = s[1:]  # the initial r/l/n dropped in the South (Ryong/Yong, Ri/Yi)
    return s


_WORD_AS_WRITTEN: Final = re.compile(r"[^\W_](?:[^\W_]|\.(?=[^\W_]))*\.?")


def _alone_as_acronym(q: AnalyzedName, raw: str) -> bool:
    """Whether the query is this acronym alone ("PLA") or writes it dotted ("A.B.C.")."""
    if len(q.tokens) == 1:
        return True  # (and written as initials: see written_as_acronym)
    return any(
        "." in w.rstrip(".") and w.replace(".", "").lower() == raw
        for w in _WORD_AS_WRITTEN.findall(q.original)
    )


def written_as_acronym(original: str, raw: str) -> bool:
    """Whether the query writes this word as initials: dotted ("A.B.C."), or in
    capitals in a name that is not all capitals ("ABC Corporation", not "Smit
    BV"), or in capitals on its own ("SKF")."""
    has_lower = any(ch.islower() for ch in original)
    words = _WORD_AS_WRITTEN.findall(original)
    for w in words:
        letters = w.replace(".", "")
        if letters.lower() != raw:
            continue
        if "." in w.rstrip(".") or (w.count(".") >= len(letters) and len(letters) > 1):
            return True
        if letters.isupper() and (has_lower or len(words) == 1):
            return True
    return False


def _has_legal(toks: tuple[Tok, ...]) -> bool:
    return any(t.kind == Kind.LEGAL for t in toks)


def _unexplained(
    toks: tuple[Tok, ...], matched: list[bool], chosen: list[_Edge], query_side: bool
) -> float:
    """Distinctive weight a side keeps unexplained (for the substitution penalty)."""
    total = 0.0
    for k, t in enumerate(toks):
        if not matched[k]:
            if t.kind == Kind.NAME or t.kind == Kind.INITIAL:
                total += 1.0
            elif t.kind == Kind.GENERIC:
                total += WEIGHTS[Kind.GENERIC]
    # Weakly similar aligned words are partial substitutions.
    for e in chosen:
        if e.how != "token":
            continue
        cr = e.credit_q if query_side else e.credit_c
        if cr < 0.7:
            for k in e.q if query_side else e.c:
                if toks[k].kind == Kind.NAME:
                    total += 1.0 - cr
    return total


def compare_analyzed(q: AnalyzedName, c: AnalyzedName, *, explain: bool = True) -> NameScore:
    """Score two analysed names (same schema); see the module docstring."""
    detail = score_detail(q, c)
    return NameScore(detail.score, detail.explanation() if explain else {})


_SLASH: Final = re.compile(r"(?<=\w\w)\s*/\s*(?=\w\w)")


def alternatives(name: str) -> list[str]:
    """A name listing alternatives ("Al-Qa'ida/Islamic Army") and its parts; a
    name with letters written apart ("i c sogo kenkyusho") and the same with
    them together ("ic sogo kenkyusho", as A.I.C. or IC is one word).

    Only a slash between words of two letters or more counts: "A/S" and "M/V"
    stay whole.
    """
    out = [name]
    parts = slash_parts(name)
    if len(parts) > 1:
        out.extend(parts[:MAX_SLASH_PARTS])  # (each is screened: see MAX_SLASH_PARTS)
    joined = _letters_together(name)
    if joined:
        out.append(joined)
    return out


#: Names of more words than this are not also read with their letters together
#: (initials are of short names: "I. C. Sogo Kenkyusho"); the joined form is a
#: second screening of the whole name, which a hostile name of 64 words would
#: pay twice over.
MAX_LETTERS_TOGETHER_WORDS: Final = 16


#: Alternatives of one name separated by slashes that are screened (each costs a
#: screening). Listed names have a handful; the service refuses a query with more
#: (registry/screening.py) rather than screen some of them.
MAX_SLASH_PARTS: Final = 12


def slash_parts(name: str) -> list[str]:
    """The alternatives a name lists with slashes ("Al-Qa'ida/Islamic Army"), or [name]."""
    if "/" not in name:
        return [name]
    return [p for p in _SLASH.split(name) if p.strip()] or [name]


def _letters_together(name: str) -> str:
    """The name with each run of two or more one-letter words written as one word
    ("I. C. Sogo" -> "IC Sogo"), or "" when it has no such run."""
    words = name.split()
    if len(words) < 2 or len(words) > MAX_LETTERS_TOGETHER_WORDS:
        return ""
    out: list[str] = []
    run = ""
    changed = False
    for w in [*words, ""]:
        letter = w.rstrip(".")
        if len(letter) == 1 and letter.isalpha():
            run += letter
            continue
        if len(run) >= 2:
            changed = True
        if run:
            out.append(run)
            run = ""
        if w:
            out.append(w)
    return " ".join(out) if changed else ""


def compare_names(query: str, candidate: str, schema: str | None = None) -> NameScore:
    """Compare two names of the given schema (person, company, organisation,
    vessel, aircraft, unknown/None; FtM names accepted in any case)."""
    best: NameScore | None = None
    for q in alternatives(query):
        for c in alternatives(candidate):
            result = compare_analyzed(analyze(q, schema), analyze(c, schema))
            if best is None or result.score > best.score:
                best = result
    assert best is not None
    return best


_ = ORG  # kinds re-exported for callers that want them
