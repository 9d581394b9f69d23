"""Does the work per screened name grow with the list? The same queries against
indexes of 50,000, 135,000 and 270,000 listed names.

    python -m bench.scaling [--queries 2000] [--sizes 50000,135000,270000] [--seed S]

The listed names are `bench.data.large_list(n)`: the OFAC SDN, UK and EU/UN
lists, topped up with seeded variants of their names as further entities; each
smaller set is a prefix of the larger ones. The queries (the same for every
size): half variants of names in the smallest set (typos, word order, legal
forms, transliteration, look-alikes), half made-up people (a UK-listed given
name with another person's family name) and companies. Per size: build CPU
time, then CPU time per name at the default threshold, and how many variants
find their source. The README's claim that the work per name does not grow with
the list is what the last line tests (issue 14 asks for at most 1.5):
``ratio_270k_50k=X`` (CPU time per name at the largest size over the smallest).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time

from registry.matching import DEFAULT_THRESHOLD, NameIndex

from .data import build_index, hold_as_served, large_list, uk_person_parts, variants
from .screen_throughput import machine

COMPANY_WORDS = (
    "Northern", "Amber", "Cobalt", "Delta", "Harbor", "Granite", "Lumen", "Meridian",
    "Nimbus", "Orchid", "Pioneer", "Quartz", "Sable", "Tundra", "Vertex", "Willow",
)  # fmt: skip
COMPANY_KINDS = ("Trading", "Logistics", "Shipping", "Holdings", "Industries", "Capital")
FORMS = ("Ltd", "LLC", "GmbH", "S.A.", "Co., Ltd.", "Limited", "Inc")


def queries(n: int, seed: int, smallest: int) -> list[tuple[str, str | None, str | None]]:
    """(query, entity type, the entity it varies or None), seeded."""
    rng = random.Random(seed)
    listed = large_list(smallest)
    out: list[tuple[str, str | None, str | None]] = [
        (query, item.entity_type, item.entity_id)
        for query, item, _kind in variants(rng, listed, n // 2)
    ]
    people = uk_person_parts()
    while len(out) < n:
        if rng.random() < 0.5:
            given, _ = rng.choice(people)
            _, family = rng.choice(people)
            out.append((f"{given} {family}", "person", None))
        else:
            words = rng.sample(COMPANY_WORDS, 2)
            name = f"{words[0]} {words[1]} {rng.choice(COMPANY_KINDS)} {rng.choice(FORMS)}"
            out.append((name, "company", None))
    rng.shuffle(out)
    return out


def run(index: NameIndex, qs: list[tuple[str, str | None, str | None]]) -> tuple[float, float, int]:
    """CPU seconds per name (mean, p99) and variants whose source is found."""
    times = []
    found = 0
    for query, etype, truth in qs:
        t = time.process_time()
        result = index.screen(query, entity_type=etype, threshold=DEFAULT_THRESHOLD)
        times.append(time.process_time() - t)
        if truth is not None and any(m.entity_id == truth for m in result):
            found += 1
    ordered = sorted(times)
    return statistics.fmean(times), ordered[int(0.99 * (len(ordered) - 1))], found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--sizes", default="50000,135000,270000")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine())
    qs = queries(args.queries, args.seed, sizes[0])
    variants_n = sum(1 for q in qs if q[2] is not None)
    per_name: dict[int, float] = {}
    for size in sizes:
        listed = large_list(size)
        gc.collect()
        t = time.process_time()
        index = build_index(listed)
        build_s = time.process_time() - t
        release = hold_as_served()  # as the service does: no collection walks the index mid-query
        run(index, qs[:200])  # warm the caches of query work a little
        mean, p99, found = run(index, qs)
        per_name[size] = mean
        print(
            f"{size:>7,} listed names ({index.entity_count:,} entities): built in {build_s:.1f} s "
            f"CPU; {1 / mean:,.0f} names/s on one core, {mean * 1000:.3f} ms per name "
            f"(p99 {p99 * 1000:.2f} ms); variants found {found}/{variants_n}"
        )
        release()
        del index, listed
        gc.collect()
    ratios = " ".join(
        f"{size // 1000}k={per_name[size] / per_name[sizes[0]]:.2f}" for size in sizes[1:]
    )
    print(f"time per name against {sizes[0] // 1000}k: {ratios}")
    ratio = per_name[sizes[-1]] / per_name[sizes[0]]
    print(f"ratio_{sizes[-1] // 1000}k_{sizes[0] // 1000}k={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
