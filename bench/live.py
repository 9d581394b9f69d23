"""A live service: screening while the registry takes writes and an import.

    python -m bench.live [--writes 200] [--clients 4] [--from DB] [--keep DIR]

Imports every official list (bench.import_lists) and the seed fixtures into a
fresh registry, starts a real `registry serve` subprocess and measures:

- start-up: when /healthz answers, when /readyz says ready, the first screening;
- screening clients (processes, `requests`, default parameters; names are seeded
  variants of listed names and made-up people and companies) running all along;
- `--writes` writes through the API (POST /entities, and PATCH renaming an entity
  written earlier) with a write key from `registry keys create`; after each 2xx,
  how long until GET /screen finds the new name (write-to-visible);
- one `registry import` in another process half-way (the next OFAC SDN file, a
  daily refresh; `--live-import` for another), and how long until the service's
  index has it;
- the server's resident memory (RSS) when ready, after a warm-up of screening
  (start), at its peak and at the end, after the writes and the import.

Targets (issue 10): screening p99 during writes <= 100 ms, write-to-visible
<= 100 ms, RSS end - start <= 20 MB, no errors. Last line:
`screen_p99_ms=P visible_ms=V rss_start_mb=A rss_end_mb=B writes=N errors=E`
(V is the worst write-to-visible time; an error is any answer that is not a
2xx, or a write never visible).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from registry.db import open_registry
from registry.imports import run_import
from registry.loader import load_paths

from .data import Listed, make_variant, uk_person_parts
from .import_lists import LISTS
from .paths import SHARED_DATA
from .procstats import cpu_s, rss_mb

ROOT = Path(__file__).resolve().parents[1]
# Every list, the OFAC SDN as its file of 2024-02-20 (as the README imports it
# first), then while the service runs the next file, of 2024-02-23 (553 added, 8
# changed), as a daily refresh would. (The OFAC SDN JSON is left out: a later
# publication, after which the 2024-02-23 file would roll the list back.)
FIRST_IMPORTS = [
    ("ofac-csv", ["ofac_sdn_snapshots/sdn_2024-02-20.csv"]),
    *((fmt, files) for _, fmt, files in LISTS if fmt != "ofac-json"),
]
LIVE_IMPORT = "ofac-csv:ofac_sdn_snapshots/sdn_2024-02-23.csv"
VARIANT_KINDS = ("typo", "reorder", "legal_form", "case", "transliteration", "lookalike")
COMPANY_WORDS = (
    "Northern", "Amber", "Cobalt", "Delta", "Harbor", "Granite", "Lumen", "Meridian", "Nimbus",
    "Orchid", "Pioneer", "Quartz", "Sable", "Tundra", "Vertex", "Willow", "Zenith", "Falcon",
    "Cedar", "Summit", "Atlas", "Beacon", "Crescent",
)  # fmt: skip
COMPANY_KINDS = (
    "Trading", "Logistics", "Shipping", "Holdings", "Industries", "Engineering", "Capital",
)  # fmt: skip
FORMS = ("Ltd", "LLC", "GmbH", "S.A.", "Co., Ltd.", "Limited", "Inc")


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_registry(db_path: Path, data: Path, without: list[str]) -> None:
    db = open_registry(db_path)
    try:
        started = time.perf_counter()
        for fmt, files in FIRST_IMPORTS:
            if fmt not in without:
                run_import(db, fmt, [data / f for f in files], actor="bench")
        load_paths(db, [ROOT / "fixtures"])
        names = db.conn.execute("SELECT COUNT(*) FROM names WHERE valid_to IS NULL").fetchone()
        entities = db.conn.execute("SELECT COUNT(*) FROM entities").fetchone()
        print(
            f"registry: {'every list' if not without else 'the lists but ' + ', '.join(without)}"
            f" imported and the fixtures loaded in "
            f"{time.perf_counter() - started:.0f} s: {entities[0]:,} entities, {names[0]:,} names"
        )
    finally:
        db.close()


def query_names(db_path: Path, n: int, seed: int = 7) -> list[str]:
    """Half variants of listed names, half made-up customers (people and companies)."""
    rng = random.Random(seed)
    db = open_registry(db_path)
    try:
        rows = db.conn.execute(
            "SELECT n.entity_id, n.name, e.type FROM names n JOIN entities e ON e.id = n.entity_id "
            "WHERE n.valid_to IS NULL AND n.kind = 'primary' ORDER BY n.id"
        ).fetchall()
    finally:
        db.close()
    listed = [Listed(r[0], r[1], "primary", r[2]) for r in rows if len(r[1].split()) >= 2]
    people = uk_person_parts()
    out: list[str] = []
    while len(out) < n:
        pick = rng.random()
        if pick < 0.5:
            out.append(make_variant(rng, rng.choice(listed), rng.choice(VARIANT_KINDS)))
        elif pick < 0.75:
            given, _ = rng.choice(people)
            _, family = rng.choice(people)
            out.append(f"{given} {family}")
        else:
            out.append(
                f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} "
                f"{rng.choice(COMPANY_KINDS)} {rng.choice(FORMS)}"
            )
    return out


@dataclass
class Record:
    started: float
    seconds: float
    status: int
    name: str = ""


@dataclass
class Stats:
    screens: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def screening_client(
    base: str,
    names: list[str],
    seed: int,
    think: float,
    stop: Any,
    done: Any,
    results: Any,
) -> None:
    """One screening client, in a process of its own (run by `multiprocessing`):
    as threads of the benchmark's process, the clients' own work (requests, JSON)
    competed for its interpreter lock with each other and with the writer whose
    write-to-visible times are measured. Counts its requests in `done`, and puts
    its records and errors in `results` when `stop` is set."""
    rng = random.Random(seed)
    session = requests.Session()
    records: list[Record] = []
    errors: list[str] = []
    while not stop.is_set():
        name = rng.choice(names)
        started = time.monotonic()
        try:
            response = session.get(f"{base}/screen", params={"name": name}, timeout=60)
            status = response.status_code
        except requests.RequestException as exc:
            status = 0
            errors.append(f"screen {name!r}: {exc}")
        records.append(Record(started, time.monotonic() - started, status, name))
        with done.get_lock():
            done.value += 1
        if status != 200:
            errors.append(f"screen {name!r}: HTTP {status}")
        if think:
            stop.wait(think)
    results.put((records, errors))


def new_entity(rng: random.Random, n: int) -> dict[str, Any]:
    name = (
        f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)}vale "
        f"{_word(rng)} {rng.choice(COMPANY_KINDS)} {rng.choice(FORMS)}"
    )
    return {
        "type": "company",
        "name": name,
        "country": rng.choice(["HK", "AE", "TR", "CN", "RU"]),
        "designations": [
            {
                "id": f"bench-live-{n}",
                "jurisdiction": "GB",
                "authority": "FCDO",
                "list": "UK Sanctions List",
                "listed_date": "2024-02-22",
                "evidence": [{"source": "seed-000", "quote": "including three Chinese companies"}],
            }
        ],
    }


def _word(rng: random.Random) -> str:
    """A made-up word, so that every written name is new to the registry."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(4)).title()


def writes(
    base: str,
    key: str,
    n: int,
    stats: Stats,
    on_half: threading.Event,
    pause: float,
    trace: list[tuple[str, float, float, float, float]] | None = None,
) -> Iterator[tuple[float, float]]:
    """Make `n` writes; yield each one's write-to-visible time and its own duration
    (the answer comes once the index has it), in seconds."""
    rng = random.Random(11)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    created: list[str] = []
    for k in range(n):
        if k == n // 2:
            on_half.set()
        if created and k % 4 == 3:  # every fourth write renames an earlier entity
            entity_id = rng.choice(created)
            name = new_entity(rng, k)["name"]
            method, url, body = "PATCH", f"{base}/entities/{entity_id}", {"name": name}
        else:
            body = new_entity(rng, k)
            name, method, url = str(body["name"]), "POST", f"{base}/entities"
        response = None
        sent = time.monotonic()
        for _attempt in range(10):  # a busy database (the import) answers 503 + Retry-After
            response = session.request(method, url, json=body, timeout=60)
            if response.status_code != 503:
                break
            stats.error(f"write {k}: 503 (retried) {response.json().get('detail')}")
            time.sleep(float(response.headers.get("Retry-After", "1")))
        assert response is not None
        answered = time.monotonic()
        if response.status_code not in (200, 201):
            stats.error(f"write {k}: HTTP {response.status_code} {response.text[:200]}")
            continue
        entity_id = response.json()["id"]
        if method == "POST":
            created.append(entity_id)
        while True:
            asked = time.monotonic()
            found = session.get(f"{base}/screen", params={"name": name}, timeout=60)
            if found.status_code == 200 and entity_id in [
                m["entity_id"] for m in found.json()["matches"]
            ]:
                seen = time.monotonic()
                if trace is not None:
                    trace.append((name, sent, answered, asked, seen))
                yield seen - answered, answered - sent
                break
            if time.monotonic() - answered > 60:
                stats.error(f"write {k}: {name!r} not screened 60 s after the write")
                yield 60.0, answered - sent
                break
            time.sleep(0.005)
        time.sleep(pause)


def wait_until(check: object, timeout: float, what: str) -> float:
    started = time.monotonic()
    while True:
        try:
            if check():  # type: ignore[operator]
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4, help="screening client processes")
    parser.add_argument("--think-ms", type=float, default=20.0, help="pause between requests")
    parser.add_argument("--pause-ms", type=float, default=100.0, help="pause between writes")
    parser.add_argument(
        "--warm-up",
        type=int,
        default=20_000,
        help="screenings before the writes (until the caches hold the query pool)",
    )
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument(
        "--live-import",
        default=LIVE_IMPORT,
        help=f"FORMAT:PATH (under --data) imported half-way [default {LIVE_IMPORT}]",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="FORMAT",
        help="leave this list out of the registry (to import it live: a whole new list)",
    )
    parser.add_argument("--from", dest="source", type=Path, help="start from a copy of this DB")
    parser.add_argument("--keep", type=Path, help="keep the database and the server log here")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="run the server under bench.live_trace and say what the slowest requests waited for",
    )
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-live-")
    work = args.keep or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "registry.db"
    for leftover in work.glob("registry.db*"):
        leftover.unlink()
    print(
        f"machine: {platform.platform()} | cpus: {os.cpu_count()} | "
        f"python {platform.python_version()}"
    )
    if args.source:
        shutil.copy(args.source, db_path)
        load_paths(open_registry(db_path), [ROOT / "fixtures"])
        print(f"registry: a copy of {args.source}")
    else:
        build_registry(db_path, args.data, args.without)
    names = query_names(db_path, 5000)
    env = {**os.environ, "REGISTRY_DB": str(db_path)}
    registry = [sys.executable, "-m", "registry"]
    key = subprocess.run(
        [*registry, "keys", "create", "--name", "bench.live", "--scope", "write"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = work / "serve.log"
    log = log_path.open("w")
    started = time.monotonic()
    trace_path = work / "trace.jsonl"
    tracing = (
        [sys.executable, "-m", "bench.live_trace", str(trace_path)] if args.trace else registry
    )
    visibility: list[tuple[str, float, float, float, float]] = []
    server = subprocess.Popen(
        [*tracing, "serve", "--port", str(port)],
        env={**env, "REGISTRY_LOG_LEVEL": "INFO"}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stats = Stats()
    mp = multiprocessing.get_context("fork")
    stop = mp.Event()
    done = mp.Value("i", 0)
    results = mp.Queue()
    clients: list[Any] = []
    try:
        health_s = wait_until(
            lambda: requests.get(f"{base}/healthz", timeout=2).ok, 120, "/healthz"
        )
        early = requests.get(f"{base}/readyz", timeout=5)
        early_screen = requests.get(f"{base}/screen", params={"name": "Ivan Petrov"}, timeout=30)
        ready_s = wait_until(lambda: requests.get(f"{base}/readyz", timeout=2).ok, 600, "/readyz")
        print(
            f"start-up: /healthz 200 after {health_s:.1f} s; /readyz {early.status_code} then 200 "
            f"after {time.monotonic() - started:.1f} s; a screening before that: "
            f"{early_screen.status_code} (Retry-After {early_screen.headers.get('Retry-After')})"
        )
        state = requests.get(f"{base}/healthz", timeout=5).json()["index"]
        rss_ready = rss_mb(server.pid)
        print(
            f"index: {state['names']:,} names, data version {state['data_version']}, built in "
            f"{state['last_build']['seconds']:.1f} s; RSS ready {rss_ready:.0f} MB"
        )
        del ready_s
        for k in range(args.clients):
            client = mp.Process(
                target=screening_client,
                args=(base, names, k, args.think_ms / 1000, stop, done, results),
                daemon=True,
            )
            client.start()
            clients.append(client)
        warm_started = time.monotonic()
        rss_half = 0.0
        warm_half = warm_started
        while done.value < args.warm_up and time.monotonic() - warm_started < 900:
            time.sleep(0.2)
            if not rss_half and done.value >= args.warm_up // 2:
                rss_half, warm_half = rss_mb(server.pid), time.monotonic()
        rss_start = rss_mb(server.pid)
        warm = done.value
        warm_seconds = time.monotonic() - warm_started

        half = threading.Event()
        import_result: dict[str, float | str] = {}

        def run_import_later() -> None:
            half.wait()
            fmt, path = args.live_import.split(":", 1)
            t0 = time.monotonic()
            done = subprocess.run(
                [*registry, "import", "--format", fmt, str(args.data / path)],
                env=env, capture_output=True, text=True, cwd=ROOT,
            )  # fmt: skip
            ended = time.monotonic()
            import_result["seconds"] = ended - t0
            import_result["line"] = done.stdout.strip().splitlines()[-1] if done.stdout else ""
            if done.returncode != 0:
                stats.error(f"import failed: {done.stderr[-3000:]}")
                return
            # In the index once its data version has passed the import's, not behind.
            version = requests.get(f"{base}/healthz", timeout=5).json()["generation"]
            while time.monotonic() - ended < 600:
                index = requests.get(f"{base}/healthz", timeout=5).json()["index"]
                if index["data_version"] >= version and not index["behind"]:
                    import_result["visible"] = time.monotonic() - ended
                    return
                time.sleep(0.05)
            stats.error("the import never reached the index")

        importer = threading.Thread(target=run_import_later, daemon=True)
        importer.start()
        rss_peak = rss_start
        visible: list[float] = []
        write_s: list[float] = []
        writes_started = time.monotonic()
        cpu_started, load_started = cpu_s(server.pid), os.getloadavg()[0]
        for seconds, took in writes(
            base, key, args.writes, stats, half, args.pause_ms / 1000, visibility
        ):
            visible.append(seconds)
            write_s.append(took)
            rss_peak = max(rss_peak, rss_mb(server.pid))
        writes_ended = time.monotonic()
        server_cpu = cpu_s(server.pid) - cpu_started
        load = (load_started + os.getloadavg()[0]) / 2
        importer.join()
        time.sleep(5)  # screening goes on after the rebuild, then the old index is gone
        stop.set()
        for _client in clients:
            records, errors = results.get(timeout=120)
            stats.screens += records
            stats.errors += errors
        for client in clients:
            client.join()
        stats.screens.sort(key=lambda r: r.started)
        rss_peak = max(rss_peak, rss_mb(server.pid))
        rss_end = rss_mb(server.pid)
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()

    during = [
        r.seconds * 1000 for r in stats.screens if writes_started <= r.started <= writes_ended
    ]
    everything = [r.seconds * 1000 for r in stats.screens if r.started >= writes_started]
    quiet = [r.seconds * 1000 for r in stats.screens if warm_half <= r.started < writes_started]
    print(
        f"warm-up: {warm:,} screenings in {warm_seconds:.0f} s (p50 "
        f"{pct(quiet, 0.5):.1f} ms, p99 {pct(quiet, 0.99):.1f} ms with no write); "
        f"RSS {rss_half:.0f} MB half-way, {rss_start:.0f} MB at the end"
    )
    server_log = log_path.read_text()
    builds = re.findall(r"screening index built \(current\).*in ([\d.]+) s", server_log)
    patches = re.findall(
        r"data version \d+ applied \((\d+) changed entities, (\d+) names, in ([\d.]+) s", server_log
    )
    print(
        f"import in another process: {import_result.get('line')} in "
        f"{float(import_result.get('seconds', 0)):.1f} s; in the index "
        f"{float(import_result.get('visible', -1)):.1f} s after it ended"
    )
    print(
        f"index builds: {len(builds)} full ({', '.join(builds)} s); {len(patches)} patches, "
        f"median {statistics.median(float(p[2]) for p in patches) * 1000:.0f} ms"
        if patches
        else f"index builds: {len(builds)} full; no patches"
    )
    print(
        f"server CPU during the writes: {server_cpu:.0f} s in "
        f"{writes_ended - writes_started:.0f} s "
        f"({server_cpu / (writes_ended - writes_started):.0%} of one core); machine load "
        f"average {load:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"screening: {len(everything):,} requests by {args.clients} clients; during the writes "
        f"{len(during):,}: p50 {pct(during, 0.5):.1f} ms, p99 {pct(during, 0.99):.1f} ms, "
        f"max {max(during or [0]):.0f} ms"
    )
    print(
        f"writes: {len(visible)} in {writes_ended - writes_started:.0f} s, each answered in "
        f"p50 {pct(write_s, 0.5) * 1000:.0f} ms, p99 {pct(write_s, 0.99) * 1000:.0f} ms; "
        f"write-to-visible "
        f"p50 {pct(visible, 0.5) * 1000:.1f} ms, p99 {pct(visible, 0.99) * 1000:.1f} ms, "
        f"max {max(visible or [0]) * 1000:.1f} ms"
    )
    print(
        f"RSS: ready {rss_ready:.0f} MB, after warm-up (start) {rss_start:.0f} MB, peak "
        f"{rss_peak:.0f} MB, end {rss_end:.0f} MB (end - start {rss_end - rss_start:+.0f} MB)"
    )
    if args.trace:
        explain(trace_path, visibility, stats.screens, writes_started, writes_ended)
    for error in stats.errors[:10]:
        print(f"error: {error}")
    if args.keep:
        print(f"kept: {db_path} and {log_path}")
    print(
        f"screen_p99_ms={pct(during, 0.99):.0f} visible_ms={max(visible or [0]) * 1000:.0f} "
        f"rss_start_mb={rss_start:.0f} rss_end_mb={rss_end:.0f} writes={len(visible)} "
        f"errors={len(stats.errors)}"
    )
    tmp.cleanup()


def explain(
    trace_path: Path,
    visibility: list[tuple[str, float, float, float, float]],
    screens: list[Record],
    since: float,
    until: float,
) -> None:
    """What the slowest requests during the writes waited for, from the server's
    trace (bench.live_trace) and the clients' own times."""
    import json

    reqs: list[dict[str, Any]] = []
    gcs: list[dict[str, Any]] = []
    work: list[dict[str, Any]] = []
    for line in trace_path.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # (the last line, cut at exit)
        {"req": reqs, "gc": gcs, "idx": work}[event["k"]].append(event)
    screens_by_name: dict[str, list[dict[str, Any]]] = {}
    for r in reqs:
        if r["p"] == "/screen" and r["name"]:
            screens_by_name.setdefault(r["name"], []).append(r)

    def server_side(name: str, asked: float, seen: float) -> dict[str, Any] | None:
        for r in screens_by_name.get(name, ()):
            if asked <= r["start"] <= seen:
                return r
        return None

    def overlapping(events: list[dict[str, Any]], a: float, b: float) -> list[dict[str, Any]]:
        return [e for e in events if e["t" if "t" in e else "start"] < b and _end(e) > a]

    def describe(kind: str, name: str, asked: float, seen: float) -> str:
        total = (seen - asked) * 1000
        r = server_side(name, asked, seen)
        if r is None:
            return f"{kind} {total:.0f} ms: no server record"
        queued = (r["start"] - r["queued"]) * 1000 if r["queued"] else 0.0
        wall = (r["end"] - r["start"]) * 1000
        cpu = r["cpu"] * 1000
        others = [o for o in reqs if o is not r and o["start"] < r["end"] and o["end"] > r["start"]]
        pauses = overlapping(gcs, r["start"], r["end"])
        jobs = overlapping(work, r["start"], r["end"])
        return (
            f"{kind} {total:.0f} ms = queued {queued:.0f} + app {wall:.0f} (cpu {cpu:.0f}) + "
            f"outside {total - queued - wall:.0f}; {len(others)} requests overlapping "
            f"({sum(1 for o in others if o['m'] != 'GET')} writes); gc "
            f"{sum(g['d'] for g in pauses) * 1000:.0f} ms in {len(pauses)}; index work: "
            + (
                ", ".join(
                    f"{j['what']} {(j['end'] - j['start']) * 1000:.0f} ms "
                    f"(cpu {j['cpu'] * 1000:.0f})"
                    for j in jobs
                )
                or "none"
            )
        )

    print("trace: the slowest write-to-visible screenings")
    for name, _sent, _answered, asked, seen in sorted(visibility, key=lambda v: v[3] - v[4])[:8]:
        print("  " + describe("visible", name, asked, seen))
    print("trace: the slowest screenings during the writes")
    during = [r for r in screens if since <= r.started <= until]
    for record in sorted(during, key=lambda r: -r.seconds)[:8]:
        print(
            "  " + describe("screen", record.name, record.started, record.started + record.seconds)
        )
    window = [r for r in reqs if since <= r["start"] <= until]
    served = [r for r in window if r["p"] == "/screen"]
    writes_ = [r for r in window if r["m"] != "GET"]
    if served:
        wait = [(r["end"] - r["start"] - r["cpu"]) * 1000 for r in served]
        queue = [(r["start"] - r["queued"]) * 1000 for r in served if r["queued"]]
        cpu = [r["cpu"] * 1000 for r in served]
        print(
            f"trace: /screen during the writes, server side: cpu p50 {pct(cpu, 0.5):.1f} p99 "
            f"{pct(cpu, 0.99):.1f} ms; waiting in the app (wall - cpu) p50 {pct(wait, 0.5):.1f} "
            f"p99 {pct(wait, 0.99):.1f} ms; queued p99 {pct(queue, 0.99):.1f} ms"
        )
    if writes_:
        cpu = [r["cpu"] * 1000 for r in writes_]
        wall = [(r["end"] - r["start"]) * 1000 for r in writes_]
        print(
            f"trace: writes, server side: cpu p50 {pct(cpu, 0.5):.1f} p99 {pct(cpu, 0.99):.1f} "
            f"ms, wall p50 {pct(wall, 0.5):.1f} p99 {pct(wall, 0.99):.1f} ms"
        )
    in_window = [g for g in gcs if since <= g["t"] <= until]
    print(
        f"trace: gc pauses > 1 ms during the writes: {len(in_window)}, total "
        f"{sum(g['d'] for g in in_window) * 1000:.0f} ms, max "
        f"{max((g['d'] for g in in_window), default=0) * 1000:.0f} ms"
    )
    # Wall time is what every thread waited; CPU, what the pause itself cost (on a
    # loaded machine the collecting thread also waits for a core, holding the lock).
    for gen in sorted({str(g["gen"]) for g in gcs}):
        pauses = [g for g in gcs if str(g["gen"]) == gen]
        if "cpu" not in pauses[0]:
            continue  # (a trace made before the CPU was recorded)
        for label, chosen in (("during the writes", [g for g in pauses if g in in_window]),
                              ("over the run", pauses)):  # fmt: skip
            if chosen:
                print(
                    f"trace: gc {'freeze' if gen == 'freeze' else 'generation ' + gen} "
                    f"{label}: {len(chosen)}, wall max "
                    f"{max(g['d'] for g in chosen) * 1000:.0f} ms, cpu p50 "
                    f"{pct([g['cpu'] * 1000 for g in chosen], 0.5):.1f} max "
                    f"{max(g['cpu'] for g in chosen) * 1000:.1f} ms"
                )
    kinds: dict[str, list[dict[str, Any]]] = {}
    for j in work:
        if since <= j["start"] <= until:
            kinds.setdefault(j["what"], []).append(j)
    for what, jobs in sorted(kinds.items()):
        ms = [(j["end"] - j["start"]) * 1000 for j in jobs]
        cpu = [j["cpu"] * 1000 for j in jobs]
        print(
            f"trace: index {what}: {len(jobs)}, wall p50 {pct(ms, 0.5):.1f} max {max(ms):.0f} "
            f"ms, cpu total {sum(cpu):.0f} ms max {max(cpu):.0f} ms"
        )


def _end(event: dict[str, Any]) -> float:
    return float(event["end"]) if "end" in event else float(event["t"] + event["d"])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
