"""The service over real HTTP: a waitress server in-process, and the `registry serve` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import ROOT, free_port


def test_real_http_round_trip(live_server: str, keys: dict[str, str]) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {keys['write']}"
    page = session.get(
        f"{live_server}/entities",
        params={"jurisdiction": "GB", "listed_from": "2024-02-22", "listed_to": "2024-02-22"},
        timeout=10,
    )
    assert page.status_code == 200 and page.json()["total"] == 3
    bad = session.get(f"{live_server}/entities", params={"limit": "-3"}, timeout=10)
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    created = session.post(
        f"{live_server}/entities",
        timeout=10,
        json={"id": "http-test", "type": "person", "name": "Jane Example"},
    )
    assert created.status_code == 201
    assert session.get(f"{live_server}/entities/http-test", timeout=10).json()["type"] == "person"
    huge = session.post(
        f"{live_server}/bulk",
        data=b"x" * (21 * 1024 * 1024),
        timeout=30,
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_registry_serve_loads_the_seeds_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "REGISTRY_DB": str(tmp_path / "served.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "registry", "serve", "--port", str(port), "--load", "fixtures"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        found = requests.get(
            f"{base}/entities", params={"q": "Dennex", "jurisdiction": "US"}, timeout=10
        ).json()
        assert [i["id"] for i in found["items"]] == ["dennex-enterprises-limited"]
        detail = requests.get(f"{base}/entities/dennex-enterprises-limited", timeout=10).json()
        assert detail["designations"][0]["reference"] == "89 FR 14388"
        assert detail["designations"][0]["listed_date"] == "2024-02-23"
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    # The seeds were loaded before serving, by a production server.
    assert "added=26" in output
    assert "on http://127.0.0.1:" in output
