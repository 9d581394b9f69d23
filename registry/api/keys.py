"""/keys: API key management (admin scope)."""

from __future__ import annotations

from typing import Any

from flask import Response, g

from schemas.api import KeyCreatedSchema, KeyCreateSchema, KeySchema

from .. import keys
from ..problems import InputError, Problem, not_found
from .common import Blueprint, actor, get_db, problem

blp = Blueprint("keys", __name__, url_prefix="/keys", description="API keys (admin scope)")


@blp.route("", methods=["GET"])
@blp.response(200, KeySchema(many=True))
def list_keys() -> list[dict[str, Any]]:
    """Every key: id, name, scope, when created, last used and revoked. Never the secret."""
    return keys.list_keys(get_db())


@blp.route("", methods=["POST"])
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema)
def create_key(args: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Create a key; the answer is the only time its secret is shown."""
    key, secret = keys.create_key(get_db(), args["name"], args["scope"], created_by=actor())
    return {"id": key.id, "name": key.name, "scope": key.scope, "key": secret}, 201


@blp.route("/<string:key_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, **problem("No such active key."))
@blp.alt_response(409, **problem("A key cannot revoke itself."))
def revoke_key(key_id: str) -> Response:
    """Revoke a key; requests with it are refused from now on. A key cannot revoke
    itself, so an admin cannot lock themselves out by mistake."""
    current = g.get("api_key")
    if current is not None and current.id == key_id:
        raise InputError(
            [
                Problem(
                    "A key cannot revoke itself; use another admin key.",
                    field="id",
                    location="path",
                )
            ],
            status=409,
            title="Conflict",
        )
    if not keys.revoke_key(get_db(), key_id):
        raise not_found(f"No active key {key_id!r}.")
    return Response(status=204)
