"""The browser session of the pages: the API key, entered once, and CSRF tokens.

The key a person signs in with is kept in Flask's session cookie (signed,
Secure, HttpOnly, SameSite=Strict, gone when the browser closes) and checked on
every use with the same `verify_key` the API uses, so a revoked key stops
working at once. Every form that posts carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils
from flask import g, request, session

from ..api.auth import INVALID_KEY, forbidden
from ..api.common import get_db, settings
from ..db import immediate
from ..keys import ApiKey, touch_key, verify_key
from ..problems import InputError, Problem

SECRET_META_KEY = "web_session_secret"
CSRF_FIELD = "csrf_token"


def session_secret(db: sqlite_utils.Database) -> str:
    """The key that signs session cookies: made once and kept in the database, so
    sessions outlive a restart and every process serving the file agrees."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (SECRET_META_KEY,)).fetchone()
    if row:
        return str(row[0])
    with immediate(db):
        db.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            (SECRET_META_KEY, secrets.token_urlsafe(48)),
        )
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (SECRET_META_KEY,)).fetchone()
    return str(row[0])


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def browser_id() -> str:
    """A random id of this browser session (owner of its screening answers)."""
    value = session.get("sid")
    if not isinstance(value, str):
        value = secrets.token_urlsafe(16)
        session["sid"] = value
    return value


def check_csrf() -> None:
    """A form post must carry this session's token: another site cannot read it."""
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        message = (
            "This form has expired or did not come from this site; "
            "reload the page and send it again."
        )
        if expected is None and cookie_refused():
            message = (
                "Your browser sent no session cookie: it keeps this site's Secure cookie only "
                "over HTTPS (or on localhost). Open the service over HTTPS, then send the form."
            )
        raise InputError([Problem(message, field=CSRF_FIELD, location="form")])


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def cookie_refused() -> bool:
    """Served over plain HTTP to a host a browser does not count as secure: it
    will not keep the Secure session cookie, so sign-in and forms cannot work."""
    if request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https":
        return False
    host = urlsplit(f"//{request.host}").hostname or ""
    return not (host in LOOPBACK or host.endswith(".localhost"))


def current_key() -> ApiKey | None:
    """The key this browser signed in with, if it is still valid."""
    if "web_key" in g:
        key: ApiKey | None = g.web_key
        return key
    token = session.get("api_key")
    key = verify_key(get_db(), token) if isinstance(token, str) else None
    if key is None and token is not None:
        session.pop("api_key", None)
        g.web_key_dropped = True  # revoked since it was entered
    if key is not None:
        touch_key(get_db(), key, settings().busy_timeout_ms)
    g.web_key = key
    return key


def sign_in(presented: str) -> ApiKey:
    key = verify_key(get_db(), presented) if presented.strip() else None
    if key is None:
        message = INVALID_KEY if presented.strip() else "Enter an API key (rk_...)."
        raise InputError(
            [Problem(message, field="key", location="form")], status=401, title="Unauthorized"
        )
    session["api_key"] = presented.strip()
    # A new token at sign-in: one planted before cannot ride along.
    session["csrf"] = secrets.token_urlsafe(32)
    g.web_key = key
    return key


def sign_out() -> None:
    session.pop("api_key", None)
    session["csrf"] = secrets.token_urlsafe(32)
    g.web_key = None


def require_key(needed: str) -> ApiKey:
    """The signed-in key with at least this scope, or the API's 401/403 problem."""
    key = current_key()
    if key is None:
        raise InputError(
            [
                Problem(
                    "Sign in with an API key first (it is kept for this browser session).",
                    field="key",
                    location="form",
                )
            ],
            status=401,
            title="Unauthorized",
        )
    if not key.allows(needed):
        raise forbidden(needed, key, field="key", location="form")
    return key


def safe_next(target: Any, default: str = "/") -> str:
    """Only a path on this site (no //host or scheme) to go back to after a form."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c in target for c in "\\\r\n")
    ):
        return target
    return default
