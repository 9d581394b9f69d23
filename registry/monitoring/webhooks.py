"""Webhooks: a book's new alerts POSTed to its receivers, signed, never lost.

An alert and its deliveries are written in one transaction (an outbox): one
`deliveries` row per webhook of the book, holding the exact body to send. A
`Deliverer` thread POSTs what is due with `requests`:

- `X-Registry-Signature: sha256=<hex>`: HMAC-SHA256 of the body with the
  webhook's secret (the receiver recomputes it over the raw body);
- `X-Registry-Delivery`: the delivery's id, the same on every retry, for the
  receiver to drop a repeat (a 2xx that never reached us is sent again);
- `X-Registry-Event: alert`.

A 2xx marks it delivered; anything else (refused connection, timeout, 5xx)
schedules a retry after `webhook_backoff_s`, doubled each time up to
`webhook_backoff_max_s`, for ever: nothing is dropped while a receiver is down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
import requests
import sqlite_utils

from ..db import connect, immediate, in_view, utcnow
from ..problems import InputError, Problem, not_found

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Registry-Signature"
DELIVERY_HEADER = "X-Registry-Delivery"
TIMEOUT_S = 10


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def add_webhook(
    db: sqlite_utils.Database, book_id: str, url: str, secret: str, actor: str
) -> dict[str, Any]:
    try:
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = None
    if host is None or parsed.scheme not in ("http", "https"):
        raise InputError([Problem("Give an http or https URL.", field="url", location="json")])
    with immediate(db):
        if not db.conn.execute("SELECT 1 FROM books WHERE id = ?", (book_id,)).fetchone():
            raise not_found(f"No book {book_id!r}.")
        webhook_id = f"whk-{secrets.token_hex(6)}"
        db.conn.execute(
            "INSERT INTO webhooks (id, book_id, url, secret, created_at, created_by) "
            "VALUES (?,?,?,?,?,?)",
            (webhook_id, book_id, url, secret, utcnow(), actor),
        )
    return get_webhook(db, webhook_id)


@in_view
def get_webhook(db: sqlite_utils.Database, webhook_id: str) -> dict[str, Any]:
    row = db.conn.execute(
        "SELECT id, book_id, url, created_at, created_by FROM webhooks WHERE id = ?",
        (webhook_id,),
    ).fetchone()
    if row is None:
        raise not_found(f"No webhook {webhook_id!r}.")
    out = dict(zip(("id", "book_id", "url", "created_at", "created_by"), row, strict=True))
    counts = dict(
        db.conn.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE webhook_id = ? GROUP BY status",
            (webhook_id,),
        ).fetchall()
    )
    out["deliveries"] = {
        "pending": counts.get("pending", 0),
        "delivered": counts.get("delivered", 0),
    }
    return out


@in_view
def list_webhooks(db: sqlite_utils.Database, book_id: str) -> list[dict[str, Any]]:
    ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM webhooks WHERE book_id = ? ORDER BY created_at", (book_id,)
        )
    ]
    return [get_webhook(db, webhook_id) for webhook_id in ids]


def delete_webhook(db: sqlite_utils.Database, book_id: str, webhook_id: str) -> None:
    with immediate(db):
        gone = db.conn.execute(
            "DELETE FROM webhooks WHERE id = ? AND book_id = ?", (webhook_id, book_id)
        ).rowcount
        if not gone:
            raise not_found(f"No webhook {webhook_id!r} on book {book_id!r}.")
        db.conn.execute(
            "DELETE FROM deliveries WHERE webhook_id = ? AND status = 'pending'", (webhook_id,)
        )


def enqueue(db: sqlite_utils.Database, book_id: str, alert: dict[str, Any], now: str) -> int:
    """One delivery per webhook of the book (inside the alert's transaction)."""
    hooks = db.conn.execute("SELECT id FROM webhooks WHERE book_id = ?", (book_id,)).fetchall()
    for (webhook_id,) in hooks:
        delivery_id = f"dlv-{secrets.token_hex(8)}"
        body = orjson.dumps({"event": "alert", "delivery": delivery_id, "alert": alert}).decode()
        db.conn.execute(
            "INSERT INTO deliveries (id, webhook_id, alert_id, body, status, next_at, created_at) "
            "VALUES (?,?,?,?, 'pending', ?, ?)",
            (delivery_id, webhook_id, alert["id"], body, now, now),
        )
    return len(hooks)


def _later(seconds: float) -> str:
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Deliverer:
    """The thread that sends due deliveries; `wake` after new alerts."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        busy_timeout_ms: int = 10_000,
        backoff_s: float = 2.0,
        backoff_max_s: float = 600.0,
    ) -> None:
        self._db_path = db_path
        self._busy = busy_timeout_ms
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 5)
        self._session.close()

    def _run(self) -> None:
        db = connect(self._db_path, busy_timeout_ms=self._busy)
        try:
            while not self._stop.is_set():
                try:
                    wait = self.deliver_due(db)
                except Exception:
                    log.exception("webhooks: a delivery round failed")
                    wait = self._backoff
                self._wake.wait(timeout=min(wait, 5.0))
                self._wake.clear()
        finally:
            db.close()

    def deliver_due(self, db: sqlite_utils.Database) -> float:
        """Send every delivery due now; seconds until the next one is due."""
        while not self._stop.is_set():
            due = db.conn.execute(
                "SELECT d.id, d.body, d.attempts, w.url, w.secret FROM deliveries d "
                "JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = 'pending' "
                "AND d.next_at <= ? ORDER BY d.next_at, d.created_at LIMIT 100",
                (utcnow(),),
            ).fetchall()
            if not due:
                break
            for delivery_id, body, attempts, url, secret in due:
                self._send(db, delivery_id, body.encode(), attempts, url, secret)
        row = db.conn.execute(
            "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'"
        ).fetchone()
        if row[0] is None:
            return 5.0
        due_at = dt.datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        return max(0.05, (due_at - dt.datetime.now(dt.UTC)).total_seconds())

    def _send(
        self, db: sqlite_utils.Database, delivery_id: str, body: bytes, attempts: int, url: str,
        secret: str,
    ) -> None:  # fmt: skip
        error: str | None = None
        try:
            response = self._session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(secret, body),
                    DELIVERY_HEADER: delivery_id,
                    "X-Registry-Event": "alert",
                },
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
            if 200 <= response.status_code < 300:
                with immediate(db):
                    db.conn.execute(
                        "UPDATE deliveries SET status = 'delivered', attempts = ?, "
                        "delivered_at = ?, last_error = NULL WHERE id = ?",
                        (attempts + 1, utcnow(), delivery_id),
                    )
                return
            error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        delay = min(self._backoff * (2**attempts), self._backoff_max)
        with immediate(db):
            db.conn.execute(
                "UPDATE deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                (attempts + 1, _later(delay), error, delivery_id),
            )
        log.info("webhook delivery %s failed (%s); retry in %.1fs", delivery_id, error, delay)


@in_view
def list_deliveries(
    db: sqlite_utils.Database, webhook_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT id, alert_id, status, attempts, next_at, last_error, created_at, delivered_at "
        "FROM deliveries WHERE webhook_id = ? ORDER BY created_at LIMIT ?",
        (webhook_id, limit),
    ).fetchall()
    cols = ("id", "alert_id", "status", "attempts", "next_at", "last_error", "created_at",
            "delivered_at")  # fmt: skip
    return [dict(zip(cols, r, strict=True)) for r in rows]
