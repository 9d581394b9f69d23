"""/decisions: analysts' verdicts on screening matches, with their history."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from schemas.api import (
    DecisionCreateSchema,
    DecisionDetailSchema,
    DecisionListArgs,
    DecisionPageSchema,
)

from .. import decisions
from ..problems import InputError, Problem, not_found
from .common import Blueprint, actor, get_db, problem

blp = Blueprint(
    "decisions",
    __name__,
    url_prefix="/decisions",
    description="Verdicts on screening matches (false positive or true match)",
)


@blp.route("", methods=["POST"])
@blp.arguments(DecisionCreateSchema)
@blp.response(201, DecisionDetailSchema)
def create_decision(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Record a verdict; it supersedes any earlier one on the same name and entity."""
    decision = decisions.record_decision(
        get_db(),
        actor=actor(),
        **{
            "query": args["query"],
            "entity_id": args["entity_id"],
            "verdict": args["verdict"],
            "note": args.get("note"),
        },
    )
    location = url_for("decisions.get_decision", decision_id=decision["id"])
    return decision, 201, {"Location": location}


@blp.route("", methods=["GET"])
@blp.arguments(DecisionListArgs, location="query")
@blp.response(200, DecisionPageSchema)
def list_decisions(args: dict[str, Any]) -> dict[str, Any]:
    """Decisions in force (or all, with include_ended), oldest first."""
    return decisions.list_decisions(get_db(), args).as_dict()


@blp.route("/<string:decision_id>", methods=["GET"])
@blp.response(200, DecisionDetailSchema)
@blp.alt_response(404, **problem("No such decision."))
@blp.alt_response(410, **problem("The decision was withdrawn."))
def get_decision(decision_id: str) -> dict[str, Any]:
    """A decision and the history of verdicts on its name and entity."""
    decision = decisions.get_decision(get_db(), decision_id)
    if decision is None:
        raise not_found(f"No decision {decision_id!r}.")
    if decision["ended_by"] == "withdrawn":
        raise InputError(
            [
                Problem(
                    f"Decision {decision_id!r} was withdrawn at {decision['valid_to']}; "
                    "GET /decisions?include_ended=true still lists it.",
                    field="id",
                    location="path",
                )
            ],
            status=410,
            title="Gone",
        )
    return decision


@blp.route("/<string:decision_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, **problem("No such decision."))
@blp.alt_response(409, **problem("The decision was already superseded or withdrawn."))
def withdraw_decision(decision_id: str) -> Response:
    """Withdraw a decision; it stays in the history."""
    decisions.withdraw_decision(get_db(), decision_id, actor=actor())
    return Response(status=204)
