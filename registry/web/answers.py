"""Screening answers kept for a while, so the page that shows a list's results
can offer its answer file for download without screening the list again.

Held in memory, bounded in count, size and age, and given only to the browser
session that asked (its id and a random token are both needed).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    owner: str
    filename: str
    body: str
    made: float


class AnswerStore:
    def __init__(
        self, max_items: int = 32, max_chars: int = 64 * 1024 * 1024, ttl_s: float = 3600.0
    ) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._chars = 0
        self.max_items = max_items
        self.max_chars = max_chars
        self.ttl_s = ttl_s

    def put(self, owner: str, filename: str, body: str) -> str | None:
        """A token for the answer, or None when it is too large to keep."""
        if len(body) > self.max_chars:
            return None
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._items[token] = Answer(owner, filename, body, time.monotonic())
            self._chars += len(body)
            self._expire()
        return token

    def get(self, owner: str, token: str) -> Answer | None:
        with self._lock:
            self._expire()
            answer = self._items.get(token)
        if answer is None or not secrets.compare_digest(answer.owner, owner):
            return None
        return answer

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._items:
            token, oldest = next(iter(self._items.items()))
            if (
                now - oldest.made <= self.ttl_s
                and len(self._items) <= self.max_items
                and self._chars <= self.max_chars
            ):
                break
            del self._items[token]
            self._chars -= len(oldest.body)
