"""The front door, against a real `registry serve` (issue 10, point 3): slow clients
do not starve the service, a body is not read before its request is authenticated,
and the server's own refusals are problem+json with the service's headers."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from registry.db import open_registry
from registry.keys import create_key
from registry.loader import load_paths

from .conftest import FIXTURES, ServedRegistry, served

HEADER_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedRegistry, str]]:
    db_path = tmp_path_factory.mktemp("door") / "registry.db"
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    _, key = create_key(db, "door", "write")
    db.close()
    env = {"REGISTRY_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)}
    with served(db_path, "--threads", "4", env=env) as server:
        yield server, key
    assert "Traceback" not in server.output, server.output[-3000:]


def connect(server: ServedRegistry) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_answer(sock: socket.socket, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP answer (read until the connection closes
    or the body is complete)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slowloris_does_not_starve_the_service(door: tuple[ServedRegistry, str]) -> None:
    """150 clients (waitress stalled at 99) each send a header line every half second
    and never finish: /healthz answers throughout, and the slow clients are cut off
    once the header deadline passes."""
    server, _ = door
    slow = []
    for _ in range(150):
        sock = connect(server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        slow.append(sock)
    started = time.monotonic()
    answered = []
    try:
        while time.monotonic() - started < HEADER_TIMEOUT_S + 3:
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")
            took = time.monotonic()
            health = requests.get(f"{server.base}/healthz", timeout=3)
            answered.append((health.status_code, time.monotonic() - took))
            time.sleep(0.5)
        assert all(status == 200 for status, _ in answered), answered
        assert max(seconds for _, seconds in answered) < 2, answered
        assert all(closed_by_server(sock) for sock in slow)  # past the deadline
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("expect_continue", [False, True])
def test_an_unauthenticated_body_is_refused_before_it_is_read(
    door: tuple[ServedRegistry, str], expect_continue: bool
) -> None:
    """The issue's 1,000 MiB POST /entities without a key was spooled to disk before
    its 401. Now the 401 comes back as soon as the headers are in."""
    server, _ = door
    sock = connect(server)
    head = (
        "POST /entities HTTP/1.1\r\nHost: door\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1000 * 1024 * 1024}\r\n"
        + ("Expect: 100-continue\r\n" if expect_continue else "")
        + "\r\n"
    )
    sock.sendall(head.encode())
    if not expect_continue:
        sock.sendall(b"x" * 256 * 1024)  # the start of the body, the rest never comes
    status, headers, body = read_answer(sock)
    assert status == 401  # not "100 Continue", and not after 1,000 MiB
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["errors"][0]["field"] == "Authorization"
    # The server hung up instead of reading on: the body is not being spooled.
    sent = 0
    with contextlib.suppress(OSError):
        sock.settimeout(5)
        while sent < 200 * 1024 * 1024:
            sock.sendall(b"x" * 1024 * 1024)
            sent += 1024 * 1024
    assert sent < 16 * 1024 * 1024, sent
    sock.close()


def test_a_bad_key_or_a_body_too_large_is_refused_before_the_body(
    door: tuple[ServedRegistry, str],
) -> None:
    server, key = door
    cases = [
        ("/entities", "rk_000000000000_" + "a" * 43, 10 * 1024 * 1024, 401),
        ("/entities", key, 30 * 1024 * 1024, 413),  # past REGISTRY_MAX_BODY_BYTES (20 MiB)
        ("/entities", key, 1000 * 1024 * 1024, 413),
        ("/no/such/path", key, 10 * 1024 * 1024, 404),
        ("/sources", key, 10 * 1024 * 1024, 405),
    ]
    for path, token, length, expected in cases:
        sock = connect(server)
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: door\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
        )
        status, headers, _ = read_answer(sock)
        sock.close()
        assert (path, length, status) == (path, length, expected)
        assert headers["content-type"] == "application/problem+json"


def test_an_authenticated_body_is_read_and_handled(door: tuple[ServedRegistry, str]) -> None:
    server, key = door
    entity = {"id": "door-entity", "type": "person", "name": "Jane Door"}
    created = requests.post(
        f"{server.base}/entities",
        json=entity,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    screened = requests.post(  # a read: no key needed, body read as usual
        f"{server.base}/screen", json={"queries": [{"name": "Jane Door"}]}, timeout=10
    )
    assert screened.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "GET /entités HTTP/1.1\r\nHost: door\r\n\r\n".encode(),
        b"GET /entities?q=\xff\xfe HTTP/1.1\r\nHost: door\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: door\r\nBad Header Line\r\n\r\n",
        b"NOT-HTTP\r\n\r\n",
    ],
    ids=["non-ASCII path", "non-ASCII query", "bad header", "no request line"],
)
def test_the_servers_own_refusals_are_problem_json(
    door: tuple[ServedRegistry, str], raw: bytes
) -> None:
    server, _ = door
    sock = connect(server)
    sock.sendall(raw)
    status, headers, body = read_answer(sock)
    sock.close()
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400
    assert headers["x-content-type-options"] == "nosniff"


def test_served_answers_carry_the_security_headers(door: tuple[ServedRegistry, str]) -> None:
    server, _ = door
    answer = requests.get(f"{server.base}/entities/finder-technology-ltd", timeout=10)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert answer.headers["ETag"]
