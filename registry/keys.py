"""API keys: created once, stored only as a hash, scoped, revocable.

A key reads `rk_<id>_<secret>`. The id finds the row; the secret is compared
with `hmac.compare_digest` against its stored SHA-256 (a 256-bit random secret
needs no slow hash). Keys are never logged: only their id is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .db import immediate, utcnow

SCOPES = ("read", "write", "admin")  # each includes the ones before it
_KEY = re.compile(r"^rk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scope: str

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    @property
    def actor(self) -> str:
        return f"key:{self.id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    db: sqlite_utils.Database, name: str, scope: str, *, created_by: str | None = None
) -> tuple[ApiKey, str]:
    """A new key and its one-time plaintext."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with immediate(db):
        db.conn.execute(
            "INSERT INTO api_keys (id, name, scope, hash, created_at, created_by) "
            "VALUES (?,?,?,?,?,?)",
            (key_id, name, scope, _digest(secret), utcnow(), created_by),
        )
    return ApiKey(key_id, name, scope), f"rk_{key_id}_{secret}"


def verify_key(db: sqlite_utils.Database, presented: str) -> ApiKey | None:
    """The key behind a presented token, if it is real and not revoked."""
    match = _KEY.match(presented.strip())
    if not match:
        return None
    key_id, secret = match.groups()
    row = db.conn.execute(
        "SELECT name, scope, hash, revoked_at FROM api_keys WHERE id = ?", (key_id,)
    ).fetchone()
    if row is None or row[3] is not None or not hmac.compare_digest(row[2], _digest(secret)):
        return None
    return ApiKey(key_id, row[0], row[1])


_LAST_TOUCH: dict[str, float] = {}
TOUCH_EVERY_S = 300.0


def touch_key(db: sqlite_utils.Database, key: ApiKey, busy_timeout_ms: int) -> None:
    """Note when a key was last used: at most every few minutes, and never
    waiting for the write lock (a read must not queue behind an import)."""
    now = time.monotonic()
    if now - _LAST_TOUCH.get(key.id, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
        return
    _LAST_TOUCH[key.id] = now
    db.conn.execute("PRAGMA busy_timeout = 0")
    try:
        db.conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (utcnow(), key.id))
        db.conn.commit()
    except sqlite3.OperationalError:
        db.conn.rollback()
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


def list_keys(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    cur = db.conn.execute(
        "SELECT id, name, scope, created_at, created_by, last_used_at, revoked_at "
        "FROM api_keys ORDER BY created_at"
    )
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def revoke_key(db: sqlite_utils.Database, key_id: str) -> bool:
    with immediate(db):
        cur = db.conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (utcnow(), key_id),
        )
    return cur.rowcount == 1
