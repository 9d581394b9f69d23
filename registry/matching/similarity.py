"""Similarity of two name tokens.

Three views of a token are compared and the best one (discounted by how much
information it keeps) wins:

* the spelling, by optimal-string-alignment distance (Levenshtein plus adjacent
  transpositions), normalised by the longer length. Jaro-Winkler is not used:
  it rewards shared prefixes so much that "Lind" looks like "Lindemann";
* a phonetic key that folds common transliteration variants (w/v, ph/f, kh/h,
  zh/j, ou/u, o/u, y/i, doubled letters): Usama = Osama, Rouhani = Rohani;
* for tokens transliterated from scripts that do not write (all) vowels
  (Arabic, Hebrew, Brahmic scripts) against any other script: the consonant
  skeleton (محمد -> "mhmd" meets Mohamed);
* for kana (which write vowels, and add some) against any other script: both
  as Japanese hears them (`kana_key`: r = l, b = v = f, chi = ti, ji = di, the
  vowel Japanese adds after a consonant dropped), so プーチン (puchin) meets
  Putin and ドナルド (donarudo) Donald.

Two tokens from the same non-Latin script are compared in that script: in Han
or Hangul one character is a whole syllable, so 习近朋 is not 习近平 even though
"jinpeng" and "jinping" differ by one Latin letter.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from ..config import matcher_cache_entries
from .normalize import KANA, LATIN, VOWEL_LOSSY

__all__ = [
    "kana_key",
    "keyed_latin_similarity",
    "latin_alike",
    "latin_similarity",
    "phonetic_key",
    "skeleton_key",
    "skeleton_of",
    "string_similarity",
    "token_similarity",
    "token_similarity_of",
]

PHONETIC_DISCOUNT: Final = 0.97  # equal phonetic keys but different spelling
SKELETON_DISCOUNT: Final = 0.9  # vowels are unknown on one side: less evidence
# Short tokens are often initialisms ("UCK", "OMK"): folding their letters
# phonetically (ck -> k, doubled letters) makes unrelated ones equal. Below this
# length only same-length tokens are compared phonetically (Un / On).
PHONETIC_MIN_LEN: Final = 4


def _phonetic_applies(a: str, b: str) -> bool:
    return len(a) == len(b) or (len(a) >= PHONETIC_MIN_LEN and len(b) >= PHONETIC_MIN_LEN)


_PHONETIC_RULES: Final = [
    ("tsch", "ch"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("zh", "j"), ("dj", "j"),
    ("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("ck", "k"),
    ("q", "k"), ("x", "ks"), ("w", "v"), ("ou", "u"), ("oo", "u"), ("oe", "u"), ("ee", "i"),
    ("ei", "i"), ("ey", "i"), ("ay", "ai"), ("y", "i"), ("o", "u"), ("z", "s"),
]  # fmt: skip
_C_NOT_H: Final = re.compile(r"c(?!h)")
_DOUBLE: Final = re.compile(r"(.)\1+")


# Cache sizes, in entries: a service screens for months, so each gets a share of
# the matcher's cache budget (REGISTRY_MATCHER_CACHE_MB, registry/config.py) over
# what one entry holds (`bench.cache_sizes`: a word key about 140 bytes, a pair of
# words 160-190). At the default 64 MB: 27,000 phonetic keys and 50,000 Latin pairs
# (most queries are Latin), 14,000 of the other keys and 17,000 other pairs.
_KEYS_CACHE: Final = matcher_cache_entries(0.06, 140)
_OTHER_KEYS_CACHE: Final = matcher_cache_entries(0.03, 140)
_PAIRS_CACHE: Final = matcher_cache_entries(0.12, 160)
_OTHER_PAIRS_CACHE: Final = matcher_cache_entries(0.05, 190)


@lru_cache(maxsize=_KEYS_CACHE)
def phonetic_key(text: str) -> str:
    """Key equal for common transliteration variants of the same name."""
    s = _C_NOT_H.sub("k", text) if "c" in text else text
    for old, new in _PHONETIC_RULES:
        if old in s:
            s = s.replace(old, new)
    return _undouble(s)


def _undouble(s: str) -> str:
    """Runs of one letter to one letter."""
    # (a function replacement: in Python 3.11 a template like r"\1" is expanded
    # by Python code for each match)
    return _DOUBLE.sub(_first_group, s) if _DOUBLE.search(s) else s


def _first_group(m: re.Match[str]) -> str:
    return m.group(1)


_SKEL_VOWELS: Final = re.compile(r"(?<!^)[aeiouyw]|^[aeiou]")
_SKEL_MAP: Final = str.maketrans("pvwqgzc", "bffkkss")


def skeleton_key(text: str, abjad: bool = False) -> str:
    """Consonant skeleton: phonetic key without vowels, similar consonants merged.

    For abjad tokens the letters w/v/y inside a word are vowel carriers too.
    """
    return _abjad_skeleton(text) if abjad else _skeleton(text)


# (One cache per kind, keyed by the word alone: see `_pair_key`.)
@lru_cache(maxsize=_OTHER_KEYS_CACHE // 2)
def _skeleton(text: str) -> str:
    return skeleton_of(text, False)


@lru_cache(maxsize=_OTHER_KEYS_CACHE // 2)
def _abjad_skeleton(text: str) -> str:
    return skeleton_of(text, True)


def skeleton_of(text: str, abjad: bool) -> str:
    """`skeleton_key` without its caches."""
    s = phonetic_key(text)
    if abjad:
        s = s[:1] + re.sub(r"[vwyi]", "", s[1:])
    s = _SKEL_VOWELS.sub("", s)
    s = s.translate(_SKEL_MAP)
    return _undouble(s)


KANA_DISCOUNT: Final = 0.9  # equal as Japanese hears them: the spellings may differ
# Japanese has no l (ラ行 is r or l), no v (ヴ or バ行), writes f and h in one row (フ),
# t before i as chi (older usage: プーチン Putin), d before i as ji (ウラジーミル), s
# before i as shi; and adds a vowel (u, o after t and d) after a consonant.
_KANA_FOLD: Final = str.maketrans("lvf", "rbb")
_KANA_DIGRAPHS: Final = (("tch", "t"), ("ch", "t"), ("sh", "s"), ("ts", "t"), ("j", "d"))
_KANA_EPENTHETIC: Final = re.compile(r"(?<=[^aeiu])u")
# A word-initial v or u before a consonant (ウラジーミル: Vladimir).
_KANA_LEAD: Final = re.compile(r"^[ub](?=[^aeiu])")
KANA_KEY_MIN: Final = 3  # shorter keys say too little


@lru_cache(maxsize=_OTHER_KEYS_CACHE)
def kana_key(text: str) -> str:
    """A word as Japanese hears it: the same key for a katakana reading and the
    Latin spellings it transcribes (puchin / Putin -> "ptin")."""
    s = phonetic_key(text)
    for old, new in _KANA_DIGRAPHS:
        if old in s:
            s = s.replace(old, new)
    s = _KANA_EPENTHETIC.sub("", s.translate(_KANA_FOLD))
    s = _KANA_LEAD.sub("", s)
    return _undouble(s)


def string_similarity(a: str, b: str) -> float:
    """Normalised OSA similarity in [0, 1]."""
    if a == b:
        return 1.0
    return float(OSA.normalized_similarity(a, b))


# The pair caches are keyed by one string, the words joined by NUL (which no
# normalised word holds), not by a tuple of them. A full cache frees an old key
# for each new one; a tuple is an object the garbage collector tracks, and the
# collector counts allocations less deallocations, so that churn never counted
# towards a young collection while every new tuple still joined the young
# generation: each collection then walked 50,000-80,000 of them, 40-75 ms of CPU
# (bench.screen_quality's slowest names). Strings are not tracked.
_SEP: Final = "\0"


def _pair_key(*parts: str) -> str | None:
    """The parts joined by NUL, or None if one of them holds a NUL."""
    key = _SEP.join(parts)
    return key if key.count(_SEP) == len(parts) - 1 else None


def latin_similarity(a: str, b: str) -> float:
    """`token_similarity` for two Latin-script tokens (the common case, cached)."""
    if a == b:
        return 1.0
    key = _pair_key(a, b)
    if key is None:
        return keyed_latin_similarity(a, b, phonetic_key(a), phonetic_key(b))
    return _latin_pair(key)


@lru_cache(maxsize=_PAIRS_CACHE)
def _latin_pair(key: str) -> float:
    a, _, b = key.partition(_SEP)
    return keyed_latin_similarity(a, b, phonetic_key(a), phonetic_key(b))


def latin_alike(
    query: str,
    words: list[str],
    phons: list[str],
    floor: float,
    skeletons: tuple[str, list[str]] | None = None,
) -> set[int]:
    """The positions in `words` (tokens; `phons` their phonetic keys) of those
    whose `latin_similarity` to the token `query` is above `floor` (below
    PHONETIC_DISCOUNT): two scans of all of them inside rapidfuzz instead of a
    call per pair. The same answer: a similarity is the better of the spellings'
    and (where `_phonetic_applies`) the discounted keys' (see `latin_similarity`).
    With `skeletons` (the query's and the words' consonant skeletons), those
    compared too, discounted: `token_similarity` across a vowel-less script and
    another (no kana, not one script's native letters)."""
    found = {
        j
        for _w, sim, j in extract(
            query, words, scorer=OSA.normalized_similarity, score_cutoff=floor, limit=None
        )
        if sim > floor
    }
    # (a cutoff a little under the exact one: the discount's product decides)
    cutoff = floor / PHONETIC_DISCOUNT - 1e-9
    key = phonetic_key(query)
    for _p, sim, j in extract(
        key, phons, scorer=OSA.normalized_similarity, score_cutoff=cutoff, limit=None
    ):
        if PHONETIC_DISCOUNT * sim > floor and _phonetic_applies(query, words[j]):
            found.add(j)
    if skeletons is not None and skeletons[0]:
        cutoff = floor / SKELETON_DISCOUNT - 1e-9
        skel, skels = skeletons
        for sk, sim, j in extract(
            skel, skels, scorer=OSA.normalized_similarity, score_cutoff=cutoff, limit=None
        ):
            if sk and SKELETON_DISCOUNT * sim > floor:
                found.add(j)
    return found


def keyed_latin_similarity(a: str, b: str, pa: str, pb: str) -> float:
    """`latin_similarity` given the phonetic keys of both tokens (not cached)."""
    if a == b:
        return 1.0
    best: float = OSA.normalized_similarity(a, b)
    if best < PHONETIC_DISCOUNT and _phonetic_applies(a, b):
        if pa == pb:
            return PHONETIC_DISCOUNT
        phon = PHONETIC_DISCOUNT * OSA.normalized_similarity(pa, pb)
        if phon > best:
            best = phon
    return best


def token_similarity(
    a: str, b: str, script_a: str = LATIN, script_b: str = LATIN, native_a: str = "",
    native_b: str = "",
) -> float:  # fmt: skip
    """Similarity of two normalised tokens in [0, 1] (see module docstring)."""
    if script_a == LATIN and script_b == LATIN:
        return latin_similarity(a, b)
    key = _pair_key(a, b, script_a, script_b, native_a, native_b)
    if key is None:
        return token_similarity_of(a, b, script_a, script_b, native_a, native_b)
    return _token_pair(key)


@lru_cache(maxsize=_OTHER_PAIRS_CACHE)
def _token_pair(key: str) -> float:
    a, b, script_a, script_b, native_a, native_b = key.split(_SEP)
    return token_similarity_of(a, b, script_a, script_b, native_a, native_b)


def token_similarity_of(
    a: str, b: str, script_a: str, script_b: str, native_a: str, native_b: str
) -> float:
    """`token_similarity` without its caches."""
    if script_a == LATIN and script_b == LATIN:
        return latin_similarity(a, b)
    if a == b and (script_a != script_b or native_a == native_b or not native_a):
        return 1.0
    if script_a == script_b and script_a != LATIN and native_a and native_b:
        # Compare the letters actually written: in Han or Hangul one character is
        # a whole syllable, in an abjad the transliteration adds nothing.
        return string_similarity(native_a, native_b)
    best = string_similarity(a, b)
    if best < PHONETIC_DISCOUNT and _phonetic_applies(a, b):
        pa, pb = phonetic_key(a), phonetic_key(b)
        if pa == pb:
            best = max(best, PHONETIC_DISCOUNT)
        else:
            best = max(best, PHONETIC_DISCOUNT * string_similarity(pa, pb))
    if script_a == KANA or script_b == KANA:
        # Kana write their vowels (and add some): compared as Japanese hears a
        # word, not on consonants alone ("taichi" is not "toshio").
        if script_a != script_b and best < KANA_DISCOUNT:
            ka, kb = kana_key(a), kana_key(b)
            if len(ka) >= KANA_KEY_MIN and len(kb) >= KANA_KEY_MIN:
                best = max(best, KANA_DISCOUNT * string_similarity(ka, kb))
    elif (script_a in VOWEL_LOSSY) != (script_b in VOWEL_LOSSY):
        sa = skeleton_key(a, script_a == "abjad")
        sb = skeleton_key(b, script_b == "abjad")
        if sa and sb:
            best = max(best, SKELETON_DISCOUNT * string_similarity(sa, sb))
    return best
