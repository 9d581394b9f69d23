"""`registry serve --workers 2`: two processes answer on one port, a write through
one is seen through the other, a worker that dies is replaced, and they stop
with the supervisor."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from registry.cli import main
from registry.db import open_registry
from registry.index_snapshot import snapshot_path
from registry.keys import create_key

from .conftest import ServedRegistry, served
from .listserver import ListServer
from .test_api_errors import NEW_ENTITY
from .test_freshness import UK, runs


def workers_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (not the dead ones not yet reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.append(int(entry.name))
    return sorted(found)


def wait_for_workers(
    server: ServedRegistry, count: int, timeout: float = 30, gone: int | None = None
) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        pids = workers_of(server.proc.pid)
        if len(pids) == count and gone not in pids:
            return pids
        assert time.monotonic() < deadline, f"workers: {pids}"
        time.sleep(0.1)


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The worker `pid` paused: the other one accepts every connection meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def screen(server: ServedRegistry, name: str) -> list[str]:
    # A new connection each time (no keep-alive): whichever worker is running accepts it.
    answer = requests.get(
        f"{server.base}/screen", params={"name": name}, headers={"Connection": "close"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return [m["entity_id"] for m in answer.json()["matches"]]


@pytest.fixture
def write_key(loaded_db_path: Path) -> str:
    db = open_registry(loaded_db_path)
    try:
        return create_key(db, "workers test", "write")[1]
    finally:
        db.close()


def test_two_workers_answer_and_see_each_others_writes(
    loaded_db_path: Path, write_key: str
) -> None:
    with served(loaded_db_path, "--workers", "2", "--threads", "2") as server:
        first, second = wait_for_workers(server, 2)
        assert snapshot_path(loaded_db_path).is_file()  # built once, before the fork
        # Each worker answers on its own.
        for paused in (second, first):
            with stopped(paused):
                assert "finder-technology-ltd" in screen(server, "Finder Technology")
        # A write through the first worker ...
        with stopped(second):
            answer = requests.post(
                f"{server.base}/entities",
                json={**NEW_ENTITY, "name": "Quillfeather Worker Trading Ltd"},
                headers={"Authorization": f"Bearer {write_key}", "Connection": "close"},
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            written = answer.json()["id"]
            assert written in screen(server, "Quillfeather Worker Trading")
        # ... is found through the second, at its very next screening.
        with stopped(first):
            assert written in screen(server, "Quillfeather Worker Trading")
        # A worker that dies is replaced; the supervisor stops them all.
        os.kill(first, signal.SIGKILL)
        pids = wait_for_workers(server, 2, gone=first)
        assert second in pids
        deadline = time.monotonic() + 30
        while True:  # the new worker serves too
            with stopped(second), contextlib.suppress(requests.RequestException):
                if written in screen(server, "Quillfeather Worker Trading"):
                    break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        output = server.stop()
    assert "with 2 worker processes" in output
    assert re.search(rf"worker \d \(pid {first}\) ended .*; starting it again", output)
    for pid in pids:  # (the supervisor waited for them before it ended)
        assert not Path(f"/proc/{pid}").exists()


def test_the_scheduled_refresh_runs_in_one_worker_only(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    with ListServer() as lists:
        sources = tmp_path / "sources.json"
        sources.write_text(
            json.dumps(
                {
                    "datasets": [
                        {
                            "name": "gb-hmt",
                            "format": "uk-fcdo-csv",
                            "urls": [lists.serve("uk.csv", UK)],
                        }
                    ]
                }
            )
        )
        with served(
            db, "--workers", "2", "--refresh-every", "1h", "--sources", str(sources)
        ) as server:
            first, second = wait_for_workers(server, 2)
            deadline = time.monotonic() + 60
            while not runs(db) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # time enough for a second worker's run at start-up
            done = runs(db)
            # The imported list is found through either worker.
            answers = []
            for paused in (first, second):
                with stopped(paused):
                    answers.append(
                        requests.get(
                            f"{server.base}/screen",
                            params={"name": "Mohammad Hassan Akhund"},
                            headers={"Connection": "close"},
                            timeout=30,
                        ).json()
                    )
    for found in answers:
        assert found["matches"], (answers, server.output)
        assert found["matches"][0]["entity_id"] == "gb-hmt:afg0006"
    assert [status for _, _, status in done] == ["updated"]
    # Once, not once per worker (a second one would have run, or been skipped as busy).
    assert server.output.count("scheduled refresh") == 1, server.output
