"""Shared test fixtures: real SQLite files in temporary folders, the app, a live server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from bench.paths import shared_data
from registry import create_app
from registry.config import Settings
from registry.db import open_registry
from registry.keys import create_key
from registry.loader import load_paths

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEEDS = ROOT / "seeds"
SHARED_DATA = shared_data()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "registry.db"


@pytest.fixture
def loaded_db_path(db_path: Path) -> Path:
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    db.close()
    return db_path


def make_app(db_path: Path, **settings: object) -> Flask:
    app = create_app(Settings(db_path=db_path, **settings))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


@pytest.fixture
def keys(loaded_db_path: Path) -> dict[str, str]:
    """One key per scope, created the way `registry keys create` does."""
    db = open_registry(loaded_db_path)
    try:
        return {
            scope: create_key(db, f"test {scope}", scope)[1] for scope in ("read", "write", "admin")
        }
    finally:
        db.close()


@pytest.fixture
def app(loaded_db_path: Path) -> Flask:
    return make_app(loaded_db_path)


def index_current(app: Flask, timeout: float = 300) -> None:
    """Wait until the app's screening index is built and holds every write made so far
    (for a test that wrote through another connection, such as a large import: the
    service builds in the background and answers 503 or from the index it has meanwhile)."""
    from registry.api.screen import index_cache
    from registry.versions import current_version

    cache = index_cache(app)
    cache.wait_ready(timeout)
    db = open_registry(app.config["REGISTRY_SETTINGS"].db_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            state = cache.state()
            if state["data_version"] == current_version(db) and not state["behind"]:
                return
            assert time.monotonic() < deadline, state
            cache.changed()
            time.sleep(0.05)
    finally:
        db.close()


def client_with_key(app: Flask, key: str | None) -> FlaskClient:
    client = app.test_client()
    if key:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def client(app: Flask, keys: dict[str, str]) -> FlaskClient:
    """A client holding a write key, as the tools that edit the registry do."""
    return client_with_key(app, keys["write"])


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind waitress on a real port, as `registry serve` runs it."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # Closing the sockets under waitress's select loop ends it this way.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(timeout=5)


class ServedRegistry:
    """A `registry serve` process on a free port; `output` once it has stopped."""

    def __init__(self, db_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.output = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "registry", "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env={**os.environ, "REGISTRY_DB": str(db_path), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(self.stop())
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

    def wait_screening(self, timeout: float = 180) -> None:
        """Until /readyz says the screening index is ready (a screening before then is
        answered 503 while the index is built, slower under load)."""
        deadline = time.monotonic() + timeout
        while requests.get(f"{self.base}/readyz", timeout=10).status_code != 200:
            if self.proc.poll() is not None:
                raise AssertionError(self.stop())
            assert time.monotonic() < deadline, "the screening index was not ready in time"
            time.sleep(0.2)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.output, _ = self.proc.communicate(timeout=10)
        return self.output


@contextlib.contextmanager
def served(
    db_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[ServedRegistry]:
    server = ServedRegistry(db_path, *args, env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


SDN_CSV = SHARED_DATA / "ofac_sdn_snapshots" / "sdn_2024-02-23.csv"


def sdn_sample(folder: Path, uids: tuple[str, ...]) -> Path:
    """The real SDN.CSV rows of `uids` (23 February 2024), as a list file of their own."""
    if not SDN_CSV.exists():
        pytest.skip(f"the OFAC SDN snapshot is not at {SDN_CSV}")
    wanted = {u.encode() for u in uids}
    rows = [line for line in SDN_CSV.read_bytes().split(b"\n") if line.split(b",", 1)[0] in wanted]
    assert len(rows) == len(uids)
    sample = folder / "sdn.csv"
    sample.write_bytes(b"\n".join(rows) + b"\n")
    return sample


@pytest.fixture(scope="session")
def sdn_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding the seed fixtures and the whole OFAC SDN list of 23 February
    2024 (its remarks give dates of birth, nationalities and passports)."""
    from registry.imports import run_import

    if not SDN_CSV.exists():
        pytest.skip(f"the OFAC SDN snapshot is not at {SDN_CSV}")
    db_path = tmp_path_factory.mktemp("sdn") / "registry.db"
    db = open_registry(db_path)
    try:
        load_paths(db, [FIXTURES])
        run_import(db, "ofac-csv", [SDN_CSV])
    finally:
        db.close()
    return db_path


@pytest.fixture(scope="session")
def sdn_server(sdn_db_path: Path) -> Iterator[ServedRegistry]:
    """`registry serve` over that registry, shared by the protocol tests (yente,
    reconciliation), with its screening index built before the first test."""
    with served(sdn_db_path) as server:
        server.wait_screening()
        yield server
