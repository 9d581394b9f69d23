"""Screening FollowTheMoney examples: every query of a batch through the one
screening path (`screening.screen`), then each example's matches merged by entity,
the best score kept (an example with several names, or several countries, makes
several screening queries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlite_utils

from ..screening import IndexCache, ScreenOptions, screen
from .ftm import Example, ExampleError


def rank(match: Mapping[str, Any]) -> tuple[float, float, str]:
    """Best first: the score, then the better evidence, then the id (as /screen)."""
    effect = sum(e["effect"] for e in match["explanation"].get("evidence") or [])
    return (-match["score"], -effect, match["entity_id"])


def screen_examples(
    db: sqlite_utils.Database,
    cache: IndexCache,
    examples: Mapping[str, Example],
    options: ScreenOptions,
) -> dict[str, list[dict[str, Any]]]:
    """Each example's matches, best first (at most `options.limit` per query; the
    caller cuts each example's list). A query the screening refuses (a name too
    long ...) raises ExampleError naming its example. Call it inside `db.view`."""
    flat = [(key, query) for key, example in examples.items() for query in example.queries()]
    results = screen(db, cache, [query for _, query in flat], options)
    merged: dict[str, dict[str, dict[str, Any]]] = {key: {} for key in examples}
    for (key, _), result in zip(flat, results, strict=True):
        if result["error"] is not None:
            problems = "; ".join(
                f"{e.get('field')}: {e['message']}" if e.get("field") else e["message"]
                for e in result["error"]["errors"]
            )
            raise ExampleError(f"{key!r}: {problems}")
        best = merged[key]
        for match in result["matches"]:
            held = best.get(match["entity_id"])
            if held is None or rank(match) < rank(held):
                best[match["entity_id"]] = {**match, "query_name": result["query"]["name"]}
    return {key: sorted(found.values(), key=rank) for key, found in merged.items()}
