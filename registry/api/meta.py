"""/healthz, /readyz, /stats and /bulk."""

from __future__ import annotations

from typing import Any

from schemas import FixtureSchema
from schemas.api import DryRunArgs, HealthSchema, LoadReportSchema, ReadySchema, StatsSchema

from .. import freshness, matching, queries
from ..db import generation
from ..loader import apply_fixtures, prepare_fixture
from ..problems import InputError, Problem
from .common import Blueprint, actor, get_db, problem, settings
from .screen import index_cache

blp = Blueprint("meta", __name__, description="Service health, statistics and bulk loads")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz() -> dict[str, Any]:
    """The service is up and its database answers (see /readyz for screening)."""
    cache = index_cache()
    cache.poll(get_db())
    return {
        "status": "ok",
        "database": "ok",
        "generation": generation(get_db()),
        "matcher": matching.BUILD,
        "index": cache.state(),
        "limits": {
            "max_screen_batch": settings().max_screen_batch,
            "max_body_bytes": settings().max_body_bytes,
        },
    }


def fresh_data_problems() -> list[Problem]:
    """/readyz's freshness condition: with REGISTRY_MAX_LIST_AGE set, every list must have
    been confirmed current with its publisher within that age (see GET /datasets)."""
    from .datasets import active_catalogue

    lines = freshness.readiness_problems(get_db(), settings(), active_catalogue())
    return [Problem(line, field="datasets") for line in lines]


@blp.route("/readyz")
@blp.response(200, ReadySchema)
@blp.alt_response(
    503,
    **problem(
        "Not ready: the screening index is being built (with Retry-After), or a list is "
        "stale (errors name each)."
    ),
)
def readyz() -> dict[str, Any]:
    """Ready to screen: 503 until the first screening index is built (with Retry-After);
    with REGISTRY_MAX_LIST_AGE set, 503 while a list is stale."""
    cache = index_cache()
    cache.start()
    state = cache.state()
    problems = fresh_data_problems()
    headers = {}
    if not state["ready"]:
        problems.insert(0, Problem(cache.not_ready_detail(), field="index"))
        headers["Retry-After"] = str(cache.retry_after())
    if problems:
        raise InputError(problems, status=503, title="Service Unavailable", headers=headers)
    cache.poll(get_db())
    return {"status": "ready", "index": state}


@blp.route("/stats")
@blp.response(200, StatsSchema)
def stats() -> dict[str, Any]:
    """Counts by status, type, jurisdiction and authority; the screening index."""
    cache = index_cache()
    cache.poll(get_db())
    return {**queries.stats(get_db()), "index": cache.state()}


@blp.route("/bulk", methods=["POST"])
@blp.arguments(DryRunArgs, location="query")
@blp.arguments(FixtureSchema)
@blp.response(200, LoadReportSchema)
@blp.alt_response(409, **problem("A record belongs to another dataset."))
def bulk(args: dict[str, Any], fixture: dict[str, Any]) -> dict[str, Any]:
    """Load a fixture document (the format of `fixtures/`), all or nothing.

    Sources must carry their text inline: a request cannot name server files.
    """
    doc = prepare_fixture(fixture, name="request body", base_dir=None)
    return apply_fixtures(get_db(), [doc], actor=actor(), dry_run=args["dry_run"]).as_dict()
