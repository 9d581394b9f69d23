"""`registry serve` keeps its database connections open between requests."""

from __future__ import annotations

import os
from pathlib import Path

from flask import g

from registry.api.common import ConnectionPool, get_db, pool_connections

from .conftest import make_app


def test_a_connection_is_reused_and_comes_back_out_of_any_transaction(
    loaded_db_path: Path,
) -> None:
    pool = ConnectionPool(str(loaded_db_path), 1_000, keep=1)
    first = pool.take()
    first.conn.execute("BEGIN")
    first.conn.execute("SELECT 1 FROM entities").fetchall()
    pool.give(first)
    assert not first.conn.in_transaction  # (a request that failed half-way)
    second, third = pool.take(), pool.take()
    assert second is first and third is not first  # (a new one when none is idle)
    pool.give(second)
    pool.give(third)  # more than `keep`: closed
    assert pool.take() is first


def test_a_connection_of_another_process_is_never_handed_out(loaded_db_path: Path) -> None:
    pool = ConnectionPool(str(loaded_db_path), 1_000)
    db = pool.take()
    pool.give(db)
    pool._pid = os.getpid() + 1  # as if this process had been forked since
    assert pool.take() is not db


def test_requests_of_the_served_app_share_pooled_connections(loaded_db_path: Path) -> None:
    app = make_app(loaded_db_path)
    pool_connections(app)
    seen = []
    for _ in range(2):
        with app.test_request_context("/entities"):
            seen.append(get_db())
            assert seen[-1].conn.execute("SELECT COUNT(*) FROM entities").fetchone()[0] > 0
            assert g.db is seen[-1]
    assert seen[0] is seen[1]
    assert app.test_client().get("/entities?limit=1").status_code == 200
