"""Hostile names against every list: CPU per name by kind of hostility (issue 9 point 2).

    python -m bench.hostile [--per-kind N] [--ofac-only] [--seed S] [--pure]

Loads every list (OFAC SDN, UK, EU/UN; ``--ofac-only`` for the SDN alone) into one
`NameIndex` and screens, at the default threshold, untyped:

* ordinary names: variants of listed names (`bench.data.variants`);
* hostile names of each kind: one word repeated ('ali ' x 125), hundreds of distinct
  listed words, one-letter words ('a b c d ...'), long joined strings (random letters,
  listed words written together), digits, mixed scripts, names of 500 characters made
  of listed words, and names with hyphens between listed words.

For each kind: the CPU milliseconds of its worst name and its mean, and how many
names of the index were scored in full for its worst (``NameIndex.screen`` counts
them in ``last_work``). Then a batch of hostile names against a batch of as many
ordinary ones, CPU per name in the same run.

The last line:
``worst_ms=W worst_kind=K ordinary_ms=O hostile_batch_ms=H ratio=R load=L``
(W and H in CPU milliseconds per name; L the load average around the run).
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import time
from collections.abc import Callable

from bench.data import build_index, hold_as_served, load_eu_un, load_ofac, load_uk, variants
from bench.screen_throughput import machine
from registry.matching import DEFAULT_THRESHOLD, NameIndex
from registry.matching.analysis import MAX_NAME_WORDS

MAX_CHARS = 500  # what the API accepts (schemas: names at most 500 characters)


def _fit(text: str) -> str:
    return text[:MAX_CHARS].strip()


def makers(rng: random.Random, words: list[str]) -> dict[str, Callable[[], str]]:
    """Each kind of hostile name, made from `rng` (and listed words where useful)."""
    letters = string.ascii_lowercase
    common = ["ali", "mohammed", "al", "bank", "a", "de", "ltd", "kim", "li", "abu", "bin"]

    def rand_word(lo: int, hi: int) -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(lo, hi)))

    return {
        "repeated_word": lambda: _fit(" ".join([rng.choice(common)] * 250)),
        "repeated_common": lambda: _fit(" ".join(rng.choice(common) for _ in range(250))),
        "distinct_listed": lambda: _fit(" ".join(rng.sample(words, 120))),
        "distinct_random": lambda: _fit(" ".join(rand_word(3, 12) for _ in range(80))),
        "one_letter": lambda: _fit(" ".join(rng.choice(letters) for _ in range(250))),
        "alphabet": lambda: _fit(" ".join(letters * 10)),
        "joined_random": lambda: rand_word(MAX_CHARS, MAX_CHARS),
        "joined_listed": lambda: _fit("".join(rng.sample(words, 80))),
        "hyphenated_listed": lambda: _fit("-".join(rng.sample(words, 100))),
        "digits": lambda: _fit(" ".join(str(rng.randint(0, 99999)) for _ in range(100))),
        "digits_joined": lambda: "".join(rng.choice(string.digits) for _ in range(MAX_CHARS)),
        "mixed_scripts": lambda: _fit(
            " ".join(
                rng.choice(
                    [
                        rand_word(2, 8),
                        "".join(chr(rng.randint(0x430, 0x44F)) for _ in range(5)),
                        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(3)),
                        "".join(chr(rng.randint(0x627, 0x64A)) for _ in range(5)),
                        "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(2)),
                        "".join(chr(rng.randint(0x30A1, 0x30FA)) for _ in range(4)),
                    ]
                )
                for _ in range(90)
            )
        ),
        "han_run": lambda: "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(MAX_CHARS)),
        "hangul_words": lambda: _fit(
            " ".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(250))
        ),
        "katakana_run": lambda: "".join(chr(rng.randint(0x30A1, 0x30FA)) for _ in range(MAX_CHARS)),
        "slashes": lambda: _fit("/".join(rng.sample(words, 60))),
        "max_words_listed": lambda: " ".join(rng.sample(words, MAX_NAME_WORDS)),
        "max_words_common": lambda: " ".join(rng.choice(common) for _ in range(MAX_NAME_WORDS)),
        "letters_apart": lambda: _fit(
            " ".join(". ".join(rng.sample(letters, 20)) for _ in range(9))
        ),
    }


def listed_words(listed: list, rng: random.Random) -> list[str]:
    seen: set[str] = set()
    for item in listed:
        for w in item.name.replace(",", " ").split():
            if len(w) >= 3 and w.isalpha():
                seen.add(w.lower())
    out = sorted(seen)
    rng.shuffle(out)
    return out[:20000]


def cpu_ms(index: NameIndex, name: str) -> tuple[float, int]:
    start = time.process_time()
    index.screen(name, threshold=DEFAULT_THRESHOLD)
    return (time.process_time() - start) * 1000, getattr(index, "last_work", -1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=20)
    ap.add_argument("--ofac-only", action="store_true")
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args(argv)
    print(machine())
    load_before = os.getloadavg()[0]
    rng = random.Random(args.seed)
    listed = load_ofac()
    if not args.ofac_only:
        listed += load_uk() + load_eu_un()
    t0 = time.process_time()
    index = build_index(listed)
    print(
        f"index: {len(listed):,} names of {index.entity_count:,} entities "
        f"({'OFAC SDN' if args.ofac_only else 'all lists'}), built in "
        f"{time.process_time() - t0:.1f} s CPU"
    )
    hold_as_served()
    words = listed_words(listed, rng)
    kinds = makers(rng, words)
    ordinary = [q for q, _, _ in variants(rng, listed, args.per_kind * 10)]
    for q in ordinary[:50]:  # warm the caches alike for both batches
        index.screen(q, threshold=DEFAULT_THRESHOLD)
    worst_ms, worst_kind = 0.0, ""
    hostile_batch: list[str] = []
    print(f"{'kind':18s} {'max_ms':>8s} {'mean_ms':>8s} {'work@max':>9s}  example")
    for kind, make in kinds.items():
        names = [make() for _ in range(args.per_kind)]
        hostile_batch += names
        times = [cpu_ms(index, n) for n in names]
        top = max(times)
        mean = sum(t for t, _ in times) / len(times)
        example = names[times.index(top)][:40]
        print(f"{kind:18s} {top[0]:8.1f} {mean:8.2f} {top[1]:9d}  {example!r}")
        if top[0] > worst_ms:
            worst_ms, worst_kind = top[0], kind
    ord_times = [cpu_ms(index, q)[0] for q in ordinary]
    ord_top = max(ord_times)
    print(f"{'ordinary':18s} {ord_top:8.1f} {sum(ord_times) / len(ord_times):8.2f}")
    if ord_top > worst_ms:
        worst_ms, worst_kind = ord_top, "ordinary"
    # The batches again, in one run: the same number of names of each.
    rng.shuffle(hostile_batch)
    n = min(len(hostile_batch), len(ordinary))

    def batch(names: list[str]) -> float:
        start = time.process_time()
        for name in names:
            index.screen(name, threshold=DEFAULT_THRESHOLD)
        return (time.process_time() - start) * 1000 / len(names)

    ordinary_ms = batch(ordinary[:n])
    hostile_ms = batch(hostile_batch[:n])
    load = (load_before + os.getloadavg()[0]) / 2
    print(f"batch of {n}: ordinary {ordinary_ms:.2f} ms CPU per name, hostile {hostile_ms:.2f}")
    print(
        f"worst_ms={worst_ms:.1f} worst_kind={worst_kind} ordinary_ms={ordinary_ms:.2f} "
        f"hostile_batch_ms={hostile_ms:.2f} ratio={hostile_ms / max(ordinary_ms, 1e-9):.1f} "
        f"load={load:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
