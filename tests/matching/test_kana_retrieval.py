"""Katakana queries find Latin-script listed names through the index (issue 9,
point 5): the index keys every Latin word by `similarity.kana_key`, so a surname
written alone in katakana (ラヴロフ) is retrieved wherever scoring would find it.

Before these keys, scoring every name found LAVROV, Sergey for ラヴロフ (0.665)
and the index returned nothing: no consonant skeleton or phonetic key of
"ravurofu" meets "lavrov" (r/l, f/v).
"""

from __future__ import annotations

import pickle

import pytest

from registry.matching import NameIndex, compare_names

# Real OFAC SDN names (uid, name, type), and others that must not come along.
LISTED = [
    ("15582", "LAVROV, Sergey", "person"),
    ("35155", "MEDVEDEV, Dmitry", "person"),
    ("22186", "VEKSELBERG, Victor", "person"),
    ("6365", "BIN LADIN, Osama bin Muhammad bin Awad", "person"),
    ("22178", "MADURO MOROS, Nicolas", "person"),
    ("26053", "PUTIN, Vladimir", "person"),
    ("9999", "LAVROVSKY TRADING LLC", "organization"),
    ("9998", "ROBERTS, Laura", "person"),
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    idx = NameIndex()
    for uid, name, etype in LISTED:
        idx.add(uid, name, entity_type=etype)
    return idx


def scored(query: str, etype: str | None, floor: float) -> dict[str, float]:
    """What scoring every listed name gives at `floor` (entity -> best score)."""
    best: dict[str, float] = {}
    for uid, name, ltype in LISTED:
        if etype == "person" and ltype != "person":
            continue
        score = compare_names(query, name, etype or ltype).score
        if score >= floor and score > best.get(uid, -1.0):
            best[uid] = score
    return best


@pytest.mark.parametrize("etype", [None, "person"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ラヴロフ", "15582"),  # Lavrov: r = l, v = f
        ("メドヴェージェフ", "35155"),  # Medvedev
        ("ヴェクセリベルク", "22186"),  # Vekselberg: ク for the g of "berg"
        ("マドゥロ", "22178"),  # Maduro
        ("ウサーマ・ビン・ラーディン", "6365"),  # Usama bin Ladin
    ],
)
def test_a_katakana_surname_is_retrieved_as_scoring_finds_it(
    index: NameIndex, query: str, expected: str, etype: str | None
) -> None:
    floor = 0.5
    expected_scores = scored(query, etype, floor)
    assert expected in expected_scores  # scoring finds it ...
    got = {m.entity_id: m.score for m in index.screen(query, entity_type=etype, threshold=floor)}
    assert got.get(expected) == expected_scores[expected]  # ... and so does the index
    assert set(got) == set(expected_scores)


def test_kana_keys_survive_a_pickle(index: NameIndex) -> None:
    copy = pickle.loads(pickle.dumps(index))
    assert [m.entity_id for m in copy.screen("ラヴロフ", threshold=0.5)] == ["15582"]
