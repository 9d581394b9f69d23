"""Japanese kana and titles (issue 9 point 5): how they are read and what they score.

Katakana write foreign names by their sound: ウラジーミル・プーチン must find PUTIN,
Vladimir at the default threshold, first, and Japanese names written in katakana
must not be flagged against unrelated listed names. A title before a name ("Dr AL
ZAWAHIRI") must score like the name without it.
"""

from __future__ import annotations

import pytest

from registry.matching import DEFAULT_THRESHOLD, NameIndex, compare_names, normalize_name
from registry.matching.analysis import LEADING_TITLE_WEIGHT, WEIGHTS, Kind, analyze
from registry.matching.normalize import KANA, kana_reading, tokenize_name
from registry.matching.similarity import kana_key, token_similarity


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        # Words many listed entities use, read through katakana's conventions
        # (ウ for an initial V, ラ行 for l or r, ジ for di, the long-vowel mark).
        ("ウラジーミル・プーチン", "vladimir puchin"),
        ("ウラジミール・プーチン", "vladimir puchin"),
        ("ｳﾗｼﾞｰﾐﾙ･ﾌﾟｰﾁﾝ", "vladimir puchin"),  # half-width katakana
        ("ウラジーミル　プーチン", "vladimir puchin"),  # a full-width space
        ("ドミトリー", "dmitry"),
        ("ウラジーミロヴィッチ", "vladimirovich"),  # small vowels and the small tsu
        ("アル・ザワヒリ", "al zawahiri"),  # a particle stays one
        # A Korean given name written as one katakana word: two listed words.
        ("キム・ジョンウン", "kim jong un"),
        # Otherwise Hepburn without long vowels; hiragana (Japanese words) always.
        ("アキラ・サトウ", "akira satou"),
        ("ティム", "timu"),
        ("さくら", "sakura"),
        ("きょうこ", "kyouko"),
        ("トランプ", "torampu"),  # syllabic n as m before p
    ],
)
def test_kana_readings(name: str, normalized: str) -> None:
    assert normalize_name(name) == normalized
    assert normalize_name(normalized) == normalized


def test_kana_tokens_keep_their_script_and_characters() -> None:
    tokens = tokenize_name("ウラジーミル・プーチン")
    assert [(t.text, t.script, t.native) for t in tokens] == [
        ("vladimir", KANA, "ウラジーミル"),
        ("puchin", KANA, "プーチン"),
    ]
    assert kana_reading("ー") == ""  # a lone long-vowel mark reads as nothing


@pytest.mark.parametrize(
    ("kana", "latin"),
    [("puchin", "putin"), ("urajimiru", "vladimir"), ("donarudo", "donald"), ("sechin", "sechin")],
)
def test_kana_meets_the_latin_spelling_it_transcribes(kana: str, latin: str) -> None:
    assert kana_key(kana) == kana_key(latin)
    assert token_similarity(kana, latin, KANA, "latin") >= 0.9


@pytest.mark.parametrize(
    ("kana", "latin"),
    # Japanese names that the consonant skeleton alone used to match.
    [("taichi", "toshio"), ("yamazaki", "masaki"), ("akira", "akar"), ("tanaka", "ting")],
)
def test_kana_vowels_count(kana: str, latin: str) -> None:
    assert token_similarity(kana, latin, KANA, "latin") < 0.8


LISTED = [
    ("35096", "PUTIN, Vladimir Vladimirovich", "person"),
    ("35096", "PUTIN, Vladimir", "person"),
    ("36236", "PUTINA, Yekaterina", "person"),
    ("36420", "PUTINA, Maria", "person"),
    ("po", "POLIN, Vladimir Anatolevich", "person"),
    ("ko", "KONONOV, Vladimir P.", "person"),
    ("6900", "AL-ZAWAHIRI, Ayman", "person"),
    ("kj", "KIM, Jong Un", "person"),
    ("ks", "KIM, Song Hun", "person"),
    ("ms", "MASAKI, Toshio", "person"),
    ("ak", "AKAR, Izzat", "person"),
    ("sh", "SHIH, Ting-yu", "person"),
    ("ksm", "MOHAMMED, Khalid Shaikh", "person"),
    ("vessel", "VLADIMIR", "vessel"),
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    idx = NameIndex()
    for entity_id, name, etype in LISTED:
        idx.add(entity_id, name, entity_type=etype)
    return idx


@pytest.mark.parametrize("etype", [None, "person"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ウラジーミル・プーチン", "35096"),
        ("ウラジミール・プーチン", "35096"),
        ("アイマン・ザワヒリ", "6900"),
        ("キム・ジョンウン", "kj"),
        ("Dr AL ZAWAHIRI, Ayman", "6900"),
        ("Sheikh Dr Ayman al-Zawahiri", "6900"),
        ("Д-р Айман аль-Завахири", "6900"),
    ],
)
def test_found_first_at_the_default_threshold(
    index: NameIndex, query: str, expected: str, etype: str | None
) -> None:
    found = index.screen(query, entity_type=etype)
    assert found, query
    assert found[0].entity_id == expected
    assert found[0].score >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    "query",
    # Japanese customers in katakana that were flagged before (bench.screen_quality).
    ["アキラ・サイトウ", "チヨ・タナカ", "タイチ・ヤマザキ", "プーチン"],
)
def test_japanese_names_are_not_flagged(index: NameIndex, query: str) -> None:
    assert index.screen(query) == []


@pytest.mark.parametrize("etype", [None, "person"])
@pytest.mark.parametrize(
    ("with_title", "without"),
    [
        ("Dr AL ZAWAHIRI", "AL ZAWAHIRI"),
        ("Dr. Ayman al-Zawahiri", "Ayman al-Zawahiri"),
        ("Sheikh Dr Ayman al-Zawahiri", "Ayman al-Zawahiri"),
        ("Mullah Ayman Zawahiri", "Ayman Zawahiri"),
        ("Доктор Айман аль-Завахири", "Айман аль-Завахири"),
        ("Д-р Айман аль-Завахири", "Айман аль-Завахири"),
    ],
)
def test_a_title_before_the_name_scores_like_the_name(
    with_title: str, without: str, etype: str | None
) -> None:
    listed = "Ayman al-ZAWAHIRI"
    score = compare_names(with_title, listed, etype).score
    assert score == compare_names(without, listed, etype).score
    # The title stays a word of the name: aligned when both names hold it.
    if normalize_name(with_title).startswith("dr "):
        both = compare_names(with_title, f"Dr {listed}", etype)
        assert both.score == score or both.score == 1.0
        pairs = [(a["query_word"], a["listed_word"]) for a in both.explanation["alignment"]]
        assert ("dr", "dr") in pairs


def test_a_title_inside_a_name_is_part_of_it() -> None:
    # The lists hold "Shaikh" in Khalid Shaikh MOHAMMED: a low-weight word, not dropped.
    toks = {t.text: t for t in analyze("MOHAMMED, Khalid Shaikh", "person").tokens}
    assert toks["shaikh"].kind == Kind.HONORIFIC
    assert toks["shaikh"].weight == WEIGHTS[Kind.HONORIFIC] > 0
    assert compare_names("Khalid Shaikh Mohammed", "MOHAMMED, Khalid Shaikh", "person").score == 1.0
    # A leading title weighs nothing; a title word that is the last word is the name.
    dr = analyze("Dr Ayman", "person").tokens
    assert (dr[0].kind, dr[0].weight) == (Kind.HONORIFIC, LEADING_TITLE_WEIGHT)
    # A title that is also a given name keeps its low weight: in "BHEEL, Imam" it is his
    # name (a typo of the surname must not leave one letter-different word to go on).
    imam = analyze("BHEEL, Imam", "person").tokens[0]
    assert (imam.text, imam.weight) == ("imam", WEIGHTS[Kind.HONORIFIC])
    assert compare_names("BHELE, Imam", "BHEEL, Imam", "person").score >= DEFAULT_THRESHOLD
    assert analyze("Sheikh Haji", "person").tokens[1].kind == Kind.NAME
    # A name of titles alone is judged on them.
    assert analyze("Mr Dr").total_weight > 0


def test_titles_that_begin_organisation_names_keep_their_weight() -> None:
    # Untyped "General Dynamics" may be a company: its first word is not dropped.
    general = analyze("General Dynamics").tokens[0]
    assert general.weight > 0
    assert analyze("General Dynamics", "person").tokens[0].weight == LEADING_TITLE_WEIGHT
