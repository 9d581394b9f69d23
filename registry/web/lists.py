"""Lists: the datasets, their import runs, and what each run added, changed or
delisted. Thin over `registry.imports` (what GET /imports and
/imports/{id}/changes use) and `queries.stats`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request

from schemas.api import ImportChangeArgs, ImportListArgs

from .. import freshness, imports, queries
from ..api.common import get_db, settings
from ..api.datasets import active_catalogue
from ..db import utcnow
from ..problems import not_found
from .entities import diff_rows
from .pages import load_args, render

bp = Blueprint("lists", __name__)
CHANGE_TABS = (("added", "Added"), ("changed", "Changed"), ("removed", "Delisted"))
RUNS_PAGE = 25
CHANGES_PAGE = 50


def _age(instant: str | None, now: str) -> str | None:
    if not instant:
        return None
    try:
        then = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
        current = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    except ValueError:
        return None
    days = (current - then).days
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    hours = seconds / 3600
    if hours < 1:
        return f"{max(1, round(seconds / 60))} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def freshness_of(state: dict[str, Any] | None, max_age: float) -> dict[str, Any]:
    """What the Lists page says of a dataset's freshness (GET /datasets' fields)."""
    if state is None:
        return {"stale": False, "text": None, "failure": None}
    attempt = state.get("last_attempt") or {}
    failure = (
        attempt.get("reason")
        if attempt.get("status") not in (None, "finished", "updated", "unchanged")
        else None
    )
    age = state.get("age_seconds")
    if state["stale"]:
        text = (
            f"stale: not confirmed current for {_duration(age)} (the limit is {_duration(max_age)})"
            if age is not None
            else "stale: never confirmed current"
        )
    elif age is not None:
        text = f"current: confirmed {_duration(age)} ago"
    else:
        text = None  # fixtures and hand edits: not a list kept current
    return {"stale": bool(state["stale"]), "text": text, "failure": failure}


def datasets(db: Any) -> list[dict[str, Any]]:
    """Each dataset with its records, its last import run (from the runs; the
    datasets that only fixture loads wrote have none) and its freshness (what
    GET /datasets says)."""
    max_age = settings().max_list_age
    states = freshness.dataset_states(db, active_catalogue(), max_age=max_age)
    by_name = {item["name"]: item for item in states["items"]}
    records = queries.stats(db)["records_by_dataset"]
    runs = imports.list_runs(db, {"limit": 500}).items  # newest first
    now = utcnow()
    out: dict[str, dict[str, Any]] = {
        name: {"name": name, "records": count, "runs": 0, "last": None, "last_ok": None}
        for name, count in records.items()
    }
    for run in runs:
        entry = out.setdefault(
            run["dataset"],
            {"name": run["dataset"], "records": 0, "runs": 0, "last": None, "last_ok": None},
        )
        entry["runs"] += 1
        entry["last"] = entry["last"] or run
        if run["status"] == "finished" and entry["last_ok"] is None:
            entry["last_ok"] = run
            entry["age"] = _age(run["finished_at"], now)
    for entry in out.values():
        state = by_name.get(entry["name"])
        entry["published"] = state and state.get("published")
        entry["freshness"] = freshness_of(state, states["max_list_age_seconds"])
    return sorted(out.values(), key=lambda d: d["name"])


@bp.route("/lists")
def lists() -> Response:
    db = get_db()
    args = load_args(ImportListArgs(), {"limit": RUNS_PAGE, **request.args.to_dict()})
    page = imports.list_runs(db, args)
    return render(
        "web/lists.html",
        datasets=datasets(db),
        runs=page.items,
        total=page.total,
        next_cursor=page.next_cursor,
        filters={k: args.get(k) for k in ("dataset", "format", "status") if args.get(k)},
    )


@bp.route("/lists/runs/<string:run_id>")
def run(run_id: str) -> Response:
    db = get_db()
    found = imports.get_run(db, run_id)
    if found is None:
        raise not_found(f"No import run {run_id!r}.")
    change = request.args.get("change", "added")
    args = load_args(
        ImportChangeArgs(), {"limit": CHANGES_PAGE, **request.args.to_dict(), "change": change}
    )
    page = imports.list_changes(db, run_id, args)
    changes = [{**item, "rows": diff_rows(item["diff"] or {})} for item in page.items]
    return render(
        "web/run.html",
        run=found,
        change=args["change"],
        tabs=CHANGE_TABS,
        changes=changes,
        total=page.total,
        next_cursor=page.next_cursor,
    )
