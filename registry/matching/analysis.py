"""Turn a name into weighted, classified tokens for the scorer and the index.

A token's *kind* decides its weight: distinctive name words weigh 1, generic
organisation words (Trading, Technology, Bank) 0.45, legal forms (Ltd, OOO,
GmbH) 0.15, particles (al, bin, de) and function words 0.2, titles (Mr, Dr,
Sheikh) 0.1, initials 0.35. A name with no distinctive word at all is judged
on what it has: its generic words and numbers are promoted to full weight.

Titles before a person's name ("Dr AL ZAWAHIRI", "Sheikh Dr ...") weigh
nothing: they say nothing about who is named, so one side's title neither lowers
nor raises a score; they stay tokens (an explanation shows them). A title word
inside a name, or one that is also a given name (Haji, Imam), keeps its low
weight ("Khalid Shaikh MOHAMMED": the lists hold it as part of the name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from ..config import matcher_cache_entries
from .legal_forms import (
    AMBIGUOUS_TITLES,
    HONORIFICS,
    ORG_STOPWORDS,
    PERSON_PARTICLES,
    LegalForm,
    canonical_org_word,
    find_legal_forms,
)
from .normalize import LATIN, NormToken, name_words
from .similarity import phonetic_key

__all__ = [
    "MAX_NAME_WORDS", "AnalyzedName", "Interner", "Kind", "Tok", "acronyms_of", "analyze",
    "analyze_with", "canonical_schema", "joins_of", "word_count",
]  # fmt: skip

#: Words of a name that are compared. The longest listed name has 52 words (most
#: have under 10); a query of more is not a name but costs as if it were (issue 9
#: point 2): the service refuses such a query with a 400 naming `name`
#: (registry/screening.py), and `analyze` reads only the first MAX_NAME_WORDS.
MAX_NAME_WORDS: Final = 64


class Kind:
    """Token kinds. Plain ints, not an Enum: they are compared in the hot loop."""

    NAME: Final = 0
    GENERIC: Final = 1
    LEGAL: Final = 2
    PARTICLE: Final = 3
    HONORIFIC: Final = 4
    NUMBER: Final = 5
    INITIAL: Final = 6


WEIGHTS: Final = {
    Kind.NAME: 1.0,
    Kind.GENERIC: 0.45,
    Kind.LEGAL: 0.15,
    Kind.PARTICLE: 0.2,
    Kind.HONORIFIC: 0.1,
    Kind.NUMBER: 0.25,
    Kind.INITIAL: 0.35,
}

LEADING_TITLE_WEIGHT: Final = 0.0  # a title before the name (see the module docstring)
# Titles that also begin names of organisations, vessels and places ("General
# Dynamics", "King Faisal ...", "Saint Petersburg"): leading ones weigh nothing
# only when the name is known to be a person's.
_ORG_LEADING_TITLES: Final = frozenset(
    """
    general president presidente king queen prince princess emir saint lord lady major
    captain admiral commander marshal minister judge senator deputy father sir dame don
    dom hon honourable honorable engineer eng mayor kapitan akademik
    """.split()  # noqa: SIM905
)

PATRONYMIC_WEIGHT: Final = 0.5
# East-Slavic and Turkic patronymic endings.
_PATRONYMIC: Final = re.compile(
    r"(?:ovich|evich|ovitch|evitch|ovych|evych|ovic|ovici|owitsch|ovitj|ovics|ovna|evna|ivna"
    r"|ichna|ogly|oglu|uly|kyzy|qizi)$"
)

PERSON: Final = "person"
ORG: Final = "org"
VESSEL: Final = "vessel"
AIRCRAFT: Final = "aircraft"
UNKNOWN: Final = "unknown"

_SCHEMAS: Final = {
    "person": PERSON,
    "individual": PERSON,
    "company": ORG,
    "organisation": ORG,
    "organization": ORG,
    "legalentity": ORG,
    "entity": ORG,
    "org": ORG,
    "vessel": VESSEL,
    "aircraft": AIRCRAFT,
    "airplane": AIRCRAFT,
    "unknown": UNKNOWN,
    "thing": UNKNOWN,
}


def canonical_schema(schema: str | None) -> str:
    """Map our and FollowTheMoney schema names (any case) to a name kind."""
    if not schema:
        return UNKNOWN
    kind = _SCHEMAS.get(schema)
    if kind is not None:
        return kind
    try:
        return _SCHEMAS[schema.strip().lower().replace("_", "").replace(" ", "")]
    except KeyError:
        raise ValueError(f"unknown schema {schema!r}") from None


_ROMAN: Final = {
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
    "x": 10, "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17,
    "xviii": 18, "xix": 19, "xx": 20,
}  # fmt: skip
_VESSEL_PREFIXES: Final = frozenset(
    ["mv", "mt", "ms", "ss", "fv", "my", "mts", "mvs", "rv", "hms", "tanker", "vessel"]
)


@dataclass(slots=True)  # not frozen: frozen __init__ is slow in this hot path
class Tok:
    """One token of an analysed name.

    Shared: the same word read in the same context is the same object in every
    name (see `_token`), so a Tok must never be modified.
    """

    text: str  # comparison form (canonical spelling for generic words)
    kind: int  # a Kind value
    weight: float
    script: str = LATIN
    native: str = ""
    legal: LegalForm | None = None
    raw: str = ""  # normalised text before canonical spelling (for joins)

    @property
    def phon(self) -> str:
        return phonetic_key(self.text)

    def __reduce__(self) -> tuple[Any, ...]:
        # A constructor call: the same pickle whether or not the class is compiled.
        t = self
        return Tok, (t.text, t.kind, t.weight, t.script, t.native, t.legal, t.raw)


@dataclass(slots=True)
class AnalyzedName:
    """A name ready for comparison."""

    original: str
    schema: str
    normalized: str
    tokens: tuple[Tok, ...]
    inverted: bool  # "SURNAME, Given" was read as "Given SURNAME"
    # Adjacent runs of tokens written together ("van"+"der"+"bilt") and their
    # initials ("hong"+"kong" -> "hk"), precomputed for queries. None: derived
    # from the tokens when read (`joins_of`, `acronyms_of`), as a loaded index's
    # names hold them: 790,000 pairs with every list, read only for the few
    # names a query scores.
    joins: tuple[tuple[tuple[int, ...], str], ...] | None = ()
    acronyms: tuple[tuple[tuple[int, ...], str], ...] | None = ()

    total_weight: float = 0.0
    name_count: int = 0  # number of distinctive words
    part_count: int = 0  # distinctive words and initials (for the single-name rule)

    @property
    def has_distinctive(self) -> bool:
        return self.name_count > 0

    def __reduce__(self) -> tuple[Any, ...]:
        # A constructor call: the same pickle whether or not the class is compiled.
        # Without the joins and initialisms (derived again when read).
        a = self
        return AnalyzedName, (
            a.original, a.schema, a.normalized, a.tokens, a.inverted, None, None,
            a.total_weight, a.name_count, a.part_count,
        )  # fmt: skip

    @property
    def free_weight(self) -> float:
        """Weight of the tokens that are neither distinctive nor generic words."""
        return sum((t.weight for t in self.tokens if t.kind > Kind.GENERIC), 0.0)


def _classify(tok: NormToken, schema: str, index: int, count: int) -> int:
    text = tok.text
    if text.isdigit():
        return Kind.NUMBER
    person_like = schema in (PERSON, UNKNOWN)
    org_like = schema in (ORG, UNKNOWN)
    if person_like:
        if len(text) == 1 and tok.script == LATIN and text.isalpha():
            return Kind.INITIAL
        if text in HONORIFICS and count > 1 and (text not in AMBIGUOUS_TITLES or index == 0):
            return Kind.HONORIFIC
        if text in PERSON_PARTICLES and count > 1:
            return Kind.PARTICLE
    if org_like:
        if text in ORG_STOPWORDS and count > 1:
            return Kind.PARTICLE
        if canonical_org_word(text) != text or text in _GENERIC_SET:
            return Kind.GENERIC
        if text in _ROMAN and index > 0 and schema == ORG:
            return Kind.NUMBER
    if schema in (VESSEL, AIRCRAFT):
        if text in _VESSEL_PREFIXES and count > 1:
            return Kind.HONORIFIC
        if text in _ROMAN and index > 0:
            return Kind.NUMBER
        if len(text) == 1:
            return Kind.INITIAL
    return Kind.NAME


def _build_generic_set() -> frozenset[str]:
    from .legal_forms import GENERIC_ORG_WORDS

    return frozenset(GENERIC_ORG_WORDS.values())


_GENERIC_SET: Final = _build_generic_set()


def _comparison_text(text: str, kind: int) -> str:
    if kind == Kind.GENERIC:
        return canonical_org_word(text)
    if kind == Kind.PARTICLE:
        return PERSON_PARTICLES.get(text, text)
    if kind == Kind.NUMBER and text in _ROMAN:
        return str(_ROMAN[text])
    return text


def _invert_comma(name: str, schema: str) -> tuple[str, bool]:
    """'PUTIN, Vladimir Vladimirovich' -> 'Vladimir Vladimirovich PUTIN' for people."""
    if schema not in (PERSON, UNKNOWN) or name.count(",") != 1:
        return name, False
    head, tail = (part.strip() for part in name.split(","))
    if not head or not tail or len(head.split()) > 3:
        return name, False
    if schema == UNKNOWN and len(tail.split()) > 3:
        return name, False
    return f"{tail} {head}", True


# Analysed query names kept: a share of the matcher's cache budget (registry/config.py)
# over what one holds with its share of SHARED_INTERNER (`bench.cache_sizes`: about
# 1,650 bytes); 9,700 at the default 64 MB.
_ANALYSED: Final = matcher_cache_entries(0.25, 1650)


@lru_cache(maxsize=_ANALYSED)
def analyze(name: str, schema: str | None = None) -> AnalyzedName:
    """Analyse `name` for the given schema (see `canonical_schema`); cached, and
    sharing its parts with the other names analysed here (see `Interner`)."""
    return analyze_with(name, schema, SHARED_INTERNER)


def analyze_with(name: str, schema: str | None, interner: Interner) -> AnalyzedName:
    """`analyze` without its cache, sharing parts through `interner`."""
    kind_of_name = canonical_schema(schema)
    text, inverted = _invert_comma(name, kind_of_name)
    words, ntoks = name_words(text)
    if len(words) > MAX_NAME_WORDS:
        words = words[:MAX_NAME_WORDS]
        ntoks = ntoks[:MAX_NAME_WORDS] if ntoks is not None else None
    forms: list[LegalForm] = []
    if kind_of_name in (ORG, UNKNOWN):
        forms = find_legal_forms(words)
    elif kind_of_name == PERSON:
        forms = find_legal_forms(words, person=True)
    form_at = {f.start: f for f in forms}
    inside = {i for f in forms for i in range(f.start + 1, f.end)}
    toks: list[Tok] = []
    count = len(words)
    caches = interner.tokens[kind_of_name][count > 1]
    total = 0.0
    names = parts = 0
    titles = kind_of_name in (PERSON, UNKNOWN)  # still in the titles before the name?
    for i, word in enumerate(words):
        if forms:
            if i in inside:
                continue
            if i in form_at:
                f = form_at[i]
                raw = " ".join(words[f.start : f.end])
                toks.append(Tok(f.key.lower(), Kind.LEGAL, WEIGHTS[Kind.LEGAL], LATIN, "", f, raw))
                total += WEIGHTS[Kind.LEGAL]
                titles = False
                continue
        if titles and i > 0:
            if _leading_title(word, kind_of_name) and i < count - 1:
                # A second title before the name ("Sheikh Dr ..."); not cached (rare).
                nt = ntoks[i] if ntoks is not None else NormToken(word)
                weight = LEADING_TITLE_WEIGHT
                toks.append(Tok(word, Kind.HONORIFIC, weight, nt.script, nt.native, None, word))
                continue
            titles = False
        cache = caches[i == 0]
        key: str | tuple[str, str, str] = word
        if ntoks is not None and (ntoks[i].script != LATIN or ntoks[i].native):
            key = (word, ntoks[i].script, ntoks[i].native)
        tok = cache.get(key)
        if tok is None:
            nt = ntoks[i] if ntoks is not None else NormToken(word)
            tok = _token(nt, kind_of_name, i, count)
            if len(cache) >= interner.size:
                cache.clear()
            cache[key] = tok
        if i == 0 and (tok.kind != Kind.HONORIFIC or tok.weight != LEADING_TITLE_WEIGHT):
            titles = False
        toks.append(tok)
        total += tok.weight
        if tok.kind == Kind.NAME:
            names += 1
            parts += 1
        elif tok.kind == Kind.INITIAL:
            parts += 1
    if toks and not names:
        # Nothing distinctive: judge the name on the words it has (titles alone
        # at their low weight).
        promoted = []
        for t in toks:
            if t.kind in (Kind.GENERIC, Kind.NUMBER, Kind.LEGAL, Kind.INITIAL):
                t = Tok(t.text, t.kind, 1.0, t.script, t.native, t.legal, t.raw)
            elif t.kind == Kind.HONORIFIC and t.weight == LEADING_TITLE_WEIGHT:
                t = Tok(t.text, t.kind, WEIGHTS[Kind.HONORIFIC], t.script, t.native, t.legal, t.raw)
            promoted.append(t)
        toks = promoted
        total = sum((t.weight for t in toks), 0.0)
    tt = tuple(toks)
    joins, acr = _pairs(tt, kind_of_name, interner)
    return AnalyzedName(
        name, kind_of_name, " ".join(words), tt, inverted, joins, acr, total, names, parts
    )


_Pairs = tuple[tuple[tuple[int, ...], str], ...]


def _pairs(toks: tuple[Tok, ...], schema: str, interner: Interner | None) -> tuple[_Pairs, _Pairs]:
    """A name's joins and initialisms, interned in `interner` if one is given."""
    joins = _joins(toks, interner)
    if schema == PERSON:
        joins += _person_joins(toks, interner)
        acr: _Pairs = ()
    else:
        found = _acronyms(toks, interner)
        acr = interner.run(found) if interner is not None else tuple(found)
    return (interner.run(joins) if interner is not None else tuple(joins)), acr


def joins_of(a: AnalyzedName) -> _Pairs:
    """The name's adjacent runs of tokens written together (derived if not kept)."""
    found = a.joins
    if found is not None:
        return found
    joins = _joins(a.tokens, None)
    if a.schema == PERSON:
        joins += _person_joins(a.tokens, None)
    return tuple(joins)


def acronyms_of(a: AnalyzedName) -> _Pairs:
    """The name's initialisms of adjacent runs (derived if not kept)."""
    found = a.acronyms
    if found is not None:
        return found
    return () if a.schema == PERSON else tuple(_acronyms(a.tokens, None))


def word_count(name: str) -> int:
    """How many words `analyze` reads in `name` before the MAX_NAME_WORDS cap."""
    return len(name_words(name)[0])


def _leading_title(word: str, schema: str) -> bool:
    """Whether `word`, before a name's first word, is a title that weighs nothing.

    Titles that are also given names (Haji, Imam, Sayed) keep their low weight:
    in "BHEEL, Imam" the title is his name.
    """
    if word not in HONORIFICS or word in AMBIGUOUS_TITLES:
        return False
    return schema == PERSON or (schema == UNKNOWN and word not in _ORG_LEADING_TITLES)


def _token(nt: NormToken, schema: str, i: int, count: int) -> Tok:
    """The token for word `i` of `count` (not a legal form) in a name of `schema`."""
    kind = _classify(nt, schema, i, count)
    weight = WEIGHTS[kind]
    if kind == Kind.NAME and i > 0 and schema == PERSON and _PATRONYMIC.search(nt.text):
        # Patronymics (Vladimirovich, Viktorovna) are often left out.
        weight = PATRONYMIC_WEIGHT
    elif kind == Kind.HONORIFIC and i == 0 and _leading_title(nt.text, schema):
        weight = LEADING_TITLE_WEIGHT
    return Tok(_comparison_text(nt.text, kind), kind, weight, nt.script, nt.native, None, nt.text)


# A word's token depends on the word, the schema, whether the name has other
# words and whether the word comes first (see _classify): each distinct word is
# classified once per such context, not once per name it is in. The caches,
# Interner.tokens[schema][more than one word?][first word?], are keyed by the word
# (plain Latin) or by (word, script, native), and emptied when they grow past
# Interner.size.
_Cache = dict[str | tuple[str, str, str], Tok]
_TOKENS_SIZE: Final = 200_000
_SCHEMAS_ALL: Final = (PERSON, ORG, VESSEL, AIRCRAFT, UNKNOWN)


_Pair = tuple[tuple[int, ...], str]  # token positions and their joined text or initials


class Interner:
    """What analysed names share: one token per word and context, one tuple per run
    of token positions, one string per join or initialism (a list's names repeat
    them: 790,000 joins and initialisms of 134,000 names hold 2,600 distinct
    position runs and 260,000 distinct strings).

    Queries share one (`analyze`); an index build uses its own (`analyze_with`), so
    that nothing an index holds is also held by a query cache or another index:
    a replaced index's memory is then free as a whole, and can go back to the
    system. Each table is emptied when it grows past `size`.
    """

    def __init__(self, size: int = _TOKENS_SIZE) -> None:
        self.size = size
        self.tokens: dict[str, tuple[tuple[_Cache, _Cache], tuple[_Cache, _Cache]]] = {
            schema: (({}, {}), ({}, {})) for schema in _SCHEMAS_ALL
        }
        self.spans: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.texts: dict[str, str] = {}
        # (span, text) pairs and whole runs of them: 790,000 pairs of a list's names
        # are 325,000 distinct ones, in 93,000 distinct runs (some 30 MB shared).
        self.pairs: dict[_Pair, _Pair] = {}
        self.runs: dict[tuple[_Pair, ...], tuple[_Pair, ...]] = {}

    def span(self, idx: tuple[int, ...]) -> tuple[int, ...]:
        found = self.spans.get(idx)
        if found is not None:
            return found
        if len(self.spans) >= self.size:
            self.spans.clear()
        self.spans[idx] = idx
        return idx

    def text(self, text: str) -> str:
        found = self.texts.get(text)
        if found is not None:
            return found
        if len(self.texts) >= self.size:
            self.texts.clear()
        self.texts[text] = text
        return text

    def pair(self, idx: tuple[int, ...], text: str) -> _Pair:
        key = (self.span(idx), self.text(text))
        found = self.pairs.get(key)
        if found is not None:
            return found
        if len(self.pairs) >= self.size:
            self.pairs.clear()
        self.pairs[key] = key
        return key

    def run(self, pairs: list[_Pair]) -> tuple[_Pair, ...]:
        key = tuple(pairs)
        found = self.runs.get(key)
        if found is not None:
            return found
        if len(self.runs) >= self.size:
            self.runs.clear()
        self.runs[key] = key
        return key

    def clear(self) -> int:
        """Empty every table; how many entries there were."""
        count = len(self.spans) + len(self.texts) + len(self.pairs) + len(self.runs)
        self.spans.clear()
        self.texts.clear()
        self.pairs.clear()
        self.runs.clear()
        for by_count in self.tokens.values():
            for caches in by_count:
                for cache in caches:
                    count += len(cache)
                    cache.clear()
        return count


SHARED_INTERNER: Final = Interner(_ANALYSED)  # what `analyze` shares among query names


def _interned(interner: Interner | None, idx: tuple[int, ...], text: str) -> _Pair:
    return interner.pair(idx, text) if interner is not None else (idx, text)


_JOINABLE: Final = (Kind.NAME, Kind.GENERIC, Kind.PARTICLE)
_ALIGNABLE: Final = (Kind.NAME, Kind.GENERIC)
# Han and Hangul tokens are compared character by character (see similarity.py);
# joining their Latin renderings would bypass that.
_SYLLABIC: Final = frozenset({"han", "hangul"})


def _joins(
    toks: tuple[Tok, ...], interner: Interner | None, max_len: int = 3
) -> list[tuple[tuple[int, ...], str]]:
    """Adjacent runs of 2..max_len tokens, concatenated as written ("van"+"der"+"bilt").

    A one-word legal form may close a run ("SiemensAG" = "Siemens AG").
    """
    out = []
    n = len(toks)
    for i in range(n - 1):
        first = toks[i]
        if first.kind not in _JOINABLE or first.script in _SYLLABIC:
            if (
                i == 0
                and first.kind == Kind.LEGAL
                and " " not in first.raw
                and first.script == LATIN
                and toks[1].kind in _JOINABLE
                and toks[1].script == LATIN
            ):
                # A one-word legal form may open a name's run too ("JSCARGUMENT"
                # = "JSC ARGUMENT"), as it may close one.
                out.append(_interned(interner, (0, 1), first.raw + toks[1].raw))
            continue
        script = first.script
        text = first.raw
        for j in range(i + 1, min(n, i + max_len)):
            t = toks[j]
            legal_tail = t.kind == Kind.LEGAL and " " not in t.raw and script == LATIN
            if (t.kind not in _JOINABLE and not legal_tail) or (
                t.script != script and not legal_tail
            ):
                break
            text += t.raw
            out.append(_interned(interner, tuple(range(i, j + 1)), text))
            if legal_tail:
                break
    return out


def _person_joins(
    toks: tuple[Tok, ...], interner: Interner | None
) -> list[tuple[tuple[int, ...], str]]:
    """A person's names written together in another order or without the middle
    one: two adjacent names the other way round ("maduronicolas" for Nicolas
    MADURO), and the first and last of three without the middle name or
    patronymic ("aleksandrzakharov" for Alexander Vyacheslavovich ZAKHAROV).
    Positions are given in the order written, so the scorer sees the order."""
    out = []
    n = len(toks)
    for i in range(n - 1):
        a, b = toks[i], toks[i + 1]
        if a.kind != Kind.NAME or b.kind != Kind.NAME or a.script != LATIN or b.script != LATIN:
            continue
        out.append(_interned(interner, (i + 1, i), b.raw + a.raw))
    if n == 3 and all(t.kind == Kind.NAME and t.script == LATIN for t in toks):
        out.append(_interned(interner, (0, 2), toks[0].raw + toks[2].raw))
        out.append(_interned(interner, (2, 0), toks[2].raw + toks[0].raw))
    return out


def _acronyms(
    toks: tuple[Tok, ...], interner: Interner | None
) -> list[tuple[tuple[int, ...], str]]:
    """Initials of adjacent runs of 2-6 words (function words skipped)."""
    out: list[tuple[tuple[int, ...], str]] = []
    n = len(toks)
    for i in range(n):
        if toks[i].kind not in _ALIGNABLE or not toks[i].text:
            continue
        letters = toks[i].text[0]
        idx = [i]
        for j in range(i + 1, n):
            if len(idx) >= 6:
                break
            t = toks[j]
            if t.kind == Kind.PARTICLE:
                continue
            if t.kind not in _ALIGNABLE:
                break
            letters += t.text[0]
            idx.append(j)
            out.append(_interned(interner, tuple(idx), letters))
    return out
