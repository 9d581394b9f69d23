"""Time the import of every official list in ../shared/data into one fresh registry.

    python -m bench.import_lists [--data PATH] [--db PATH]

Prints, per list: records, parse and write seconds (CPU and wall), records per
second, and the process's resident memory after it and at its peak; then the
totals, a re-import of the OFAC SDN JSON (which must change nothing) and the
database size. Targets: the OFAC SDN JSON in <= 3 s, all lists in <= 20 s, on
one core. Last line: `total_s=... ofac_json_s=... peak_rss_mb=... db_mb=...`.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from registry.db import open_registry
from registry.imports import run_import

from .paths import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = SHARED_DATA

LISTS = [
    ("OFAC SDN (JSON)", "ofac-json", ["ofac_sdn_kindrat86/ofac-sdn.json"]),
    ("OFAC consolidated non-SDN", "ofac-csv", ["watchman/ofac_nonsdn_2025-12"]),
    ("Consolidated Screening List", "csl-csv", ["watchman/csl_2022-05/consolidated.csv"]),
    ("BIS Entity List", "bis-json", ["bis_nsfreg/bis_entity_list.json"]),
    ("UK Sanctions List", "uk-csv", ["uk_covyr"]),
    ("EU + UN (pakote)", "eu-json", ["eu_un_pakote/all.json"]),
    ("UN consolidated (XML)", "un-xml", ["watchman/un_2026-02/UN_consolidated.xml"]),
]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--db", type=Path, default=None, help="default: a temporary file")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"No list files at {args.data}")
    tmp = tempfile.TemporaryDirectory(prefix="bench-import-")
    db_path = args.db or Path(tmp.name) / "registry.db"
    db = open_registry(db_path)
    print(
        f"machine: {platform.platform()} | cpus: {os.cpu_count()} | python "
        f"{platform.python_version()} | database: {db_path}"
    )
    print(
        f"{'list':<30} {'format':<10} {'records':>8} {'parse s':>8} {'write s':>8} "
        f"{'wall s':>7} {'cpu s':>6} {'rec/s':>7} {'rss MB':>7} {'peak MB':>8}"
    )
    total_wall = total_cpu = ofac_json = 0.0
    for label, fmt, files in LISTS:
        phases: dict[str, float] = {}
        last = {"phase": "", "at": time.perf_counter()}

        def progress(
            phase: str, done: int, total: int | None, last: dict = last, phases: dict = phases
        ) -> None:
            now = time.perf_counter()
            if phase != last["phase"]:
                last["phase"], last["start"] = phase, now
            phases[phase] = now - last["start"]

        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = run_import(
            db, fmt, [args.data / f for f in files], actor="bench", progress=progress
        )
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        records = sum(result.counts.as_dict().values())
        total_wall += wall
        total_cpu += cpu
        if fmt == "ofac-json":
            ofac_json = wall
        print(
            f"{label:<30} {fmt:<10} {records:>8,} {phases.get('parse', 0):>8.2f} "
            f"{phases.get('write', 0):>8.2f} {wall:>7.2f} {cpu:>6.2f} {records / wall:>7,.0f} "
            f"{rss_mb():>7.0f} {peak_mb():>8.0f}"
        )
    print(
        f"{'all lists':<30} {'':<10} {'':>8} {'':>8} {'':>8} {total_wall:>7.2f} {total_cpu:>6.2f}"
    )
    again0 = time.perf_counter()
    again = run_import(db, "ofac-json", [args.data / "ofac_sdn_kindrat86/ofac-sdn.json"])
    print(
        f"re-import of the OFAC SDN JSON: {again.summary_line()} in "
        f"{time.perf_counter() - again0:.2f} s"
    )
    db.close()
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6
    print(
        f"targets: OFAC SDN JSON <= 3 s ({'met' if ofac_json <= 3 else 'missed'}), "
        f"all lists <= 20 s ({'met' if total_wall <= 20 else 'missed'})"
    )
    print(
        f"total_s={total_wall:.2f} ofac_json_s={ofac_json:.2f} peak_rss_mb={peak_mb():.0f} "
        f"db_mb={size:.0f}"
    )
    tmp.cleanup()


if __name__ == "__main__":
    main()
