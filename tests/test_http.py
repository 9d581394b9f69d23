"""The service over real HTTP: a waitress server in-process, and the `registry serve` command."""

from __future__ import annotations

from pathlib import Path

import requests

from .conftest import served


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
    with served(tmp_path / "served.db", "--load", "fixtures") as server:
        found = requests.get(
            f"{server.base}/entities", params={"q": "Dennex", "jurisdiction": "US"}, timeout=10
        ).json()
        assert [i["id"] for i in found["items"]] == ["dennex-enterprises-limited"]
        detail = requests.get(
            f"{server.base}/entities/dennex-enterprises-limited", timeout=10
        ).json()
        assert detail["designations"][0]["reference"] == "89 FR 14388"
        assert detail["designations"][0]["listed_date"] == "2024-02-23"
    # The seeds were loaded before serving, by a production server.
    assert "added=26" in server.output
    assert "on http://127.0.0.1:" in server.output
    assert "waitress" in server.output
