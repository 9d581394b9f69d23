"""A screening match told to a person: aligned words marked, and one sentence of why.

Pure functions over the `explanation` the matcher gives (registry.matching);
they read alignment entries both as the named objects the API is moving to
(`query_word`, `listed_word`, `similarity`, `weight`) and as the older
four-item lists, and prefer a match's own `summary` sentence when it has one
(adding where the score stands against the threshold).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KIND_WORDS = {
    "primary": "listed name",
    "aka": "alias",
    "fka": "former name",
    "variation": "name variation",
    "other_script": "name in another script",
    "weak_aka": "weak alias",
}


@dataclass(frozen=True)
class Pair:
    """Words of the screened name aligned with words of the listed name."""

    query_word: str
    listed_word: str
    similarity: float
    weight: float | None = None

    @property
    def exact(self) -> bool:
        return self.similarity >= 0.9999


@dataclass(frozen=True)
class Word:
    text: str
    state: str  # "aligned", "unmatched" (a word the other name does not explain), "ignored"


def pairs(explanation: Mapping[str, Any] | None) -> list[Pair]:
    out = []
    for item in (explanation or {}).get("alignment") or []:
        if isinstance(item, Mapping):
            out.append(
                Pair(
                    str(item.get("query_word", "")),
                    str(item.get("listed_word", "")),
                    float(item.get("similarity") or 0.0),
                    item.get("weight"),
                )
            )
        elif isinstance(item, list | tuple) and len(item) >= 3:
            out.append(
                Pair(
                    str(item[0]),
                    str(item[1]),
                    float(item[2]),
                    float(item[3]) if len(item) > 3 else None,
                )
            )
    return out


def marked_words(normalized: str, aligned: Iterable[str], unmatched: Iterable[str]) -> list[Word]:
    """The words of a normalised name, each marked aligned, unmatched or ignored
    (a legal form or a stop word the matcher set aside)."""
    aligned_left = Counter(w for phrase in aligned for w in phrase.split())
    unmatched_left = Counter(w for phrase in unmatched for w in phrase.split())
    out = []
    for word in normalized.split():
        if aligned_left[word] > 0:
            aligned_left[word] -= 1
            out.append(Word(word, "aligned"))
            continue
        # The matcher names a word by its stem at times ("system" for "systems").
        stem = next((u for u, n in unmatched_left.items() if n > 0 and word.startswith(u)), None)
        if stem is not None:
            unmatched_left[stem] -= 1
            out.append(Word(word, "unmatched"))
        else:
            out.append(Word(word, "ignored"))
    return out


def query_words(explanation: Mapping[str, Any] | None) -> list[Word]:
    expl = explanation or {}
    return marked_words(
        str(expl.get("query_normalized") or ""),
        (p.query_word for p in pairs(expl)),
        expl.get("unmatched_query") or [],
    )


def listed_words(explanation: Mapping[str, Any] | None) -> list[Word]:
    expl = explanation or {}
    return marked_words(
        str(expl.get("candidate_normalized") or ""),
        (p.listed_word for p in pairs(expl)),
        expl.get("unmatched_candidate") or [],
    )


def _quoted(words: Iterable[str]) -> str:
    items = [f"“{w}”" for w in words]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def why(match: Mapping[str, Any], threshold: float) -> str:
    """One plain sentence: which name matched, how its words line up, what
    lowered the score, and where the score stands against the threshold."""
    score = float(match.get("score") or 0.0)
    verdict = (
        f"score {score:.2f}, at or above the {threshold:.2f} threshold"
        if score >= threshold
        else f"score {score:.2f}, below the {threshold:.2f} threshold"
    )
    summary = match.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip().removesuffix(".") + f"; {verdict}."
    expl: Mapping[str, Any] = match.get("explanation") or {}
    kind = KIND_WORDS.get(str(match.get("name_kind")), "listed name")
    listed = match.get("matched_name") or ""
    aligned = pairs(expl)
    parts: list[str] = []
    if expl.get("rule") == "identical_normalized":
        parts.append(
            f"Your name is the {kind} “{listed}” once case, accents, punctuation "
            "and spelling of legal forms are set aside"
        )
    else:
        lined_up = sum(len(p.query_word.split()) for p in aligned)
        query_total = len(str(expl.get("query_normalized") or "").split()) or lined_up
        close = [p for p in aligned if not p.exact]
        if not aligned:
            head = f"No word of your name lines up with the {kind} “{listed}”"
        elif lined_up >= query_total and not expl.get("unmatched_query"):
            head = f"Every word of your name lines up with the {kind} “{listed}”"
        else:
            head = f"{lined_up} of your {query_total} words line up with the {kind} “{listed}”"
        if close:
            spelled = "; ".join(
                f"“{p.query_word}” ≈ “{p.listed_word}” ({p.similarity:.2f})" for p in close[:3]
            )
            head += f" ({'close spellings' if len(close) > 1 else 'a close spelling'}: {spelled})"
        parts.append(head)
        if expl.get("unmatched_query"):
            parts.append(f"{_quoted(expl['unmatched_query'])} of yours not in it")
        if expl.get("unmatched_candidate"):
            parts.append(f"its {_quoted(expl['unmatched_candidate'])} not in yours")
    for penalty in expl.get("penalties") or []:
        if isinstance(penalty, Mapping):
            parts.append(f"lowered {float(penalty.get('amount', 0)):.2f}: {penalty.get('reason')}")
    country = expl.get("country")
    if isinstance(country, Mapping):
        listed_in = ", ".join(country.get("entity") or []) or "elsewhere"
        parts.append(
            f"lowered {float(country.get('penalty', 0)):.2f}: your country "
            f"{country.get('query')} is not the entity's ({listed_in})"
        )
    if expl.get("rule") == "generic_only_cap":
        parts.append("capped because only generic words line up")
    return "; ".join(parts) + f"; {verdict}."
