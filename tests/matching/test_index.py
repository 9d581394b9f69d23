"""NameIndex behaviours: retrieval equals an exhaustive scan, hints, filters."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from registry.matching import DEFAULT_THRESHOLD, NameIndex
from registry.matching import index as index_module
from registry.matching.analysis import AnalyzedName, acronyms_of, analyze, joins_of
from registry.matching.index import _QueryCache
from registry.matching.packed import FlatKeys
from registry.matching.scorer import compare_analyzed

PEOPLE = [
    "Vladimir Vladimirovich PUTIN", "Sergey Viktorovich LAVROV", "Olaf SCHOLZ", "Angela MERKEL",
    "Recep Tayyip ERDOGAN", "Bashar al-ASSAD", "Hafez al-ASSAD", "Rami MAKHLOUF", "Ihab MAKHLOUF",
    "KIM Jong Un", "KIM Yong Chol", "Mohammed bin Salman", "Osama bin Laden", "Ali Akbar VELAYATI",
    "Alexander LUKASHENKO", "Igor SECHIN", "Roman ABRAMOVICH", "Oleg DERIPASKA", "Alisher USMANOV",
    "Viktor VEKSELBERG", "Yevgeny PRIGOZHIN", "Arkady ROTENBERG", "Boris ROTENBERG",
    "Nikolai Platonovich PATRUSHEV", "Ramzan KADYROV", "Abdul Aziz NOORISTANI", "Mohammad ALI",
    "Ali MOHAMMAD", "Ahmad HASSAN", "Hassan NASRALLAH", "Jean-Claude JUNCKER", "Olga BARANOVA",
]  # fmt: skip
COMPANIES = [
    "Finder Technology Ltd", "Juhang Aviation Technology (Shenzhen) Co., Limited",
    "Beijing Micropilot Flight Control Systems Co., Ltd.", "Beijing Pilot School",
    "Sigma Technology Limited", "Sigma Trading LLC", "Gazprom Neft PJSC", "Rosneft Oil Company",
    "Sberbank of Russia", "VTB Bank", "Tactical Missiles Corporation JSC", "Finder Systems GmbH",
    "Shenzhen Jiasibo Technology Co., Ltd.", "Hong Kong Blue Ocean Limited", "Atlas Trading FZE",
    "Mahan Air", "Islamic Revolutionary Guard Corps", "Al-Qaida", "Deutsche Bank AG",
    "Crystalord Ltd", "Iskusstvo Krasoty LLC", "Micro Pilot Aviation Services",
]  # fmt: skip
VESSELS = ["Hellenic Spirit", "Lady Rania", "Victory 3", "Velikiy Novgorod"]


def build() -> NameIndex:
    idx = NameIndex()
    for i, name in enumerate(PEOPLE):
        idx.add(f"P{i}", name, entity_type="person", countries=["RU"] if i < 5 else ())
    for i, name in enumerate(COMPANIES):
        idx.add(f"C{i}", name, entity_type="company", countries=["CN"] if i < 3 else ())
    for i, name in enumerate(VESSELS):
        idx.add(f"V{i}", name, entity_type="vessel")
    idx.add("P0", "PUTIN, Vladimir", name_kind="alias", entity_type="person")
    idx.add("C1", "巨航航空科技（深圳）有限公司", name_kind="alias", entity_type="company")
    return idx


INDEX = build()
ALL = [(f"P{i}", n, "person") for i, n in enumerate(PEOPLE)]
ALL += [(f"C{i}", n, "company") for i, n in enumerate(COMPANIES)]
ALL += [(f"V{i}", n, "vessel") for i, n in enumerate(VESSELS)]
ALL += [("P0", "PUTIN, Vladimir", "person"), ("C1", "巨航航空科技（深圳）有限公司", "company")]


def brute_force(query: str, schema: str | None) -> dict[str, float]:
    """Best score per entity by scoring every listed name (each read with its own type)."""
    best: dict[str, float] = {}
    q = analyze(query, schema)
    for eid, name, etype in ALL:
        if schema is not None and etype != schema:
            continue
        score = compare_analyzed(q, analyze(name, etype), explain=False).score
        if score >= DEFAULT_THRESHOLD and score > best.get(eid, -1.0):
            best[eid] = score
    return best


def perturb(rng: random.Random, name: str) -> str:
    words = name.replace(",", "").split()
    op = rng.randrange(5)
    if op == 0 and len(words) > 1:
        words = words[1:] + words[:1]
    elif op == 1:
        w = rng.randrange(len(words))
        word = words[w]
        if len(word) > 4:
            i = rng.randrange(1, len(word) - 1)
            words[w] = word[:i] + word[i + 1 :]
    elif op == 2:
        w = rng.randrange(len(words))
        word = words[w]
        if len(word) > 3:
            i = rng.randrange(len(word) - 1)
            words[w] = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif op == 3:
        return name.upper()
    return " ".join(words)


@pytest.mark.parametrize("seed", range(6))
def test_index_agrees_with_exhaustive_scan(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        _eid, name, etype = rng.choice(ALL)
        query = perturb(rng, name)
        schema = rng.choice([etype, None])
        expected = brute_force(query, schema)
        got = INDEX.screen(query, entity_type=schema, limit=100)
        got_scores = {m.entity_id: m.score for m in got}
        assert got_scores.keys() == expected.keys(), query
        for eid, score in expected.items():
            assert got_scores[eid] == pytest.approx(score, abs=1e-6)


SCREENS = [
    ("Vladimir Putin", "person", "P0"),
    ("PUTIN, Vladimir", None, "P0"),
    ("V. Putin", "person", "P0"),
    ("Finder Tech Co., Ltd.", "company", "C0"),
    ("FINDER TECHNOLOGY LIMITED", None, "C0"),
    ("Juhang Aviation Technology (Shenzhen) Co., Limited", "company", "C1"),
    ("巨航航空科技（深圳）有限公司", "company", "C1"),
    ("Beijing Micro-Pilot Flight Control Systems", "company", "C2"),
    ("Sergei Lavrov", "person", "P1"),
    ("Hellenic Spirit", "vessel", "V0"),
]


@pytest.mark.parametrize(("query", "schema", "expected"), SCREENS)
def test_screen_finds_entity_first(query: str, schema: str | None, expected: str) -> None:
    result = INDEX.screen(query, entity_type=schema)
    assert result and result[0].entity_id == expected
    assert result[0].score >= DEFAULT_THRESHOLD


def test_one_match_per_entity_with_best_name() -> None:
    result = INDEX.screen("Putin Vladimir", entity_type="person", limit=50)
    ids = [m.entity_id for m in result]
    assert len(ids) == len(set(ids))
    assert result[0].entity_id == "P0"


def test_type_hints() -> None:
    assert not INDEX.screen("Hellenic Spirit", entity_type="person")
    assert not INDEX.screen("Vladimir Putin", entity_type="vessel")
    assert not INDEX.screen("Finder Technology Ltd", entity_type="person")
    # company and organisation are compatible
    assert INDEX.screen("Finder Technology Ltd", entity_type="organization")[0].entity_id == "C0"


def test_country_conflict_lowers_score_and_is_explained() -> None:
    plain = INDEX.screen("Vladimir Putin", entity_type="person")[0]
    same = INDEX.screen("Vladimir Putin", entity_type="person", country="ru")[0]
    other = INDEX.screen("Vladimir Putin", entity_type="person", country="FR", threshold=0.0)[0]
    assert plain.score == same.score
    assert other.score == pytest.approx(plain.score - 0.1)
    assert "country" in other.explanation and "country" not in same.explanation
    # unknown entity countries: no penalty
    free = INDEX.screen("Rami Makhlouf", entity_type="person", country="FR")[0]
    assert free.score == 1.0


def test_allowed_ids_limit_threshold() -> None:
    assert INDEX.screen("Vladimir Putin", allowed_ids={"P1"}) == []
    assert INDEX.screen("Vladimir Putin", allowed_ids={"P0"})[0].entity_id == "P0"
    many = INDEX.screen("Mohammad Ali", threshold=0.0, limit=3)
    assert len(many) == 3
    assert [m.score for m in many] == sorted((m.score for m in many), reverse=True)
    assert all(m.score >= 0.95 for m in INDEX.screen("Mohammad Ali", threshold=0.95))


def test_remove_and_readd() -> None:
    idx = build()
    assert idx.remove("P0")
    assert all(m.entity_id != "P0" for m in idx.screen("Vladimir Putin"))
    assert not idx.remove("P0")
    idx.add("P0", "Vladimir Putin", entity_type="person")
    assert idx.screen("Vladimir Putin")[0].entity_id == "P0"


def test_near_misses_are_not_matched() -> None:
    hits = {m.entity_id for m in INDEX.screen("Beijing Pilot School", entity_type="company")}
    assert "C2" not in hits
    hits = {m.entity_id for m in INDEX.screen("Finder Systems GmbH", entity_type="company")}
    assert "C0" not in hits
    assert INDEX.screen("Co., Ltd.", entity_type="company") == []


def test_bulk_pauses_the_collector_and_builds_the_same_index() -> None:
    import gc

    idx = NameIndex()
    assert gc.isenabled()
    with idx.bulk():
        assert not gc.isenabled()
        for eid, name, etype in ALL:
            idx.add(eid, name, entity_type=etype)
    assert gc.isenabled()
    plain = NameIndex()
    for eid, name, etype in ALL:
        plain.add(eid, name, entity_type=etype)
    for _eid, name, etype in ALL:
        assert idx.screen(name, entity_type=etype) == plain.screen(name, entity_type=etype)


def _answers(idx: NameIndex, queries: list[tuple[str, str | None]]) -> list[list[tuple]]:
    """Everything screen returns, explanations included, at a low threshold."""
    return [
        [
            (m.entity_id, m.matched_name, m.name_kind, m.score, m.explanation)
            for m in idx.screen(query, entity_type=schema, threshold=0.5, limit=100)
        ]
        for query, schema in queries
    ]


def _queries(seed: int, n: int = 120) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    out: list[tuple[str, str | None]] = []
    for _ in range(n):
        _eid, name, etype = rng.choice(ALL)
        out.append((perturb(rng, name), rng.choice([etype, None])))
    return out


def test_pickled_index_answers_the_same() -> None:
    queries = _queries(11)
    copy = pickle.loads(pickle.dumps(INDEX))
    assert len(copy) == len(INDEX) and copy.entity_count == INDEX.entity_count
    assert _answers(copy, queries) == _answers(INDEX, queries)
    # The same containers, each id one object (a pickle alone would copy each one).
    for name in ("_postings", "_entity_entries", "_entity_countries"):
        assert getattr(copy, name) == getattr(INDEX, name), name
    # The retrieval keys read where they lie (no object per key), the same keys and
    # ids in the same order.
    for name in index_module._FLAT_KEYS:
        flat = getattr(copy, name)
        assert isinstance(flat, FlatKeys), name
        assert list(flat.items()) == list(getattr(INDEX, name).items()), name
    n = len(INDEX._entries)
    assert [copy._entry(k).vids for k in range(n)] == [INDEX._entry(k).vids for k in range(n)]
    posted = [eid for found in copy._postings for eid in found]
    assert len({id(eid) for eid in posted}) == len(set(posted))
    # and keeps working as an index (its keys and vocabulary become dicts again)
    copy.add("X1", "Vladimir Poutine", entity_type="person")
    assert copy._del_keys.keys() >= INDEX._del_keys.keys() and not copy._lazy
    assert INDEX._vocab.items() <= copy._vocab.items()
    copy.remove("P0")  # (names of a loaded index not read yet are read first)
    assert "P0" not in {m.entity_id for m in copy.screen("Vladimir Putin", limit=50)}
    assert "X1" in {m.entity_id for m in copy.screen("Vladimir Putin", limit=50)}
    assert "X1" not in {m.entity_id for m in INDEX.screen("Vladimir Putin", limit=50)}


def test_flat_keys_answer_as_the_dict_they_were_made_of() -> None:
    rng = random.Random(5)
    letters = "abcdeйцкäß中\ud800"
    keys = {
        "".join(rng.choice(letters) for _ in range(rng.randint(0, 9))): (
            rng.randrange(10**6) if rng.random() < 0.7 else tuple(rng.sample(range(99), 3))
        )
        for _ in range(3000)
    }
    flat = pickle.loads(pickle.dumps(FlatKeys.of(keys)))
    asked = set(keys) | {"".join(rng.choice(letters) for _ in range(6)) for _ in range(3000)}
    assert {k: flat.get(k) for k in asked} == {k: keys.get(k) for k in asked}
    assert all((k in flat) == (k in keys) for k in asked) and len(flat) == len(keys)
    assert flat.present(asked) == keys.keys() & asked
    gathered: set[int] = set()
    flat.gather(asked, gathered)
    ids = [(value,) if isinstance(value, int) else value for value in keys.values()]
    assert gathered == {i for found in ids for i in found}
    assert flat.to_dict() == keys and list(flat.to_dict()) == list(keys)
    assert not FlatKeys.of({}) and FlatKeys.of({}).get("a") is None


def _read(a: AnalyzedName) -> tuple[object, ...]:
    """What the scorer reads of an analysed name."""
    return (
        a.original, a.schema, a.normalized, a.tokens, a.inverted, joins_of(a), acronyms_of(a),
        a.total_weight, a.name_count, a.part_count,
    )  # fmt: skip


def test_a_loaded_index_reads_its_names_when_queries_reach_them() -> None:
    copy = pickle.loads(pickle.dumps(INDEX))
    frozen = index_module._FROZEN
    assert all(entry is frozen for entry in copy._entries)  # nothing read at the load
    copy.screen("Vladimir Putin")
    read = [entry for entry in copy._entries if entry is not frozen]
    assert 0 < len(read) <= len(copy._entries)
    copy.thaw()
    assert not any(entry is frozen for entry in copy._entries) and copy._frozen is None
    assert [(e.entity, e.name, e.name_kind, _read(e.analyzed), e.vids) for e in copy._entries] == [
        (e.entity, e.name, e.name_kind, _read(e.analyzed), e.vids) for e in INDEX._entries
    ]
    # Their joins and initialisms are not kept but derived when read, the same.
    assert all(e.analyzed.joins is None and e.analyzed.acronyms is None for e in copy._entries)
    assert any(joins_of(e.analyzed) for e in copy._entries)
    assert any(acronyms_of(e.analyzed) for e in copy._entries)
    for query, schema, _expected in SCREENS:
        assert copy.screen(query, entity_type=schema) == INDEX.screen(query, entity_type=schema)
    # The tokens of the names stay shared between names, as in the index built.
    toks = {id(t) for e in copy._entries for t in e.analyzed.tokens}
    assert len(toks) == len({id(t) for e in INDEX._entries for t in e.analyzed.tokens})


def test_a_loaded_index_shares_equal_weights_and_words_of_its_rows() -> None:
    copy = pickle.loads(pickle.dumps(INDEX))
    assert copy._rows == INDEX._rows
    for at in (0, 1, 4, 5, 6):  # entity, words, free, initial and total weight
        objects = {id(row[at]) for row in copy._rows}
        assert len(objects) == len({row[at] for row in copy._rows}), at
    assert [m.entity_id for m in copy.screen("Putin")] == [
        m.entity_id for m in INDEX.screen("Putin")
    ]


def test_a_pickle_of_more_names_than_words_and_entities_loads() -> None:
    idx = NameIndex()
    for kind in ("primary", "alias", "alias", "alias", "aka"):
        idx.add("E1", "Acme Trading", name_kind=kind, entity_type="company")
    copy = pickle.loads(pickle.dumps(idx))
    assert len(copy) == len(idx) > len(idx._vocab_tok)
    assert [m.entity_id for m in copy.screen("Acme Trading")] == ["E1"]


def test_a_pickle_of_another_layout_is_refused() -> None:
    state = INDEX.__getstate__()
    state["_pickle_version"] = -1
    with pytest.raises(ValueError, match="pickle version"):
        NameIndex().__setstate__(state)


def test_a_pickle_holds_every_attribute_but_the_caches() -> None:
    state = INDEX.__getstate__()
    assert state["_pickle_version"] == index_module._PICKLE_VERSION
    fresh = NameIndex()
    # (a class compiled by mypyc has no __dict__ but lists its attributes)
    compiled_attrs: tuple[str, ...] = getattr(NameIndex, "__mypyc_attrs__", ())
    attrs = set(vars(fresh)) if hasattr(fresh, "__dict__") else set(compiled_attrs)
    transient = {"_hits_cache", "_specials_cache", "_cooc_cache", "_vocab_skel", "_interner"}
    transient |= {"_frozen", "_lazy", "_long_words", "_reach_words"}
    assert set(state) == (attrs - transient) | {"_pickle_version"}


@pytest.mark.parametrize("seed", range(3))
def test_incremental_updates_equal_a_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    names: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for eid, name, etype in ALL:
        countries: tuple[str, ...] = ("RU",) if eid in ("P0", "P3", "C1") else ()
        names.setdefault(eid, []).append((name, etype, countries))
    idx = NameIndex()
    for eid, rows in names.items():
        for name, etype, countries in rows:
            idx.add(eid, name, entity_type=etype, countries=countries)
    ids = list(names)
    # Remove some entities, update others (remove, then add changed names), add new ones.
    for eid in rng.sample(ids, 8):
        assert idx.remove(eid)
        del names[eid]
    for eid in rng.sample(list(names), 6):
        rows = names.pop(eid)
        changed = [(perturb(rng, name), etype, countries) for name, etype, countries in rows]
        names[eid] = rows[:1] + changed  # now last in insertion order, as in the index
        assert idx.remove(eid)
        for name, etype, countries in names[eid]:
            idx.add(eid, name, entity_type=etype, countries=countries)
    for k in range(4):
        _old, name, etype = rng.choice(ALL)
        names[f"N{k}"] = [(perturb(rng, name), etype, ())]
        idx.add(f"N{k}", names[f"N{k}"][0][0], entity_type=etype)
    rebuilt = NameIndex()
    for eid, rows in names.items():
        for name, etype, countries in rows:
            rebuilt.add(eid, name, entity_type=etype, countries=countries)
    assert idx.entity_count == rebuilt.entity_count == len(names)
    assert len(idx) == len(rebuilt)
    queries = _queries(100 + seed)
    queries += [(name, etype) for rows in names.values() for name, etype, _c in rows]
    assert _answers(idx, queries) == _answers(rebuilt, queries)


def test_removing_every_entity_empties_the_retrieval_keys() -> None:
    idx = build()
    for eid in {eid for eid, _name, _etype in ALL}:
        assert idx.remove(eid)
    assert idx.entity_count == 0 and len(idx) == 0
    assert not idx._joins and not idx._acronyms and not idx._long_names and not idx._spellings
    assert not any(idx._postings) and not any(idx._dominant)
    assert idx.screen("Vladimir Putin") == []


def test_dump_and_load(tmp_path: Path) -> None:
    import gc

    path = tmp_path / "index.pickle"
    with path.open("wb") as fh:
        INDEX.dump(fh)
    with path.open("rb") as fh:
        loaded = NameIndex.load(fh)
    assert gc.isenabled()
    queries = _queries(12, 40)
    assert _answers(loaded, queries) == _answers(INDEX, queries)
    path.write_bytes(pickle.dumps({"not": "an index"}))
    with path.open("rb") as fh, pytest.raises(TypeError):
        NameIndex.load(fh)


def test_kept_query_words_answer_the_same_and_stay_cached() -> None:
    """keep_query_words (monitoring's small indexes): a cache of another size, the
    same answers; words are kept up to the bound given, not the default's."""
    queries = _queries(13)
    wide = pickle.loads(pickle.dumps(INDEX))
    wide.keep_query_words(100_000)
    narrow = pickle.loads(pickle.dumps(INDEX))
    narrow.keep_query_words(3)
    expected = _answers(INDEX, queries)
    assert _answers(wide, queries) == expected == _answers(narrow, queries)
    assert _answers(wide, queries) == expected  # answered from the cache
    words = {(t.text, t.script, t.native) for q, s in queries for t in analyze(q, s).tokens}
    assert len(wide._hits_cache) >= len(words) // 2 > 3 >= len(narrow._hits_cache)
    assert pickle.loads(pickle.dumps(wide))._hits_cache.ids == 0  # not pickled


def test_a_full_query_cache_lets_its_oldest_words_go_not_all_of_them() -> None:
    """Past its bound in entries or in ids held, the cache drops its oldest
    entries, as many as the new one needs (emptying it all at once freed
    hundreds of thousands of ids on one query's time)."""
    by_count = _QueryCache(entries=3, ids=1_000)
    for k in range(5):
        by_count.put(k, f"hits {k}", 1)
    assert [by_count.get(k) for k in range(5)] == [None, None, "hits 2", "hits 3", "hits 4"]
    assert (len(by_count), by_count.ids) == (3, 3)
    by_ids = _QueryCache(entries=100, ids=40)
    for k in range(6):
        by_ids.put(k, k, 10)
    assert [k for k in range(6) if by_ids.get(k) is not None] == [2, 3, 4, 5]
    assert by_ids.ids == 40
    by_ids.put("big", "too big to keep", 11)  # (over a quarter of the bound)
    assert by_ids.get("big") is None and by_ids.ids == 40


LONG_NAMES = [
    "Joint Stock Company Scientific Production Association Almaz named after Academician Raspletin",
    "Federal State Unitary Enterprise Main Radio Frequency Centre of the Russian Federation",
    "Islamic Republic of Iran Shipping Lines Group Khorasan Marine Services Company",
]


@pytest.mark.parametrize("seed", range(3))
def test_long_queries_agree_with_exhaustive_scan(seed: int) -> None:
    """Queries of more distinct words than the index intersects pairwise (it counts
    each name's hitting words instead) find what scoring every name finds."""
    assert all(len(set(n.split())) > index_module._PAIRWISE_MAX_WORDS for n in LONG_NAMES)
    idx = build()
    listed = list(ALL)
    for i, name in enumerate(LONG_NAMES):
        idx.add(f"L{i}", name, entity_type="company")
        listed.append((f"L{i}", name, "company"))
    rng = random.Random(seed)
    found_any = False
    for name in LONG_NAMES:
        for _ in range(4):
            query = perturb(rng, name)
            expected: dict[str, float] = {}
            q = analyze(query, None)
            for eid, lname, etype in listed:
                score = compare_analyzed(q, analyze(lname, etype), explain=False).score
                if score >= DEFAULT_THRESHOLD and score > expected.get(eid, -1.0):
                    expected[eid] = score
            got = {m.entity_id: m.score for m in idx.screen(query, limit=100)}
            assert got.keys() == expected.keys(), query
            found_any = found_any or bool(expected)
    assert found_any
