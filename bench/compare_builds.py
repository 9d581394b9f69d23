"""The compiled (mypyc) and the pure-Python matcher give exactly the same answers.

    python -m bench.compare_builds [--queries N] [--listed N] [--seed S]

Builds an index of listed names (the OFAC SDN list, EU/UN names and a few
names in other scripts; the first N with --listed) and screens N varied
queries (variants of listed names - typos, reordering, legal forms,
transliteration, look-alike letters, zero-width characters, titles -, UK-list
names, vessels, names in a dozen scripts, mixed scripts, odd and empty inputs),
with various types, countries and thresholds. For each query it records the
normalised form, the tokens, the analysis (kinds, weights, joins, initialisms)
and every Match with its explanation and summary sentence, and it compares
each query with its source name and another listed name (`compare_names`,
and `score_entities` of the index), and the evidence functions on dates of
birth, nationalities and identifier numbers (`matching.evidence`). Everything is written
as JSON, which tells 1 from 1.0, in key order.

It does so in four processes: pure Python, compiled, compiled loading the pure
build's pickled index and pure loading the compiled build's, and fails unless
the four outputs are identical. The compiled build must be installed
(`pip install -e .` with a C compiler); REGISTRY_PURE_PYTHON=1 selects the pure
modules in the same install. Last line: ``identical=... queries=... lines=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.data import (
    EU_UN_JSON,
    OFAC_JSON,
    UK_NAMES,
    UK_SUBJECTS,
    VARIANT_KINDS,
    Listed,
    load_eu_un,
    load_ofac,
    load_uk,
    make_variant,
)
from bench.paths import ROOT

# Listed names in other scripts (so that same-script comparison is exercised too).
NATIVE_LISTED = [
    ("native-1", "Владимир Владимирович Путин", "person"),
    ("native-2", "محمد بن سلمان آل سعود", "person"),
    ("native-3", "习近平", "person"),
    ("native-4", "巨航航空科技（深圳）有限公司", "organization"),
    ("native-5", "김정은", "person"),
    ("native-6", "高市早苗", "person"),
    ("native-7", "Αλέξης Τσίπρας", "person"),
    ("native-8", "בנימין נתניהו", "person"),
    ("native-9", "ทักษิณ ชินวัตร", "person"),
    ("native-10", "नरेन्द्र मोदी", "person"),
    ("native-11", "ООО «Искусство красоты»", "organization"),
    ("native-12", "شركة النفط الوطنية الإيرانية", "organization"),
    ("native-13", "조선광선은행", "organization"),
    ("native-14", "カラシニコフ・コンツェルン", "organization"),
    ("native-15", "Ռուբեն Վարդանյան", "person"),
    ("native-16", "ბიძინა ივანიშვილი", "person"),
]
# Queries in other scripts, mixed scripts and look-alike letters.
SCRIPT_QUERIES = [
    "Владимир Путин", "Путин Владимир Владимирович", "Сергей Лавров", "Сергей Викторович Лавров",
    "محمد بن سلمان", "أسامة بن لادن", "حسن نصر الله", "علي خامنئي", "习近平", "習近平", "习近朋",
    "金正恩", "김정은", "김 정 은", "박근혜", "이명박", "高市早苗", "安倍晋三", "カラシニコフ",
    "Αλέξης Τσίπρας", "בנימין נתניהו", "ทักษิณ ชินวัตร", "नरेन्द्र मोदी", "Ռուբեն Վարդանյան",
    "ბიძინა ივანიშვილი", "Finder Тechnology Ltd", "Gazрrom Neft", "Rоsneft", "ΒΑΝΚ ΜΕΛΛΑΤ",
    "Бэнк Мелли Иран", "Банк ВТБ", "巨航航空科技有限公司", "深圳市大疆创新科技有限公司",
    "中国航天科工集团", "Hong Kong 巨航 Aviation", "Ali علي", "Kim 김정은", "ООО Ромашка",
    "ПАО «Газпром нефть»", "АО «Концерн Калашников»", "شركة الطيران ماهان", "ماهان",
    "Ιωάννης Παπαδόπουλος", "Йохн Доэ", "Муаммар Каддафи", "Ким Чен Ын",
]  # fmt: skip
ODD_QUERIES = [
    "", " ", "\t\n", ".", "...", "-", "&", "'", "A", "a.b.c.", "A.B.C. Trading", "Co., Ltd.",
    "LLC", "OOO", "Mr", "Mr.", "bin", "al", "Al-", "123", "0", "007", "١٢٣", "Ⅻ", "ﬁnder",
    "ＦＩＮＤＥＲ ＴＥＣＨＮＯＬＯＧＹ", "Pu\u200btin", "\u00ad", "\x00\x01Putin\x7f", "😀 Putin",
    "Ali " * 40, "A/S", "M/V", "Al-Qa'ida/Islamic Army", "Forty-Four Trading", "First Bank",
    "1st Bank", "Ig0r Sech1n", "PUTIN, Vladimir", "PUTIN,", ", Vladimir", "Putin,, Vladimir",
    "de la Cruz", "van der Bilt", "Vanderbilt", "Micro Pilot", "Micropilot", "HK Blue Ocean",
    "Hong Kong Blue Ocean", "MIO", "IRGC", "Sheikh Haji Mohammed", "Dr. Dr. Dr.", "Fund VII",
    "Fund VIII", "Victory 3", "Victory III", "MV Victory", "M/T Lady Rania", "Tanker Hellenic",
    "ABC / DEF", "x" * 300, "Jean-Claude JUNCKER", "O'Brien", "O’Brien", "ʻAbd al-ʻAzīz",
    "Müller GmbH & Co. KG", "Société Générale S.A.", "Łódź", "İstanbul", "ß", "ǅemal", "\u0301",
]  # fmt: skip
TYPES = [None, None, "person", "company", "organization", "vessel", "aircraft", "unknown",
         "LegalEntity"]  # fmt: skip
COUNTRIES = ["RU", "IR", "CN", "KP", "SY"]
# Dates of birth as the registry holds them and as queries give them (evidence.py).
DOBS = ["1962-02-18", "1962-02", "1962", "1962-01-01", "1961/1963", "1944/1948",
        "1945-01-01/1946-12-31", "1981-03-07", "1981-09", "1965", "2000-12-31"]  # fmt: skip


def listed_names(limit: int) -> list[Listed]:
    out = load_ofac(OFAC_JSON)
    if EU_UN_JSON.exists():
        eu_un = load_eu_un(EU_UN_JSON)
        out += eu_un[::7]
    if limit:
        out = out[:limit]
    out += [Listed(eid, name, "primary", etype) for eid, name, etype in NATIVE_LISTED]
    return out


def countries_of(entity_id: str) -> list[str]:
    """A fixed country for half the entities (crc32: the same in every process)."""
    h = zlib.crc32(entity_id.encode())
    return [COUNTRIES[h % len(COUNTRIES)]] if h % 2 else []


def queries(
    rng: random.Random, listed: list[Listed], n: int
) -> Iterator[tuple[str, str | None, Listed | None]]:
    """(query, source listed name or None); n in all, in a seeded order."""
    other = load_uk(UK_NAMES, UK_SUBJECTS) if UK_NAMES.exists() else []
    vessels = [x for x in listed if x.entity_type == "vessel"]
    fixed: list[tuple[str, Listed | None]] = [(q, None) for q in SCRIPT_QUERIES + ODD_QUERIES]
    fixed += [(x.name, x) for x in listed if x.entity_id.startswith("native-")]
    out: list[tuple[str, Listed | None]] = fixed[:n]
    words = [w for x in listed[:5000] for w in x.name.replace(",", " ").split() if len(w) > 1]
    pool = [x for x in listed if len(x.name.split()) >= 2]
    while len(out) < n:
        r = rng.random()
        if r < 0.45:
            item = rng.choice(pool)
            out.append((make_variant(rng, item, rng.choice(VARIANT_KINDS)), item))
        elif r < 0.55:
            item = rng.choice(listed)
            out.append((item.name, item))
        elif r < 0.65 and vessels:
            item = rng.choice(vessels)
            prefix = rng.choice(["", "MV ", "M/V ", "MT ", "Tanker ", "vessel "])
            out.append((prefix + make_variant(rng, item, rng.choice(["typo", "case"])), item))
        elif r < 0.85 and other:
            out.append((rng.choice(other).name, None))
        else:
            out.append((" ".join(rng.sample(words, rng.randint(1, 5))), None))
    for query, source in out[:n]:
        yield query, rng.choice(TYPES), source


def _analysis(a: Any) -> list[Any]:
    toks = [
        [t.text, t.kind, t.weight, t.script, t.native, t.raw]
        + ([t.legal.start, t.legal.end, t.legal.key, t.legal.generic] if t.legal else [])
        for t in a.tokens
    ]
    return [
        a.original, a.schema, a.normalized, a.inverted, toks, a.joins, a.acronyms,
        a.total_weight, a.name_count, a.part_count, a.free_weight, a.has_distinctive,
    ]  # fmt: skip


def emit(args: argparse.Namespace) -> int:
    """Screen in this process (whichever build it imports) and write JSON lines."""
    from registry.matching import BUILD, NameIndex, compare_names, normalize_name
    from registry.matching import evidence as ev
    from registry.matching.analysis import analyze
    from registry.matching.normalize import tokenize_name

    rng = random.Random(args.seed)
    listed = listed_names(args.listed)
    if args.index_from:
        with open(args.index_from, "rb") as fh:
            index = NameIndex.load(fh)
    else:
        index = NameIndex()
        with index.bulk():
            for x in listed:
                index.add(
                    x.entity_id, x.name, name_kind=x.name_kind, entity_type=x.entity_type,
                    countries=countries_of(x.entity_id),
                )  # fmt: skip
    if args.dump:
        with open(args.dump, "wb") as fh:
            index.dump(fh)
    with open(args.emit, "w", encoding="utf-8") as out:
        out.write(json.dumps({"build": BUILD}) + "\n")
        for k, (query, etype, source) in enumerate(queries(rng, listed, args.queries)):
            country = rng.choice([None, None, None, *COUNTRIES])
            threshold = rng.choice([0.8, 0.8, 0.6, 0.95, 1])  # (an int threshold too)
            limit = rng.choice([10, 10, 3])
            try:
                analysis = _analysis(analyze(query, etype))
            except ValueError as exc:  # (an unknown schema: not here, but kept honest)
                analysis = [repr(exc)]
            screened = index.screen(
                query, entity_type=etype, country=country, threshold=threshold, limit=limit
            )
            matches = [
                [
                    m.entity_id,
                    m.matched_name,
                    m.name_kind,
                    m.score,
                    m.explanation,
                    ev.summary(m.explanation, m.matched_name, m.name_kind),
                ]
                for m in screened
            ]
            pairs = []
            others = [source] if source is not None else []
            others.append(listed[rng.randrange(len(listed))])
            for other in others:
                score = compare_names(query, other.name, etype)
                pairs.append([other.name, score.score, score.explanation])
            # The same entities scored directly (as for an identifier match), and the
            # other evidence: dates of birth, nationalities, identifier keys.
            direct = [
                [m.entity_id, m.matched_name, m.score, m.explanation]
                for m in index.score_entities(
                    query, [o.entity_id for o in others], entity_type=etype, country=country
                )
            ]
            dob, listed_dobs = rng.choice(DOBS), rng.sample(DOBS, 2)
            found = [
                ev.dob_evidence([dob], listed_dobs),
                ev.nationality_evidence([rng.choice(COUNTRIES)], rng.sample(COUNTRIES, 1)),
                ev.identifier_evidence([query], [("passport", query.upper())]),
            ]
            evidence = [
                ev.compare_dob(dob, listed_dobs[0]),
                ev.id_key(query),
                [e.as_dict() if e is not None else None for e in found],
                ev.weigh(screened[0].score if screened else 0.5, [e for e in found if e]),
            ]
            record = {
                "k": k,
                "query": query,
                "type": etype,
                "normalized": normalize_name(query),
                "tokens": [[t.text, t.script, t.native] for t in tokenize_name(query)],
                "analysis": analysis,
                "screen": [country, threshold, limit, matches],
                "pairs": pairs,
                "direct": direct,
                "evidence": evidence,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _run(args: argparse.Namespace, out: Path, pure: bool, **extra: str) -> str:
    env = dict(os.environ)
    env.pop("REGISTRY_PURE_PYTHON", None)
    if pure:
        env["REGISTRY_PURE_PYTHON"] = "1"
    cmd = [sys.executable, "-m", "bench.compare_builds", "--emit", str(out)]
    cmd += ["--queries", str(args.queries), "--listed", str(args.listed), "--seed", str(args.seed)]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    with out.open(encoding="utf-8") as fh:
        build: str = json.loads(fh.readline())["build"]
    return build


def compare(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        pure = _run(args, d / "pure.jsonl", True, dump=str(d / "pure.pickle"))
        compiled = _run(args, d / "compiled.jsonl", False, dump=str(d / "compiled.pickle"))
        print(f"pure run: {pure}; compiled run: {compiled}")
        if not pure.startswith("pure") or not compiled.startswith("compiled"):
            print("the compiled build is not in use: nothing to compare", file=sys.stderr)
            return 2
        _run(args, d / "compiled-from-pure.jsonl", False, index_from=str(d / "pure.pickle"))
        _run(args, d / "pure-from-compiled.jsonl", True, index_from=str(d / "compiled.pickle"))
        reference = (d / "pure.jsonl").read_text(encoding="utf-8").splitlines()[1:]
        identical = True
        for name in ("compiled", "compiled-from-pure", "pure-from-compiled"):
            lines = (d / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[1:]
            diffs = [k for k, (a, b) in enumerate(zip(reference, lines, strict=True)) if a != b]
            matches = sum(len(json.loads(line)["screen"][3]) for line in lines)
            print(
                f"{name} vs pure: {len(lines)} queries, {matches} matches, "
                f"{len(diffs)} differing queries"
            )
            for k in diffs[:3]:
                print(f"  pure:     {reference[k][:2000]}\n  {name}: {lines[k][:2000]}")
            identical = identical and not diffs
        print(f"identical={identical} queries={len(reference)} lines={3 * len(reference)}")
        return 0 if identical else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=4000)
    ap.add_argument("--listed", type=int, default=0, help="only the first N listed names")
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--emit", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--index-from", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    return emit(args) if args.emit else compare(args)


if __name__ == "__main__":
    sys.exit(main())
