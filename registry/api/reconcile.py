"""The W3C Entity Reconciliation API (0.2), as OpenRefine calls it: the manifest
and queries at /reconcile, suggest services, HTML previews. Thin over
`registry.compat.reconcile`; answers are returned as built. Every answer may be
read from another origin (OpenRefine runs in a browser), and a preview may be
framed by one."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, render_template, request
from marshmallow import EXCLUDE

from schemas.reconcile import (
    ManifestSchema,
    PreviewArgs,
    ReconcileArgs,
    SuggestArgs,
    SuggestEntitiesSchema,
    SuggestPropertiesSchema,
    SuggestTypesSchema,
)

from .. import queries
from ..compat import reconcile as protocol
from ..db import view
from ..matching import DEFAULT_THRESHOLD
from ..problems import InputError, Problem, not_found
from .common import Blueprint, get_db, problem, settings
from .headers import csp
from .screen import audit_compat, index_cache

blp = Blueprint(
    "reconcile",
    __name__,
    url_prefix="/reconcile",
    description="The W3C entity reconciliation API 0.2 (OpenRefine)",
)

_BATCH = {
    "type": "object",
    "additionalProperties": {"$ref": "#/components/schemas/ReconcileResult"},
}
_MANIFEST_OR_BATCH = {
    "responses": {
        "200": {
            "content": {
                "application/json": {
                    "schema": {"oneOf": [{"$ref": "#/components/schemas/Manifest"}, _BATCH]}
                }
            }
        }
    }
}


@blp.after_request
def _cross_origin(response: Response) -> Response:
    # OpenRefine fetches the manifest and the suggestions from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _answer(batch: Any) -> Response:
    parsed = protocol.parse_batch(batch)
    with view(get_db()):  # the answer and the versions it is recorded with: one snapshot
        results = protocol.reconcile(
            get_db(), index_cache(), parsed, max_queries=settings().max_screen_batch
        )
        audit_compat(
            f"{request.method} /reconcile",
            parsed,
            {"threshold": DEFAULT_THRESHOLD, "min_score": protocol.RECONCILE_MIN_SCORE},
            {key: found["result"] for key, found in results.items()},
        )
    return jsonify(results)


@blp.route("", methods=["GET"])
@blp.arguments(ReconcileArgs, location="query", unknown=EXCLUDE)
@blp.response(200, ManifestSchema)
@blp.doc(**_MANIFEST_OR_BATCH)
def service(args: dict[str, Any]) -> Response:
    """The service manifest; with `queries`, their results (as POST)."""
    if "queries" in args:
        return _answer(args["queries"])
    return jsonify(protocol.manifest(request.host_url))


@blp.route("", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "description": "The reconciliation queries: the form field `queries` (a JSON object, "
        "as OpenRefine sends it) or a JSON body {queries: {...}}.",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"queries": {"type": "string"}},
                    "required": ["queries"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"queries": {"type": "object"}},
                    "required": ["queries"],
                }
            },
        },
    },
    responses={"200": {"content": {"application/json": {"schema": _BATCH}}}},
)
@blp.response(200)
@blp.alt_response(400, **problem("The queries are not valid."))
def queries_post(**_: Any) -> Response:
    """Reconcile a batch of queries: each gets its candidates, best first, with the
    score and match flag /screen gives."""
    if request.is_json:
        body = request.get_json()
        batch = body.get("queries") if isinstance(body, dict) else None
    else:
        batch = request.form.get("queries")
    if batch is None:
        raise InputError(
            [
                Problem(
                    "Send the queries in the form field 'queries', or as JSON {queries: {...}}.",
                    field="queries",
                    location="form",
                )
            ]
        )
    return _answer(batch)


@blp.route("/suggest/entity")
@blp.arguments(SuggestArgs, location="query", unknown=EXCLUDE)
@blp.response(200, SuggestEntitiesSchema)
def suggest_entity(args: dict[str, Any]) -> Response:
    """Entities whose names begin with the words typed."""
    return jsonify(protocol.suggest_entities(get_db(), args["prefix"], args["limit"]))


@blp.route("/suggest/type")
@blp.arguments(SuggestArgs, location="query", unknown=EXCLUDE)
@blp.response(200, SuggestTypesSchema)
def suggest_type(args: dict[str, Any]) -> Response:
    """The types (FollowTheMoney schemata) a query can name."""
    return jsonify(protocol.suggest_types(args["prefix"]))


@blp.route("/suggest/property")
@blp.arguments(SuggestArgs, location="query", unknown=EXCLUDE)
@blp.response(200, SuggestPropertiesSchema)
def suggest_property(args: dict[str, Any]) -> Response:
    """The properties a query can carry (country, nationality, birthDate, idNumber ...)."""
    return jsonify(protocol.suggest_properties(args["prefix"]))


@blp.route("/preview")
@blp.arguments(PreviewArgs, location="query", unknown=EXCLUDE)
@blp.response(200, content_type="text/html", description="A small HTML card of the entity.")
@blp.alt_response(404, **problem("No such entity."))
def preview(args: dict[str, Any]) -> Response:
    """A small HTML card of an entity, for OpenRefine to show in a frame."""
    entity = queries.get_entity(get_db(), args["id"])
    if entity is None:
        raise not_found(f"No entity {args['id']!r}.", location="query")
    # OpenRefine shows it in a frame of its own page: framing allowed here only.
    csp(frame_ancestors="*")
    g.frameable = True
    return Response(render_template("web/preview.html", entity=entity), mimetype="text/html")
