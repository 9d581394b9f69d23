"""Crash safety: a killed import leaves the previous state, readers never see half an
import, two writers queue up. Real processes, real SQLite files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from registry.db import open_registry
from registry.loader import load_paths

from .conftest import FIXTURES, ROOT, SHARED_DATA

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"the shared list files are not at {SHARED_DATA}"
)
CSL = SHARED_DATA / "watchman" / "csl_2022-05" / "consolidated.csv"
UK = SHARED_DATA / "uk_covyr"


def import_process(db: Path, fmt: str, *paths: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry",
            "import",
            "--format",
            fmt,
            *map(str, paths),
            "--db",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def state(db: Path) -> tuple[int, ...]:
    """Counts that any write changes, read in one transaction."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("BEGIN")
        return tuple(
            conn.execute(sql).fetchone()[0]
            for sql in (
                "SELECT COUNT(*) FROM records",
                "SELECT COUNT(*) FROM designations WHERE valid_to IS NULL",
                "SELECT COUNT(*) FROM names",
                "SELECT COUNT(*) FROM history",
                "SELECT COUNT(*) FROM entities",
                "SELECT value FROM meta WHERE key = 'generation'",
            )
        )
    finally:
        conn.close()


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "registry.db"
    db = open_registry(path)
    load_paths(db, [FIXTURES])
    db.close()
    return path


def test_sigkill_half_way_through_an_import_leaves_the_previous_state(seeded: Path) -> None:
    before = state(seeded)
    wal = seeded.with_name(seeded.name + "-wal")
    base = wal.stat().st_size if wal.exists() else 0
    proc = import_process(seeded, "csl-csv", CSL)
    deadline = time.monotonic() + 120
    # Kill while the transaction is being written: the WAL has grown by megabytes.
    while (wal.stat().st_size if wal.exists() else 0) < base + 8_000_000:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert wal.stat().st_size > base  # the uncommitted frames are still there

    conn = sqlite3.connect(seeded)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert state(seeded) == before
    db = open_registry(seeded)
    assert (
        db.conn.execute("SELECT COUNT(*) FROM import_runs WHERE status = 'finished'").fetchone()[0]
        == 0
    )
    db.close()
    # And the registry works on: the same import, run again, completes.
    again = import_process(seeded, "csl-csv", CSL)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert out.strip().splitlines()[-1] == "added=14159 changed=0 removed=0 unchanged=0"


def test_readers_during_an_import_see_the_old_or_the_new_data(seeded: Path) -> None:
    before = state(seeded)
    seen: set[tuple[int, ...]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(state(seeded))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        proc = import_process(seeded, "uk-csv", UK)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    finally:
        stop.set()
        reader.join()
    after = state(seeded)
    assert after != before
    assert seen <= {before, after}, seen - {before, after}
    assert before in seen


def test_two_writers_at_once_queue_up_and_both_land(seeded: Path) -> None:
    before = state(seeded)
    first = import_process(seeded, "uk-csv", UK)
    second = import_process(
        seeded, "un-xml", SHARED_DATA / "watchman" / "un_2026-02" / "UN_consolidated.xml"
    )
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], results
    assert results[0][0].strip().splitlines()[-1].startswith("added=6046 ")
    assert results[1][0].strip().splitlines()[-1].startswith("added=1003 ")
    conn = sqlite3.connect(seeded)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == before[0] + 6046 + 1003
    conn.close()
