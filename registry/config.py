"""Configuration, read from environment variables in this one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in "90", "90s", "30m", "6h", "2d" or "1w"; ValueError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration: use e.g. 90s, 30m, 6h, 2d")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be more than zero")
    return seconds


def _duration(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise SystemExit(f"{name}: {exc}") from None


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise SystemExit(f"{name} must be more than zero, got {raw!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise SystemExit(f"{name} must be true or false, got {raw!r}")
    return value in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told from outside, with its default."""

    # SQLite file of the registry.
    db_path: Path = field(default_factory=lambda: Path("data") / "registry.db")
    # Largest request body accepted (413 beyond it).
    max_body_bytes: int = 20 * 1024 * 1024
    # Largest upload to POST /imports (official list files).
    max_import_bytes: int = 256 * 1024 * 1024
    # Page size bounds for list endpoints.
    default_page_size: int = 50
    max_page_size: int = 500
    # Names in one POST /screen request (JSON queries or CSV rows).
    max_screen_batch: int = 10_000
    # Milliseconds a writer waits for another writer before failing cleanly.
    busy_timeout_ms: int = 10_000
    # Reads need an API key too (writes always do).
    require_key_for_reads: bool = False
    log_level: str = "INFO"
    # Screening indexes of past instants (as_of) kept in memory, each about the size
    # of the current one.
    past_indexes: int = 1
    # How long a screening request waits for an index being built (the first one
    # after start-up, or a past one) before answering 503 with Retry-After.
    index_wait_ms: int = 5000
    # The catalogue of list sources (JSON, the shape `registry sources` prints); None: the
    # built-in one (registry/sources.py).
    sources_file: Path | None = None
    # Lists whose last successful refresh or import is older than this are stale, and
    # /readyz answers 503 while one is. None: stale after DEFAULT_MAX_LIST_AGE, and
    # /readyz does not look at freshness.
    max_list_age: float | None = None
    # The front door (registry serve): seconds a client has to send its request
    # headers, seconds an idle keep-alive connection stays open, open connections.
    header_timeout_s: int = 10
    idle_timeout_s: int = 30
    max_connections: int = 1_000
    # Monitoring (registry/monitoring): the audit trail's own SQLite file (None: next
    # to the registry, <name>.audit.db), whether it keeps only a SHA-256 of each
    # query, how long rows are kept (None: for ever), and how often queued rows are
    # written (what a crash can lose at most).
    audit_path: Path | None = None
    audit_minimise: bool = False
    audit_retention: float | None = None
    audit_flush_ms: int = 1000
    # Seconds between two version checks of the monitor (writes by other processes);
    # the first retry delay of a webhook delivery (doubled each time, capped).
    monitor_poll_s: float = 1.0
    # Processes testing a large book (50,000 records or more) against the changed
    # entities (default: one per CPU core).
    monitor_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    webhook_backoff_s: float = 2.0
    webhook_backoff_max_s: float = 600.0
    # Save the screening index next to the database (`<db>.index`) after a full
    # build and load it at start instead of building (registry/index_snapshot.py).
    index_snapshot: bool = True

    @property
    def audit_file(self) -> Path:
        if self.audit_path is not None:
            return self.audit_path
        return self.db_path.with_name(self.db_path.stem + ".audit.db")

    @property
    def snapshot_path(self) -> Path | None:
        """Where the screening index is saved, or None when it is not."""
        from .index_snapshot import snapshot_path

        return snapshot_path(self.db_path) if self.index_snapshot else None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db_path=Path(os.environ.get("REGISTRY_DB") or cls().db_path),
            max_body_bytes=_int("REGISTRY_MAX_BODY_BYTES", cls.max_body_bytes),
            max_import_bytes=_int("REGISTRY_MAX_IMPORT_BYTES", cls.max_import_bytes),
            default_page_size=_int("REGISTRY_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=_int("REGISTRY_MAX_PAGE_SIZE", cls.max_page_size),
            max_screen_batch=_int("REGISTRY_MAX_SCREEN_BATCH", cls.max_screen_batch),
            busy_timeout_ms=_int("REGISTRY_BUSY_TIMEOUT_MS", cls.busy_timeout_ms),
            require_key_for_reads=_bool(
                "REGISTRY_REQUIRE_KEY_FOR_READS", cls.require_key_for_reads
            ),
            log_level=os.environ.get("REGISTRY_LOG_LEVEL", cls.log_level).upper(),
            past_indexes=_int("REGISTRY_PAST_INDEXES", cls.past_indexes),
            index_wait_ms=_int("REGISTRY_INDEX_WAIT_MS", cls.index_wait_ms),
            sources_file=Path(os.environ["REGISTRY_SOURCES"])
            if os.environ.get("REGISTRY_SOURCES")
            else None,
            max_list_age=_duration("REGISTRY_MAX_LIST_AGE"),
            header_timeout_s=_int("REGISTRY_HEADER_TIMEOUT_S", cls.header_timeout_s),
            idle_timeout_s=_int("REGISTRY_IDLE_TIMEOUT_S", cls.idle_timeout_s),
            max_connections=_int("REGISTRY_MAX_CONNECTIONS", cls.max_connections),
            audit_path=Path(os.environ["REGISTRY_AUDIT_DB"])
            if os.environ.get("REGISTRY_AUDIT_DB")
            else None,
            audit_minimise=_bool("REGISTRY_AUDIT_MINIMISE", cls.audit_minimise),
            audit_retention=_duration("REGISTRY_AUDIT_RETENTION"),
            audit_flush_ms=_int("REGISTRY_AUDIT_FLUSH_MS", cls.audit_flush_ms),
            monitor_poll_s=_float("REGISTRY_MONITOR_POLL_S", cls.monitor_poll_s),
            monitor_workers=_int("REGISTRY_MONITOR_WORKERS", os.cpu_count() or 1),
            webhook_backoff_s=_float("REGISTRY_WEBHOOK_BACKOFF_S", cls.webhook_backoff_s),
            webhook_backoff_max_s=_float(
                "REGISTRY_WEBHOOK_BACKOFF_MAX_S", cls.webhook_backoff_max_s
            ),
            index_snapshot=_bool("REGISTRY_INDEX_SNAPSHOT", cls.index_snapshot),
        )


# How old a list may be before GET /datasets calls it stale, when REGISTRY_MAX_LIST_AGE
# is not set: the publishers change their lists most working days.
DEFAULT_MAX_LIST_AGE = 48 * 3600.0


# The memory the name matcher's caches of query work may fill (analysed query names,
# word similarities and keys, the index's hits per query word), split among them by
# fixed shares; each cache holds as many entries as its share buys at its measured
# size per entry (see `matcher_cache_entries`' callers). Read once, when the matcher
# is imported (a process's start), from REGISTRY_MATCHER_CACHE_MB.
DEFAULT_MATCHER_CACHE_MB = 64
MIN_CACHE_ENTRIES = 256


def matcher_cache_bytes() -> int:
    """The matcher's cache budget in bytes (REGISTRY_MATCHER_CACHE_MB, at least 1)."""
    megabytes = _int("REGISTRY_MATCHER_CACHE_MB", DEFAULT_MATCHER_CACHE_MB)
    if megabytes < 1:
        raise SystemExit(f"REGISTRY_MATCHER_CACHE_MB must be at least 1, got {megabytes}")
    return megabytes * 1024 * 1024


def matcher_cache_entries(share: float, entry_bytes: int) -> int:
    """Entries a cache may hold: its `share` of the budget over the bytes an entry
    takes (an estimate: measured with tracemalloc, `bench.cache_sizes`)."""
    return max(MIN_CACHE_ENTRIES, int(matcher_cache_bytes() * share / entry_bytes))
