"""A tiny HTTP proxy in front of a real server that misbehaves on cue: it answers
503 or 429 with a Retry-After, or drops the connection without an answer, for the
requests a script names, and passes the others through. For the client's tests."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .conftest import free_port


class FlakyProxy:
    def __init__(self, upstream: str, script: list[str]) -> None:
        """`script`: what to do with the 1st, 2nd ... request: "503", "429",
        "429-date" (Retry-After as an HTTP date), "drop" or "pass"; later ones pass."""
        self.upstream = urlsplit(upstream)
        assert self.upstream.hostname is not None, upstream
        self.upstream_host: str = self.upstream.hostname
        self.script = list(script)
        self.seen: list[tuple[float, str, str, str]] = []  # (time, method, path, action)
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    action = proxy.script.pop(0) if proxy.script else "pass"
                    proxy.seen.append((time.monotonic(), self.command, self.path, action))
                if action == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action in ("503", "429", "429-date"):
                    status = int(action[:3])
                    retry_after = (
                        "1"
                        if action != "429-date"
                        else time.strftime(
                            "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2)
                        )
                    )
                    payload = (
                        b'{"type": "about:blank", "title": "Busy", "status": %d, '
                        b'"detail": "Try again shortly."}' % status
                    )
                    self.send_response(status)
                    self.send_header("Content-Type", "application/problem+json")
                    self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream.port, timeout=120
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def actions(self) -> list[str]:
        return [action for _, _, _, action in self.seen]


@contextlib.contextmanager
def flaky_proxy(upstream: str, script: list[str]) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream, script)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
        thread.join(timeout=5)
