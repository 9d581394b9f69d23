"""compare_names behaviours, table-driven (in the manner of Watchman's stringscore tests)."""

from __future__ import annotations

import json

import pytest

from registry.matching import DEFAULT_THRESHOLD, NameScore, compare_names

T = DEFAULT_THRESHOLD

# (query, candidate, schema): must score at or above the default threshold.
MATCHES = [
    # identical / case / punctuation
    ("Finder Technology Ltd", "FINDER TECHNOLOGY LTD", "company"),
    ("Micropilot", "Micro-Pilot", "company"),
    ("Micropilot", "Micro Pilot", "company"),
    ("Micro-Pilot", "Micro Pilot", "company"),
    (
        "Beijing Micropilot Flight Control Systems",
        "Beijing Micro Pilot Flight Control Systems Co.",
        "company",
    ),
    # typos
    ("Vladimir Putin", "Vladimir Pudin", "person"),
    ("Sergei Lavrov", "Sergi Lavrov", "person"),
    ("Tactical Missiles Corporation", "Tactical Misiles Corporation", "company"),
    # legal forms and abbreviations
    ("Finder Technology Ltd", "FINDER TECHNOLOGY LIMITED", "company"),
    ("Finder Technology Ltd", "Finder Tech Co., Ltd.", "company"),
    ("FINDER TECHNOLOGY LIMITED", "Finder Tech Co., Ltd.", "company"),
    ("Sigma International Trading", "Sigma Intl Trading", "company"),
    ("Acme Manufacturing Corporation", "ACME MFG CORP", "company"),
    ("OAO Gazprom", "Open Joint Stock Company Gazprom", "company"),
    ("Iskusstvo Krasoty", "OOO Iskusstvo Krasoty", "company"),
    ("Siemens AG", "Siemens Aktiengesellschaft", "company"),
    ("Hong Kong Blue Ocean Limited", "HK Blue Ocean Ltd", "company"),
    # scripts
    (
        "巨航航空科技（深圳）有限公司",
        "Juhang Aviation Technology (Shenzhen) Co., Limited",
        "company",
    ),
    ("Владимир Путин", "Vladimir Putin", "person"),
    ("Финдер Текнолоджи", "Finder Technology Ltd", "company"),
    ("Сергей Викторович Лавров", "Sergey Viktorovich Lavrov", "person"),
    ("محمد علي", "Mohamed Ali", "person"),
    ("김정은", "Kim Jong Un", "person"),
    ("习近平", "Xi Jinping", "person"),
    # look-alikes and invisible characters
    ("Finder Тechnology Ltd", "Finder Technology Ltd", "company"),  # Cyrillic Т
    ("ΟΑΟ Gazprom", "OAO Gazprom", "company"),  # Greek Ο and Α
    ("Vla\u200bdimir Pu\u200dtin", "Vladimir Putin", "person"),
    ("Fin\u00ader Techno\ufefflogy", "Finder Technology", "company"),
    # person word order, initials, missing middle names, titles
    ("PUTIN, Vladimir", "Vladimir Putin", "person"),
    ("Putin Vladimir Vladimirovich", "Vladimir Putin", "person"),
    ("Vladimir Vladimirovich Putin", "PUTIN, Vladimir", "person"),
    ("V. Putin", "Vladimir Putin", "person"),
    ("Vladimir V. Putin", "Vladimir Vladimirovich Putin", "person"),
    ("Dr. Rami Makhlouf", "Rami Makhlouf", "person"),
    ("Sheikh Isa Bin Tarif Al Bin Ali", "Isa Bin Tarif Al Bin Ali", "person"),
    ("General Ali Hassan al-Majid", "Ali Hassan al-Majid", "person"),
    ("Osama bin Laden", "Usama bin Ladin", "person"),
    ("Alexander Lukashenko", "Alexandr Lukashenka", "person"),
]

# Near misses: must stay below the default threshold.
NON_MATCHES = [
    ("Beijing Pilot School", "Beijing Micropilot Flight Control Systems Co., Ltd.", "company"),
    ("Finder Systems GmbH", "Finder Technology Ltd", "company"),
    ("Sigma Technology Limited", "Sigma Trading LLC", "company"),
    ("Octavian Scholz", "Olaf Scholz", "person"),
    ("Boris Abramovich", "Roman Abramovich", "person"),
    ("Co., Ltd.", "Finder Technology Co., Ltd.", "company"),
    ("Co., Ltd.", "Juhang Aviation Technology (Shenzhen) Co., Limited", "company"),
    ("Limited Liability Company", "LLC Iskusstvo Krasoty", "company"),
    ("Sergey Viktorovich Lavrov", "Sergey Borisovich Lavrov", "person"),
    ("Barack Obama", "Michelle Obama", "person"),
    ("Bank of China (Hong Kong) Limited", "Bank of China (Singapore) Limited", "company"),
    ("Volkswagen AG", "Siemens AG", "company"),
    ("Deutsche Bank AG", "Deutsche Bank GmbH", "company"),
    ("Hans O Friedrich", "Hans Joachim Friedrich", "person"),
    ("A. Nazarbayev", "Nursultan Nazarbayev", "person"),
    ("SALMAN BIN MUHAMMAD AL-RAWI", "MUHAMMAD BIN SALMAN AL-RAWI", "person"),
    ("习近朋", "习近平", "person"),  # one different syllable is a different name
]


@pytest.mark.parametrize(("query", "candidate", "schema"), MATCHES)
def test_matches(query: str, candidate: str, schema: str) -> None:
    result = compare_names(query, candidate, schema)
    assert result.score >= T, result.explanation


@pytest.mark.parametrize(("query", "candidate", "schema"), NON_MATCHES)
def test_near_misses(query: str, candidate: str, schema: str) -> None:
    result = compare_names(query, candidate, schema)
    assert result.score < T, result.explanation


def test_calibration_order() -> None:
    """Identical > one typo > legal-form change > unrelated."""
    exact = compare_names("Finder Technology Ltd", "Finder Technology Ltd", "company").score
    typo = compare_names("Finder Technology Ltd", "Fnder Technology Ltd", "company").score
    other = compare_names("Finder Technology Ltd", "Juhang Aviation Ltd", "company").score
    assert exact == 1.0
    assert T < typo < exact
    assert other < 0.5


def test_word_order_costs_a_little() -> None:
    same = compare_names("Vladimir Putin", "Vladimir Putin", "person").score
    swapped = compare_names("Putin Vladimir", "Vladimir Putin", "person").score
    assert T < swapped < same


def test_legal_form_alone_matches_nothing() -> None:
    assert compare_names("Co., Ltd.", "Co., Ltd.", "company").score == 1.0  # itself, yes
    for other in ["Finder Technology Co., Ltd.", "Sigma Trading Co Ltd", "ABC Company Limited"]:
        assert compare_names("Co., Ltd.", other, "company").score < 0.5


def test_schema_names_accepted() -> None:
    for schema in [
        "person", "Person", "PERSON", "company", "Company", "organisation", "Organization",
        "LegalEntity", "vessel", "Vessel", "aircraft", "unknown", None,
    ]:  # fmt: skip
        assert compare_names("Vladimir Putin", "Vladimir Putin", schema).score == 1.0
    with pytest.raises(ValueError):
        compare_names("a", "b", "planet")


def test_explanation_is_json_and_complete() -> None:
    result = compare_names("PUTIN, Vladimir V.", "Vladimir Vladimirovich Putin", "person")
    assert isinstance(result, NameScore)
    expl = json.loads(json.dumps(result.explanation))
    assert expl["query_normalized"] == "vladimir v putin"  # "SURNAME, Given" read in order
    assert expl["candidate_normalized"] == "vladimir vladimirovich putin"
    assert expl["rule"] == "alignment"
    # Each aligned pair is a named object a reviewer can read.
    for entry in expl["alignment"]:
        assert set(entry) == {"query_word", "listed_word", "similarity", "weight", "method"}
    pairs = {(a["query_word"], a["listed_word"]) for a in expl["alignment"]}
    assert ("putin", "putin") in pairs and ("vladimir", "vladimir") in pairs
    assert ("v", "vladimirovich") in pairs
    assert {"query_coverage", "candidate_coverage", "base"} <= expl["features"].keys()
    assert isinstance(expl["penalties"], list)


def test_penalty_is_explained() -> None:
    expl = compare_names("Octavian Scholz", "Olaf Scholz", "person").explanation
    assert any(p["name"] == "substitution" for p in expl["penalties"])
    expl = compare_names("Co., Ltd.", "Finder Technology Co., Ltd.", "company").explanation
    assert expl["rule"] == "generic_only_cap"


def test_score_is_frozen() -> None:
    result = compare_names("a b", "a b")
    with pytest.raises(AttributeError):
        result.score = 0.5  # type: ignore[misc]


def test_keyed_latin_similarity_equals_latin_similarity() -> None:
    from registry.matching.similarity import keyed_latin_similarity, latin_similarity, phonetic_key

    words = ["mohammed", "muhammad", "putin", "poutine", "un", "on", "zelenskyy", "selenskyj", "x"]
    for a in words:
        for b in words:
            keyed = keyed_latin_similarity(a, b, phonetic_key(a), phonetic_key(b))
            assert keyed == latin_similarity(a, b)


def test_latin_alike_finds_what_latin_similarity_puts_above_the_floor() -> None:
    """The index asks which of thousands of words are alike to a query word in two
    scans (`latin_alike`); the answer must be the pairwise one, at the floor's edge
    too: words a few edits or a phonetic fold apart, of every length."""
    import random

    from registry.matching.similarity import latin_alike, latin_similarity, phonetic_key

    rng = random.Random(11)
    letters = "aeiouybcdhklmnrstvzwxqjgfp"

    def edited(word: str) -> str:
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(word) + 1)
            op = rng.randrange(3)
            if op == 0:
                word = word[:k] + rng.choice(letters) + word[k:]
            elif op == 1 and len(word) > 1:
                word = word[:k] + word[k + 1 :]
            else:
                word = word[:k] + rng.choice(letters) + word[k + 1 :]
        return word or "a"

    near = 0
    for floor in (0.55, 0.65):
        for _ in range(150):
            query = "".join(rng.choice(letters) for _ in range(rng.randint(1, 11)))
            words = [edited(query) for _ in range(120)] + ["mohammed", query, query + query]
            phons = [phonetic_key(w) for w in words]
            expected = {j for j, w in enumerate(words) if latin_similarity(query, w) > floor}
            assert latin_alike(query, words, phons, floor) == expected, query
            near += len(expected)
    assert near > 5_000  # (the edge is crossed both ways many times)


def test_latin_alike_with_skeletons_finds_what_token_similarity_puts_above_the_floor() -> None:
    """Across a vowel-less script and Latin (an Arabic or Hindi name's reading against
    listed words), `token_similarity` compares consonant skeletons too; with them
    `latin_alike` must still give the pairwise answer."""
    import random

    from registry.matching.similarity import (
        latin_alike,
        phonetic_key,
        skeleton_key,
        token_similarity_of,
    )

    rng = random.Random(12)
    consonants, vowels = "bdhklmnrstzqjgf", "aiu"
    found = 0
    for script in ("abjad", "brahmic"):
        for _ in range(150):
            query = "".join(rng.choice(consonants) for _ in range(rng.randint(2, 6)))
            words = []
            for _w in range(80):
                letters = [c + "".join(rng.choice(vowels) for _ in range(rng.randint(0, 1)))
                           for c in query]  # fmt: skip
                if rng.random() < 0.5:
                    k = rng.randrange(len(letters))
                    letters[k] = rng.choice(consonants)
                words.append("".join(letters))
            phons = [phonetic_key(w) for w in words]
            skels = (skeleton_key(query, script == "abjad"), [skeleton_key(w) for w in words])
            expected = {
                j
                for j, w in enumerate(words)
                if token_similarity_of(query, w, script, "latin", "", "") > 0.55
            }
            assert latin_alike(query, words, phons, 0.55, skels) == expected, query
            found += len(expected)
    assert found > 3_000


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("a b c d e f g h i j a b c", "A.B.C. Trading Co"),  # initials, repeated
        ("ali ali bank ali al ali de ltd ltd bank kim li", "Ali Bank Ltd"),
        ("Rosneft rosneft OOO ooo LLC PAO PJSC Oil oil Company", "Rosneft Oil Company PJSC"),
    ],
)
def test_long_queries_reuse_a_repeated_words_edges_exactly(query: str, listed: str) -> None:
    """Past _REPEAT_MEMO_TOKENS query words, a word met again reuses its first
    occurrence's edges: the same edges, at each occurrence's own position."""
    from registry.matching import scorer
    from registry.matching.analysis import analyze

    met = 0
    for schema in (None, "company", "person"):
        q, c = analyze(query, schema), analyze(listed, "company")
        assert len(q.tokens) > scorer._REPEAT_MEMO_TOKENS
        edges, _conflict = scorer._single_edges(q, c, q.schema)
        one_by_one = []
        for i, a in enumerate(q.tokens):
            hits, _ = scorer._listed_hits(a, c.tokens, q.schema)
            one_by_one += [(i, j, sim, how) for j, sim, how, _cq, _cc in hits]
        assert [(e.q[0], e.c[0], e.sim, e.how) for e in edges] == one_by_one
        met += len(edges)
    assert met
