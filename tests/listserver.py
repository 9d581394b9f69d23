"""A real HTTP server on 127.0.0.1 standing in for the list publishers, with faults to inject:
what `registry refresh` must survive."""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .conftest import free_port

HTML_ERROR = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    b"<body><h1>We are down for maintenance</h1><p>Please try again later.</p></body></html>\n"
)
FAULTS = (
    "500",
    "502",
    "429-retry-date",
    "503-retry-after",
    "503-retry-long",
    "reset",
    "reset-mid-body",
    "trickle",
    "truncate",
    "html",
)


@dataclass
class Route:
    body: bytes
    content_type: str
    last_modified: str
    faults: deque[str] = field(default_factory=deque)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


class ListServer:
    """Files by path, each with its ETag and Last-Modified; `fault(path, kind, times)` makes
    the next requests for the path fail that way. `hits` logs (path, status, conditional)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, int | str, bool]] = []
        self.lock = threading.Lock()
        server = self
        handler = type("Handler", (_Handler,), {"owner": server})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ListServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def serve(
        self,
        path: str,
        body: bytes | Path,
        *,
        content_type: str = "text/csv",
        last_modified: str = "2026-01-05",
    ) -> str:
        data = body.read_bytes() if isinstance(body, Path) else body
        stamp = time.mktime(time.strptime(last_modified, "%Y-%m-%d"))
        with self.lock:
            self.routes["/" + path.lstrip("/")] = Route(
                data, content_type, email.utils.formatdate(stamp, usegmt=True)
            )
        return self.url(path)

    def fault(self, path: str, kind: str, times: int = 1) -> None:
        assert kind in FAULTS, kind
        with self.lock:
            self.routes["/" + path.lstrip("/")].faults.extend([kind] * times)

    def clear(self) -> None:
        with self.lock:
            for route in self.routes.values():
                route.faults.clear()
            self.hits.clear()


class _Handler(BaseHTTPRequestHandler):
    owner: ListServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # a fault closed the socket already
            super().finish()

    def do_GET(self) -> None:
        owner = self.owner
        with owner.lock:
            route = owner.routes.get(self.path)
            fault = route.faults.popleft() if route and route.faults else None
        conditional = bool(
            self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
        )
        if route is None:
            owner.hits.append((self.path, 404, conditional))
            self._send(404, b"not found", "text/plain")
            return
        not_modified = fault is None and self.headers.get("If-None-Match") == route.etag
        owner.hits.append((self.path, fault or (304 if not_modified else 200), conditional))
        self.close_connection = True
        if fault == "500":
            self._send(500, b"internal error", "text/plain", {"Retry-After": "0"})
        elif fault == "502":
            self._send(502, b"bad gateway", "text/plain")
        elif fault == "429-retry-date":
            later = email.utils.formatdate(time.time() + 2, usegmt=True)
            self._send(429, b"slow down", "text/plain", {"Retry-After": later})
        elif fault == "503-retry-after":
            self._send(503, b"busy", "text/plain", {"Retry-After": "1"})
        elif fault == "503-retry-long":
            self._send(503, b"busy", "text/plain", {"Retry-After": "86400"})
        elif fault == "reset":
            self._reset()
        elif fault == "html":
            self._send(200, HTML_ERROR, "text/html; charset=utf-8")
        elif fault in ("truncate", "reset-mid-body", "trickle"):
            self._headers(200, route, len(route.body))
            if fault == "trickle":
                try:
                    for start in range(0, len(route.body), 16):
                        self.wfile.write(route.body[start : start + 16])
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    return
            else:
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                if fault == "reset-mid-body":
                    self._reset()
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
        elif not_modified:
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", route.last_modified)
            self.end_headers()
        else:
            self._headers(200, route, len(route.body))
            self.wfile.write(route.body)

    def _headers(self, status: int, route: Route, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", route.etag)
        self.send_header("Last-Modified", route.last_modified)
        self.end_headers()

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close with a TCP reset (RST), as a crashed proxy does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
