"""Freshness: which publication of each list the registry holds, when it was last confirmed
current with its publisher, and whether it is stale; and the dataset versions a screening
answer rests on.

A list's last success is its newest refresh that ended updated or unchanged, or its newest
finished import, whichever is later: the moment the registry last knew it held the current
publication. A list (a dataset that was ever imported or refreshed) is stale when that is
longer ago than the configured age, or when it never succeeded. Fixture datasets are not
lists and are never stale.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from .config import DEFAULT_MAX_LIST_AGE, Settings
from .db import generation, utcnow
from .sources import Dataset


def _seconds_between(earlier: str, later: dt.datetime) -> float:
    when = dt.datetime.fromisoformat(earlier.replace("Z", "+00:00"))
    return max(0.0, (later - when).total_seconds())


def _last_by_dataset(rows: Sequence[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """The last row per dataset of rows ordered oldest first (dataset in column 0)."""
    return {row[0]: row for row in rows}


def dataset_states(
    db: sqlite_utils.Database,
    catalogue: Sequence[Dataset],
    *,
    max_age: float | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """GET /datasets: every dataset of the catalogue or the registry, with its sources and
    freshness."""
    now = now or dt.datetime.now(dt.UTC)
    max_age = max_age or DEFAULT_MAX_LIST_AGE
    conn = db.conn
    counts = {
        row[0]: (int(row[1] or 0), int(row[2] or 0), row[3])
        for row in conn.execute(
            "SELECT dataset, SUM(removed_at IS NULL), SUM(removed_at IS NOT NULL), "
            "MAX(updated_at) FROM records WHERE deleted_at IS NULL GROUP BY dataset"
        )
    }
    imported = _last_by_dataset(
        conn.execute(
            "SELECT dataset, id, published, finished_at FROM import_runs "
            "WHERE status = 'finished' ORDER BY finished_at"
        ).fetchall()
    )
    import_attempts = _last_by_dataset(
        conn.execute(
            "SELECT dataset, id, status, finished_at, counts FROM import_runs ORDER BY finished_at"
        ).fetchall()
    )
    refresh_attempts = _last_by_dataset(
        conn.execute(
            "SELECT dataset, id, status, finished_at, reason FROM refresh_runs ORDER BY finished_at"
        ).fetchall()
    )
    refresh_successes = _last_by_dataset(
        conn.execute(
            "SELECT dataset, finished_at FROM refresh_runs "
            "WHERE status IN ('updated', 'unchanged') ORDER BY finished_at"
        ).fetchall()
    )
    by_name = {d.name: d for d in catalogue}
    names = list(by_name) + sorted(
        (set(counts) | set(import_attempts) | set(refresh_attempts)) - set(by_name)
    )
    items = []
    for name in names:
        source = by_name.get(name)
        listed, delisted, changed_at = counts.get(name, (0, 0, None))
        last_import = imported.get(name)
        attempts = []
        if name in import_attempts:
            _, run, status, at, raw = import_attempts[name]
            error = json.loads(raw).get("error") if raw and status != "finished" else None
            attempts.append(
                {"kind": "import", "run": run, "at": at, "status": status, "reason": error}
            )
        if name in refresh_attempts:
            _, run, status, at, reason = refresh_attempts[name]
            attempts.append(
                {"kind": "refresh", "run": run, "at": at, "status": status, "reason": reason}
            )
        last_attempt = max(attempts, key=lambda a: a["at"] or "") if attempts else None
        successes = [
            s
            for s in (last_import and last_import[3], refresh_successes.get(name, (None, None))[1])
            if s
        ]
        last_success = max(successes) if successes else None
        is_list = bool(attempts)
        age = _seconds_between(last_success, now) if last_success else None
        items.append(
            {
                "name": name,
                "title": source.title if source else None,
                "format": source.format if source else None,
                "publisher": source.publisher if source else None,
                "page": source.page if source else None,
                "urls": list(source.urls) if source else [],
                "included_in": source.included_in if source else None,
                "listed": listed,
                "delisted": delisted,
                "published": last_import[2] if last_import else None,
                "import_run": last_import[1] if last_import else None,
                "loaded_at": last_import[3] if last_import else changed_at,
                "last_attempt": last_attempt,
                "last_success_at": last_success,
                "age_seconds": round(age) if age is not None else None,
                "stale": is_list and (age is None or age > max_age),
            }
        )
    return {
        "items": items,
        "total": len(items),
        "max_list_age_seconds": max_age,
        "checked_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def stale_lists(
    db: sqlite_utils.Database, catalogue: Sequence[Dataset], max_age: float
) -> list[str]:
    """Why the registry's data is not fresh: one line per stale list; [] when fresh."""
    out = []
    for item in dataset_states(db, catalogue, max_age=max_age)["items"]:
        if not item["stale"]:
            continue
        if item["last_success_at"] is None:
            out.append(f"{item['name']}: never refreshed or imported successfully")
        else:
            hours = item["age_seconds"] / 3600
            out.append(
                f"{item['name']}: last confirmed current {hours:.1f} h ago "
                f"(REGISTRY_MAX_LIST_AGE is {max_age / 3600:g} h)"
            )
    return out


def readiness_problems(
    db: sqlite_utils.Database, settings: Settings, catalogue: Sequence[Dataset]
) -> list[str]:
    """The freshness condition of /readyz: stale lists when REGISTRY_MAX_LIST_AGE is set,
    else nothing (freshness is then shown by GET /datasets, not required)."""
    if settings.max_list_age is None:
        return []
    return stale_lists(db, catalogue, settings.max_list_age)


def dataset_versions(db: sqlite_utils.Database, as_of: str | None = None) -> list[dict[str, Any]]:
    """The version of each dataset a screening (now, or as of a past instant) rests on:
    for an imported list, the import run that loaded its current publication and that
    publication's date; for other datasets (fixtures, hand edits), the time of their last
    change."""
    conn = db.conn
    if as_of is None:
        changed = conn.execute(
            "SELECT dataset, MAX(updated_at) FROM records WHERE deleted_at IS NULL "
            "GROUP BY dataset ORDER BY dataset"
        ).fetchall()
        runs = conn.execute(
            "SELECT dataset, id, published, finished_at FROM import_runs "
            "WHERE status = 'finished' ORDER BY finished_at"
        ).fetchall()
    else:
        changed = conn.execute(
            "SELECT dataset, MAX(at) FROM history WHERE object_type = 'record' AND at <= ? "
            "GROUP BY dataset ORDER BY dataset",
            (as_of,),
        ).fetchall()
        runs = conn.execute(
            "SELECT dataset, id, published, finished_at FROM import_runs "
            "WHERE status = 'finished' AND finished_at <= ? ORDER BY finished_at",
            (as_of,),
        ).fetchall()
    last_run = _last_by_dataset(runs)
    versions = []
    for dataset, changed_at in changed:
        run = last_run.get(dataset)
        versions.append(
            {
                "dataset": dataset,
                "import_run": run[1] if run else None,
                "published": run[2] if run else None,
                "loaded_at": run[3] if run else changed_at,
            }
        )
    return versions


class VersionCache:
    """dataset_versions per data generation (and per past instant): computed once after
    each write, not once per screening request."""

    def __init__(self, size: int = 8) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, int, str | None], list[dict[str, Any]]] = OrderedDict()
        self._size = size

    def get(self, db: sqlite_utils.Database, as_of: str | None = None) -> list[dict[str, Any]]:
        if as_of is not None and as_of >= utcnow():
            as_of = None  # the future looks like now
        # Imports that change nothing bump no generation but are new versions all the same.
        runs = db.conn.execute("SELECT MAX(rowid) FROM import_runs").fetchone()[0] or 0
        key = (generation(db), int(runs), as_of)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        versions = dataset_versions(db, as_of)
        with self._lock:
            self._cache[key] = versions
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return versions
