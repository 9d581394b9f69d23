"""Score labelled name pairs (nomenklatura name_bench layout) with compare_names.

    python -m bench.name_pairs [PATH] [--threshold T] [--verbose]

CSV columns: case_group,schema,name1,name2,is_match,quality,category,notes.
Prints confusion matrices by case_group, category and quality, the mean score
per quality tier and label (the calibration walk the bench README asks for),
the misclassified pairs (stderr, or stdout with --verbose), and as LAST line:
``precision=P recall=R f1=F threshold=T n=N``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

from registry.matching import DEFAULT_THRESHOLD, compare_names

from .paths import SHARED_DATA

DATA = SHARED_DATA
DEFAULT_PATH = DATA / "nomenklatura" / "cases.csv"


class Confusion:
    __slots__ = ("fn", "fp", "tn", "tp")

    def __init__(self) -> None:
        self.tp = self.fp = self.tn = self.fn = 0

    def add(self, label: bool, predicted: bool) -> None:
        if label and predicted:
            self.tp += 1
        elif label:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def row(self, label: str) -> str:
        p, r, f = self.prf()
        acc = (self.tp + self.tn) / self.n if self.n else 0.0
        return (
            f"  {label[:38]:<38} n={self.n:<4} tp={self.tp:<4} fp={self.fp:<4} "
            f"tn={self.tn:<4} fn={self.fn:<4} acc={acc:.3f} p={p:.3f} r={r:.3f} f1={f:.3f}"
        )


def load(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row.get("name1") is not None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--verbose", action="store_true", help="misclassified pairs to stdout")
    args = ap.parse_args(argv)
    rows = load(args.path)
    total = Confusion()
    slices: dict[str, dict[str, Confusion]] = {
        "case_group": defaultdict(Confusion),
        "category": defaultdict(Confusion),
        "quality": defaultdict(Confusion),
    }
    tier_scores: dict[tuple[str, bool], list[float]] = defaultdict(list)
    wrong = []
    for row in rows:
        label = row["is_match"].strip().lower() == "true"
        result = compare_names(row["name1"], row["name2"], row["schema"] or None)
        predicted = result.score >= args.threshold
        total.add(label, predicted)
        quality = (row.get("quality") or "").strip() or "MEDIUM"
        for key, value in (
            ("case_group", row.get("case_group") or "-"),
            ("category", (row.get("category") or "").strip() or "(none)"),
            ("quality", quality),
        ):
            slices[key][value].add(label, predicted)
        tier_scores[(quality, label)].append(result.score)
        if predicted != label:
            wrong.append((row, label, result))
    for key, table in slices.items():
        print(f"by {key}:")
        for value in sorted(table, key=lambda v: -table[v].n):
            print(table[value].row(value))
    print("calibration (mean score: STRONG/MEDIUM/WEAK match, then WEAK/MEDIUM/STRONG non-match):")
    for quality, label in [
        ("STRONG", True), ("MEDIUM", True), ("WEAK", True),
        ("WEAK", False), ("MEDIUM", False), ("STRONG", False),
    ]:  # fmt: skip
        scores = tier_scores.get((quality, label), [])
        mean = sum(scores) / len(scores) if scores else float("nan")
        tag = "match" if label else "non-match"
        print(f"  {quality:<6} {tag:<9} n={len(scores):<4} mean={mean:.3f}")
    out = sys.stdout if args.verbose else sys.stderr
    print(f"misclassified ({len(wrong)}):", file=out)
    for row, label, result in wrong:
        kind = "FN" if label else "FP"
        print(
            f"  {kind} {result.score:.3f} [{row.get('quality') or 'MEDIUM'}] {row['schema']}: "
            f"{row['name1']!r} vs {row['name2']!r}",
            file=out,
        )
    p, r, f = total.prf()
    print(f"precision={p:.3f} recall={r:.3f} f1={f:.3f} threshold={args.threshold} n={total.n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
