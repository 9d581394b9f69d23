"""`NameIndex`: screen a name against many listed names without scanning them all.

Retrieval
---------
Every listed name is analysed once (`analysis.analyze`). Its comparable tokens
(distinctive and generic words) enter a vocabulary; each vocabulary word has a
posting list of the names that contain it. A query word finds the vocabulary
words it may be aligned with through exact dictionary lookups, so the work per
query depends on the query and its neighbours, not on the size of the list:

* a *deletion neighbourhood* (SymSpell): the word and every string with one
  letter deleted, for words of three letters or more, stored for the
  vocabulary too: two words within one edit (or one adjacent transposition)
  always share a key. Generic words are also keyed by their written form;
* the phonetic key (`similarity.phonetic_key`) with the same one-deletion
  neighbourhood (Mohammed / Muhammad, Zelenskyy / Selenskyj);
* the consonant skeleton, between words of scripts that do not write vowels
  (Arabic, Hebrew, Brahmic, Kana) and all others;
* for katakana queries, the Latin words' `similarity.kana_key` (a word as
  Japanese hears it: ラヴロフ and LAVROV share "rabrb"), looked up with the
  query's key and its one-letter deletions;
* joined words: each listed name's adjacent pairs are stored written together
  and the query's adjacent pairs are looked up joined, so "Micropilot",
  "Micro Pilot" and "Micro-Pilot" meet either way; initialisms of a listed
  organisation's leading words ("MIO" = Marine Industries Organization) too.

Every vocabulary word found is verified with the scorer's own similarity.

Candidates and estimate
-----------------------
A listed name that shares only one of several query words, and in which that
word does not dominate, cannot reach a useful threshold; so for multi-word
queries the candidates are the names hit by two query words or more (set
intersections, done in C), plus the names a single hit word dominates (a listed
"ALI" alone); long listed names need three words in common when two cannot
reach the threshold. Each candidate then gets an optimistic estimate of its
score from the verified hits (words without a hit are assumed weakly similar);
only names whose estimate reaches ``threshold - 0.05`` are scored in full
(`scorer.score_detail`), best estimate first, one result per entity, stopping
once the ``limit``-th best score cannot be beaten.

This is a heuristic bound, not a proof: a listed name whose words are each
more than one edit (and more than one phonetic edit) away from the query's can
be missed although scoring it would pass. `bench/screen_throughput.py` counts
such losses against direct scoring of each variant's source entity (about 1 in
5,000), the tests compare `screen` with an exhaustive scan, and the word hits
are cached per query word until the index changes.

Type and country hints: a person query never matches a vessel, company or
aircraft (unknown matches anything; company and organisation are compatible).
When the query's country is not among an entity's known countries the score is
lowered by `COUNTRY_MISMATCH_PENALTY` and the explanation says so.

Direct scoring: `score_entities` scores the names of given entities against a
query without retrieval, by the same rules: for entities found another way
(screening finds those sharing the query's identifier number in the database).

Updates: `add` can be called at any time; `remove(entity_id)` takes the
entity's names out of every posting list and key (linear in the lengths of the
lists involved, microseconds to a millisecond), so an update is `remove` then
`add`, and the index then answers exactly as one rebuilt with the new data (the
tests check it); only the vocabulary keeps words no name uses any more.

Build: names are analysed one by one (each distinct word is classified once,
see `analysis`); a large build goes through `bulk()`, which pauses the cyclic
garbage collector. The index pickles (without its per-query caches): loading a
pickle is several times faster than building, for a service that persists it.
`bench/screen_throughput.py` prints both rates.
"""

from __future__ import annotations

import gc
import heapq
import io
import itertools
import pickle
import sys
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, BinaryIO, Final

from ..config import matcher_cache_entries
from .analysis import (
    AIRCRAFT,
    ORG,
    PERSON,
    UNKNOWN,
    VESSEL,
    AnalyzedName,
    Interner,
    Kind,
    Tok,
    acronyms_of,
    analyze,
    analyze_with,
    canonical_schema,
    joins_of,
)
from .normalize import KANA, LATIN, VOWEL_LOSSY
from .packed import FlatKeys
from .scorer import (
    DEFAULT_THRESHOLD,
    EXTRA_WEIGHT,
    INITIAL_FULL_CREDIT,
    JOIN_MIN_SIM,
    SINGLE_TOKEN_PENALTY,
    ScoreDetail,
    alternatives,
    credit,
    score_detail_from,
)
from .similarity import (
    kana_key,
    keyed_latin_similarity,
    latin_alike,
    latin_similarity,
    phonetic_key,
    skeleton_key,
    skeleton_of,
    string_similarity,
    token_similarity,
    token_similarity_of,
)

__all__ = ["COUNTRY_MISMATCH_PENALTY", "Match", "NameIndex"]

_phonetic_key: Final = phonetic_key.__wrapped__
_skeleton_key: Final = skeleton_of
_kana_key: Final = kana_key.__wrapped__
_KANA_DEEP_LEN: Final = 4  # kana keys this long are also looked up less one letter
# Retrieval only (the scorer verifies): voiced and voiceless consonants meet, as a
# katakana ク may write the g of "berg" (ヴェクセリベルク, VEKSELBERG).
_KANA_RETRIEVAL_FOLD: Final = str.maketrans("gdz", "kts")


def _kana_retrieval_key(text: str) -> str:
    """Key of a word for katakana retrieval (not through kana_key's cache: a
    listed word's key is kept, and would be shared with queries)."""
    return _kana_key(text).translate(_KANA_RETRIEVAL_FOLD)


#: Subtracted from a score when the query's country is not among the entity's
#: countries (both known). Large enough to drop a borderline match below the
#: default threshold, small enough to keep an exact name match above it.
COUNTRY_MISMATCH_PENALTY: Final = 0.1

# Estimate margin: names whose optimistic estimate is below threshold - margin
# are not scored in full.
_ESTIMATE_MARGIN: Final = 0.05
# Credit assumed for a query word without a verified hit in a name (it may still
# be aligned there with a weak similarity, or by a join).
_UNRESOLVED_CREDIT: Final = 0.35
_FREE_CREDIT: Final = 0.9  # legal forms, particles, titles: low weight, usually matched
_COMPARABLE: Final = frozenset({Kind.NAME, Kind.GENERIC})
# Query words not looked up as words, but credited when a listed name has them as words.
_FREE_KINDS: Final = frozenset({Kind.PARTICLE, Kind.HONORIFIC, Kind.INITIAL, Kind.NUMBER})
_ANY: Final = frozenset(range(7))
# A name sharing only one word with a multi-word query is worth scoring only if
# that word is most of the name (a listed "ALI" alone); see _single_hit_hopeless.
_DOMINANT_SHARE: Final = 0.6
# A retrieval key of a query (see NameIndex.query_plans), and the branches of
# _candidates a plan records.
Key4 = tuple[str, str, str, str]
_PLAN_DOMINANT: Final = 0
_PLAN_SINGLE: Final = 1
_PLAN_PAIRS: Final = 2
# Names with at least this many distinctive words count as long (see _candidates).
_LONG_NAME: Final = 4
# From this many candidates, _estimate first asks whether a name's unhit words are
# alike to any query word at all (`_alike_unhit`), before comparing them in pairs.
_NEAR_ANY_FROM: Final = 256
# Names screened between the young collections `NameIndex.screen` runs itself. The
# collector starts one when allocations less deallocations of the objects it tracks
# pass its threshold; the query caches (analysed names, word hits, the interner)
# free an old entry's objects for each new entry's, so under a stream of new names
# that count stands still while the young generation grows, and the collection
# something else sets off at last walked 10,000-40,000 objects (8-48 ms of CPU)
# inside one name's time. Every 16 names: a few thousand at most.
_NAMES_PER_YOUNG_COLLECTION: Final = 16
_SCREENED: Final = itertools.count(1)


def _collect_young() -> None:
    """A collection of the young generation, or of the middle one when as many young
    ones have run as its threshold asks: the choice the collector makes itself when
    its count sets one off (a young collection run by hand only counts towards the
    middle generation's; without this, the middle one grew until something else set
    a collection off: 80,000 objects, 90 ms)."""
    middle = 1 if gc.get_count()[1] >= gc.get_threshold()[1] else 0
    gc.collect(middle)


# Above this many distinct query words, names hit by two are found by counting.
_PAIRWISE_MAX_WORDS: Final = 8
# Per-query caches (see _QueryCache): at most this many query words, holding at
# most this many ids in all: each cache a share of the matcher's cache budget
# (REGISTRY_MATCHER_CACHE_MB, registry/config.py) over what an id held costs
# (`bench.cache_sizes`: about 40 bytes in the word hits' sets and dicts, 80 in the
# specials' tuples); at the default 64 MB, 500,000 and 78,000 ids.
_HITS_CACHE_SIZE: Final = 20_000
_CACHE_MAX_IDS: Final = matcher_cache_entries(0.3, 40)
_SPECIALS_MAX_IDS: Final = matcher_cache_entries(0.1, 82)
# The words of a common listed word's names (NameIndex._cooccurring): ids held.
_COOC_MAX_IDS: Final = matcher_cache_entries(0.06, 48)
_COOC_CACHED_FROM: Final = 4  # names of a listed word: fewer are walked each time
# Only words at least this similar bring candidate names (credit 0.5 = similarity
# 0.62); fainter hits still count in the estimate of names found otherwise.
_NAMES_MIN_CREDIT: Final = 0.5
_MAX_SPECIAL: Final = (
    200  # joined forms / initialisms shared by more names are not used to retrieve
)
_MIN_EDGE_SIM: Final = 0.55
# Unhit word pairs (query x name) beyond which a name's near misses are not
# compared (see NameIndex._near_misses): a hostile query's hundreds of words.
_NEAR_MISS_PAIRS: Final = 24
_ACRONYM_CREDIT: Final = 0.9  # (the scorer's credit of an initialism edge)
# Phonetic keys this long get one-deletion keys too: four letters, so that a
# transliteration one letter apart in a short word meets ("yokhn" / "john":
# "iuhn" / "juhn", similarity 0.7275, enough for a three-word name to pass).
_PHON_DEEP_LEN: Final = 4
# Query words at least this long are looked up with two deletions (see _token_hits).
_DEEP_QUERY_LEN: Final = 6
_DEEP_QUERY_MAX: Final = 24  # (a 499-letter word would make 125,000 keys)
# Each listed token explains at most this many query tokens (a join of up to three).
_MAX_JOIN: Final = 3
# Query words this long are compared with every listed word of a fitting length
# (NameIndex._long_word), at this similarity: a pair's credit 0.7 and up, what a
# name needs of one pair at least to be a match (see `distinctive` in _estimate).
# At most _LONG_SCANS words a query, in queries of at most _LONG_SCAN_MAX_WORDS
# words (each scan costs 2-10 ms of CPU with every list).
_LONG_WORD: Final = 11
_LONG_ALIKE_SIM: Final = 0.65
_LONG_SCANS: Final = 2
_LONG_SCAN_MAX_WORDS: Final = 4
# By length: vocabulary ids, their words and phonetic keys.
_LongWords = dict[int, tuple[list[int], list[str], list[str]]]
_LONG_SHORTEST: Final = int(_LONG_WORD * _LONG_ALIKE_SIM) - 1  # (see _long_alike's window)


def _add_long(by_len: _LongWords, vid: int, tok: tuple[str, str, str], phon: str) -> None:
    """File a vocabulary word where `NameIndex._long_alike` looks, if it may."""
    text, script, native = tok
    if script == LATIN and not native and len(text) >= _LONG_SHORTEST:
        group = by_len.get(len(text))
        if group is None:
            group = by_len[len(text)] = ([], [], [])
        group[0].append(vid)
        group[1].append(text)
        group[2].append(phon)


_COMPATIBLE: Final = {
    PERSON: {PERSON, UNKNOWN},
    ORG: {ORG, UNKNOWN},
    VESSEL: {VESSEL, UNKNOWN},
    AIRCRAFT: {AIRCRAFT, UNKNOWN},
    UNKNOWN: {PERSON, ORG, VESSEL, AIRCRAFT, UNKNOWN},
}


@dataclass(frozen=True)
class Match:
    """One screening hit: the entity, its best-matching name and the score."""

    entity_id: str
    matched_name: str
    name_kind: str
    score: float
    explanation: dict[str, Any] = field(default_factory=dict, compare=False)


class _WordHits:
    """What one query word finds: vocabulary ids -> credit, and (lazily) the names
    behind them.

    The names are dict keys (values None), not a set: a dict of ints is not
    tracked by the garbage collector, a set always is, and every young collection
    walked each new cached set element by element (a common word's thousands of
    names: 40-80 ms of CPU per collection with every list, in some query's time).

    Holds the index's posting lists, not the index: the index caches these, and
    a reference back would make a cycle that keeps a replaced index alive until
    a full garbage collection (forever once frozen, see `gc.freeze`).
    """

    __slots__ = ("_dominant", "_dominant_lists", "_names", "_postings", "cooccurring", "hits")

    def __init__(
        self, postings: list[list[int]], dominant: list[list[int]], hits: dict[int, float]
    ) -> None:
        self._postings = postings
        self._dominant_lists = dominant
        self.hits = hits
        self._names: dict[int, None] | None = None
        self._dominant: dict[int, None] | None = None
        # The words of its names (as keys), made by NameIndex._cooccurring.
        self.cooccurring: dict[int, None] | None = None

    @property
    def names(self) -> dict[int, None]:
        """Names containing any of the (similar enough) hit words (as keys)."""
        if self._names is None:
            self._names = _keys_of(self._postings, self.hits)
        return self._names

    @property
    def dominant(self) -> dict[int, None]:
        """Names in which a hit word dominates (as keys)."""
        if self._dominant is None:
            self._dominant = _keys_of(self._dominant_lists, self.hits)
        return self._dominant

    def weight(self) -> int:
        """What caching this costs, in ids held (its hits and at most the names behind
        them), counted before the name sets are made."""
        total = len(self.hits)
        postings = self._postings
        for vid, cr in self.hits.items():
            if cr >= _NAMES_MIN_CREDIT:
                total += 2 * len(postings[vid])
        return total


def _keys_of(lists: list[list[int]], hits: dict[int, float]) -> dict[int, None]:
    """The ids in `lists` of the hit words credited enough, as an untracked dict."""
    chosen = [lists[vid] for vid, cr in hits.items() if cr >= _NAMES_MIN_CREDIT]
    if len(chosen) == 1:
        return dict.fromkeys(chosen[0])
    return dict.fromkeys(chain.from_iterable(chosen))


def _common(a: dict[int, None], b: dict[int, None]) -> set[int]:
    """The keys two dicts share (CPython iterates the smaller)."""
    return a.keys() & b.keys()


class _QueryCache:
    """Results per query word, bounded in entries and in the ids they hold (a
    common word's hits reach thousands of names). Past either bound the oldest
    entries leave, as many as the new one needs: emptying it all at once freed
    500,000 ids in one query's time (about 20 ms, bench.screen_quality).

    Threads may share it: each step is one operation on an `OrderedDict`, a
    concurrent eviction that finds it empty stops, and a lost update of the
    running total only makes the bound approximate.
    """

    __slots__ = ("_data", "_ids", "_max_entries", "_max_ids", "_weights")

    def __init__(self, entries: int = _HITS_CACHE_SIZE, ids: int = _CACHE_MAX_IDS) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._weights: dict[Any, int] = {}
        self._ids = 0
        self._max_entries = entries
        self._max_ids = ids

    def get(self, key: Any) -> Any:
        return self._data.get(key)

    def put(self, key: Any, value: Any, ids: int) -> None:
        if ids > self._max_ids // 4:
            return  # too big to keep: computed again when asked
        data = self._data
        while data and (len(data) >= self._max_entries or self._ids + ids > self._max_ids):
            try:
                oldest, _ = data.popitem(last=False)
            except KeyError:
                break  # (emptied by another thread meanwhile)
            self._ids -= self._weights.pop(oldest, 0)
        if key in data:
            return
        data[key] = value
        self._weights[key] = ids
        self._ids += ids

    def clear(self) -> None:
        if self._data:
            self._data.clear()
            self._weights.clear()
        self._ids = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def ids(self) -> int:
        return self._ids


@dataclass(slots=True)
class _Entry:
    entity: int
    name: str
    name_kind: str
    analyzed: AnalyzedName
    vids: tuple[int, ...]  # vocabulary ids of comparable tokens, in token order

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as a constructor call: the same form whether or not the class
        # is compiled (a compiled class has no default pickling of its slots).
        # (vids without their ints: a NameIndex pickle gives them back from the rows)
        return _Entry, (self.entity, self.name, self.name_kind, self.analyzed, ())


# What `_estimate` reads of a listed name, as one tuple (unpacked in one step):
# (entity, words, name_count, part_count, free_weight, initial_weight,
# total_weight), where words are the comparable tokens as (vocabulary id,
# weight, distinctive word?) - shared tuples - and name_count is the number of
# distinctive words, part_count that of distinctive words and initials, and
# free_weight that of the tokens not in words (legal forms, particles, ...).
_Row = tuple[int, tuple[tuple[int, float, bool], ...], int, int, float, float, float]


# A key maps to one id (an int) or to several (a tuple of ints), never to a
# list: the index holds hundreds of thousands of keys, and lists (unlike ints
# and tuples of ints) are tracked by the cyclic garbage collector, which then
# spends more time walking them during a build than the build itself takes.
_Keys = dict[str, int | tuple[int, ...]]
# A key map as the index holds it: a dict while it is built or changed, a
# read-only `FlatKeys` once loaded from a pickle (see _FLAT_KEYS). Read it only
# through `_ids`, `_gather`, `_present`, `in` and `.get`; change it through
# `_push`, `_pull` and `_push_all`, after `NameIndex._mutable()`.
_KeyMap = Any

# An id the index stores in several places. Interpreted, an int is one object
# that every place shares; compiled by mypyc, a variable of type int holds a
# machine integer, boxed into a new object (28 bytes) each time it is stored,
# and so is a fixed-length tuple (a C struct). Typed Any, a value stays the one
# object it was: the build keeps ids and shared tuples so, or a compiled index
# takes 40% more memory. (Narrowing a stored value to int unboxes it too: the
# checks below test for a tuple instead.)
_Stored = Any


def _push(keys: _Keys, key: str, value: _Stored) -> None:
    old: _Stored = keys.get(key)
    if old is None:
        keys[key] = value
    elif isinstance(old, tuple):
        keys[key] = (*old, value)
    else:
        keys[key] = (old, value)


def _pull(keys: _Keys, key: str, value: int) -> None:
    """Undo one `_push(keys, key, value)`."""
    old: _Stored = keys[key]
    if not isinstance(old, tuple):
        del keys[key]
        return
    rest: list[_Stored] = list(old)
    rest.remove(value)
    keys[key] = rest[0] if len(rest) == 1 else tuple(rest)


def _push_all(keys: _Keys, new_keys: Iterable[str], value: _Stored) -> None:
    """`_push` for each of `new_keys`, for a new `value` (absent from `keys`)."""
    for key in new_keys:
        old: _Stored = keys.setdefault(key, value)
        if old is not value:
            keys[key] = (*old, value) if isinstance(old, tuple) else (old, value)


def _ids(keys: _KeyMap, key: str) -> tuple[int, ...]:
    """The ids under `key` (empty if none)."""
    hit: _Stored = keys.get(key)
    if hit is None:
        return ()
    if isinstance(hit, tuple):
        return hit
    return (hit,)


def _gather(keys: _KeyMap, wanted: set[str], into: set[int]) -> None:
    """Add the ids under each of `wanted` to `into`."""
    if not isinstance(keys, dict):
        flat: FlatKeys = keys
        flat.gather(wanted, into)
        return
    found: _Keys = keys
    hit: _Stored  # (see _Stored)
    for d in found.keys() & wanted if len(wanted) > 1 else wanted:
        hit = found.get(d)
        if hit is not None:
            if isinstance(hit, tuple):
                into.update(hit)
            else:
                into.add(hit)


def _present(keys: _KeyMap, wanted: set[str]) -> set[str]:
    """Those of `wanted` that are keys of `keys`."""
    if not isinstance(keys, dict):
        flat: FlatKeys = keys
        return flat.present(wanted)
    found: _Keys = keys
    return found.keys() & wanted


def _deletions(word: str, depth: int) -> set[str]:
    if depth == 0 or len(word) <= 2:
        return {word}
    out = {word[:k] + word[k + 1 :] for k in range(len(word))}
    out.add(word)
    return out


def _depth(word: str) -> int:
    # One deletion each side finds every pair within one edit (or one adjacent
    # transposition); longer words also meet through their phonetic key.
    return 1 if len(word) >= 3 else 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _indexed(toks: tuple[Tok, ...]) -> list[Tok]:
    """The tokens of a listed name that enter the vocabulary: its comparable words,
    or, for a name without any (only numbers and legal forms, all promoted to full
    weight), everything it has."""
    if any(t.kind <= Kind.GENERIC for t in toks):
        return [t for t in toks if t.kind in _COMPARABLE]
    return list(toks)


def _leading_acronyms(analyzed: AnalyzedName) -> list[str]:
    """Initialisms of a name's leading words, three letters or more (retrieval keys)."""
    out: list[str] = []
    acronyms = acronyms_of(analyzed)
    if acronyms:
        first = acronyms[0][0][0]
        for idx, letters in acronyms:
            if idx[0] != first:
                break
            if len(letters) >= 3:
                out.append(letters)
    return out


# What a removed name's slots hold (its entry can no longer be found).
_GONE: Final = _Entry(-1, "", "", AnalyzedName("", UNKNOWN, "", (), False), ())
# What the slots of a loaded index's names hold until they are first read (see
# `_Frozen`): never returned by `NameIndex._entry`.
_FROZEN: Final = _Entry(-2, "", "", AnalyzedName("", UNKNOWN, "", (), False), ())
# Names per chunk of a loaded index, read (unpickled) together on first use.
_CHUNK: Final = 256


class _Frozen:
    """The listed names of a loaded index not read yet: pickled in chunks of
    `_CHUNK` whose tokens refer to one shared table (persistent ids). Unpickling
    every name (an `AnalyzedName` with its tokens, joins and initialisms) was
    most of a snapshot's load; a query reads only the names it scores, so a
    loaded index answers at once and reads the rest as queries reach them."""

    def __init__(self, chunks: list[bytes | None], toks: list[Tok]) -> None:
        self.chunks = chunks
        self.toks = toks
        self.left = len(chunks)  # chunks not read yet
        self.lock = threading.Lock()  # (screening threads may reach one chunk at once)


_GONE_ROW: Final[_Row] = (-1, (), 0, 0, 0.0, 0.0, 1.0)

# Bump when the pickled form of NameIndex changes.
_PICKLE_VERSION: Final = 9
# What a NameIndex pickles: every attribute but the per-query caches
# (_hits_cache, _specials_cache) and the build's _interner. A new attribute goes
# here too (a test checks).
_STATE: Final = (
    "_entity_ids", "_entity_of", "_entity_schema", "_entity_countries", "_entity_entries",
    "_removed", "_entries", "_rows", "_gone", "_shared_words", "_vocab", "_vocab_tok",
    "_vocab_phon", "_postings", "_dominant", "_del_keys", "_phon_keys", "_skel_all",
    "_skel_lossy", "_joins", "_acronyms", "_spellings", "_latin_vid", "_long_names",
    "_kana_keys", "_exact", "_free_texts", "_token_counts",
)  # fmt: skip


class NameIndex:
    """In-memory index of listed names; see the module docstring.

    Picklable (the per-query caches are left out): a service can save a built
    index and load it instead of building it. A pickle only fits the code that
    made it (same analysis rules); `_PICKLE_VERSION` guards its layout.
    """

    def __init__(self) -> None:
        self._entity_ids: list[str] = []
        self._entity_of: dict[str, int] = {}
        self._entity_schema: list[str] = []
        self._entity_countries: list[frozenset[str]] = []
        self._entity_entries: list[list[int]] = []
        self._removed: set[int] = set()
        self._entries: list[_Entry] = []
        self._rows: list[_Row] = []  # by entry
        # Tokens per name, by entry: what _estimate bounds a long query's coverage
        # by, read without reading the name (a loaded index's names stay pickled
        # until a query scores them).
        self._token_counts = array("H")
        self._gone = 0  # entries removed (their slots hold _GONE)
        self._shared_words: dict[tuple[int, float, bool], tuple[int, float, bool]] = {}
        # vocabulary: (text, script, native) -> vid
        self._vocab: dict[tuple[str, str, str], int] = {}
        self._vocab_tok: list[tuple[str, str, str]] = []
        self._vocab_phon: list[str] = []  # phonetic key of each vocabulary word
        self._postings: list[list[int]] = []
        self._dominant: list[list[int]] = []
        # Retrieval keys -> ids (see _Keys): vocabulary ids for the first four,
        # entries for the last two.
        self._del_keys: _KeyMap = {}
        self._phon_keys: _KeyMap = {}
        self._skel_all: _KeyMap = {}  # skeleton -> every word
        self._skel_lossy: _KeyMap = {}  # skeleton -> words of vowel-less scripts
        self._joins: _KeyMap = {}  # joined adjacent words -> entries
        self._acronyms: _KeyMap = {}  # org initialisms -> entries
        self._kana_keys: _KeyMap = {}  # kana_key of Latin words -> vocabulary ids
        # normalised name -> entries: the scorer gives 1.0 to equal normalised
        # names whatever their words' kinds (an untyped "AL SAFA" reads "al" as a
        # particle, the vessel AL SAFA as a name)
        self._exact: _KeyMap = {}
        # Texts of listed words that are not vocabulary words (legal forms, titles,
        # particles, numbers, initials): a query's name may be one ("ECHELN AO
        # TECHNOLOGIES" / AO ECHELON TECHNOLOGIES), and the scorer aligns equal words
        # of any kinds. (Only grows.)
        self._free_texts: set[str] = set()
        # (text, script, native, fuzzy) -> _WordHits
        self._hits_cache = _QueryCache()
        # (raw, text, org) -> what _specials returns
        self._specials_cache = _QueryCache(_HITS_CACHE_SIZE, _SPECIALS_MAX_IDS)
        # listed word's vocabulary id -> the words of its names (see _cooccurring)
        self._cooc_cache = _QueryCache(_HITS_CACHE_SIZE, _COOC_MAX_IDS)
        self._vocab_skel: dict[int, str] = {}  # (see _skeletons)
        self._long_words: _LongWords | None = None  # (see _long_alike)
        # Every listed word grouped: what key_reach compares with (see _forget_queries).
        self._reach_words: _WordGroups | None = None
        # generic word -> its written forms -> number of names using the form
        self._spellings: dict[int, dict[str, int]] = {}
        self._latin_vid: _KeyMap = {}  # Latin word -> vocabulary id
        # What this index's names share while it is built (see bulk()).
        self._interner: Interner | None = None
        self._long_names: set[int] = set()  # entries with >= _LONG_NAME distinctive words
        # A loaded index's names not read yet (their `_entries` slots hold _FROZEN).
        self._frozen: _Frozen | None = None
        # A loaded index's containers that only a change reads (_LAZY), still pickled.
        self._lazy: dict[str, bytes] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Named attributes, not self.__dict__: compiled (mypyc) instances have none.
        self.thaw()
        state = {name: getattr(self, name) for name in _STATE}
        state.update(self._lazy)
        _pack(state)
        state["_pickle_version"] = _PICKLE_VERSION
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        version = state.pop("_pickle_version", None)
        if version != _PICKLE_VERSION:
            raise ValueError(f"NameIndex pickle version {version}, expected {_PICKLE_VERSION}")
        _unpack(state)
        frozen: _Stored = state.pop("_frozen")
        lazy: dict[str, bytes] = state.pop("_lazy")
        for name in _STATE:
            setattr(self, name, state[name])
        self._frozen = frozen
        self._lazy = lazy
        self._hits_cache = _QueryCache()
        self._specials_cache = _QueryCache(_HITS_CACHE_SIZE, _SPECIALS_MAX_IDS)
        self._cooc_cache = _QueryCache(_HITS_CACHE_SIZE, _COOC_MAX_IDS)
        self._vocab_skel = {}
        self._long_words = None
        self._reach_words = None
        self._interner = None

    def keep_query_words(self, entries: int, ids: int = 4 * _CACHE_MAX_IDS) -> None:
        """Cache the hits of up to `entries` query words (holding up to `ids` ids)
        instead of the default bounds: for a small index asked by very many queries
        whose words repeat (monitoring screens a book of a million names against an
        index of the few hundred entities an import changed: the book's distinct
        words are each looked up once). Empties the caches; not pickled."""
        self._hits_cache = _QueryCache(entries, ids)
        self._specials_cache = _QueryCache(entries, ids)

    def query_plans(
        self, name: str, entity_type: str | None, threshold: float
    ) -> list[tuple[int, list[tuple[Key4, bool, bool]], list[Key4]]]:
        """What `screen(name, entity_type=..., threshold=...)` retrieves by, whatever
        the index holds: for callers that store it (monitoring keeps it per book
        record and skips the records that cannot have a candidate, see
        `plan_may_retrieve`). One plan per analysed form of the name: (mode, words,
        others). `words`: the comparable words' keys ("w", text, script, native)
        with (distinctive, repeated); `others`: the joined pairs' keys ("j", joined,
        "", "") and the comparable words' `_specials` keys ("s", raw, text, "org"
        or ""), the normalised name ("n", normalized, "", ""), generic words'
        written forms ("g", raw, script, native) and initialisms ("a", letters, "",
        ""). `mode` is the branch `_candidates` takes at this threshold:
        _PLAN_DOMINANT (only names a distinctive word dominates), _PLAN_SINGLE (any
        name of a distinctive word) or _PLAN_PAIRS (names two words share, or a
        repeated word's). Keep in step with `_candidates`."""
        out: list[tuple[int, list[tuple[Key4, bool, bool]], list[Key4]]] = []
        qschema = canonical_schema(entity_type)
        for alt in alternatives(name):
            for schema in self._schemas_for(qschema):
                qa = analyze(alt, schema)
                toks = qa.tokens
                comparable = [k for k, t in enumerate(toks) if t.kind in _COMPARABLE]
                if not comparable:
                    comparable = list(range(len(toks)))
                if not comparable:
                    continue
                distinctive = [k for k in comparable if toks[k].kind == Kind.NAME] or comparable
                if (
                    qa.schema == PERSON
                    and qa.part_count == 1
                    and len(comparable) == 1
                    and threshold
                    > 1.0 - EXTRA_WEIGHT * (1.0 - _DOMINANT_SHARE) - SINGLE_TOKEN_PENALTY
                ):
                    mode = _PLAN_DOMINANT
                elif len(comparable) == 1 or not self._single_hit_hopeless(
                    qa, comparable, threshold
                ):
                    mode = _PLAN_SINGLE
                else:
                    mode = _PLAN_PAIRS
                seen: dict[Key4, int] = {}
                for k in comparable:
                    t = toks[k]
                    wkey = ("w", t.text, t.script, t.native)
                    seen[wkey] = seen.get(wkey, 0) + 1
                dset = {k for k in distinctive}
                flags: dict[Key4, bool] = {}
                for k in comparable:
                    t = toks[k]
                    wkey = ("w", t.text, t.script, t.native)
                    flags[wkey] = flags.get(wkey, False) or k in dset
                words = [(key, flags[key], seen[key] > 1) for key in flags]
                org = "org" if qa.schema != PERSON else ""
                others: set[Key4] = {("s", toks[k].raw, toks[k].text, org) for k in comparable}
                for idx, joined in joins_of(qa):
                    if len(idx) <= 2:
                        others.add(("j", joined, "", ""))
                others.add(("n", qa.normalized, "", ""))
                for k in comparable:
                    t = toks[k]
                    if t.kind == Kind.GENERIC and t.raw != t.text:
                        others.add(("g", t.raw, t.script, t.native))
                for _idx, letters in acronyms_of(qa):
                    others.add(("a", letters, "", ""))
                out.append((mode, words, sorted(others)))
        return out

    def key_reach(self, key: Key4) -> tuple[set[int], bool]:
        """The names a key of `query_plans` retrieves here, and whether a word key
        dominates any of them (leaves the query caches alone)."""
        kind, a, b, c = key
        if kind == "n":
            return set(_ids(self._exact, a)), False
        if kind == "g":
            hits = self._token_hits(a, b, c)
            return set(_WordHits(self._postings, self._dominant, hits).names), False
        if kind == "a":
            vid: _Stored = self._latin_vid.get(a)
            found_names = set(self._postings[vid]) if vid is not None else set()
            return (found_names if len(found_names) <= _MAX_SPECIAL else set()), False
        if kind == "w":
            found = _WordHits(self._postings, self._dominant, self._token_hits(a, b, c))
            names = set(found.names)
            # Names holding a word alike to this one beyond its hits: `_alike_pool`
            # and `_long_word` may make them candidates. (Every listed word is
            # compared: this is for the small index of the entities a change made.)
            reach = self._reach_words
            if reach is None:  # (grouped once for all the keys asked, until a change)
                reach = self._reach_words = self._word_groups(set(range(len(self._vocab_tok))))
            for vid in self._alike_in([(a, b, c)], reach)[0]:
                names.update(self._postings[vid])
            return names, bool(found.dominant)
        if kind == "j":
            found = _WordHits(self._postings, self._dominant, self._joined_hits(a))
            return set(found.names), False
        # What `_specials` retrieves by (without leaving out the too common).
        names = set(_ids(self._joins, a))
        if len(a) >= 6:
            for d in _present(self._joins, _deletions(a, 1)):
                names.update(_ids(self._joins, d))
        if c and len(b) >= 3:
            names.update(_ids(self._acronyms, b))
        for listed, _behind, _cr in self._three_joined(a):
            names.update(listed)
        return names, False

    @staticmethod
    def plan_may_retrieve(
        mode: int,
        words: list[tuple[set[int] | None, bool, bool, bool]],
        others: bool,
    ) -> bool:
        """Whether `_candidates` can have a candidate for one plan of `query_plans`,
        given what its keys reach: `words` holds per word key (names or None,
        dominates, distinctive, repeated), `others` whether any other key reaches
        a name. False only when the candidate set is surely empty."""
        if others:
            return True
        reached = [w for w in words if w[0]]
        if any(d and dist for _n, d, dist, _r in reached):
            return True  # names a distinctive word dominates
        if mode == _PLAN_DOMINANT:
            return False
        if mode == _PLAN_SINGLE:
            return any(dist for _n, _d, dist, _r in reached)
        if any(rep for _n, _d, _dist, rep in reached):
            return True
        for i, first in enumerate(reached):
            a = first[0]
            assert a is not None
            for second in reached[i + 1 :]:
                b = second[0]
                assert b is not None
                if not a.isdisjoint(b):
                    return True
        return False

    def _mutable(self) -> None:
        """Before a change: a loaded index's read-only key maps become dicts again,
        and what only a change reads is unpickled (a loaded index is seldom changed:
        the service layers changes over it)."""
        lazy = self._lazy
        if lazy:
            self._lazy = {}
            for name, blob in lazy.items():
                setattr(self, name, pickle.loads(blob))
        for name in _FLAT_KEYS:
            keys: _Stored = getattr(self, name)
            if isinstance(keys, FlatKeys):
                setattr(self, name, keys.to_dict())

    # ------------------------------------------------------------------ build
    def _entry(self, eid: int) -> _Entry:
        """The listed name `eid` (read from its chunk first if the index was loaded
        and no query has reached it yet). Read `_entries` only through this."""
        entry = self._entries[eid]
        if entry is _FROZEN:
            self._thaw(eid // _CHUNK)
            entry = self._entries[eid]
        return entry

    def _thaw(self, chunk: int) -> None:
        frozen = self._frozen
        if frozen is None:
            return
        with frozen.lock:
            self._thaw_locked(frozen, chunk)
        if not frozen.left:
            self._frozen = None

    def _thaw_locked(self, frozen: _Frozen, chunk: int) -> None:
        blob = frozen.chunks[chunk]
        if blob is None:
            return  # (another thread read it meanwhile)
        reader: _Stored = pickle.Unpickler(io.BytesIO(blob))
        reader.persistent_load = frozen.toks.__getitem__
        records: list[_Stored] = reader.load()
        entries = self._entries
        rows = self._rows
        first: _Stored = itemgetter(0)
        eid = chunk * _CHUNK
        for record in records:
            if entries[eid] is _FROZEN:  # (not removed since the load)
                ent, name, kind, analyzed = record
                words: _Stored = rows[eid][1]
                vids = tuple(map(first, words))
                entries[eid] = _Entry(ent, name, sys.intern(kind), analyzed, vids)
            eid += 1
        frozen.chunks[chunk] = None
        frozen.left -= 1

    def thaw(self) -> None:
        """Read every name a loaded index has not read yet (before a fork, so that
        the workers share them rather than each reading its own copy)."""
        frozen = self._frozen
        if frozen is not None:
            for chunk in range(len(frozen.chunks)):
                self._thaw(chunk)

    def __len__(self) -> int:
        """Number of names indexed (alternatives of a name count apart)."""
        return len(self._entries) - self._gone

    @property
    def entity_count(self) -> int:
        return len(self._entity_ids) - len(self._removed)

    @contextmanager
    def bulk(self) -> Iterator[NameIndex]:
        """For adding many names at once: ``with index.bulk(): index.add(...)``.

        Pauses Python's cyclic garbage collector meanwhile (and restores it): a
        build makes hundreds of thousands of long-lived objects and no reference
        cycle, and the collector's passes over them - each full pass walks every
        object of the process - cost a third of the build of a large list.
        """
        with _collector_paused():
            try:
                yield self
            finally:
                self._interner = None  # its tables are only needed while adding
                # (made now, not by the first long query word: see _long_alike)
                self._long_vocabulary()

    def dump(self, fh: BinaryIO) -> None:
        """Write the index to a binary file (a pickle; see `load`)."""
        pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, fh: BinaryIO) -> NameIndex:
        """Read an index written by `dump` (with the cyclic garbage collector
        paused, as in `bulk`: four times faster). Only load files you wrote: a
        pickle can run code."""
        with _collector_paused():
            index = pickle.load(fh)
        if not isinstance(index, cls):
            raise TypeError(f"not a NameIndex pickle: {type(index).__name__}")
        return index

    def add(
        self,
        entity_id: str,
        name: str,
        *,
        name_kind: str = "primary",
        entity_type: str | None = None,
        countries: Iterable[str] = (),
    ) -> None:
        """Add one name of an entity (call once per name: primary, aliases, ...)."""
        self._mutable()
        schema = canonical_schema(entity_type)
        ent = self._entity_of.get(entity_id)
        if ent is None or ent in self._removed:
            ent = len(self._entity_ids)
            self._entity_ids.append(entity_id)
            self._entity_of[entity_id] = ent
            self._entity_schema.append(schema)
            self._entity_countries.append(frozenset(c.upper() for c in countries))
            self._entity_entries.append([])
        else:
            if self._entity_schema[ent] == UNKNOWN and schema != UNKNOWN:
                self._entity_schema[ent] = schema
            if countries:
                self._entity_countries[ent] = self._entity_countries[ent] | {
                    c.upper() for c in countries
                }
        for alt in alternatives(name):
            self._add_entry(ent, alt, name_kind, schema)

    def _forget_queries(self) -> None:
        """Empty the per-query-word caches (the index changed)."""
        self._hits_cache.clear()
        self._specials_cache.clear()
        self._cooc_cache.clear()
        self._reach_words = None

    def _add_entry(self, ent: int, name: str, name_kind: str, schema: str) -> None:
        self._forget_queries()
        # Not through analyze(): a list is analysed once (its cache would only
        # evict the queries' entries), and with this index's own Interner, so that
        # it shares no object with the queries or with another index.
        interner = self._interner
        if interner is None:
            interner = self._interner = Interner()
        analyzed = analyze_with(name, schema, interner)
        toks = analyzed.tokens
        if not toks:
            return
        eid: _Stored = len(self._entries)
        vids: list[_Stored] = []
        vid: _Stored
        weights: list[float] = []
        names: list[bool] = []
        free = initial = 0.0
        indexed = _COMPARABLE if any(t.kind <= Kind.GENERIC for t in toks) else _ANY
        latin_vid = self._latin_vid
        for tok in toks:
            kind = tok.kind
            if kind in indexed:  # (see _indexed)
                if tok.script == LATIN and not tok.native:
                    vid = latin_vid.get(tok.text)
                else:
                    vid = self._vocab.get((tok.text, tok.script, tok.native))
                if vid is None:
                    vid = self._new_word(tok.text, tok.script, tok.native)
                if kind == Kind.GENERIC and tok.raw != tok.text:
                    self._add_spelling(vid, tok.raw)
                vids.append(vid)
                weights.append(tok.weight)
                names.append(kind == Kind.NAME)
            else:
                free += tok.weight
                self._free_texts.add(tok.text)
            if kind == Kind.INITIAL:
                initial += tok.weight
        name_count = names.count(True)
        # (name_kind: one string per kind, not one per name as read from SQLite)
        self._entries.append(_Entry(ent, name, sys.intern(name_kind), analyzed, tuple(vids)))
        self._token_counts.append(min(len(analyzed.tokens), 0xFFFF))
        self._entity_entries[ent].append(eid)
        shared: dict[_Stored, _Stored] = self._shared_words
        words: list[_Stored] = []
        word: _Stored
        for word in zip(vids, weights, names, strict=True):
            words.append(shared.setdefault(word, word))
        self._rows.append(
            (
                ent, tuple(words), name_count, analyzed.part_count, free, initial,
                analyzed.total_weight,
            )
        )  # fmt: skip
        if name_count >= _LONG_NAME:
            self._long_names.add(eid)
        postings = self._postings
        comparable = sum(weights, 0.0) or 1.0
        for k, vid in enumerate(vids):
            if vid in vids[:k]:
                continue  # a word repeated in the name
            postings[vid].append(eid)
            if weights[k] / comparable >= _DOMINANT_SHARE:
                self._dominant[vid].append(eid)
        # Retrieval keys for joined words (pairs; the scorer also joins triples)
        # and for initialisms of the name's leading words (MIO = Marine
        # Industries Organization): the forms a query is likely to use.
        joins = self._joins
        for idx, joined in joins_of(analyzed):
            if len(idx) == 2:
                _push(joins, joined, eid)
        for letters in _leading_acronyms(analyzed):
            _push(self._acronyms, letters, eid)
        _push(self._exact, analyzed.normalized, eid)

    def _new_word(self, text: str, script: str, native: str) -> _Stored:
        """Enter a word in the vocabulary, with its retrieval keys; its id (an int)."""
        key: _Stored = (text, script, native)
        vid: _Stored = len(self._vocab_tok)
        self._vocab[key] = vid
        if script == LATIN and not native:
            self._latin_vid[text] = vid
        self._vocab_tok.append(key)
        self._postings.append([])
        self._dominant.append([])
        _push_all(self._del_keys, _deletions(text, _depth(text)), vid)
        # (not through the keys' caches: their strings would be shared with queries)
        phon = _phonetic_key(text)
        self._vocab_phon.append(phon)
        if self._long_words is not None:  # (kept up to date once made)
            _add_long(self._long_words, vid, key, phon)
        _push_all(self._phon_keys, _deletions(phon, 1 if len(phon) >= _PHON_DEEP_LEN else 0), vid)
        skel = _skeleton_key(text, script == "abjad")
        if skel:
            _push(self._skel_all, skel, vid)
            if script in VOWEL_LOSSY:
                _push(self._skel_lossy, skel, vid)
        if script == LATIN and not native:
            # A Latin word as Japanese hears it, for katakana queries: ラヴロフ
            # (ravurofu) and LAVROV share "rabrb" but no skeleton (r/l, f/v).
            _push(self._kana_keys, _kana_retrieval_key(text), vid)
        return vid

    def _add_spelling(self, vid: _Stored, raw: str) -> None:
        """Make a generic word findable by its written form too ("machines" for
        the canonical "machinery"): the scorer compares both."""
        spellings = self._spellings.setdefault(vid, {})
        if raw in spellings:
            spellings[raw] += 1
            return
        spellings[raw] = 1
        for d in _deletions(raw, _depth(raw)):
            _push(self._del_keys, d, vid)

    def _drop_spelling(self, vid: int, raw: str) -> None:
        spellings = self._spellings[vid]
        spellings[raw] -= 1
        if spellings[raw]:
            return
        del spellings[raw]
        if not spellings:
            del self._spellings[vid]
        for d in _deletions(raw, _depth(raw)):
            _pull(self._del_keys, d, vid)

    def remove(self, entity_id: str) -> bool:
        """Forget an entity and its names. Returns False if it was not indexed.

        The names leave every posting list and retrieval key (and their memory is
        released), so the index answers as one built without them: an update is
        `remove` then `add` of the new names. Words that only they had stay in the
        vocabulary, with no names; a rebuild drops them.
        """
        ent = self._entity_of.pop(entity_id, None)
        if ent is None:
            return False
        self._mutable()
        self._forget_queries()
        self._removed.add(ent)
        for eid in self._entity_entries[ent]:
            self._unlink(eid)
        self._entity_entries[ent] = []
        return True

    def _unlink(self, eid: int) -> None:
        """Undo `_add_entry`: the entry can no longer be found."""
        entry = self._entry(eid)
        analyzed = entry.analyzed
        for vid in dict.fromkeys(entry.vids):
            self._postings[vid].remove(eid)
            dominant = self._dominant[vid]
            if eid in dominant:
                dominant.remove(eid)
        for tok, vid in zip(_indexed(analyzed.tokens), entry.vids, strict=True):
            if tok.kind == Kind.GENERIC and tok.raw != tok.text:
                self._drop_spelling(vid, tok.raw)
        for idx, joined in joins_of(analyzed):
            if len(idx) == 2:
                _pull(self._joins, joined, eid)
        for letters in _leading_acronyms(analyzed):
            _pull(self._acronyms, letters, eid)
        _pull(self._exact, analyzed.normalized, eid)
        self._long_names.discard(eid)
        self._entries[eid] = _GONE
        self._gone += 1
        self._rows[eid] = _GONE_ROW

    # ----------------------------------------------------------------- query
    def _word(self, text: str, script: str, native: str, fuzzy: bool = True) -> _WordHits:
        """Hits of one query word, cached until the index changes."""
        key = (text, script, native, fuzzy)
        cached: _WordHits | None = self._hits_cache.get(key)
        if cached is not None:
            return cached
        hits = self._token_hits(text, script, native, fuzzy)
        result = _WordHits(self._postings, self._dominant, hits)
        self._hits_cache.put(key, result, result.weight())
        return result

    def _joined_word(self, joined: str) -> _WordHits:
        """Hits of two adjacent query words written together, cached like `_word`."""
        key = (joined, "latin", "", "joined")
        cached: _WordHits | None = self._hits_cache.get(key)
        if cached is not None:
            return cached
        result = _WordHits(self._postings, self._dominant, self._joined_hits(joined))
        self._hits_cache.put(key, result, result.weight())
        return result

    def _joined_hits(self, joined: str) -> dict[int, float]:
        """Listed words that two query words written together may be aligned with:
        the word itself, its phonetic key, and words one edit away (the scorer
        joins at similarity JOIN_MIN_SIM: "ab dal" / ABDUL, "iuc ic" / ICIC)."""
        out = self._token_hits(joined, LATIN, "", False)
        if len(joined) < 5:
            return out
        near: set[int] = set()
        _gather(self._del_keys, _deletions(joined, 1), near)
        vocab = self._vocab_tok
        for vid in near:
            if vid not in out:
                vt, vs, vn = vocab[vid]
                if vs == LATIN and not vn:
                    sim = string_similarity(joined, vt)
                    if sim >= JOIN_MIN_SIM:
                        out[vid] = credit(sim)
        return out

    def _token_hits(
        self, text: str, script: str, native: str, fuzzy: bool = True
    ) -> dict[int, float]:
        """Vocabulary ids similar to one query token -> credit."""
        phon = phonetic_key(text)
        if fuzzy:
            cand: set[int] = set()
            depth = _depth(text)
            keys = _deletions(text, depth)
            if _DEEP_QUERY_LEN <= len(text) <= _DEEP_QUERY_MAX:
                # Two deletions on the query side (one on the listed side): words two
                # letters shorter than the query's ("dialog" for "dialogue") meet too.
                # Query-side only, so it costs lookups, not memory.
                keys = {d2 for d1 in keys for d2 in _deletions(d1, 1)}
            _gather(self._del_keys, keys, cand)
            phon_depth = 1 if len(phon) >= _PHON_DEEP_LEN else 0
            if phon != text or phon_depth != depth:
                keys = _deletions(phon, phon_depth)
            _gather(self._phon_keys, keys, cand)
        else:  # the word itself and its phonetic key only
            cand = {*_ids(self._del_keys, text), *_ids(self._phon_keys, phon)}
        # Consonant skeletons bridge vowel-less scripts and the rest: a vowel-less
        # query word looks at every word, any other word at vowel-less words only.
        skel_keys = self._skel_all if script in VOWEL_LOSSY else self._skel_lossy
        if skel_keys:
            skel = skeleton_key(text, script == "abjad")
            if skel:
                cand.update(_ids(skel_keys, skel))
        if script == KANA and fuzzy:
            # Katakana against Latin words by kana_key; one letter more on the
            # query's side (an added vowel or consonant) is still found.
            kk = _kana_retrieval_key(text)
            for d in _deletions(kk, 1 if len(kk) >= _KANA_DEEP_LEN else 0):
                cand.update(_ids(self._kana_keys, d))
        out: dict[int, float] = {}
        vocab, vocab_phon = self._vocab_tok, self._vocab_phon
        latin = script == LATIN
        # (not through the pair caches: a word's hits are cached whole (`_word`), so
        # its pairs would not be asked again, and thousands of one-off pairs, a
        # Hangul query's, would push out the ones that are)
        for vid in cand:
            vt, vs, vn = vocab[vid]
            if latin and vs == LATIN:
                sim = keyed_latin_similarity(text, vt, phon, vocab_phon[vid])
            else:
                sim = token_similarity_of(text, vt, script, vs, native, vn)
            spellings = self._spellings.get(vid)
            if spellings and sim < 1.0:
                for raw in spellings:
                    alt = latin_similarity(text, raw)
                    if alt > sim:
                        sim = alt
            if sim >= _MIN_EDGE_SIM:
                out[vid] = credit(sim)
        return out

    def _long_word(
        self, text: str, base: _WordHits, may_scan: bool
    ) -> tuple[_WordHits, int] | None:
        """A long Latin query word's hits with the listed words `_long_alike` finds
        ("promtekhnologiya" / STROYTEKHNOLOGIYA, 0.76: four edits, beyond the keys),
        cached like `_word`, and 1 if that took a scan (None: not cached and not
        `may_scan`)."""
        key = (text, LATIN, "", "long")
        cached: _WordHits | None = self._hits_cache.get(key)
        if cached is not None:
            return cached, 0
        if not may_scan:
            return None
        phon = phonetic_key(text)
        vocab, vocab_phon = self._vocab_tok, self._vocab_phon
        merged: dict[int, float] | None = None
        for vid in self._long_alike(text, phon):
            if vid not in base.hits:
                sim = keyed_latin_similarity(text, vocab[vid][0], phon, vocab_phon[vid])
                if sim >= _MIN_EDGE_SIM:
                    if merged is None:
                        merged = dict(base.hits)
                    merged[vid] = credit(sim)
        result = base if merged is None else _WordHits(self._postings, self._dominant, merged)
        self._hits_cache.put(key, result, result.weight())
        return result, 1

    def _long_vocabulary(self) -> _LongWords:
        """The Latin words `_long_alike` compares with, by length: made once (20-50
        ms with every list), then kept up to date by `_new_word`."""
        by_len = self._long_words
        if by_len is None:
            by_len = {}
            vocab, vocab_phon = self._vocab_tok, self._vocab_phon
            for vid in range(len(vocab)):
                _add_long(by_len, vid, vocab[vid], vocab_phon[vid])
            self._long_words = by_len
        return by_len

    def _long_alike(self, text: str, phon: str) -> list[int]:
        """Listed Latin words alike (above _LONG_ALIKE_SIM) to a long query word, by
        comparing it with every listed word of a length that can be (rapidfuzz)."""
        by_len = self._long_vocabulary()
        n = len(text)
        # (a similarity is at most the shorter's length over the longer's; the
        # phonetic keys', discounted, likewise, with a letter's slack for the folds)
        lo, hi = int(n * _LONG_ALIKE_SIM) - 1, int(n / _LONG_ALIKE_SIM) + 1
        out: list[int] = []
        for size, (vids, texts, phons) in by_len.items():
            if lo <= size <= hi:
                out.extend(vids[j] for j in latin_alike(text, texts, phons, _LONG_ALIKE_SIM))
        return out

    def screen(
        self,
        name: str,
        *,
        entity_type: str | None = None,
        country: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 10,
        allowed_ids: Container[str] | None = None,
    ) -> list[Match]:
        """Best matches for `name`, best first, one per entity (its best name)."""
        if next(_SCREENED) % _NAMES_PER_YOUNG_COLLECTION == 0 and gc.isenabled():
            _collect_young()
        qschema = canonical_schema(entity_type)
        allowed_schemas = _COMPATIBLE[qschema]
        qcountry = country.upper() if country else None
        best: dict[int, tuple[float, int, ScoreDetail]] = {}
        queries = {}
        for alt in alternatives(name):
            for schema in self._schemas_for(qschema):
                queries[(alt, schema)] = analyze(alt, schema)
        found: list[tuple[float, int, AnalyzedName]] = []
        long_scans = [_LONG_SCANS]  # (for all the name's forms: "a/b/c/..." has many)
        for qa in queries.values():
            for eid, est in self._candidates(
                qa, threshold, allowed_schemas, allowed_ids, long_scans
            ):
                found.append((est, eid, qa))
        # Most promising names first. An entity's other names are skipped once one
        # of them scores above what they can be estimated at; and once `limit`
        # entities are found, names estimated no higher than the limit-th best
        # score cannot enter the result (ties at the limit go to the earlier).
        # Equal estimates go in the order the names were added, so that of an
        # entity's equally scored names the same one is reported every time.
        found.sort(key=lambda item: (-item[0], item[1]))
        kth = -1.0
        scored = 0
        for est, eid, qa in found:
            if est <= kth:
                break
            entry = self._entry(eid)
            ent = entry.entity
            prev = best.get(ent)
            if prev is not None and (prev[0] >= 1.0 or est + _ESTIMATE_MARGIN < prev[0]):
                continue
            # (a score below the threshold, or not above the entity's best so far,
            # is of no use)
            floor = threshold if prev is None or prev[0] < threshold else prev[0]
            found_detail = score_detail_from(qa, entry.analyzed, floor)
            if found_detail is None:
                continue
            detail = found_detail
            score = detail.score
            if qcountry and self._country_conflict(ent, qcountry):
                score = max(0.0, score - COUNTRY_MISMATCH_PENALTY)
            if score < threshold:
                continue
            if prev is None or score > prev[0]:
                best[ent] = (score, eid, detail)
                scored += 1
                if len(best) >= limit and scored % 8 == 0:
                    kth = heapq.nlargest(limit, (v[0] for v in best.values()))[-1]
        ids = self._entity_ids
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], ids[kv[0]]))[:limit]
        return [
            self._match(ent, score, eid, detail, qcountry) for ent, (score, eid, detail) in ranked
        ]

    def _match(
        self, ent: int, score: float, eid: int, detail: ScoreDetail, qcountry: str | None
    ) -> Match:
        entry = self._entry(eid)
        expl = detail.explanation()
        if qcountry and self._country_conflict(ent, qcountry):
            expl["country"] = {
                "query": qcountry,
                "entity": sorted(self._entity_countries[ent]),
                "penalty": COUNTRY_MISMATCH_PENALTY,
                "reason": "query country is not among the entity's countries",
            }
        return Match(self._entity_ids[ent], entry.name, entry.name_kind, score, expl)

    def score_entities(
        self,
        name: str,
        entity_ids: Iterable[str],
        *,
        entity_type: str | None = None,
        country: str | None = None,
        threshold: float = 0.0,
        allowed_ids: Container[str] | None = None,
    ) -> list[Match]:
        """The best name of each of `entity_ids` against `name`, scored directly
        (no retrieval): for entities found another way, such as by an identifier.
        The rules of `screen` apply (types, country hint, `threshold`, allowed
        ids); unknown entities are left out. Best first."""
        qschema = canonical_schema(entity_type)
        allowed_schemas = _COMPATIBLE[qschema]
        qcountry = country.upper() if country else None
        queries = [analyze(alt, qschema) for alt in alternatives(name)]
        best: dict[int, tuple[float, int, ScoreDetail]] = {}
        for entity_id in set(entity_ids):
            ent = self._entity_of.get(entity_id)
            if ent is None or self._entity_schema[ent] not in allowed_schemas:
                continue
            if allowed_ids is not None and entity_id not in allowed_ids:
                continue
            for eid in self._entity_entries[ent]:  # in the order added: ties keep the first
                for qa in queries:
                    detail = score_detail_from(qa, self._entry(eid).analyzed, -1.0)
                    assert detail is not None
                    score = detail.score
                    if qcountry and self._country_conflict(ent, qcountry):
                        score = max(0.0, score - COUNTRY_MISMATCH_PENALTY)
                    prev = best.get(ent)
                    if score >= threshold and (prev is None or score > prev[0]):
                        best[ent] = (score, eid, detail)
        ids = self._entity_ids
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], ids[kv[0]]))
        return [
            self._match(ent, score, eid, detail, qcountry) for ent, (score, eid, detail) in ranked
        ]

    def _country_conflict(self, ent: int, country: str) -> bool:
        countries = self._entity_countries[ent]
        return bool(countries) and country not in countries

    @staticmethod
    def _schemas_for(qschema: str) -> list[str]:
        # An untyped query is read once, with both person and organisation rules.
        return [qschema]

    def _candidates(
        self,
        qa: AnalyzedName,
        threshold: float,
        schemas: set[str],
        allowed_ids: Container[str] | None,
        long_scans: list[int] | None = None,
    ) -> list[tuple[int, float]]:
        """(entry, estimate) of acceptable entities whose estimate can reach `threshold`.
        `long_scans`: how many long words may still be compared with the whole
        vocabulary (see _long_word), counted down."""
        toks = qa.tokens
        comparable = [k for k, t in enumerate(toks) if t.kind in _COMPARABLE]
        if not comparable:
            comparable = list(range(len(toks)))  # numbers and legal forms only
        if not comparable:
            return []
        distinctive = [k for k in comparable if toks[k].kind == Kind.NAME] or comparable
        hits: dict[int, dict[int, float]] = {}
        words: dict[int, _WordHits] = {}
        for k in comparable:
            t = toks[k]
            found = words[k] = self._word(t.text, t.script, t.native)
            if t.kind == Kind.GENERIC and t.raw != t.text:
                # The scorer compares a generic word's written form too ("нат" reads
                # as "national", and is the listed name's NAT).
                written = self._word(t.raw, t.script, t.native)
                if written.hits:
                    merged = dict(written.hits)
                    for vid, cr in found.hits.items():
                        if cr > merged.get(vid, 0.0):
                            merged[vid] = cr
                    found = words[k] = _WordHits(self._postings, self._dominant, merged)
            hits[k] = found.hits
        # Long words stay alike through more edits than the keys reach: compared
        # with every listed word of a fitting length (see _long_word), a few a query.
        if len(comparable) <= _LONG_SCAN_MAX_WORDS:
            long = [k for k in comparable if toks[k].kind == Kind.NAME
                    and toks[k].script == LATIN and not toks[k].native
                    and len(toks[k].text) >= _LONG_WORD]  # fmt: skip
            long.sort(key=lambda k: -len(toks[k].text))
            budget = long_scans if long_scans is not None else [_LONG_SCANS]
            for k in long:
                extended = self._long_word(toks[k].text, words[k], budget[0] > 0)
                if extended is None:
                    continue
                found, scanned = extended
                budget[0] -= scanned
                words[k] = found
                hits[k] = found.hits
        # Joined adjacent query words against single listed words: credit both.
        joined_hits = False
        cand: set[int] = set()
        for idx, joined in joins_of(qa):
            if len(idx) > 2:
                continue
            found = self._joined_word(joined)
            extra = found.hits
            if extra:
                joined_hits = True
                # Names with the query's words written together ("Promsvyaz Bank" ->
                # PROMSVYAZBANK) are candidates whatever else the query has.
                cand.update(found.names)
                for k in idx:
                    if k in hits:
                        merged = hits[k] = dict(hits[k])
                        for vid, cr in extra.items():
                            if cr > merged.get(vid, 0.0):
                                merged[vid] = cr
        for k in distinctive:
            cand.update(words[k].dominant)
        if (
            qa.schema == PERSON
            and qa.part_count == 1
            and len(comparable) == 1
            and threshold > 1.0 - EXTRA_WEIGHT * (1.0 - _DOMINANT_SHARE) - SINGLE_TOKEN_PENALTY
        ):
            # A one-word person name against a name it does not dominate pays the
            # single-name penalty and cannot reach such a threshold: only the
            # names it dominates (above) are candidates.
            pass
        elif len(comparable) == 1 or not self._single_hit_hopeless(qa, comparable, threshold):
            for k in distinctive:
                cand.update(words[k].names)
            # (names only a generic word hits may hold a word alike to a name word:
            # "Abukar Trading LLC" / ABUBAKAR TRADING LLC, 0.831)
            if (
                len(comparable) > 1
                and len({toks[k].text for k in comparable}) <= _PAIRWISE_MAX_WORDS
            ):
                cand |= self._alike_pool(qa, comparable, words, hits, cand, threshold)
        else:
            # A name that shares only one of several query words, and in which
            # that word does not dominate, cannot reach the threshold: keep names
            # hit by two query words or more (plus the dominated ones above).
            # Long names (four distinctive words or more) hit by only two words of
            # a query of three or more distinctive words cannot either (see
            # _LONG_NAME): for those, three words must hit.
            triples = (
                len(comparable) >= 3
                and all(toks[k].kind == Kind.NAME for k in comparable)
                and self._two_hits_hopeless(qa, threshold)
            )
            long_names = self._long_names
            # A word the query repeats is one word here, whatever the number of
            # repetitions ("ali ali ali ..."): its pair with itself is the names
            # holding two words it hits (one listed word explains one query word:
            # a name holding it once is hit once), not all its names (all 4,054
            # of Muhammad's for "Riad Muhammad Hasan Muhammad", scored in vain).
            firsts: dict[tuple[str, str, str], int] = {}
            repeated: set[int] = set()
            for k in comparable:
                key = (toks[k].text, toks[k].script, toks[k].native)
                if key in firsts:
                    repeated.add(firsts[key])
                else:
                    firsts[key] = k
            distinct = list(firsts.values())
            n_distinct = len(distinct)
            rows = self._rows
            for k in repeated:
                hit = hits[k]
                cand.update(
                    e for e in words[k].names if sum(1 for v, _w, _n in rows[e][1] if v in hit) >= 2
                )
            if len(distinct) > _PAIRWISE_MAX_WORDS:
                # Many words (64 one-syllable Hangul words): count each name's
                # hitting words once rather than intersect every pair, the same
                # set at a cost that grows with the words, not their square.
                counts = Counter(chain.from_iterable(words[k].names for k in distinct))
                long_names = long_names if triples else set()
                cand.update(
                    e for e, c in counts.items() if c >= 3 or (c == 2 and e not in long_names)
                )
                distinct = []
            for i, ki in enumerate(distinct):
                a = words[ki].names
                for kj in distinct[i + 1 :]:
                    b = words[kj].names
                    pair = _common(a, b)
                    if triples and pair:
                        short = pair - long_names
                        cand |= short
                        rest = pair - short if len(short) < len(pair) else None
                        if rest:
                            for kl in distinct:
                                if kl != ki and kl != kj:
                                    other = words[kl].names
                                    cand.update(e for e in rest if e in other)
                    else:
                        cand |= pair
            if n_distinct <= _PAIRWISE_MAX_WORDS:
                # (with more words, a name one of them hits alone needs as many
                # alike words to reach a threshold: not looked for, a hostile
                # query's 64 syllables would each scan thousands of names' words)
                cand |= self._alike_pool(qa, comparable, words, hits, cand, threshold)
        # Query words that are listed names' joined words or initialisms: the
        # words behind them count as hits of the query word.
        org = qa.schema != PERSON
        for k in comparable:
            t = toks[k]
            for listed, behind, cr in self._specials(t.raw, t.text, org):
                cand.update(listed)
                merged = hits[k] = dict(hits[k])
                for vid in behind:
                    if cr > merged.get(vid, 0.0):
                        merged[vid] = cr
        # The query's initialisms as listed words ("SCIENTIFIC AND PRODUCTION
        # ENTERPRISE PULSAR" / SPE PULSAR): credited to the words they stand for.
        for idx, letters in acronyms_of(qa):
            avid: _Stored = self._latin_vid.get(letters)
            if avid is None:
                continue
            names = self._postings[avid]
            if len(names) <= _MAX_SPECIAL:
                if len(letters) >= 3:
                    cand.update(names)
                else:  # ("JINT VENTURE KVANT" / JV KVANT) with another word in common
                    others = [words[k].names for k in comparable if k not in idx]
                    cand.update(e for e in names if any(e in o for o in others))
            for k in idx:
                if k in hits:
                    merged = hits[k] = dict(hits[k])
                    if merged.get(avid, 0.0) < _ACRONYM_CREDIT:
                        merged[avid] = _ACRONYM_CREDIT
                        # (one listed initialism explains several query words, as
                        # one joined listed word does: not one word per word)
                        joined_hits = True
        exact = _ids(self._exact, qa.normalized)
        if not cand:
            return self._exact_only(exact, schemas, allowed_ids)
        # Particles, titles, initials and numbers of the query are listed names'
        # words when the kinds differ (untyped "Yi LI" reads "li" as a particle,
        # the person LI, Yi as a name): the scorer aligns equal words of any kinds.
        free_vids: list[tuple[int, int]] = []
        latin_vid, vocab_tok = self._latin_vid, self._vocab_tok
        for k, t in enumerate(toks):
            if t.kind in _FREE_KINDS and k not in hits:
                if t.script == LATIN and not t.native:
                    fvid: _Stored = latin_vid.get(t.text)
                    if fvid is not None:
                        free_vids.append((k, fvid))
                    continue
                # (not through _vocab: a loaded index keeps it pickled, see _LAZY;
                # every word is its own deletion key)
                want = (t.text, t.script, t.native)
                for fvid in _ids(self._del_keys, t.text):
                    if vocab_tok[fvid] == want:
                        free_vids.append((k, fvid))
                        break
        free_texts = self._free_texts
        freeish = [toks[k].text in free_texts for k in comparable]
        out = self._estimate(
            qa,
            comparable,
            hits,
            cand,
            threshold,
            schemas,
            allowed_ids,
            joined_hits,
            free_vids,
            freeish,
        )
        if exact:
            out += self._exact_only(exact, schemas, allowed_ids)
        return out

    def _exact_only(
        self, exact: tuple[int, ...], schemas: set[str], allowed_ids: Container[str] | None
    ) -> list[tuple[int, float]]:
        """Names whose normalised form is the query's, estimated 1.0 (acceptable ones)."""
        out: list[tuple[int, float]] = []
        schema_of, ids, rows = self._entity_schema, self._entity_ids, self._rows
        for eid in exact:
            ent = rows[eid][0]
            if schema_of[ent] in schemas and (allowed_ids is None or ids[ent] in allowed_ids):
                out.append((eid, 1.0))
        return out

    def _specials(
        self, raw: str, text: str, org: bool
    ) -> tuple[tuple[tuple[int, ...], set[int], float], ...]:
        """(names to retrieve, vocabulary ids to credit, credit) for a query word that
        is a listed name's joined words or (`org`) initialisms; cached like `_word`."""
        key = (raw, text, org)
        cached: tuple[tuple[tuple[int, ...], set[int], float], ...] | None = (
            self._specials_cache.get(key)
        )
        if cached is not None:
            return cached
        found = [(_ids(self._joins, raw), raw, 1.0, False)]
        if len(raw) >= 6:
            # One letter too many in the written-together form ("AleBustan").
            for d in _present(self._joins, _deletions(raw, 1)):
                if d != raw:
                    found.append((_ids(self._joins, d), d, credit(1.0 - 1.0 / len(raw)), False))
        if org and len(text) >= 3:
            found.append((_ids(self._acronyms, text), text, 0.9, True))
        out: list[tuple[tuple[int, ...], set[int], float]] = []
        out.extend(self._three_joined(raw))
        for listed, form, cr, acronym in found:
            if not listed:
                continue
            if len(listed) > _MAX_SPECIAL:
                # Too common to retrieve by ("abdal" = "abd"+"al"): only credit
                # the words it splits into, for names found otherwise.
                if not acronym:
                    out.append(((), self._split_vids(form), cr))
            else:
                out.append((listed, self._vids_behind(listed, form, acronym), cr))
        result = tuple(out)
        self._specials_cache.put(
            key, result, 1 + sum((len(listed) + len(behind) for listed, behind, _ in out), 0)
        )
        return result

    def _three_joined(self, raw: str) -> list[tuple[tuple[int, ...], set[int], float]]:
        """Names that hold a query word as three or more of their words written
        together ("alexandervyacheslavovichzakharov"): the word split into a joined
        pair of a name (a retrieval key) and a word of the same name, either side.
        (names, vocabulary ids to credit, credit 1.0); linear in the word's length."""
        if len(raw) < 7:
            return []
        joins, latin, entry = self._joins, self._latin_vid, self._entry
        out: list[tuple[tuple[int, ...], set[int], float]] = []
        for k in range(2, len(raw) - 1):
            head, tail = raw[:k], raw[k:]
            for pair, word in ((head, tail), (tail, head)):
                vid = latin.get(word)
                if vid is None or pair not in joins:
                    continue
                names = tuple(e for e in _ids(joins, pair) if vid in entry(e).vids)
                if names and len(names) <= _MAX_SPECIAL:
                    out.append((names, self._vids_behind(names, pair, False) | {vid}, 1.0))
        return out

    def _split_vids(self, text: str) -> set[int]:
        """Vocabulary ids of the words `text` splits into (two parts)."""
        out: set[int] = set()
        latin = self._latin_vid
        for k in range(1, len(text)):
            left, right = latin.get(text[:k]), latin.get(text[k:])
            if left is not None:
                out.add(left)
            if right is not None:
                out.add(right)
        return out

    def _vids_behind(self, listed: tuple[int, ...], key: str, acronym: bool) -> set[int]:
        """Vocabulary ids of the words that form `key` (joined or initials) in names."""
        out: set[int] = set()
        for eid in listed:
            entry = self._entry(eid)
            an = entry.analyzed
            positions = [p for p, t in enumerate(an.tokens) if t.kind in (Kind.NAME, Kind.GENERIC)]
            vid_at = dict(zip(positions, entry.vids, strict=True))
            for idx, text in acronyms_of(an) if acronym else joins_of(an):
                if text == key:
                    out.update(vid_at[p] for p in idx if p in vid_at)
        return out

    @staticmethod
    def _two_hits_hopeless(qa: AnalyzedName, threshold: float) -> bool:
        """True if a long listed name (>= _LONG_NAME distinctive words) hit by only two
        of the query's (equally weighted) words is estimated below threshold."""
        n = qa.name_count
        m = _LONG_NAME
        free = qa.total_weight - n
        cq = (2 + _UNRESOLVED_CREDIT * min(n - 2, m - 2) + _FREE_CREDIT * free) / (n + free)
        cc = (2 + _UNRESOLVED_CREDIT * min(m - 2, n - 2) + _FREE_CREDIT) / (m + 1.0)
        cc = max(cc, (2 + _UNRESOLVED_CREDIT * min(m - 2, n - 2)) / m)
        hi, lo = max(cq, cc), min(cq, cc)
        return hi * (1.0 - EXTRA_WEIGHT * (1.0 - lo)) < threshold - _ESTIMATE_MARGIN

    @staticmethod
    def _single_hit_hopeless(qa: AnalyzedName, distinctive: list[int], threshold: float) -> bool:
        """True if a name sharing a single query word (not dominant in it) is
        estimated below threshold whatever that word is."""
        toks = qa.tokens
        wq = qa.total_weight
        w_max = max(toks[k].weight for k in distinctive)
        rest = wq - w_max
        cq = (w_max + _UNRESOLVED_CREDIT * rest) / wq
        # The name side: the shared word is under half its comparable weight.
        cc = _DOMINANT_SHARE + _UNRESOLVED_CREDIT * (1.0 - _DOMINANT_SHARE)
        hi, lo = max(cq, cc), min(cq, cc)
        return hi * (1.0 - EXTRA_WEIGHT * (1.0 - lo)) < threshold - _ESTIMATE_MARGIN

    def _estimate(
        self,
        qa: AnalyzedName,
        comparable: list[int],
        hits: dict[int, dict[int, float]],
        cand: set[int],
        threshold: float,
        schemas: set[str],
        allowed_ids: Container[str] | None,
        joined_hits: bool,
        free_vids: list[tuple[int, int]],
        freeish: list[bool],
    ) -> list[tuple[int, float]]:
        toks = qa.tokens
        wq = qa.total_weight
        q_free = wq - sum((toks[k].weight for k in comparable), 0.0)
        floor = threshold - _ESTIMATE_MARGIN
        out: list[tuple[int, float]] = []
        q_distinctive = qa.has_distinctive
        q_person = qa.schema == PERSON
        q_unknown = qa.schema == UNKNOWN
        q_names = qa.part_count
        # Query initials may explain listed names partially ("V." for "Vladimir").
        unresolved_e = (
            INITIAL_FULL_CREDIT if any(t.kind == Kind.INITIAL for t in toks) else _UNRESOLVED_CREDIT
        )
        rows = self._rows
        weights = [toks[k].weight for k in comparable]
        w_max = max(weights, default=0.0)
        is_name = [toks[k].kind == Kind.NAME for k in comparable]
        # vid -> [(query word position in `comparable`, credit), ...]
        by_vid: dict[int, list[tuple[int, float]]] = {}
        # (query word position -> vocabulary id -> the pair's credit, 0.0 if none):
        # the candidates of a common word share their other words.
        near_memo: list[dict[int, float]] = [{} for _ in comparable]
        # Names whose unhit words want comparing, when many names share words (a
        # common word's): most have no unhit word alike to any query word, which
        # is found for all of them at once after this loop (`_alike_unhit`).
        defer = len(cand) >= _NEAR_ANY_FROM
        deferred: list[_Deferred] = []
        for pos, k in enumerate(comparable):
            for vid, cr in hits[k].items():
                found = by_vid.get(vid)
                if found is None:
                    by_vid[vid] = [(pos, cr)]
                else:
                    found.append((pos, cr))
        nq = len(comparable)
        # The query's free words found as listed words (see _candidates): positions
        # after the comparable ones, credited on top of what free words earn anyway.
        for pos, (k, vid) in enumerate(free_vids, nq):
            found = by_vid.get(vid)
            if found is None:
                by_vid[vid] = [(pos, 1.0)]
            else:
                found.append((pos, 1.0))
            weights.append(toks[k].weight)
            is_name.append(False)
        n_pos = len(weights)
        # Initials may meet names ("V." / "Vladimir"): credited whatever the name.
        q_initial_w = sum((t.weight for t in toks if t.kind == Kind.INITIAL), 0.0)
        q_free -= q_initial_w
        base_q = q_free * _FREE_CREDIT
        n_initials = sum(1 for t in toks if t.kind == Kind.INITIAL)
        # Without joined query words, every credited query word needs its own
        # listed word (the scorer aligns one to one).
        strict_pairs = not joined_hits
        schema_of, ids = self._entity_schema, self._entity_ids
        check_entity = allowed_ids is not None or len(schemas) < 5
        unresolved_q = _UNRESOLVED_CREDIT
        free_credit = _FREE_CREDIT
        single_penalty_q = q_person or q_unknown
        # A listed name of n tokens explains at most _MAX_JOIN * n query tokens (the
        # scorer aligns one to one, joining up to three): with a long query its
        # coverage is bounded, and so is the score, by 0.7 + 0.3 * coverage (the
        # better-covered side counts at most 1). Exact, and what keeps a query of
        # hundreds of words cheap: most names are dropped before any other work.
        n_all = len(toks)
        capped = n_all > _MAX_JOIN
        top_w: list[float] = [0.0]
        if capped:
            for w in sorted((t.weight for t in toks), reverse=True):
                top_w.append(top_w[-1] + w)
        lo_cap = 1.0 - EXTRA_WEIGHT
        token_counts = self._token_counts
        for eid in cand:
            # (the query weight the name can explain at most: all of it, or with a
            # long query its `k` heaviest words; the estimate keeps within it too)
            q_cap = wq
            if capped:
                k = _MAX_JOIN * token_counts[eid]
                if k < n_all:
                    q_cap = top_w[k]
                    if lo_cap + EXTRA_WEIGHT * q_cap / wq < threshold:
                        continue
            ent, words, e_names, e_parts, e_free, e_initial, e_total = rows[eid]
            if check_entity:
                if schema_of[ent] not in schemas:
                    continue
                if allowed_ids is not None and ids[ent] not in allowed_ids:
                    continue
            qbest = [0.0] * n_pos
            # Legal forms, particles and titles can only meet their own kind.
            # (without any in the query, the name's initials may still meet names)
            ec = e_free * free_credit if q_free else e_initial
            unresolved_w = 0.0  # weight of the name's words no query word hit
            unresolved_n = 0
            distinctive = False
            for v, w, v_name in words:
                found = by_vid.get(v)
                if found is None:
                    unresolved_w += w
                    unresolved_n += 1
                    continue
                best = 0.0
                for pos, cr in found:
                    if cr > best:
                        best = cr
                    if cr > qbest[pos]:
                        qbest[pos] = cr
                    if cr >= 0.7 and (v_name or is_name[pos]):
                        distinctive = True
                ec += w * best
            if not distinctive and (q_distinctive or e_names):
                continue  # only generic words in common: capped far below any threshold
            eq = (base_q if e_free else 0.0) + q_initial_w
            q_unresolved_w = 0.0
            q_unresolved_n = 0
            resolved_e = len(words) - unresolved_n
            if strict_pairs and nq - qbest[:nq].count(0.0) > resolved_e:
                # One listed word explains one query word ("Ali Ali" vs "ALI, X"):
                # only the best `resolved_e` credited query words keep their credit.
                order = sorted(range(nq), key=lambda p: -qbest[p] * weights[p])
                for p in order[resolved_e:]:
                    qbest[p] = 0.0
            free_met = False
            for pos in range(nq):
                b = qbest[pos]
                if b > 0.0:
                    eq += weights[pos] * b
                elif e_free and freeish[pos]:
                    # (may be the name's legal form, title or particle: see _free_texts)
                    eq += weights[pos]
                    free_met = True
                else:
                    q_unresolved_w += weights[pos]
                    q_unresolved_n += 1
            if free_met:
                ec += e_free * (1.0 - free_credit) if q_free else e_free
            for pos in range(nq, n_pos):
                eq += weights[pos] * qbest[pos]
            # Words left unhit on one side can only be explained (weakly) by words
            # left over on the other: each word explains at most one word.
            e_left = 0.0
            if unresolved_w:
                spare = q_unresolved_n + n_initials
                e_left = unresolved_e * (unresolved_w if unresolved_w < spare else spare)
            q_left = 0.0
            if q_unresolved_w:
                q_left = unresolved_q * (
                    q_unresolved_w if q_unresolved_w < unresolved_n else unresolved_n
                )
            penalty = (
                SINGLE_TOKEN_PENALTY
                if single_penalty_q
                and (q_person or schema_of[ent] == PERSON)
                and ((q_names == 1 and e_parts > 1) or (e_parts == 1 and q_names > 1))
                else 0.0
            )
            est = _combined(min(eq + q_left, q_cap), wq, ec + e_left, e_total) - penalty
            if (
                est < floor
                and q_unresolved_n
                and unresolved_n
                and q_unresolved_n * unresolved_n <= _NEAR_MISS_PAIRS
                # (not if every unhit pair at full credit would still fall short:
                # each word explains at most one of the other side's)
                and _combined(
                    min(eq + max(q_left, min(q_unresolved_w, unresolved_n * w_max)), q_cap),
                    wq,
                    ec + max(e_left, unresolved_w),
                    e_total,
                )
                - penalty
                >= floor
            ):
                near = _Deferred(
                    eid, words, qbest, freeish if e_free else None, est, eq, q_left, q_cap, ec,
                    e_left, e_total, penalty,
                )  # fmt: skip
                if defer:
                    deferred.append(near)
                    continue
                est = self._near_estimate(qa, comparable, near, by_vid, near_memo)
            if est >= floor:
                out.append((eid, est))
        if deferred:
            unhit = {v for near in deferred for v, _w, _n in near.words if v not in by_vid}
            toks = qa.tokens
            query_words = [(toks[k].text, toks[k].script, toks[k].native) for k in comparable]
            alike = set().union(*self._alike_unhit(query_words, unhit))
            for near in deferred:
                est = near.est
                if any(v in alike for v, _w, _n in near.words if v not in by_vid):
                    est = self._near_estimate(qa, comparable, near, by_vid, near_memo)
                if est >= floor:
                    out.append((near.eid, est))
        return out

    def _near_estimate(
        self,
        qa: AnalyzedName,
        comparable: list[int],
        near: _Deferred,
        by_vid: dict[int, list[tuple[int, float]]],
        memo: list[dict[int, float]],
    ) -> float:
        """A name's estimate once its words left unhit on both sides are compared.

        They may still be alike: not one deletion apart, but a substitution or two
        in a long word ("daniltsev" / "zaytsev", 0.65; "kumsan" / "rounsan"). Their
        real credits, where the weak one `_estimate` gives them would drop a name
        that scores."""
        q_near, e_near = self._near_misses(
            qa, comparable, near.qbest, near.freeish, near.words, by_vid, memo
        )
        if q_near > near.q_left or e_near > near.e_left:
            combined = _combined(
                min(near.eq + max(near.q_left, q_near), near.q_cap),
                qa.total_weight,
                near.ec + max(near.e_left, e_near),
                near.e_total,
            )
            return max(near.est, combined - near.penalty)
        return near.est

    def _alike_pool(
        self,
        qa: AnalyzedName,
        comparable: list[int],
        words: dict[int, _WordHits],
        hits: dict[int, dict[int, float]],
        cand: set[int],
        threshold: float,
    ) -> set[int]:
        """Names hit by one query word only that hold a word alike to another query
        word beyond its hits ("SWALLEH Abukar" / ABUBAKAR, Swalleh: "abukar" is two
        deletions from "abubakar", similarity 0.8): `_single_hit_hopeless` weighs such
        a word at _UNRESOLVED_CREDIT, the scorer at its similarity's credit. They
        are candidates, and the alike words hits of the query word with their
        credit (`hits` updated), as if its keys had found them (exact retrieval)."""
        toks = qa.tokens
        wq = qa.total_weight
        n_all = len(toks)
        top_w: list[float] = [0.0]
        for w in sorted((t.weight for t in toks), reverse=True):
            top_w.append(top_w[-1] + w)
        lo_cap = 1.0 - EXTRA_WEIGHT
        token_counts = self._token_counts
        hit_vids: set[int] = set()
        for k in comparable:
            hit_vids.update(hits[k])
        unhit: set[int] = set()
        for k in comparable:
            unhit.update(self._cooccurring(words[k]))
        unhit -= hit_vids
        if not unhit:
            return set()
        # Each distinct query word once ("mohammed mohammed ..."). (A Latin word of
        # two letters and one unhit are at least one edit apart, similarity 0.5 at
        # best: nothing to credit.)
        distinct: dict[tuple[str, str, str], int] = {}
        for k in comparable:
            t = toks[k]
            if t.script != LATIN or len(t.text) > 2:
                distinct.setdefault((t.text, t.script, t.native), k)
        scanned = list(distinct.values())
        alike = self._alike_unhit(list(distinct), unhit)
        out: set[int] = set()
        postings = self._postings
        for k, vids in zip(scanned, alike, strict=True):
            if not vids:
                continue
            t = toks[k]
            merged = hits[k] = dict(hits[k])
            for v in vids:
                sim = self._pair_similarity(t.text, t.script, t.native, v)
                if sim > _MIN_EDGE_SIM:  # (a written form's scan may find more)
                    merged[v] = credit(sim)
            # (the names another query word hits that hold the alike words, in set
            # operations: a short word's alike words are in thousands of names)
            holding = set(chain.from_iterable(postings[v] for v in vids))
            holding -= cand
            key = (t.text, t.script, t.native)
            for j in comparable:
                if (toks[j].text, toks[j].script, toks[j].native) == key:
                    continue
                for e in holding.intersection(words[j].names):
                    # (a long query's coverage by a short name is capped: see _estimate)
                    most = _MAX_JOIN * token_counts[e]
                    if most < n_all and lo_cap + EXTRA_WEIGHT * top_w[most] / wq < threshold:
                        continue
                    out.add(e)
        return out

    def _pair_similarity(self, text: str, script: str, native: str, vid: int) -> float:
        """A query word's similarity to a vocabulary word, its written forms included
        (as `_token_hits` has it)."""
        vt, vs, vn = self._vocab_tok[vid]
        sim = token_similarity(text, vt, script, vs, native, vn)
        spellings = self._spellings.get(vid)
        if spellings and sim < 1.0:
            for raw in spellings:
                sim = max(sim, latin_similarity(text, raw))
        return sim

    def _cooccurring(self, found: _WordHits) -> dict[int, None]:
        """The words of the names a query word hits (as keys), kept with its hits;
        a common listed word's (Muhammad's thousands of names) in `_cooc_cache` too,
        as its hits are too big to keep: walked once, not at every query."""
        cooc = found.cooccurring
        if cooc is None:
            rows, postings, cache = self._rows, self._postings, self._cooc_cache
            small: list[list[int]] = []
            common: list[dict[int, None]] = []
            for vid, cr in found.hits.items():
                if cr < _NAMES_MIN_CREDIT:
                    continue  # (as in `names`)
                names = postings[vid]
                if len(names) < _COOC_CACHED_FROM:
                    small.append(names)
                    continue
                words: dict[int, None] | None = cache.get(vid)
                if words is None:
                    words = dict.fromkeys(v for e in names for v, _w, _n in rows[e][1])
                    cache.put(vid, words, len(words))
                common.append(words)
            cooc = dict.fromkeys(v for names in small for e in names for v, _w, _n in rows[e][1])
            for words in common:
                cooc.update(words)
            found.cooccurring = cooc
        return cooc

    def _skeletons(self, vids: list[int]) -> list[str]:
        """The consonant skeletons of vocabulary words, each made once (an Arabic or
        Persian name is compared by skeleton with thousands of words: Muhammad's
        names'). Vocabulary ids keep their word, so the kept ones stay right."""
        known, vocab = self._vocab_skel, self._vocab_tok
        out: list[str] = []
        for v in vids:
            skel = known.get(v)
            if skel is None:
                vt, vs, _vn = vocab[v]
                skel = known[v] = skeleton_of(vt, vs == "abjad")
            out.append(skel)
        return out

    def _alike_unhit(
        self, query_words: list[tuple[str, str, str]], unhit: set[int]
    ) -> list[set[int]]:
        """Of the listed words `unhit`, those alike to each query word (text, script,
        native): a pair credit above nothing. Latin pairs in two scans per query
        word inside rapidfuzz (`latin_alike`), not a call per pair (a common word's
        names have thousands of distinct other words)."""
        return self._alike_in(query_words, self._word_groups(unhit))

    def _word_groups(self, unhit: set[int]) -> _WordGroups:
        """Listed words as `_alike_in` compares them."""
        vocab_tok, vocab_phon = self._vocab_tok, self._vocab_phon
        # By script, and whether the native letters are kept: what decides which
        # comparisons `token_similarity` makes of a pair.
        groups: dict[tuple[str, bool], list[int]] = {}
        for v in unhit:
            _vt, vs, vn = vocab_tok[v]
            groups.setdefault((vs, bool(vn)), []).append(v)
        texts = {g: [vocab_tok[v][0] for v in vids] for g, vids in groups.items()}
        phons = {g: [vocab_phon[v] for v in vids] for g, vids in groups.items()}
        # A generic word's written forms are compared too ("svices" / SERVICES, read
        # as "service"), as `_token_hits` does: the same id again, another text.
        plain = groups.get((LATIN, False))
        if plain:
            spellings = self._spellings
            for v in [v for v in plain if v in spellings]:
                for raw in spellings[v]:
                    plain.append(v)
                    texts[(LATIN, False)].append(raw)
                    phons[(LATIN, False)].append(phonetic_key(raw))
        return _WordGroups(groups, texts, phons, {})

    def _alike_in(
        self, query_words: list[tuple[str, str, str]], words: _WordGroups
    ) -> list[set[int]]:
        """`_alike_unhit` over words already grouped."""
        vocab_tok = self._vocab_tok
        groups, texts, phons, skels = words.groups, words.texts, words.phons, words.skels
        out: list[set[int]] = []
        for text, script, native_q in query_words:
            found: set[int] = set()
            out.append(found)
            lossy = script in VOWEL_LOSSY
            for g, vids in groups.items():
                vs, native = g
                if (vs == script != LATIN and native_q and native) or (
                    KANA in (vs, script) and vs != script
                ):
                    # (the native letters, or kana keys: a call per pair, rare words)
                    for v in vids:
                        if v not in found:
                            vt, vscript, vn = vocab_tok[v]
                            sim = token_similarity(text, vt, script, vscript, native_q, vn)
                            if sim > _MIN_EDGE_SIM:
                                found.add(v)
                    continue
                skeletons = None
                if (vs in VOWEL_LOSSY) != lossy:
                    if g not in skels:
                        skels[g] = self._skeletons(vids)
                    skeletons = (skeleton_key(text, script == "abjad"), skels[g])
                alike = latin_alike(text, texts[g], phons[g], _MIN_EDGE_SIM, skeletons)
                found.update(vids[j] for j in alike)
        return out

    def _near_misses(
        self,
        qa: AnalyzedName,
        comparable: list[int],
        qbest: list[float],
        freeish: list[bool] | None,
        words: tuple[tuple[int, float, bool], ...],
        by_vid: dict[int, list[tuple[int, float]]],
        memo: list[dict[int, float]],
    ) -> tuple[float, float]:
        """The credited weight the query's and the name's unhit words can earn from
        each other (each word its best pair, at most one word per word of the other
        side): what `_estimate` weighs at _UNRESOLVED_CREDIT otherwise. `memo`
        keeps each pair's credit for the rest of the query."""
        toks = qa.tokens
        left = [(v, w) for v, w, _n in words if v not in by_vid]
        e_best = [0.0] * len(left)
        q_terms: list[float] = []
        for pos, k in enumerate(comparable):
            if qbest[pos] > 0.0 or (freeish is not None and freeish[pos]):
                continue
            t = toks[k]
            known = memo[pos]
            best = 0.0
            for j, (v, _w) in enumerate(left):
                cr = known.get(v)
                if cr is None:
                    # (a generic word's written forms too: see _pair_similarity)
                    sim = self._pair_similarity(t.text, t.script, t.native, v)
                    cr = known[v] = credit(sim) if sim > _MIN_EDGE_SIM else 0.0
                if cr > best:
                    best = cr
                if cr > e_best[j]:
                    e_best[j] = cr
            q_terms.append(t.weight * best)
        e_terms = [w * cr for ((_v, w), cr) in zip(left, e_best, strict=True)]
        q_terms.sort(reverse=True)
        e_terms.sort(reverse=True)
        return sum(q_terms[: len(left)]), sum(e_terms[: len(q_terms)])


@dataclass(slots=True)
class _WordGroups:
    """Listed words by script and whether their native letters are kept (what
    decides the comparisons `token_similarity` makes), with their texts (a generic
    word's written forms too), phonetic keys and, once asked, skeletons."""

    groups: dict[tuple[str, bool], list[int]]
    texts: dict[tuple[str, bool], list[str]]
    phons: dict[tuple[str, bool], list[str]]
    skels: dict[tuple[str, bool], list[str]]


@dataclass(slots=True)
class _Deferred:
    """A name `_estimate` compares the unhit words of (see `_near_estimate`)."""

    eid: int
    words: tuple[tuple[int, float, bool], ...]
    qbest: list[float]
    freeish: list[bool] | None
    est: float
    eq: float
    q_left: float
    q_cap: float
    ec: float
    e_left: float
    e_total: float
    penalty: float


def _combined(eq: float, wq: float, ec: float, e_total: float) -> float:
    """The scorer's base from the two sides' credited weights (see score_bound)."""
    cq = eq / wq
    cc = ec / e_total
    if cq >= cc:
        return cq * (1.0 - EXTRA_WEIGHT * (1.0 - cc))
    return cc * (1.0 - EXTRA_WEIGHT * (1.0 - cq))


# The pickled form shares what a pickle would copy. A pickle writes every int by
# value, so each id of a posting list or a retrieval key would come back as its
# own 28-byte object (a million of them with every list); equal sets of
# countries are written apart. The ids go as flat arrays instead and come back
# as one object per id; vids, which repeat the ids of a row's words, are taken
# from the rows. The containers read per candidate are the same lists, dicts
# and tuples as before: nothing is decoded when a query reads them.
_ID_LISTS: Final = ("_postings", "_dominant", "_entity_entries")
_ID_KEYS: Final = ("_entity_of",)
# The retrieval keys, pickled as `FlatKeys` (no object per key: nothing to unpickle
# or hash at a load) and read as they lie by a loaded index. A new key map goes here.
_FLAT_KEYS: Final = (
    "_del_keys", "_phon_keys", "_skel_all", "_skel_lossy", "_joins", "_acronyms",
    "_kana_keys", "_latin_vid", "_exact",
)  # fmt: skip
# Read only to change the index: a loaded index keeps them pickled until then.
_LAZY: Final = ("_vocab", "_shared_words")


def _pack(state: dict[str, Any]) -> None:
    """What __getstate__ pickles in place of the containers of ids."""
    for name in _ID_LISTS:
        lists: _Stored = state[name]
        flat = array("i")
        sizes = array("i")
        for found in lists:
            flat.extend(found)
            sizes.append(len(found))
        state[name] = (sizes, flat)
    for name in _ID_KEYS:
        keys: _Stored = state[name]
        # One id per key (a placeholder where the key has several), then the keys
        # with several ids apart: `_unpack` rebuilds the common case in C.
        singles = array("i")
        multi_at = array("i")
        sizes = array("i")
        flat = array("i")
        for at, value in enumerate(keys.values()):
            if isinstance(value, tuple):
                singles.append(0)
                multi_at.append(at)
                sizes.append(len(value))
                flat.extend(value)
            else:
                singles.append(value)
        state[name] = (list(keys), singles, multi_at, sizes, flat)
    for name in _FLAT_KEYS:
        keys = state[name]
        state[name] = keys if isinstance(keys, FlatKeys) else FlatKeys.of(keys)
    for name in _LAZY:
        value = state[name]
        if not isinstance(value, bytes):
            state[name] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    state["_entries"] = _pack_entries(state["_entries"])
    sets: dict[_Stored, _Stored] = {}
    state["_entity_countries"] = [sets.setdefault(c, c) for c in state["_entity_countries"]]
    state["_rows"] = _pack_rows(state["_rows"])


def _pack_rows(rows: list[_Row]) -> tuple[Any, ...]:
    """The rows as columns: entities, counts and weights in flat arrays (a weight as
    its place in a table of the distinct ones), equal word tuples as one object. A
    pickle writes every int and float by value, so each came back as its own
    object: with every list, 405,723 weights of 661 values, 135,241 entity ids of
    36,523 and 135,241 word tuples of 75,855."""
    # (Typed Any: compiled, a row or weight typed as such would be unboxed and boxed
    # again into new objects, see _Stored.)
    at: dict[str, int] = {}  # weight (by float.hex: 0.0 and -0.0 stay apart) -> place
    weights: list[_Stored] = []
    places = array("i")
    ents = array("i")
    counts = array("i")
    seen: dict[tuple[int, ...], _Stored] = {}  # (by identity of the shared words)
    words: list[_Stored] = []
    every: _Stored = rows
    row: _Stored
    for row in every:
        ents.append(row[0])
        found: _Stored = row[1]
        words.append(seen.setdefault(tuple(map(id, found)), found))
        counts.append(row[2])
        counts.append(row[3])
        for k in (4, 5, 6):
            weight: _Stored = row[k]
            place = at.get(weight.hex())
            if place is None:
                place = at[weight.hex()] = len(weights)
                weights.append(weight)
            places.append(place)
    return ents, words, counts, weights, places


def _unpack(state: dict[str, Any]) -> None:
    """Undo `_pack`, with one int object per id. Each container is rebuilt by
    C-level iteration (map, islice, zip): a loop in Python over the million ids
    took most of a snapshot's load."""
    count: int = state["_entries"][0]  # (see _pack_entries)
    top = max(count, len(state["_vocab_tok"]), len(state["_entity_ids"]))
    ids: list[_Stored] = list(range(top))
    shared: _Stored = ids.__getitem__
    sizes: _Stored
    flat: _Stored
    for name in _ID_LISTS:
        sizes, flat = state[name]
        state[name] = list(map(list, map(islice, repeat(map(shared, flat)), sizes)))
    for name in _ID_KEYS:
        names: _Stored
        singles: _Stored
        multi_at: _Stored
        names, singles, multi_at, sizes, flat = state[name]
        values: list[_Stored] = list(map(shared, singles))
        several = map(tuple, map(islice, repeat(map(shared, flat)), sizes))
        for at, value in zip(multi_at, several, strict=True):
            values[at] = value
        state[name] = dict(zip(names, values, strict=True))
    gone: _Stored
    columns: _Stored
    chunks: _Stored
    _, gone, columns, chunks = state["_entries"]
    ents: _Stored
    words: _Stored
    counts: _Stored
    weights: _Stored
    places: _Stored
    ents, words, counts, weights, places = state["_rows"]
    weight: _Stored = weights.__getitem__
    rows: list[_Stored] = list(
        zip(
            map(shared, ents), words, islice(counts, 0, None, 2), islice(counts, 1, None, 2),
            map(weight, islice(places, 0, None, 3)), map(weight, islice(places, 1, None, 3)),
            map(weight, islice(places, 2, None, 3)), strict=True,
        )
    )  # fmt: skip
    for eid in gone:
        rows[eid] = _GONE_ROW  # (its entity -1 is no place in `ids`)
    state["_rows"] = rows
    entries: list[_Stored] = [_FROZEN] * count
    for eid in gone:
        entries[eid] = _GONE
    state["_entries"] = entries
    state["_frozen"] = _Frozen(chunks, list(map(Tok, *columns))) if count else None
    state["_lazy"] = {name: state[name] for name in _LAZY}
    for name in _LAZY:
        state[name] = {}


def _pack_entries(entries: list[_Entry]) -> tuple[Any, ...]:
    """The listed names as `_Frozen` holds them: chunks of pickled names whose
    tokens are ids in one table of tokens (its columns), and the removed names."""
    toks: list[Tok] = []
    at: dict[int, int] = {}
    gone = array("i")
    for eid, entry in enumerate(entries):
        if entry is _GONE:
            gone.append(eid)
            continue
        for tok in entry.analyzed.tokens:
            if id(tok) not in at:
                at[id(tok)] = len(toks)
                toks.append(tok)

    def token_id(obj: object) -> int | None:
        return at.get(id(obj)) if isinstance(obj, Tok) else None

    chunks: list[bytes] = []
    for start in range(0, len(entries), _CHUNK):
        buf = io.BytesIO()
        writer: _Stored = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
        writer.persistent_id = token_id
        writer.dump(
            [
                None if e is _GONE else (e.entity, e.name, e.name_kind, e.analyzed)
                for e in entries[start : start + _CHUNK]
            ]
        )
        chunks.append(buf.getvalue())
    columns = (
        [t.text for t in toks], [t.kind for t in toks], [t.weight for t in toks],
        [t.script for t in toks], [t.native for t in toks], [t.legal for t in toks],
        [t.raw for t in toks],
    )  # fmt: skip
    return len(entries), gone, columns, chunks
