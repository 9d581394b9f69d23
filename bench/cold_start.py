"""Cold start to the first screening, from the index snapshot, stage by stage.

    python -m bench.cold_start [--db PATH] [--runs 3]

The registry: `--db` (every list imported; a first `registry screen` makes its
snapshot if it has none this code can use), or every list imported into a temporary one.
Each run is a fresh interpreter that does what `registry screen` does before its
first answer, timing each stage in CPU seconds (the machine is shared: wall time
is given beside them): the interpreter and imports, opening the registry
(connect, migrate), then `IndexCache` loading the snapshot - the header and its
checks, reading and checksumming the file, unpickling the index (the stages
`index_snapshot.load` records) - and the first screening of one name through
`screening.screen` (the code of POST /screen and `registry screen`). Then the
whole `registry screen` command of one name, CPU and wall. Medians of the runs.

Last line: ``cold_start_cpu_s=C cold_start_wall_s=W`` (interpreter start to the
first screening answered; issue 14 asks for at most 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "Vladimir Putin"


def child(db_path: str, spawned: float) -> None:
    """One cold start (run in a fresh interpreter); prints its stages as JSON."""
    stages: dict[str, tuple[float, float]] = {}
    lap = [0.0, spawned]  # (CPU since the process started, wall)

    def stage(name: str) -> None:
        cpu, wall = time.process_time(), time.time()
        stages[name] = (cpu - lap[0], wall - lap[1])
        lap[:] = [cpu, wall]

    from registry import index_snapshot
    from registry.db import open_registry
    from registry.screen_index import IndexCache
    from registry.screening import ScreenOptions, screen

    stage("interpreter_and_imports")
    db = open_registry(db_path)
    stage("open_registry")
    cache = IndexCache(db_path, wait=600, snapshot=index_snapshot.snapshot_path(db_path))
    cache.view(db)  # loads the snapshot (in the cache's builder thread)
    stage("load_index")
    results = screen(db, cache, [{"name": NAME}], ScreenOptions())
    assert results and results[0]["matches"], results
    stage("first_screening")
    cache.close()
    out = {
        "stages": stages,
        "load": dict(index_snapshot.last_load),
        "source": (cache.state().get("last_build") or {}).get("source"),
    }
    print(json.dumps(out))


def run_child(db: Path) -> dict[str, object]:
    env = {**os.environ, "REGISTRY_LOG_LEVEL": "WARNING"}
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold_start", "--child", str(db), "--spawned", str(started)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_cli(db: Path, names_csv: Path) -> tuple[float, float]:
    """The whole `registry screen` of one name: (CPU seconds, wall seconds)."""
    import resource

    env = {**os.environ, "REGISTRY_DB": str(db), "REGISTRY_LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "registry", "screen", str(names_csv)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert b"true" in done.stdout, done.stdout[:500]
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--spawned", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.spawned)
        return 0

    from .book import registry_or_build
    from .screen_throughput import machine

    print(machine())
    tmp = tempfile.TemporaryDirectory(prefix="bench-cold-")
    db = registry_or_build(args.db, tmp.name)
    names_csv = Path(tmp.name) / "one.csv"
    names_csv.write_text(f"name\n{NAME}\n", encoding="utf-8")
    # (builds and saves the snapshot if there is none, or none this code can use)
    cpu, wall = run_cli(db, names_csv)
    print(f"a first `registry screen`: {cpu:.1f} s CPU, {wall:.1f} s wall")
    runs = [run_child(db) for _ in range(args.runs)]
    assert all(r["source"] == "snapshot" for r in runs), [r["source"] for r in runs]
    stage_names = list(runs[0]["stages"])  # type: ignore[call-overload]
    for name in stage_names:
        cpu = statistics.median(r["stages"][name][0] for r in runs)  # type: ignore[index]
        wall = statistics.median(r["stages"][name][1] for r in runs)  # type: ignore[index]
        print(f"{name:<24} {cpu:6.3f} s CPU {wall:6.3f} s wall")
        if name == "load_index":
            for part in runs[0]["load"]:  # type: ignore[attr-defined]
                part_cpu = statistics.median(r["load"][part] for r in runs)  # type: ignore[index]
                print(f"  {part:<22} {part_cpu:6.3f} s CPU")
    totals = [
        (sum(s[0] for s in r["stages"].values()), sum(s[1] for s in r["stages"].values()))  # type: ignore[attr-defined]
        for r in runs
    ]
    cpu = statistics.median(t[0] for t in totals)
    wall = statistics.median(t[1] for t in totals)
    print(f"interpreter start to first screening: {cpu:.3f} s CPU, {wall:.3f} s wall")
    cli = [run_cli(db, names_csv) for _ in range(args.runs)]
    print(
        f"`registry screen` of one name, the whole command: "
        f"{statistics.median(c[0] for c in cli):.3f} s CPU, "
        f"{statistics.median(c[1] for c in cli):.3f} s wall; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"cold_start_cpu_s={cpu:.2f} cold_start_wall_s={wall:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
