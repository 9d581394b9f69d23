"""A real `registry serve` with every list: cold start with and without the index
snapshot, memory, and requests per second with 1 and 2 worker processes.

    python -m bench.serve_workers [--db PATH] [--workers 1,2] [--seconds 20] [--clients 8]

The registry: `--db`, or every list imported into a temporary one. Measured:

- `registry screen` of one name, the whole run's CPU time, without and with the
  snapshot, and the time to load the snapshot alone;
- cold start: from starting `registry serve` to its first answered screening,
  with no snapshot (the index built from SQLite, as before issue 14) and with
  the snapshot the first start saved; the server's CPU seconds till then;
- for each worker count, after a warm-up, `--clients` client threads (one new
  connection per request, so the kernel spreads them over the workers) send
  GET /screen with seeded names (variants of listed names, made-up people and
  companies) for `--seconds`: requests per second, p50/p99, errors; the
  processes' resident memory (RSS) and proportional share (PSS: pages shared by
  N processes count 1/N each) to show what the workers share.

The clients run on the same 2 cores as the server: compare within one run.
Last line: ``requests_per_s_1=A requests_per_s_2=B`` (one per worker count).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from registry import index_snapshot
from registry.db import connect
from registry.index_snapshot import snapshot_path
from registry.versions import read_snapshot

from .book import print_rates, registry_or_build
from .procstats import cpu_s, proc_status
from .scaling import queries
from .screen_throughput import machine

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def family(pid: int) -> list[int]:
    """`pid` and its children (the supervisor and its workers)."""
    out = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class Server:
    def __init__(self, db: Path, workers: int, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.started = time.perf_counter()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop)
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "registry", "serve", "--port", str(self.port),
                "--workers", str(workers), "--threads", "8",
            ],
            cwd=ROOT,
            env={**os.environ, "REGISTRY_DB": str(db), "REGISTRY_LOG_LEVEL": "WARNING",
                 **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str, timeout: float = 60) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    def post(self, path: str, body: bytes, timeout: float = 600) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    def first_screening(self, timeout: float = 600) -> float:
        """Seconds from the start until a screening is answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"the server ended:\n{self.log.read()}")
            try:
                status, _ = self.get("/screen?name=Finder%20Technology", timeout=30)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("the server never answered a screening")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def load(server: Server, names: list[str], seconds: float, clients: int) -> dict[str, float]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        rng = random.Random(k)
        mine: list[float] = []
        while time.monotonic() < stop:
            name = urllib.parse.quote(rng.choice(names))
            t = time.perf_counter()
            try:
                status, _ = server.get(f"/screen?name={name}")
            except OSError:
                status = 0
            mine.append(time.perf_counter() - t)
            if status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    cpu0 = sum(cpu_s(pid) for pid in family(server.proc.pid))
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    cpu1 = sum(cpu_s(pid) for pid in family(server.proc.pid))
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "errors": errors[0],
        "server_cores": (cpu1 - cpu0) / wall,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args(argv)
    print(machine())
    tmp = tempfile.TemporaryDirectory(prefix="bench-serve-")
    db = registry_or_build(args.db, tmp.name)
    names = [q for q, _, _ in queries(2000, 7, 50_000)]

    # Cold start: no snapshot (built from SQLite), then the snapshot that start saved.
    snapshot_path(db).unlink(missing_ok=True)
    one = Path(tmp.name) / "one.csv"
    one.write_text("name\nFinder Technology\n", "utf-8")
    for label, env in (("no snapshot", {"REGISTRY_INDEX_SNAPSHOT": "false"}), ("snapshot", {})):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "registry", "screen", str(one)],
            cwd=ROOT,
            env={**os.environ, "REGISTRY_DB": str(db), "REGISTRY_LOG_LEVEL": "WARNING", **env},
            check=True,
            capture_output=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"registry screen of one name, {label}: {time.perf_counter() - t0:.1f} s, "
            f"{cpu:.1f} s CPU (the whole run)"
        )
        if label == "no snapshot":  # the next start builds it (and saves it) first
            subprocess.run(
                [sys.executable, "-m", "registry", "screen", str(one)],
                cwd=ROOT,
                env={**os.environ, "REGISTRY_DB": str(db), "REGISTRY_LOG_LEVEL": "WARNING"},
                check=True,
                capture_output=True,
            )
    connection = connect(db)
    try:
        with read_snapshot(connection):
            t0 = time.process_time()
            built, header = index_snapshot.load(snapshot_path(db), connection)
            load_cpu = time.process_time() - t0
    finally:
        connection.close()
    print(
        f"the snapshot alone: {snapshot_path(db).stat().st_size / 1e6:.0f} MB, {header.names:,} "
        f"names of {header.entities:,} entities, loaded in {load_cpu:.1f} s CPU"
    )
    del built
    snapshot_path(db).unlink(missing_ok=True)
    for label in ("no snapshot (built from SQLite)", "from the snapshot"):
        server = Server(db, 1)
        try:
            seconds = server.first_screening()
            cpu = cpu_s(server.proc.pid)
            rss = proc_status(server.proc.pid, "VmRSS")
            if label.startswith("no"):  # the snapshot is saved after the build: wait for it
                deadline = time.monotonic() + 300
                while not snapshot_path(db).exists() and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            server.stop()
        print(
            f"cold start, {label}: first screening after {seconds:.1f} s "
            f"(server CPU {cpu:.1f} s), RSS {rss:.0f} MB"
        )

    rates = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        server = Server(db, workers)
        try:
            ready = server.first_screening()
            load(server, names, 5, args.clients)  # warm-up
            result = load(server, names, args.seconds, args.clients)
            pids = family(server.proc.pid)
            rss = sum(proc_status(pid, "VmRSS") for pid in pids)
            pss = sum(pss_mb(pid) for pid in pids)
        finally:
            server.stop()
        rates[workers] = result["rps"]
        print(
            f"--workers {workers}: first screening after {ready:.1f} s; {result['rps']:.0f} "
            f"requests/s by {args.clients} clients (p50 {result['p50_ms']:.1f} ms, p99 "
            f"{result['p99_ms']:.1f} ms, {result['errors']:.0f} errors), server "
            f"{result['server_cores']:.2f} cores busy; {len(pids)} processes: RSS {rss:.0f} MB "
            f"in all, PSS {pss:.0f} MB (shared pages counted once)"
        )
    print_rates(rates, "requests_per_s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
