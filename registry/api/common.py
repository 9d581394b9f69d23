"""What every blueprint shares: the argument parser, the per-request database."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

import flask_smorest
import sqlite_utils
from flask import Flask, Request, current_app, g
from flask.json.provider import DefaultJSONProvider
from marshmallow import RAISE, ValidationError, missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from .. import strict_json
from ..config import Settings
from ..db import connect
from ..problems import InputError

_NO_BODY = object()


class StrictJSONProvider(DefaultJSONProvider):
    """Every JSON body the app reads goes through the strict reader (registry.strict_json):
    duplicate keys, lone surrogates, deep nesting, huge integers and NaN are refused."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_json.loads(s)


class RegistryRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, strict_json.JSONBodyError):
            raise InputError(e.problems)
        return super().on_json_loading_failed(e)


class _Parser(FlaskParser):
    # Bad input is a 400 with the field at fault, and an unknown query
    # parameter (a misspelt filter) is an error rather than silently ignored.
    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {  # noqa: RUF012 - webargs' own class attribute
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }

    __location_map__ = {  # noqa: RUF012 - webargs' own class attribute
        **FlaskParser.__location_map__,
        "multipart": "load_multipart",
    }

    def load_multipart(self, req: Any, schema: Any) -> Any:
        """Form fields and files of one multipart/form-data body, read as one."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        # The app's own strict reader, not webargs' json.loads.
        if not is_json_request(req):
            return missing
        return req.get_json(force=True)

    def load_json(self, req: Any, schema: Any) -> Any:
        data = super().load_json(req, schema)
        return _NO_BODY if data is missing else data

    def pre_load(self, location_data: Any, *, schema: Any, req: Any, location: str) -> Any:
        # webargs reads a missing body as {}: a PATCH without one would "succeed".
        if location_data is _NO_BODY:
            raise ValidationError("Send a JSON body (Content-Type: application/json).")
        return super().pre_load(location_data, schema=schema, req=req, location=location)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()
    # OpenAPI 3 has no "formData" parameters: a body of form fields and files is
    # one multipart/form-data requestBody.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {  # noqa: RUF012 - flask-smorest's own
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


def problem(description: str) -> dict[str, Any]:
    """alt_response arguments documenting an error answer (problem+json)."""
    from schemas.api import ProblemSchema

    from .errors import PROBLEM_JSON

    return {"schema": ProblemSchema, "content_type": PROBLEM_JSON, "description": description}


def settings() -> Settings:
    value: Settings = current_app.config["REGISTRY_SETTINGS"]
    return value


class ConnectionPool:
    """Connections kept open between requests (`registry serve` only: see
    `pool_connections`). Opening one, with its pragmas, and closing it cost 2.4 ms
    of CPU, a quarter of a screening request's. Each request still has one
    connection of its own; a connection comes back out of any transaction, and
    one opened before a fork is never handed out after it."""

    def __init__(self, path: str, busy_timeout_ms: int, keep: int = 16) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._keep = keep
        self._idle: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> sqlite_utils.Database:
        with self._lock:
            if self._pid != os.getpid():
                self._idle, self._pid = [], os.getpid()  # (the parent's, left alone)
            if self._idle:
                return self._idle.pop()
        return connect(self._path, busy_timeout_ms=self._busy_timeout_ms)

    def give(self, db: sqlite_utils.Database) -> None:
        try:
            if db.conn.in_transaction:
                db.conn.rollback()
        except sqlite3.Error:
            db.close()
            return
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self._keep:
                self._idle.append(db)
                return
        db.close()


def pool_connections(app: Flask) -> None:
    """Keep the app's database connections open between requests."""
    config: Settings = app.config["REGISTRY_SETTINGS"]
    app.extensions["registry_db_pool"] = ConnectionPool(str(config.db_path), config.busy_timeout_ms)


def get_db() -> sqlite_utils.Database:
    """One connection per request, closed (or given back to the pool) when the
    request ends."""
    if "db" not in g:
        pool: ConnectionPool | None = current_app.extensions.get("registry_db_pool")
        if pool is not None:
            g.db = pool.take()
        else:
            config = settings()
            g.db = connect(config.db_path, busy_timeout_ms=config.busy_timeout_ms)
    db: sqlite_utils.Database = g.db
    return db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        pool: ConnectionPool | None = current_app.extensions.get("registry_db_pool")
        if pool is not None:
            pool.give(db)
        else:
            db.close()


def actor() -> str:
    """Who is writing; API keys (when configured) name themselves here."""
    value: Any = g.get("actor")
    return str(value) if value else "api"
