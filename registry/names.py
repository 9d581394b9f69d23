"""Exact name keys, identifier normalisation and script detection.

These are deliberately strict: they decide when two list records are the same
subject without any fuzzy score (screening has its own matcher in `matching`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

# Legal-form spellings that mean the same thing; merging treats them as equal.
_LEGAL_SYNONYMS = {
    "limited": "ltd",
    "company": "co",
    "corporation": "corp",
    "incorporated": "inc",
    "llc": "llc",
    "gmbh": "gmbh",
}
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, no combining marks, casefolded."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).casefold()


@lru_cache(maxsize=262_144)
def name_key(name: str) -> str:
    """The exact normalised form used to merge records: case, accents, punctuation
    and legal-form spelling ignored; nothing else."""
    tokens = [t for t in _NON_WORD.split(fold(name).replace("_", " ")) if t]
    out: list[str] = []
    letters: list[str] = []
    for token in tokens:
        # "H.K." and "HK" should meet: runs of single letters are joined.
        if len(token) == 1 and token.isalpha():
            letters.append(token)
            continue
        if letters:
            out.append("".join(letters))
            letters = []
        out.append(_LEGAL_SYNONYMS.get(token, token))
    if letters:
        out.append("".join(letters))
    return " ".join(out)


@lru_cache(maxsize=262_144)
def identifier_key(value: str) -> str:
    """Identifier value without spaces, punctuation or case: 'ICP 11021902' -> 'ICP11021902'."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).upper() if ch.isalnum())


_SCRIPT_BY_NAME_PREFIX = (
    ("LATIN", "Latn"),
    ("CYRILLIC", "Cyrl"),
    ("GREEK", "Grek"),
    ("ARABIC", "Arab"),
    ("HEBREW", "Hebr"),
    ("CJK", "Hani"),
    ("HANGUL", "Hang"),
    ("HIRAGANA", "Jpan"),
    ("KATAKANA", "Jpan"),
    ("THAI", "Thai"),
    ("GEORGIAN", "Geor"),
    ("ARMENIAN", "Armn"),
    ("DEVANAGARI", "Deva"),
    ("PERSIAN", "Arab"),
)


@lru_cache(maxsize=262_144)
def detect_script(text: str) -> str | None:
    """The ISO 15924 code of the script most letters of `text` are written in."""
    if text.isascii():
        return "Latn" if any(ch.isalpha() for ch in text) else None
    counts: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        char_name = unicodedata.name(ch, "")
        for prefix, code in _SCRIPT_BY_NAME_PREFIX:
            if char_name.startswith(prefix):
                counts[code] += 1
                break
        else:
            counts["Zyyy"] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]
