"""What the name matcher's caches of query work hold, against their byte budget.

    python -m bench.cache_sizes [--queries N] [--seed S]

Screens N names (half variants of OFAC SDN names, half UK-list names, as
`bench.screen_throughput`) against an index of the SDN list with tracemalloc on,
then empties each cache in turn and counts the bytes freed: bytes per entry (the
estimates the caches are sized by: `registry.config.matcher_cache_entries`), the
entries each may hold under REGISTRY_MATCHER_CACHE_MB, and what they would hold
when full at the measured size. Last line: ``budget_mb=B full_mb=F``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.data import OFAC_JSON, UK_NAMES, UK_SUBJECTS, build_index, load_ofac, load_uk, variants
from registry.config import matcher_cache_bytes
from registry.matching import analysis, normalize, similarity
from registry.matching import index as index_module
from registry.matching.analysis import SHARED_INTERNER


def _freed(empty: Callable[[], Any]) -> int:
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    empty()
    gc.collect()
    return before - tracemalloc.get_traced_memory()[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240223)
    args = ap.parse_args(argv)
    listed = load_ofac(OFAC_JSON)
    index = build_index(listed)
    rng = random.Random(args.seed)
    queries = [query for query, _, _ in variants(rng, listed, args.queries // 2)]
    other = load_uk(UK_NAMES, UK_SUBJECTS)
    queries += [rng.choice(other).name for _ in range(args.queries - len(queries))]
    lru: list[Any] = [
        similarity._latin_pair,
        similarity._token_pair,
        similarity.phonetic_key,
        similarity._skeleton,
        similarity._abjad_skeleton,
        similarity.kana_key,
        normalize.normalize_name,
    ]
    for cached in [*lru, analysis.analyze]:
        cached.cache_clear()
    SHARED_INTERNER.clear()
    index._forget_queries()
    gc.collect()
    gc.freeze()
    tracemalloc.start()
    started = time.process_time()
    for query in queries:
        index.screen(query)
    print(f"screened {len(queries):,} names in {time.process_time() - started:.1f} s CPU (traced)")
    full = 0.0
    for name, cache, bound in (
        ("hits", index._hits_cache, index_module._CACHE_MAX_IDS),
        ("specials", index._specials_cache, index_module._SPECIALS_MAX_IDS),
    ):
        count, ids = len(cache), cache.ids
        freed = _freed(cache.clear)
        per = freed / max(ids, 1)
        full += per * bound
        print(
            f"index {name}: {count:,} words, {ids:,} ids, {freed / 1e6:.1f} MB: "
            f"{per:.0f} B per id; bound {bound:,} ids"
        )
    for cached in lru:
        info = cached.cache_info()
        freed = _freed(cached.cache_clear)
        per = freed / max(info.currsize, 1)
        full += per * (info.maxsize or 0)
        rate = info.hits / max(info.hits + info.misses, 1)
        print(
            f"{cached.__name__}: {info.currsize:,} entries, {freed / 1e6:.1f} MB: {per:.0f} B per "
            f"entry; bound {info.maxsize:,} (hit rate {rate:.2f})"
        )
    info = analysis.analyze.cache_info()
    freed = _freed(analysis.analyze.cache_clear) + _freed(SHARED_INTERNER.clear)
    per = freed / max(info.currsize, 1)
    full += per * (info.maxsize or 0)
    print(
        f"analyze (with its interner): {info.currsize:,} entries, {freed / 1e6:.1f} MB: "
        f"{per:.0f} B per entry; bound {info.maxsize:,}"
    )
    print(f"budget_mb={matcher_cache_bytes() / 2**20:.0f} full_mb={full / 2**20:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
