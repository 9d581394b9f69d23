"""Screening throughput of NameIndex over the full OFAC SDN list, against brute force.

    python -m bench.screen_throughput [--ofac PATH] [--uk PATH] [--queries N]
                                      [--brute-sample N] [--seed S] [--names N]

Loads every SDN name and alias into a NameIndex (this measures the matcher, not
the HTTP layer; CPU time of the build, names per second), pickles it and loads
the pickle back (`NameIndex.dump` / `NameIndex.load`), screens N names (a
seeded mix: half variants of listed names - typos, reordering, legal-form
changes, case, transliteration, look-alikes - and half names the index does not
hold as such: UK-list names and shuffled tokens), and prints build time, names
per second, p50/p99 per name and recall on the variants. A brute-force
rapidfuzz scan (``process.extractOne`` with ``fuzz.token_sort_ratio`` over
every listed name) runs on a sample of the same queries; its rate is
extrapolated and the ratio printed, and so is how often the scan's best entity
- when it is the variant's true source - is missing from the index's answer
(recall lost to the index). With ``--names N`` it also builds, pickles and loads
an index of N names (the SDN, UK and EU/UN lists, topped up with variants of
their names; see `bench.data.large_list`) and prints those times. Last line:
``names_per_s=... p50_ms=... p99_ms=... speedup_vs_bruteforce=...``.

With ``--all-lists`` (issue 14) it then starts a real `registry serve` over a
registry holding every list (``--db``, or one imported now), its index loaded
from the snapshot, and adds a last line ``rss_ready_mb=R rss_load_mb=L
names_per_s=S``: RSS when ready, peak RSS over two POST /screen batches of
10,000 of the same names, and names per second of the server's CPU time.
With ``--workers 1,2`` it also runs `registry serve --workers N` for each N and
sends the same 10,000 names as POST /screen batches of 250 from 2N clients at
once, printing ``workers_names_per_s_1=A workers_names_per_s_2=B`` (names per
second by the clock; the clients share the machine's cores) before that last
line.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bench.data import (
    OFAC_JSON,
    UK_NAMES,
    UK_SUBJECTS,
    Listed,
    build_index,
    large_list,
    load_ofac,
    load_uk,
    variants,
)
from registry.matching import BUILD, DEFAULT_THRESHOLD, NameIndex
from registry.matching.analysis import analyze
from registry.matching.scorer import score_detail


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"machine: {platform.platform()} | cpu: {cpu} | cpus: {os.cpu_count()} | "
        f"python {platform.python_version()} ({platform.python_implementation()}) | "
        f"matcher: {BUILD}"
    )


def build_and_load(listed: list[Listed], label: str) -> tuple[NameIndex, NameIndex]:
    """Build an index of `listed` (CPU time), pickle it and load it back; print the
    rates. Returns (built, loaded)."""
    gc.collect()
    t0 = time.process_time()
    built = build_index(listed)
    build_s = time.process_time() - t0
    t0 = time.process_time()
    gc.collect()  # what the build leaves to the collector (it runs paused)
    collect_s = time.process_time() - t0
    buf = io.BytesIO()
    t0 = time.process_time()
    built.dump(buf)
    dump_s = time.process_time() - t0
    buf.seek(0)
    t0 = time.process_time()
    loaded = NameIndex.load(buf)
    load_s = time.process_time() - t0
    print(
        f"{label}: {len(listed):,} names of {built.entity_count:,} entities built in "
        f"{build_s:.2f} s CPU ({len(listed) / build_s:,.0f} names/s; then {collect_s:.2f} s "
        f"for a full garbage collection); pickle {buf.tell() / 1e6:.0f} MB written in "
        f"{dump_s:.2f} s, loaded in {load_s:.2f} s ({len(listed) / load_s:,.0f} names/s)"
    )
    return built, loaded


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ofac", type=Path, default=OFAC_JSON)
    ap.add_argument("--uk", type=Path, default=UK_NAMES)
    ap.add_argument("--uk-subjects", type=Path, default=UK_SUBJECTS)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--brute-sample", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20240223)
    ap.add_argument("--names", type=int, default=0, help="also time the build and load of N names")
    ap.add_argument(
        "--all-lists",
        action="store_true",
        help="then a real `registry serve` with every list: RSS ready and under load, names/s",
    )
    ap.add_argument("--db", type=Path, default=None, help="with --all-lists: this registry")
    ap.add_argument(
        "--workers",
        default="",
        help="with --all-lists: also `registry serve --workers N` for each N (e.g. 1,2), "
        "batches sent concurrently: names/s by the clock",
    )
    ap.add_argument(
        "--serve-only",
        action="store_true",
        help="with --all-lists: only the `registry serve` part (the same names)",
    )
    args = ap.parse_args(argv)
    print(machine())

    listed = load_ofac(args.ofac)
    if not args.serve_only:
        index, _ = build_and_load(listed, "index")
        if args.names:
            build_and_load(large_list(args.names), "large index")
        # A long-lived screening process freezes its loaded index out of the
        # garbage collector's way, or the first full collection stalls a query.
        gc.collect()
        gc.freeze()

    rng = random.Random(args.seed)
    n_var = args.queries // 2
    queries: list[tuple[str, str | None, str | None]] = []  # (query, type, true entity)
    for query, item, _kind in variants(rng, listed, n_var):
        queries.append((query, item.entity_type, item.entity_id))
    other = load_uk(args.uk, args.uk_subjects)
    tokens = [t for x in listed for t in x.name.replace(",", " ").split() if len(t) > 2]
    while len(queries) < args.queries:
        if rng.random() < 0.6:
            item = rng.choice(other)
            queries.append((item.name, item.entity_type, None))
        else:
            queries.append((" ".join(rng.sample(tokens, rng.randint(2, 4))), None, None))
    rng.shuffle(queries)
    if args.serve_only and args.all_lists:
        workers = [int(w) for w in args.workers.split(",") if w.strip()]
        all_lists(args.db, [q for q, _, _ in queries], workers)
        return 0

    times = []  # CPU seconds per name: the machine is shared, wall time is noisy
    found = total_var = 0
    answers: list[set[str]] = []
    wall0 = time.perf_counter()
    for query, etype, truth in queries:
        t = time.process_time()
        result = index.screen(query, entity_type=etype, threshold=DEFAULT_THRESHOLD)
        times.append(time.process_time() - t)
        ids = {m.entity_id for m in result}
        answers.append(ids)
        if truth is not None:
            total_var += 1
            found += truth in ids
    wall = time.perf_counter() - wall0
    elapsed = sum(times)
    rate = len(queries) / elapsed
    times_ms = sorted(x * 1000 for x in times)
    p50 = statistics.median(times_ms)
    p99 = times_ms[min(len(times_ms) - 1, int(0.99 * len(times_ms)))]
    print(
        f"screened {len(queries)} names in {elapsed:.2f} s of CPU ({wall:.2f} s wall): "
        f"{rate:,.0f} names/s on one core ({len(queries) / wall:,.0f} by wall clock)"
    )
    print(f"CPU time per name: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {times_ms[-1]:.1f} ms")
    print(f"recall on variants of listed names: {found}/{total_var} = {found / total_var:.3f}")

    # Brute force: rapidfuzz over every listed name, on a sample of the same queries.
    names = [x.name for x in listed]
    owners = [x.entity_id for x in listed]
    choices = [utils.default_process(n) for n in names]
    sample = rng.sample(range(len(queries)), min(args.brute_sample, len(queries)))
    lost = real = 0
    t = time.process_time()
    best_of = {}
    for i in sample:
        hit = process.extractOne(
            utils.default_process(queries[i][0]), choices, scorer=fuzz.token_sort_ratio,
            processor=None,
        )  # fmt: skip
        best_of[i] = owners[hit[2]] if hit else None
    brute_s = time.process_time() - t
    brute_rate = len(sample) / brute_s
    scorer_below = 0
    names_of_truth: dict[str, list[tuple[str, str]]] = {}
    for x in listed:
        names_of_truth.setdefault(x.entity_id, []).append((x.name, x.entity_type))
    for i in sample:
        truth = queries[i][2]
        if truth is not None and best_of[i] == truth:
            real += 1
            if truth not in answers[i]:
                lost += 1
                qa = analyze(queries[i][0], queries[i][1])
                direct = max(
                    score_detail(qa, analyze(n, t)).score for n, t in names_of_truth[truth]
                )
                scorer_below += direct < DEFAULT_THRESHOLD
    speedup = rate / brute_rate
    print(
        f"brute force (rapidfuzz token_sort_ratio over all {len(names)} names, "
        f"{len(sample)} queries): {brute_rate:,.1f} names/s; index: {rate:,.0f} names/s; "
        f"ratio {speedup:,.0f}x"
    )
    print(
        f"recall lost to the index: brute force's best entity is the true source for {real} "
        f"sampled variants; the index misses {lost} of them ({lost / max(real, 1):.3f}), "
        f"of which {scorer_below} because our scorer puts the source below the threshold "
        f"and {lost - scorer_below} through retrieval"
    )
    # The same question against our own scorer: whenever scoring the true source's
    # names directly reaches the threshold, does the index return that entity?
    names_of = names_of_truth
    due = missed = 0
    missed_examples: list[tuple[str, str, float]] = []
    for i, (query, etype, truth) in enumerate(queries):
        if truth is None:
            continue
        qa = analyze(query, etype)
        direct = max(score_detail(qa, analyze(n, t)).score for n, t in names_of[truth])
        if direct >= DEFAULT_THRESHOLD:
            due += 1
            if truth not in answers[i]:
                missed += 1
                if len(missed_examples) < 5:
                    missed_examples.append((query, truth, round(direct, 3)))
    print(
        f"recall lost to the index vs scoring the source's names directly: {missed}/{due} "
        f"variants ({missed / max(due, 1):.4f}) {missed_examples}"
    )
    last = f"names_per_s={rate:.0f} p50_ms={p50:.3f} p99_ms={p99:.3f}"
    print(f"{last} speedup_vs_bruteforce={speedup:.0f}")
    if args.all_lists:
        del index
        gc.unfreeze()
        gc.collect()
        workers = [int(w) for w in args.workers.split(",") if w.strip()]
        all_lists(args.db, [q for q, _, _ in queries], workers)
    return 0


def all_lists(db: Path | None, names: list[str], workers: list[int] | None = None) -> None:
    """A real `registry serve` over every list (its index from the snapshot, as it
    starts after the first time): RSS when ready, its peak over two POST /screen
    batches of 10,000 names (the largest a request takes), and names per second of
    the server's CPU time in the second batch."""
    import json
    import tempfile

    from registry.index_snapshot import snapshot_path

    from .book import registry_or_build
    from .procstats import cpu_s, proc_status
    from .serve_workers import Server

    tmp = tempfile.TemporaryDirectory(prefix="bench-throughput-")
    db = registry_or_build(db, tmp.name)
    if not snapshot_path(db).exists():  # a first start builds and saves it
        server = Server(db, 1)
        server.first_screening()
        while not snapshot_path(db).exists():
            time.sleep(0.2)
        server.stop()
    server = Server(db, 1)
    try:
        ready_s = server.first_screening()
        pid = server.proc.pid
        rss_ready = proc_status(pid, "VmRSS")
        body = json.dumps({"queries": [{"name": n} for n in names[:10_000]]}).encode()
        rate = 0.0
        for _ in range(2):
            cpu0 = cpu_s(pid)
            status, answer = server.post("/screen", body)
            assert status == 200, answer[:500]
            rate = min(10_000, len(names)) / (cpu_s(pid) - cpu0)
        rss_load = proc_status(pid, "VmHWM")
        rss_end = proc_status(pid, "VmRSS")
    finally:
        server.stop()
    if workers:
        rates = {n: concurrent_rate(db, n, names[:10_000]) for n in workers}
        print(" ".join(f"workers_names_per_s_{n}={rate:.0f}" for n, rate in rates.items()))
    print(
        f"registry serve, every list, index from its snapshot: first screening after "
        f"{ready_s:.1f} s, RSS {rss_ready:.0f} MB ready; two POST /screen batches of "
        f"{min(10_000, len(names)):,} names: {rate:,.0f} names/s of server CPU (second batch), "
        f"peak RSS {rss_load:.0f} MB, {rss_end:.0f} MB after"
    )
    print(f"rss_ready_mb={rss_ready:.0f} rss_load_mb={rss_load:.0f} names_per_s={rate:.0f}")


def concurrent_rate(db: Path, workers: int, names: list[str], chunk: int = 250) -> float:
    """`registry serve --workers N`: the names in POST /screen batches of `chunk`,
    sent by 2N client threads at once, twice (the second round counts): names per
    second by the clock, with the server's cores busy and load average beside."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from .procstats import cpu_s
    from .serve_workers import Server, family

    bodies = [
        json.dumps({"queries": [{"name": n} for n in names[k : k + chunk]]}).encode()
        for k in range(0, len(names), chunk)
    ]
    server = Server(db, workers)
    try:
        server.first_screening()

        def post(body: bytes) -> None:
            status, answer = server.post("/screen", body)
            assert status == 200, answer[:500]

        rate = cores = 0.0
        with ThreadPoolExecutor(max_workers=2 * workers) as pool:
            for _ in range(2):
                pids = family(server.proc.pid)
                cpu0 = sum(cpu_s(pid) for pid in pids)
                t0 = time.perf_counter()
                list(pool.map(post, bodies))
                wall = time.perf_counter() - t0
                cores = (sum(cpu_s(pid) for pid in pids) - cpu0) / wall
                rate = len(names) / wall
    finally:
        server.stop()
    print(
        f"registry serve --workers {workers}: {len(names):,} names in POST /screen batches of "
        f"{chunk} from {2 * workers} clients at once: {rate:,.0f} names/s by the clock, server "
        f"{cores:.2f} cores busy (load average {os.getloadavg()[0]:.1f})"
    )
    return rate


if __name__ == "__main__":
    sys.exit(main())
