"""The front door: waitress, hardened for a service on an open port.

Why waitress: its one I/O thread reads every request, headers and body, without
blocking, and hands a worker thread only a request that has fully arrived, so a
slow or idle client holds a socket, never a worker (gunicorn's threads block on
a slow client's headers; its docs require a buffering proxy in front). What
waitress lacks is added here, on its own extension points (the channel's parser
and error task, the server's maintenance pass):

- **Authenticate before the body.** waitress spools a whole body (to disk past
  512 KiB) before the application runs, so an unauthenticated 1,000 MiB POST
  was written out before its 401. When the headers of a request with a body
  are in, a `gate` (registry.api.gate: the app's own routing, key check and
  size limits, run on a bodiless copy of the request) may refuse it there and
  then: the answer goes out and the connection closes, the body unread.
- **A deadline for headers.** A client gets `header_timeout` seconds to send
  its request line and headers (slowloris sends a header line every few seconds
  and would otherwise hold its connection forever); `channel_timeout` ends idle
  keep-alive connections.
- **Room for connections.** waitress's default limit of 100 connections let 99
  slow clients starve /healthz; the limit here is 1,000 by default, with poll()
  (select() stops at descriptor 1024) and the open-file limit raised to fit.
- **problem+json everywhere.** waitress's own refusals (a malformed request
  line, a raw non-ASCII URL, headers too large, a body too large) were
  text/plain; they leave in the service's error envelope, with its headers.

`registry serve --workers N` (registry/workers.py) binds the socket once and
runs this server in N forked processes over it (`sock=`).
"""

from __future__ import annotations

import json
import logging
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error, RequestEntityTooLarge

from .api.headers import static_headers

log = logging.getLogger(__name__)

# A refusal made at the door: status line, headers, body.
Refusal = tuple[str, list[tuple[str, str]], bytes]
# Called with the WSGI environ of a request whose headers are in and whose body
# is not: a Refusal to answer now without reading the body, or None to go on.
Gate = Callable[[dict[str, Any]], Refusal | None]


@dataclass(frozen=True)
class DoorSettings:
    header_timeout: float = 10.0  # seconds to send the request line and headers
    idle_timeout: int = 30  # seconds an idle keep-alive connection stays open
    connection_limit: int = 1_000
    max_body_bytes: int = 256 * 1024 * 1024  # the largest body any route takes


class _Refused(Error):
    """An answer the door makes itself, as the service would (problem+json)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__("")
        self.refusal = refusal

    def to_response(self, ident: str | None = None) -> Refusal:
        return self.refusal


def problem_refusal(status: int, reason: str, detail: str, path: str) -> Refusal:
    """The service's error envelope, for answers made outside the application."""
    body = {
        "type": "about:blank",
        "title": reason,
        "status": status,
        "detail": detail,
        "instance": path if path.startswith("/") else "/",
    }
    headers = [("Content-Type", "application/problem+json"), *static_headers()]
    return f"{status} {reason}", headers, json.dumps(body).encode()


_WAITRESS_DETAILS = {
    400: "The request is not valid HTTP/1.1 (a malformed request line or header, or a "
    "raw non-ASCII URL: percent-encode it).",
    413: "The request body is larger than this service accepts.",
    431: "The request headers are larger than this service accepts.",
    501: "This transfer encoding is not supported; send Content-Length or chunked.",
}


class DoorParser(HTTPRequestParser):
    """waitress's request parser, plus the gate once the headers are in."""

    gated = False

    def __init__(self, adj: Adjustments, channel: DoorChannel) -> None:
        super().__init__(adj)
        self.channel = channel

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        if self.headers_finished and not self.gated:
            self.gated = True
            has_body = self.chunked or self.content_length > 0
            # waitress refuses a Content-Length past its own limit here too (413);
            # the gate answers first, so an unauthenticated request gets its 401.
            state: Any = self  # waitress's attributes carry no types
            waiting = not state.completed and state.error is None
            if has_body and (waiting or isinstance(state.error, RequestEntityTooLarge)):
                refusal = self.channel.server.check_gate(self.channel, self)
                if refusal is not None:
                    self.error = _Refused(refusal)
                    self.completed = True
                    self.expect_continue = False  # no "100 Continue" for a refused body
                    self.connection_close = True
                    return len(data)  # the rest of this read is body: dropped unread
        return consumed


class DoorErrorTask(ErrorTask):
    """Errors the door or waitress produce, in the service's error envelope."""

    def execute(self) -> None:
        error = self.request.error
        if not isinstance(error, _Refused):
            status = int(getattr(error, "code", 500))
            reason = str(getattr(error, "reason", "Error"))
            detail = _WAITRESS_DETAILS.get(status, "The service failed to answer.")
            self.request.error = _Refused(
                problem_refusal(status, reason, detail, getattr(self.request, "path", "/"))
            )
        super().execute()


class DoorChannel(HTTPChannel):
    error_task_class = DoorErrorTask
    server: DoorServer
    request_started = 0.0

    def parser_class(self, adj: Adjustments) -> DoorParser:
        # waitress calls this when the first bytes of a new request arrive.
        self.request_started = time.monotonic()
        return DoorParser(adj, self)


class DoorServer(TcpWSGIServer):
    channel_class = DoorChannel

    def __init__(
        self,
        app: Any,
        gate: Gate | None,
        door: DoorSettings,
        sock: socket.socket | None = None,
        **kw: Any,
    ) -> None:
        self.gate = gate
        self.door = door
        adj = Adjustments(
            connection_limit=door.connection_limit,
            channel_timeout=door.idle_timeout,
            cleanup_interval=1,  # how often the deadlines below are checked
            asyncore_use_poll=True,  # select() fails past descriptor 1024
            max_request_body_size=door.max_body_bytes,
            **({"sockets": [sock]} if sock is not None else {}),
            **kw,
        )
        if sock is None:
            super().__init__(app, adj=adj)
        else:  # a socket bound (and shared with other processes) by registry.workers
            info = (sock.family, sock.type, sock.proto, sock.getsockname())
            super().__init__(app, adj=adj, _sock=sock, sockinfo=info, bind_socket=False)

    def check_gate(self, channel: DoorChannel, parser: DoorParser) -> Refusal | None:
        if self.gate is None:
            return None
        environ = WSGITask(channel, parser).get_environment()
        try:
            return self.gate(environ)
        except Exception:
            log.exception("the front door's gate failed on %s", parser.path)
            return problem_refusal(
                500, "Internal Server Error", "The service failed to answer.", parser.path
            )

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        late = time.monotonic() - self.door.header_timeout
        for channel in list(self.active_channels.values()):
            request = channel.request
            if (
                request is not None
                and not request.headers_finished
                and channel.request_started < late
            ):
                # Still sending its headers after header_timeout: slowloris, or lost.
                channel.will_close = True


def _raise_open_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def create_server(
    app: Any,
    *,
    gate: Gate | None = None,
    door: DoorSettings | None = None,
    sock: socket.socket | None = None,
    **kw: Any,
) -> DoorServer:
    """A hardened waitress server for `app`, on `sock` (bound already) or on the
    host and port of `kw`; `kw` are waitress adjustments (host, port, threads,
    ident, ...)."""
    door = door or DoorSettings()
    # The connections, plus files and the database for the worker threads.
    _raise_open_file_limit(door.connection_limit + 256)
    return DoorServer(app, gate, door, sock, **kw)


def serve(app: Any, **kw: Any) -> None:
    server = create_server(app, **kw)
    log.info("Serving on http://%s:%s (waitress)", server.effective_host, server.effective_port)
    server.print_listen("Serving on http://{}:{}")
    server.run()
