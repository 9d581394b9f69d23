"""Bounded work per name, whatever the input (issue 9 point 2), counted in what is
compared, not in time: a name is read up to MAX_NAME_WORDS words, a name listing
alternatives with slashes up to MAX_SLASH_PARTS of them, and the answers of
ordinary names (within both) do not change."""

from __future__ import annotations

from registry.matching import NameIndex
from registry.matching.analysis import MAX_NAME_WORDS, analyze, word_count
from registry.matching.scorer import (
    MAX_LETTERS_TOGETHER_WORDS,
    MAX_SLASH_PARTS,
    alternatives,
    slash_parts,
)

HOSTILE = [
    "ali " * 125,
    " ".join("abcdefghijklmnopqrstuvwxyz" * 10)[:499],
    "-".join(["mohammed", "bank", "al"] * 50)[:499],
    " ".join(chr(0xAC00 + k) for k in range(250))[:499],
    " ".join(str(k) for k in range(200))[:499],
]


def test_a_name_is_read_up_to_the_maximum_number_of_words() -> None:
    for name in HOSTILE:
        assert word_count(name) > MAX_NAME_WORDS, name
        for alt in alternatives(name):
            for schema in (None, "person", "organization"):
                assert len(analyze(alt, schema).tokens) <= MAX_NAME_WORDS
    # The words kept are the first ones, as written.
    words = [f"kar{a}{b}" for a in "bcdfghjklm" for b in "bcdfghjklm"]
    assert analyze(" ".join(words)).normalized.split() == words[:MAX_NAME_WORDS]
    ordinary = "Vladimir Vladimirovich PUTIN"
    assert word_count(ordinary) == 3 and len(analyze(ordinary).tokens) == 3


def test_slashed_alternatives_are_bounded() -> None:
    name = "/".join(f"alias{chr(97 + k)} name" for k in range(20))
    assert len(slash_parts(name)) == 20
    assert len(alternatives(name)) == 1 + MAX_SLASH_PARTS
    assert alternatives("Al-Qa'ida/Islamic Army") == [
        "Al-Qa'ida/Islamic Army",
        "Al-Qa'ida",
        "Islamic Army",
    ]
    assert alternatives("A/S Nordic") == ["A/S Nordic"]
    # Letters written apart are read together in names of up to 16 words only.
    assert alternatives("i c sogo kenkyusho") == ["i c sogo kenkyusho", "ic sogo kenkyusho"]
    long_name = " ".join(["a", "b"] + ["sogo"] * (MAX_LETTERS_TOGETHER_WORDS - 1))
    assert alternatives(long_name) == [long_name]
    assert len(alternatives(long_name.replace(" sogo", "", 1))) == 2


def test_answers_within_the_bounds_are_unchanged() -> None:
    """A listed name found among hostile padding of up to MAX_NAME_WORDS words is
    scored as before: the cap only ever drops words after the maximum."""
    index = NameIndex()
    index.add("p", "ZAKHAROV, Alexander Vyacheslavovich", entity_type="person")
    index.add("o", "PROMSVYAZBANK PJSC", entity_type="organization")
    at_max = " ".join(["Alexander Vyacheslavovich ZAKHAROV"] + ["x"] * (MAX_NAME_WORDS - 3))
    over = at_max + " y"
    assert word_count(at_max) == MAX_NAME_WORDS
    assert index.screen(at_max, threshold=0.0) == index.screen(over, threshold=0.0)
    assert [m.entity_id for m in index.screen("Alexander Vyacheslavovich Zakharov")] == ["p"]


def test_the_word_pair_caches_hold_nothing_the_collector_walks() -> None:
    """A full pair cache frees an old key for each new one; keys the collector
    tracked (tuples) then piled up in its young generation uncounted, and each
    young collection walked tens of thousands of them inside some name's time."""
    import gc

    from registry.matching.similarity import latin_similarity, string_similarity, token_similarity

    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        scores = [
            (
                latin_similarity(f"petrov{k}", f"petrow{k}"),
                token_similarity(f"mhmd{k}", f"muhammad{k}", "abjad", "latin", f"محمد{k}", ""),
            )
            for k in range(3000)
        ]
        grown = len(gc.get_objects()) - before
    finally:
        if was_enabled:
            gc.enable()
    assert all(0.5 < a < 1 and 0 < b < 1 for a, b in scores)
    # (the list of scores and its 3,000 pairs of results, and nothing per cached pair)
    assert grown <= 3000 + 10, grown
    # A word holding the separator is compared, not cached under a wrong key.
    assert latin_similarity("ab\0c", "ab\0c") == 1.0
    assert latin_similarity("ab\0cd", "ab\0ce") == string_similarity("ab\0cd", "ab\0ce") == 0.8


def test_screening_runs_the_young_collections_its_caches_hide() -> None:
    """The query caches free an old entry's objects for each new one's, so the
    collector's own count (allocations less deallocations) stands still under a
    stream of new names while its young generation grows: the index runs a young
    collection every 16 names, and the middle one when its threshold says so."""
    import gc

    index = NameIndex()
    index.add("e1", "Finder Technology Ltd", entity_type="organization")
    index.add("e2", "Vladimir Vladimirovich PUTIN", entity_type="person")
    seen: list[int] = []

    def stopped(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    threshold = gc.get_threshold()
    gc.set_threshold(10**9, 3, 10)  # (the collector never starts one itself)
    gc.callbacks.append(stopped)
    try:
        found = [index.screen(f"Finder Technology {k}") for k in range(96)]
    finally:
        gc.callbacks.remove(stopped)
        gc.set_threshold(*threshold)
    assert found[0] and found[0][0].entity_id == "e1"
    assert len(seen) == 96 // 16 and 1 in seen and 0 in seen, seen
