"""yente's matching API: POST /match/{dataset}, GET /catalog, GET /algorithms.

Thin over `registry.compat.yente`; the answers are yente's shapes, returned as
they are built (not re-serialised), and errors are problem details whose
`detail` is yente's message (yente's ErrorResponse is {"detail": "..."}).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, jsonify, request
from marshmallow import EXCLUDE

from schemas.yente import (
    AlgorithmResponseSchema,
    DataCatalogSchema,
    EntityMatchQuerySchema,
    EntityMatchResponseSchema,
    MatchArgs,
    list_args,
)

from ..compat import yente
from ..db import view
from ..matching import DEFAULT_THRESHOLD
from ..problems import Problem
from .common import Blueprint, get_db, problem, settings
from .errors import problem_response
from .screen import audit_compat, index_cache

blp = Blueprint(
    "yente",
    __name__,
    description="yente-compatible matching (query by example, FollowTheMoney)",
)


def _refusal(error: yente.MatchError, location: str = "json") -> Response:
    field = error.field
    if field in ("dataset",):
        location = "path"
    elif field in ("algorithm",):
        location = "query"
    return problem_response(
        error.status,
        detail=error.message,
        problems=[Problem(error.message, field=field, location=location)],
    )


@blp.route("/match/<string:dataset>", methods=["POST"])
@blp.arguments(MatchArgs, location="query", unknown=EXCLUDE)
@blp.arguments(EntityMatchQuerySchema, unknown=EXCLUDE)
@blp.response(200, EntityMatchResponseSchema)
@blp.alt_response(404, **problem("No such dataset."))
def match(args: dict[str, Any], body: dict[str, Any], dataset: str) -> Response:
    """Match FollowTheMoney examples (yente's query by example): a Person's name,
    birthDate, nationality, idNumber ...; `default` is every dataset. The same
    matcher and scores as /screen. Unknown query parameters are ignored, as yente
    ignores them."""
    try:
        params = yente.MatchParams(
            dataset=dataset,
            threshold=args.get("threshold", DEFAULT_THRESHOLD),
            cutoff=args.get("cutoff"),
            limit=args["limit"],
            algorithm=yente.check_algorithm(args["algorithm"]),
            changed_since=args.get("changed_since"),
            **list_args(
                args,
                "include_dataset",
                "exclude_dataset",
                "exclude_schema",
                "exclude_entity_ids",
                "topics",
            ),
        )
        with view(get_db()):  # the answer and the versions it is recorded with: one snapshot
            answer = yente.match(
                get_db(), index_cache(), body, params, max_queries=settings().max_screen_batch
            )
            audit_compat(
                "POST /match",
                body.get("queries") or {},
                asdict(params),
                {key: found["results"] for key, found in answer["responses"].items()},
            )
    except yente.MatchError as error:
        return _refusal(error)
    response = jsonify(answer)
    response.headers["x-batch-size"] = str(len(answer["responses"]))
    return response


@blp.route("/catalog")
@blp.response(200, DataCatalogSchema)
def catalog() -> Response:
    """The datasets /match can be scoped to (yente's data catalog); `default` is all."""
    from .datasets import active_catalogue

    titles = {d.name: d.title for d in active_catalogue() if d.title}
    return jsonify(yente.catalog(get_db(), titles))


@blp.route("/algorithms")
@blp.response(200, AlgorithmResponseSchema)
def algorithms() -> Response:
    """The matching algorithm behind /match and what each of its features does."""
    return jsonify(yente.algorithms(request.host_url + "docs"))
