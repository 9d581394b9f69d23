"""What the front door (registry.server) asks before it reads a request body.

The app itself answers, on a copy of the request without its body: routing
(404, 405), the before_request hooks (authentication: 401, 403) and the body
limit of the route (413, from Content-Length). The web pages, which sign in
with a session cookie and check a CSRF token in their form, are left to
themselves (their bodies are small forms, limited as every body is). A refusal goes back at once and
the body is never read; a request that passes is read and handled as usual
(and authenticated again, cheaply, by the same hooks).
"""

from __future__ import annotations

import io
from typing import Any

import sqlite_utils
from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..db import connect
from .auth import COOKIE_AUTH_BLUEPRINT
from .common import settings

Refusal = tuple[str, list[tuple[str, str]], bytes]


def make_gate(app: Flask) -> Any:
    # The door runs in the server's one I/O thread: it keeps one connection for
    # key lookups rather than opening one per request (about 2 ms of CPU each).
    connection: list[sqlite_utils.Database] = []

    def gate(environ: dict[str, Any]) -> Refusal | None:
        environ = {**environ, "wsgi.input": io.BytesIO(b"")}
        with app.request_context(environ):
            g.front_door = True  # a look at the headers: no side effects (see auth)
            if not connection:
                config = settings()
                connection.append(connect(config.db_path, busy_timeout_ms=config.busy_timeout_ms))
            g.db = connection[0]
            try:
                return _look(app)
            finally:
                g.pop("db", None)  # kept for the next request, not closed at teardown

    return gate


def _look(app: Flask) -> Refusal | None:
    """The app's answer to the request so far, if it refuses it; None to read on."""
    try:
        if request.routing_exception is not None:
            raise request.routing_exception
        if COOKIE_AUTH_BLUEPRINT in request.blueprints:
            # The web pages sign in with their session cookie and check a CSRF
            # token in the form: they need their (small) body first.
            return None
        answer = app.preprocess_request()
        if answer is None:
            limit = request.max_content_length
            length = request.content_length
            if limit is not None and length is not None and length > limit:
                raise RequestEntityTooLarge()
            return None
        response = app.make_response(answer)
    except Exception as exc:
        response = app.make_response(app.handle_user_exception(exc))
    response = app.process_response(response)
    # waitress sets the length and closes the connection itself.
    headers = [
        (k, v)
        for k, v in response.headers.to_wsgi_list()
        if k.lower() not in ("content-length", "connection")
    ]
    return response.status, headers, response.get_data()
