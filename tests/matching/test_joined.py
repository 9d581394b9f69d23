"""Words written together, three parts and more, both ways (issue 9 points 2 and 5):
a query word that is several of a listed name's words written together, in the
listed order or a person's two names the other way round, with or without the
middle name, or with the legal form in front, finds and scores its entity."""

from __future__ import annotations

import pickle
import random

import pytest

from bench.data import OFAC_JSON, Listed, build_index, load_ofac
from registry.matching import DEFAULT_THRESHOLD, NameIndex, compare_names
from registry.matching.analysis import analyze, canonical_schema
from registry.matching.index import _COMPATIBLE
from registry.matching.scorer import score_detail

pytestmark = pytest.mark.skipif(not OFAC_JSON.exists(), reason=f"no OFAC SDN at {OFAC_JSON}")

CASES = [
    ("alexandervyacheslavovichzakharov", "45937"),  # ZAKHAROV, Alexander Vyacheslavovich
    ("aleksandrzakharov", "45937"),  # ZAKHAROV, Aleksandr Vyacheslavovich
    ("maduronicolas", "22790"),  # MADURO MOROS, Nicolas
    ("nicolasmaduro", "22790"),
    ("JSCARGUMENT", "37447"),  # JSC ARGUMENT
    ("ARGUMENTJSC", "37447"),
    ("Promsvyaz Bank", "34656"),  # PROMSVYAZBANK PJSC
    ("VTBBANK", "17013"),
]


@pytest.fixture(scope="module")
def sample() -> tuple[list[Listed], NameIndex]:
    """The cases' entities among 3,000 other SDN names (some of them namesakes)."""
    listed = load_ofac(OFAC_JSON)
    wanted = {uid for _, uid in CASES}
    mine = [x for x in listed if x.entity_id in wanted]
    near = [x for x in listed if any(w in x.name.upper() for w in ("MADURO", "ZAKHAROV", "VTB"))]
    rest = random.Random(5).sample(listed, 3000)
    chosen = list({id(x): x for x in mine + near + rest}.values())
    return chosen, build_index(chosen)


def _finds_every_case(index: NameIndex) -> None:
    for query, uid in CASES:
        found = index.screen(query, threshold=DEFAULT_THRESHOLD)
        assert found and found[0].entity_id == uid, (query, found)


def test_joined_words_find_their_entity(sample: tuple[list[Listed], NameIndex]) -> None:
    _finds_every_case(sample[1])


def test_a_loaded_index_finds_them_before_its_names_are_read(
    sample: tuple[list[Listed], NameIndex],
) -> None:
    # A snapshot's names are read when a query first reaches them: the lookup of
    # three joined words must read them too, not see placeholders.
    _finds_every_case(pickle.loads(pickle.dumps(sample[1])))


def test_the_index_answers_as_scoring_every_name(
    sample: tuple[list[Listed], NameIndex],
) -> None:
    listed, index = sample
    analysed = [(x, analyze(x.name, x.entity_type)) for x in listed]
    allowed = _COMPATIBLE[canonical_schema(None)]
    for query, _ in CASES:
        qa = analyze(query)
        expected = {
            x.entity_id
            for x, ca in analysed
            if canonical_schema(x.entity_type) in allowed
            and score_detail(qa, ca).score >= DEFAULT_THRESHOLD
        }
        got = {m.entity_id for m in index.screen(query, threshold=DEFAULT_THRESHOLD, limit=100)}
        assert got == expected, query


def test_pairs_score_both_ways() -> None:
    # Two names the other way round, or without the middle one: full credit for the
    # joined words, the name left out still costs.
    reversed_ = compare_names("maduronicolas", "MADURO, Nicolas", "person").score
    assert reversed_ == compare_names("nicolasmaduro", "MADURO, Nicolas", "person").score >= 0.85
    three = compare_names("alexanderzakharov", "ZAKHAROV, Alexander Vyacheslavovich", "person")
    assert DEFAULT_THRESHOLD <= three.score < 0.95
    # Not for other words: an organisation's words are not read the other way round.
    assert compare_names("bankvtb", "VTB BANK", "organization").score < DEFAULT_THRESHOLD
    assert compare_names("JSCARGUMENT", "JSC ARGUMENT", "organization").score >= 0.95


def test_monitoring_plans_reach_what_screening_finds(
    sample: tuple[list[Listed], NameIndex],
) -> None:
    """Delta monitoring skips a record whose stored keys reach no changed name
    (NameIndex.key_reach): a word of three joined words must reach its name."""
    _, index = sample
    query = "alexandervyacheslavovichzakharov"
    (plan,) = index.query_plans(query, None, DEFAULT_THRESHOLD)
    _mode, _words, others = plan
    reached = set().union(*(index.key_reach(key)[0] for key in others))
    entries = {index._entries[e].entity for e in reached}
    assert index._entity_of["45937"] in entries
