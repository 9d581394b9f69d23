"""Hypothesis properties of normalisation and scoring."""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from registry.matching import DEFAULT_THRESHOLD, compare_names, normalize_name
from registry.matching.analysis import AnalyzedName, Interner, analyze, analyze_with
from registry.matching.normalize import ascii_words, tokenize_name
from registry.matching.scorer import score_detail, score_detail_from

SETTINGS = settings(max_examples=150, deadline=None)

# Names drawn from letters of several scripts, digits, punctuation and the
# invisible characters the normaliser must cope with.
ALPHABET = (
    string.ascii_letters
    + string.digits
    + " -.,'&()/"
    + "ÄÖÜßéèçñøåłğ"
    + "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя"
    + "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρστυφχψω"
    + "محمدعليبنسلمانآل"
    + "习近平科技有限公司深圳航空"
    + "김정은박"
    + "バラクオバマ"
    + "\u200b\u200c\u200d\u2060\ufeff\u00ad（）"
)
names = st.text(alphabet=ALPHABET, max_size=40)
SCHEMAS = st.sampled_from(["person", "company", "organisation", "vessel", "unknown", None])


@SETTINGS
@given(names)
def test_normalize_never_raises_and_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


@SETTINGS
@given(names, names, SCHEMAS)
def test_scores_stay_in_unit_interval(a: str, b: str, schema: str | None) -> None:
    result = compare_names(a, b, schema)
    assert 0.0 <= result.score <= 1.0


@SETTINGS
@given(names, SCHEMAS)
def test_a_name_matches_itself(name: str, schema: str | None) -> None:
    if not any(c.isalnum() for c in name) or not normalize_name(name):
        return
    assert compare_names(name, name, schema).score >= DEFAULT_THRESHOLD


@SETTINGS
@given(names, names, SCHEMAS)
@example("R", "ラ习", "person")  # common_words once weighed only the query's side
def test_compare_is_nearly_symmetric(a: str, b: str, schema: str | None) -> None:
    ab = compare_names(a, b, schema).score
    ba = compare_names(b, a, schema).score
    assert abs(ab - ba) <= 0.05


@SETTINGS
@given(
    st.lists(
        st.sampled_from(["vladimir", "putin", "sergey", "lavrov", "ali"]), min_size=2, max_size=4
    )
)
def test_reordering_person_words_still_matches(words: list[str]) -> None:
    query = " ".join(words)
    candidate = " ".join(reversed(words))
    assert compare_names(query, candidate, "person").score >= DEFAULT_THRESHOLD


# Words that exercise classification (titles, particles, generic words, legal
# forms, numbers, Roman numerals, initials, patronymics) in every position.
WORDS = st.sampled_from(
    [
        "Vladimir", "Vladimirovich", "al", "bin", "Sheikh", "haji", "Trading", "Tech", "Co",
        "Ltd", "LLC", "OOO", "GmbH", "II", "iv", "forty", "two", "1st", "3", "V.", "A.B.C.",
        "the", "of", "MV", "Ig0r", "Zhang", "科技", "محمد", "Путин", "Co.,Ltd", "&",
    ]
)  # fmt: skip
word_names = st.one_of(names, st.lists(WORDS, min_size=1, max_size=5).map(" ".join))


def _cold_analyze(name: str, schema: str | None) -> AnalyzedName:
    return analyze_with(name, schema, Interner())


@SETTINGS
@given(st.lists(st.tuples(word_names, SCHEMAS), min_size=1, max_size=6))
def test_shared_tokens_do_not_change_an_analysis(items: list[tuple[str, str | None]]) -> None:
    warm = [analyze.__wrapped__(name, schema) for name, schema in items]
    assert warm == [_cold_analyze(name, schema) for name, schema in items]


@SETTINGS
@given(word_names)
def test_plain_latin_fast_path_equals_the_tokenizer(name: str) -> None:
    words = ascii_words(name)
    if words is not None:
        assert words == [t.text for t in tokenize_name(name)]


@SETTINGS
@given(word_names, word_names, SCHEMAS, st.sampled_from([0.0, 0.5, 0.8, 0.95, 1.0]))
def test_scoring_from_a_floor_only_drops_scores_below_it(
    a: str, b: str, schema: str | None, floor: float
) -> None:
    qa, ca = analyze(a, schema), analyze(b, schema)
    full = score_detail(qa, ca)
    cut = score_detail_from(qa, ca, floor)
    if cut is None:
        assert full.score < floor
    else:
        assert cut.score == full.score and cut.explanation() == full.explanation()
