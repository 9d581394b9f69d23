"""The matcher's caches of query work are sized by one byte budget
(REGISTRY_MATCHER_CACHE_MB, issue 14): what each may hold scales with it, and
at their estimated sizes per entry they fit in it together."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json
from registry.config import matcher_cache_bytes
from registry.matching import analysis, index, normalize, similarity
caches = {
    f.__name__: f.cache_info().maxsize
    for f in (analysis.analyze, normalize.normalize_name, similarity.phonetic_key,
              similarity._skeleton, similarity._abjad_skeleton, similarity.kana_key,
              similarity._latin_pair, similarity._token_pair)
}
caches["index_hits_ids"] = index._CACHE_MAX_IDS
caches["index_specials_ids"] = index._SPECIALS_MAX_IDS
caches["interner"] = analysis.SHARED_INTERNER.size
print(json.dumps({"budget": matcher_cache_bytes(), "caches": caches}))
"""
# Bytes per entry (bench.cache_sizes, pure Python; the compiled matcher's are smaller).
PER_ENTRY = {
    "analyze": 1650,
    "normalize_name": 200,
    "phonetic_key": 140,
    "_skeleton": 140,
    "_abjad_skeleton": 140,
    "kana_key": 140,
    "_latin_pair": 160,
    "_token_pair": 190,
    "index_hits_ids": 40,
    "index_specials_ids": 82,
}


def probe(megabytes: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_MATCHER_CACHE_MB"}
    if megabytes is not None:
        env["REGISTRY_MATCHER_CACHE_MB"] = megabytes
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_caches_follow_one_byte_budget() -> None:
    default, small = (json.loads(probe(mb).stdout) for mb in (None, "16"))
    assert default["budget"] == 64 * 2**20 and small["budget"] == 16 * 2**20
    for found in (default, small):
        caches = found["caches"]
        held = sum(caches[name] * size for name, size in PER_ENTRY.items())
        assert held <= found["budget"], (held, found)
        assert caches["interner"] == caches["analyze"]
    for name, entries in default["caches"].items():
        assert small["caches"][name] in range(entries // 4 - 1, entries // 4 + 2), name
    # Today's sizes at the default for what most queries use.
    assert default["caches"]["analyze"] >= 9_000
    assert default["caches"]["_latin_pair"] >= 50_000
    assert default["caches"]["index_hits_ids"] >= 500_000


def test_a_bad_budget_stops_the_start() -> None:
    bad = probe("0")
    assert bad.returncode != 0 and "REGISTRY_MATCHER_CACHE_MB" in bad.stderr
