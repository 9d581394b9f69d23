"""Held-out checks: data the matcher was NOT tuned on.

    python -m bench.heldout [--data DIR] [--fp-sample N] [--variants N] [--seed S]

1. Watchman cross-script pairs (Arabic, Cyrillic, Chinese, Korean, Japanese,
   Greek, Hebrew, Thai -> Latin): share reaching the default threshold and the
   pair's own minimum score.
2. 80 spellings of Vladimir Putin (nomenklatura fixture): share matching
   "Vladimir Putin", and share of all pairs among them that match.
3. OFAC Sanctions List Search fixtures (query, result, OFAC score): rank
   correlation with OFAC's score and the rows where the two disagree most.
4. False positives on real list names: UK-list names screened against the OFAC
   SDN index. The UK and US lists overlap (the same people and companies are
   designated by both), so a flag is only called "clearly different" when the
   flagged name and the query have little in common by an independent measure
   (rapidfuzz token_set_ratio < 60 on normalised names); also synthetic people
   made of one UK-listed person's given name and another's family name.
5. Recall on perturbed OFAC names (typo, reordering, legal form change,
   transliteration to Cyrillic, look-alike letters, invisible characters,
   titles), with a different seed from the throughput bench.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from bench.data import (
    DATA,
    Listed,
    build_index,
    load_ofac,
    load_uk,
    uk_person_parts,
    variants,
)
from registry.matching import DEFAULT_THRESHOLD, compare_names, normalize_name

T = DEFAULT_THRESHOLD


def cross_script(path: Path) -> None:
    rows = []
    with path.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    for row in csv.reader(lines):
        if len(row) >= 3:
            rows.append((row[0], row[1], float(row[2]), row[3] if len(row) > 3 else ""))
    at_t = at_min = 0
    print(f"1. cross-script pairs ({path.name}): {len(rows)} positive pairs")
    for query, expected, min_score, desc in rows:
        score = compare_names(query, expected, "person").score
        at_t += score >= T
        at_min += score >= min_score
        mark = "ok " if score >= T else "MISS"
        print(f"   {mark} {score:.3f} (min {min_score:.2f}) {query} -> {expected}  [{desc}]")
    print(
        f"   matched at threshold {T}: {at_t}/{len(rows)} = {at_t / len(rows):.3f}; "
        f"at the pair's own minimum: {at_min}/{len(rows)}"
    )


def putin(path: Path) -> None:
    names = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    scores = [compare_names(n, "Vladimir Putin", "person").score for n in names]
    hit = sum(s >= T for s in scores)
    pairs = ok = 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pairs += 1
            ok += compare_names(a, b, "person").score >= T
    print(f"2. Putin spellings ({path.name}): {len(names)} names")
    print(
        f"   vs 'Vladimir Putin': {hit}/{len(names)} = {hit / len(names):.3f} match "
        f"(mean score {sum(scores) / len(scores):.3f}); all pairs: {ok}/{pairs} = {ok / pairs:.3f}"
    )
    misses = [n for n, s in zip(names, scores, strict=True) if s < T]
    print(f"   not matched: {misses}")


def _spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(vs: list[float]) -> list[float]:
        order = sorted(range(len(vs)), key=lambda i: vs[i])
        out = [0.0] * len(vs)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and vs[order[j + 1]] == vs[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else 0.0


def ofac_fixtures(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ours: list[float] = []
    theirs: list[float] = []
    table: list[tuple[float, float, str, str]] = []
    for r in rows:
        score = compare_names(r["query_name"], r["result_name"], None).score
        ofac = float(r["ofac_score"])
        table.append((score, ofac, r["query_name"], r["result_name"]))
        if ofac >= 0:
            ours.append(score)
            theirs.append(ofac)
    print(f"3. OFAC search-tool fixtures ({path.name}): {len(rows)} rows")
    print(f"   Spearman rank correlation with OFAC's score: {_spearman(ours, theirs):.3f}")
    bands: dict[str, list[float]] = defaultdict(list)
    for score, ofac, _q, _r in table:
        band = "100" if ofac >= 100 else "95-99" if ofac >= 95 else "85-94" if ofac >= 85 else "<85"
        bands[band if ofac >= 0 else "not returned"].append(score)
    for band in ["100", "95-99", "85-94", "<85", "not returned"]:
        vals = bands.get(band, [])
        if vals:
            hit = sum(v >= T for v in vals)
            mean = sum(vals) / len(vals)
            print(f"   OFAC {band:>12}: n={len(vals):<3} we match {hit:<3} mean ours {mean:.3f}")
    print("   largest disagreements (ours vs OFAC/100):")
    table.sort(key=lambda t: -abs(t[0] - max(t[1], 0) / 100))
    for score, ofac, query, result in table[:10]:
        print(f"     ours {score:.2f} OFAC {ofac:>4.0f}  {query!r} vs {result!r}")


def false_positives(
    data: Path, index_listed: list[Listed], sample: int, rng: random.Random
) -> None:
    index = build_index(index_listed)
    uk = load_uk(data / "uk_covyr" / "subject_names.csv", data / "uk_covyr" / "subjects.csv")
    picks = rng.sample(uk, min(sample, len(uk)))
    flagged = clearly = 0
    examples: list[tuple[float, str, str]] = []
    for item in picks:
        result = index.screen(item.name, entity_type=item.entity_type)
        if not result:
            continue
        flagged += 1
        top = result[0]
        sim = fuzz.token_set_ratio(normalize_name(item.name), normalize_name(top.matched_name))
        if sim < 60:
            clearly += 1
            if len(examples) < 12:
                examples.append((top.score, item.name, top.matched_name))
    n = len(picks)
    print(f"4a. UK-list names screened against OFAC SDN: {n} names (seeded sample)")
    print(
        f"   flagged: {flagged}/{n} = {flagged / n:.3f} (many are the same designated "
        f"people/companies on both lists); clearly different top hit "
        f"(token_set_ratio < 60): {clearly}/{n} = {clearly / n:.4f}"
    )
    for score, q, m in examples:
        print(f"     {score:.3f} {q!r} -> {m!r}")
    parts = uk_person_parts(
        data / "uk_covyr" / "subject_names.csv", data / "uk_covyr" / "subjects.csv"
    )
    synth_flag = 0
    synth_examples: list[tuple[float, str, str]] = []
    total = min(sample, 2000)
    for _ in range(total):
        given = rng.choice(parts)[0]
        family = rng.choice(parts)[1]
        name = f"{given} {family}"
        result = index.screen(name, entity_type="person")
        if result:
            synth_flag += 1
            if len(synth_examples) < 12:
                synth_examples.append((result[0].score, name, result[0].matched_name))
    print(
        f"4b. synthetic people (a UK-listed given name + another's family name): "
        f"{synth_flag}/{total} = {synth_flag / total:.3f} flagged"
    )
    for score, q, m in synth_examples:
        print(f"     {score:.3f} {q!r} -> {m!r}")


def variant_recall(listed: list[Listed], n: int, rng: random.Random) -> None:
    index = build_index(listed)
    by_kind: Counter[str] = Counter()
    hit_kind: Counter[str] = Counter()
    top_kind: Counter[str] = Counter()
    for query, item, kind in variants(rng, listed, n):
        result = index.screen(query, entity_type=item.entity_type)
        ids = [m.entity_id for m in result]
        by_kind[kind] += 1
        hit_kind[kind] += item.entity_id in ids
        top_kind[kind] += bool(ids) and ids[0] == item.entity_id
    total, hits, tops = sum(by_kind.values()), sum(hit_kind.values()), sum(top_kind.values())
    recall, top1 = hits / total, tops / total
    print(f"5. perturbed OFAC names: {total} variants, recall {recall:.3f}, top-1 {top1:.3f}")
    for kind in sorted(by_kind):
        print(
            f"   {kind:<16} n={by_kind[kind]:<4} recall {hit_kind[kind] / by_kind[kind]:.3f} "
            f"top-1 {top_kind[kind] / by_kind[kind]:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--fp-sample", type=int, default=3000)
    ap.add_argument("--variants", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"held-out checks at DEFAULT_THRESHOLD={T}")
    cross_script(args.data / "matching" / "watchman_cross_script_pairs.csv")
    putin(args.data / "matching" / "nomenklatura_putin_names.txt")
    ofac_fixtures(args.data / "nomenklatura" / "ofac_fixtures.csv")
    listed = load_ofac(args.data / "ofac_sdn_kindrat86" / "ofac-sdn.json")
    false_positives(args.data, listed, args.fp_sample, rng)
    variant_recall(listed, args.variants, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
