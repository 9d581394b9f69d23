"""A generated customer book screened on a local Dask cluster (`registry screen-book`).

    python -m bench.book [--names 1000000] [--workers 1,2] [--db PATH] [--keep DIR]

The registry: `--db`, or every list imported into a temporary one (as
`bench.import_lists`). The book (CSV, seeded): a fifth variants of listed names
(typos, word order, legal forms, transliteration, look-alikes), the rest made-up
people (a UK-listed given name with another person's family name, some with a
date of birth and a nationality) and companies. For each worker count, the
whole `book.screen_book` run on a local cluster of that many processes (one
thread each) into a fresh folder: cluster start, each worker loading the index
snapshot once, partitions screened and written. Figures are wall-clock names
per second of the whole run (the only clock that shows parallel work; this
machine is shared, so compare the two within one run), and the matches found.
Last line: ``names_per_s_1=A names_per_s_2=B`` (one figure per worker count).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from registry.book import screen_book
from registry.db import open_registry
from registry.imports import run_import
from registry.index_snapshot import snapshot_path
from registry.screening import ScreenOptions

from .data import load_ofac, make_variant, uk_person_parts
from .import_lists import LISTS
from .paths import SHARED_DATA
from .scaling import COMPANY_KINDS, COMPANY_WORDS, FORMS
from .screen_throughput import machine

KINDS = ("typo", "reorder", "legal_form", "case", "transliteration", "lookalike")
COUNTRIES = ("GB", "US", "DE", "FR", "CN", "RU", "IR", "AE", "IN", "BR")


def make_book(path: Path, n: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    listed = [x for x in load_ofac() if len(x.name.split()) >= 2]
    people = uk_person_parts()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "name", "type", "country", "dob", "nationality"])
        for k in range(n):
            dob = nationality = country = ""
            roll = rng.random()
            if roll < 0.2:
                item = rng.choice(listed)
                name, kind = make_variant(rng, item, rng.choice(KINDS)), item.entity_type
                kind = kind if kind in ("person", "vessel", "aircraft") else "company"
            elif roll < 0.7:
                given, _ = rng.choice(people)
                _, family = rng.choice(people)
                name, kind = f"{given} {family}", "person"
                if rng.random() < 0.5:
                    month, day = rng.randint(1, 12), rng.randint(1, 28)
                    dob = f"{rng.randint(1940, 2004)}-{month:02d}-{day:02d}"
                    nationality = rng.choice(COUNTRIES)
            else:
                words = rng.sample(COMPANY_WORDS, 2)
                name = f"{words[0]} {words[1]} {rng.choice(COMPANY_KINDS)} {rng.choice(FORMS)}"
                kind, country = "company", rng.choice(COUNTRIES)
            out.writerow([f"c{k}", name, kind, country, dob, nationality])


def registry_or_build(db: Path | None, folder: str) -> Path:
    """`db`, or a new registry with every list imported in `folder`."""
    if db is not None:
        return db
    path = Path(folder) / "registry.db"
    t0 = time.perf_counter()
    build_registry(path)
    print(f"every list imported into a new registry in {time.perf_counter() - t0:.0f} s")
    return path


def build_registry(db_path: Path) -> None:
    db = open_registry(db_path)
    try:
        for _, fmt, files in LISTS:
            run_import(db, fmt, [SHARED_DATA / f for f in files], actor="bench")
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--db", type=Path, default=None, help="default: every list, imported now")
    ap.add_argument("--partition-size", default="1MB")
    ap.add_argument("--keep", type=Path, default=None, help="keep the book and answers here")
    args = ap.parse_args(argv)
    print(machine())
    tmp = tempfile.TemporaryDirectory(prefix="bench-book-")
    work = args.keep or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    db_path = args.db
    if db_path is None:
        db_path = work / "registry.db"
        started = time.perf_counter()
        build_registry(db_path)
        print(f"registry: every list imported in {time.perf_counter() - started:.0f} s")
    book = work / "book.csv"
    started = time.perf_counter()
    make_book(book, args.names)
    print(
        f"book: {args.names:,} names ({book.stat().st_size / 1e6:.0f} MB CSV) made in "
        f"{time.perf_counter() - started:.0f} s; partitions of {args.partition_size}"
    )
    rates = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        output = work / f"out-{workers}"
        shutil.rmtree(output, ignore_errors=True)
        cpu0 = os.times()
        report = screen_book(
            book,
            output,
            db_path=db_path,
            snapshot=snapshot_path(db_path),
            options=ScreenOptions(),
            workers=workers,
            blocksize=args.partition_size,
        )
        cpu1 = os.times()
        children = (cpu1.children_user - cpu0.children_user) + (
            cpu1.children_system - cpu0.children_system
        )
        matches = sum(
            int((pd.read_csv(f, dtype=str, usecols=["match"])["match"] == "true").sum())
            for f in report.files
        )
        rates[workers] = report.names_per_s
        print(
            f"{workers} worker(s): {report.names:,} names in {report.partitions} partitions, "
            f"{report.seconds:.1f} s wall ({report.names_per_s:,.0f} names/s), "
            f"this process {cpu1.user - cpu0.user + cpu1.system - cpu0.system:.1f} s CPU, "
            f"workers {children:.1f} s CPU; {matches:,} matches"
        )
    print_rates(rates, "names_per_s")
    return 0


def print_rates(rates: dict[int, float], key: str) -> None:
    """The speed-up of the most workers over the fewest, then the last line
    `KEY_N=rate ...` (one per worker count)."""
    if len(rates) > 1:
        first, *_, last = rates
        print(f"speed-up {last} vs {first} worker(s): {rates[last] / rates[first]:.2f}x")
    print(" ".join(f"{key}_{w}={rate:.0f}" for w, rate in rates.items()))


if __name__ == "__main__":
    sys.exit(main())
