"""/entities: search, read and hand-edit sanctioned entities."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from flask.views import MethodView
from marshmallow import fields

from schemas import EntityPatchSchema, EntitySchema
from schemas.api import (
    AsOfArgs,
    EntityDetailSchema,
    EntityListArgs,
    EntityPageSchema,
    EntityReplaceSchema,
    HistoryArgs,
    HistoryPageSchema,
)
from schemas.fields import Pattern
from schemas.fixture import ID_MESSAGE, ID_PATTERN

from .. import editing, history, queries
from ..compat import ftm
from ..db import view
from ..problems import InputError, Problem, not_found
from .common import Blueprint, actor, get_db, problem

blp = Blueprint("entities", __name__, url_prefix="/entities", description="Sanctioned entities")


class EntityCreateSchema(EntitySchema):
    # POST may leave the id to the service; PUT takes it from the path.
    id = fields.String(
        validate=Pattern(ID_PATTERN, error=ID_MESSAGE),
        metadata={"description": "Stable id; generated from the name when omitted."},
    )


def entity_or_error(entity_id: str, as_of: str | None = None) -> dict[str, Any]:
    db = get_db()
    with view(db):  # the entity and the reasons it is missing, from one snapshot
        entity = queries.get_entity(db, entity_id, as_of)
        if entity is not None:
            return entity
        if as_of is not None and history.entity_existed(db, entity_id):
            raise not_found(
                f"Entity {entity_id!r} was not in the registry at {as_of}.",
                field="as_of",
                location="query",
            )
        if queries.entity_status(db, entity_id) == "deleted":
            raise InputError(
                [
                    Problem(
                        f"Entity {entity_id!r} was deleted; its history is kept.",
                        field="id",
                        location="path",
                    )
                ],
                status=410,
                title="Gone",
            )
    raise not_found(f"No entity {entity_id!r}.")


def _etag_header(entity: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{queries.entity_etag(entity)}"'}


def _precondition() -> editing.Precondition:
    """If-Match / If-None-Match of the request, for the write to check in its
    own transaction."""
    if_match = None
    if "If-Match" in request.headers:
        tags = request.if_match
        if_match = frozenset(["*"] if tags.star_tag else tags.as_set())
    return editing.Precondition(
        if_match=if_match,
        if_none_match_any="If-None-Match" in request.headers and request.if_none_match.star_tag,
    )


_CONDITIONAL = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": "The ETag of the entity as you read it: the write is refused "
            "(412) if it changed since.",
        }
    ]
}


@blp.route("")
class Entities(MethodView):
    @blp.arguments(EntityListArgs, location="query")
    @blp.response(200, EntityPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search entities by name, listing and country, a page at a time; with as_of,
        as the registry stood then."""
        as_of = args.pop("as_of", None)
        return queries.list_entities(get_db(), args, as_of).as_dict()

    @blp.arguments(EntityCreateSchema)
    @blp.response(201, EntityDetailSchema)
    @blp.alt_response(409, **problem("An entity with this id exists."))
    def post(self, entity: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an entity (id optional); checked like a fixture load."""
        entity_id = editing.create_entity(get_db(), entity, actor=actor())
        created = entity_or_error(entity_id)
        return created, 201, {"Location": _location(entity_id), **_etag_header(created)}


class EntityGetArgs(AsOfArgs):
    nested = fields.Boolean(
        metadata={
            "description": "Answer as yente does: the entity as FollowTheMoney JSON "
            "(yente's EntityResponse); true nests its sanctions under `sanctions`."
        }
    )


# GET /entities/{id} answers either shape: the registry's detail, or with `nested`
# yente's FollowTheMoney entity.
_EITHER_SHAPE = {
    "responses": {
        "200": {
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/EntityDetail"},
                            {"$ref": "#/components/schemas/EntityResponse"},
                        ]
                    }
                }
            }
        }
    }
}


@blp.route("/<string:entity_id>")
class EntityById(MethodView):
    @blp.response(200, EntityDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(304, description="Not modified (If-None-Match).")
    @blp.alt_response(404, **problem("No such entity."))
    @blp.alt_response(410, **problem("The entity was deleted."))
    @blp.arguments(EntityGetArgs, location="query")
    @blp.doc(**_EITHER_SHAPE)
    def get(self, args: dict[str, Any], entity_id: str) -> Any:
        """An entity with its names, identifiers, addresses, designations and evidence;
        with as_of, as it stood then. The ETag goes back in If-Match on a write. With
        `nested` (as yente clients ask), the entity as FollowTheMoney JSON."""
        entity = entity_or_error(entity_id, args.get("as_of"))
        if "nested" in args:
            return jsonify(ftm.entity_response(entity, nested=args["nested"]))
        headers = _etag_header(entity)
        if request.if_none_match.contains_weak(headers["ETag"].strip('"')):
            return Response(status=304, headers=headers)
        return entity, 200, headers

    @blp.arguments(EntityReplaceSchema)
    @blp.response(200, EntityDetailSchema)
    @blp.alt_response(201, schema=EntityDetailSchema, description="Created.")
    @blp.alt_response(409, **problem("The entity is maintained by an import."))
    @blp.alt_response(412, **problem("The entity changed since the ETag in If-Match."))
    @blp.doc(**_CONDITIONAL)
    def put(self, entity: dict[str, Any], entity_id: str) -> tuple[Any, ...]:
        """Replace the entity's own record, or create it under this id. The body of a
        GET can be sent back as it is (what the service derives is ignored)."""
        created = editing.replace_entity(
            get_db(), entity_id, entity, actor=actor(), precondition=_precondition()
        )
        detail = entity_or_error(entity_id)
        return detail, 201 if created else 200, _etag_header(detail)

    @blp.arguments(EntityPatchSchema)
    @blp.response(200, EntityDetailSchema)
    @blp.alt_response(404, **problem("No such entity."))
    @blp.alt_response(409, **problem("The entity is maintained by an import."))
    @blp.alt_response(412, **problem("The entity changed since the ETag in If-Match."))
    @blp.doc(**_CONDITIONAL)
    def patch(self, patch: dict[str, Any], entity_id: str) -> tuple[Any, ...]:
        """Change some top-level fields; a list given replaces the whole list."""
        editing.patch_entity(
            get_db(), entity_id, patch, actor=actor(), precondition=_precondition()
        )
        detail = entity_or_error(entity_id)
        return detail, 200, _etag_header(detail)

    @blp.response(204)
    @blp.alt_response(404, **problem("No such entity."))
    @blp.alt_response(409, **problem("The entity is maintained by an import."))
    @blp.alt_response(412, **problem("The entity changed since the ETag in If-Match."))
    @blp.doc(**_CONDITIONAL)
    def delete(self, entity_id: str) -> Response:
        """Take the entity out of the registry; its history is kept."""
        editing.delete_entity(get_db(), entity_id, actor=actor(), precondition=_precondition())
        return Response(status=204)


@blp.route("/<string:entity_id>/history")
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, HistoryPageSchema)
@blp.alt_response(404, **problem("No such entity, now or ever."))
def entity_history(args: dict[str, Any], entity_id: str) -> dict[str, Any]:
    """Every change to the entity: when, by which key or import run, before and after."""
    db = get_db()
    with view(db):
        if not history.entity_existed(db, entity_id):
            raise not_found(f"No entity {entity_id!r}.")
        return history.entity_history(db, entity_id, args).as_dict()


def _location(entity_id: str) -> str:
    return url_for("entities.EntityById", entity_id=entity_id)
