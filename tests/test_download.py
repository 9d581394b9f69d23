"""registry/download.py on its own, against a real HTTP server: backoff and Retry-After, the
size cap, conditional GET, and the defaults the README states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.download import (
    Download,
    DownloadError,
    Policy,
    download,
    http_date,
    new_session,
)

from .listserver import ListServer

BODY = b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\n' * 2_000


@pytest.fixture(scope="module")
def server() -> Iterator[ListServer]:
    with ListServer() as listserver:
        yield listserver


@pytest.fixture
def url(server: ListServer) -> str:
    server.clear()
    return server.serve("sdn.csv", BODY, last_modified="2024-02-23")


def fetch(
    url: str,
    tmp_path: Path,
    policy: Policy,
    waits: list[float],
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
) -> Download:
    return download(
        new_session(),
        url,
        tmp_path / "sdn.csv",
        etag=etag,
        last_modified=last_modified,
        policy=policy,
        max_bytes=max_bytes,
        sleep=waits.append,
    )


def test_the_defaults_are_the_documented_ones() -> None:
    assert Policy() == Policy(
        timeout=30.0, deadline=900.0, retries=3, backoff=2.0, max_wait=120.0,
        max_bytes=512 * 1024 * 1024,
    )  # fmt: skip


def test_backoff_doubles_between_retries(server: ListServer, url: str, tmp_path: Path) -> None:
    server.fault("sdn.csv", "502", times=3)
    waits: list[float] = []
    got = fetch(url, tmp_path, Policy(retries=3, backoff=2.0), waits)
    assert waits == [2.0, 4.0, 8.0]
    assert (got.attempts, got.size) == (4, len(BODY))
    assert (tmp_path / "sdn.csv").read_bytes() == BODY


def test_retry_after_wins_and_is_capped(server: ListServer, url: str, tmp_path: Path) -> None:
    server.fault("sdn.csv", "503-retry-after")  # Retry-After: 1
    server.fault("sdn.csv", "429-retry-date")  # Retry-After: an HTTP date 2 s ahead
    server.fault("sdn.csv", "503-retry-long")  # Retry-After: a day
    waits: list[float] = []
    fetch(url, tmp_path, Policy(retries=3, backoff=5.0, max_wait=60.0), waits)
    assert waits[0] == 1.0
    assert 0.5 < waits[1] <= 2.0
    assert waits[2] == 60.0


def test_spent_retries_say_why(server: ListServer, url: str, tmp_path: Path) -> None:
    server.fault("sdn.csv", "500", times=3)
    with pytest.raises(DownloadError) as failed:
        fetch(url, tmp_path, Policy(retries=2), [])
    assert failed.value.reason == "HTTP 500 Internal Server Error (after 3 attempts)"
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_the_size_cap(server: ListServer, url: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="announces 80,000 bytes, over the cap of 1,000"):
        fetch(url, tmp_path, Policy(), [], max_bytes=1_000)
    assert not list(tmp_path.iterdir())


def test_conditional_get(server: ListServer, url: str, tmp_path: Path) -> None:
    first = fetch(url, tmp_path, Policy(), [])
    assert first.modified and first.etag and first.published == "2024-02-23"
    again = fetch(url, tmp_path, Policy(), [], etag=first.etag, last_modified=first.last_modified)
    assert (again.modified, again.path, again.etag) == (False, None, first.etag)
    assert server.hits[-1] == ("/sdn.csv", 304, True)


def test_http_dates() -> None:
    assert http_date("Fri, 23 Feb 2024 18:43:00 GMT") == "2024-02-23"
    assert http_date("not a date") is None
