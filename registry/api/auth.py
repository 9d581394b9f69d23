"""Who may do what: API keys checked before every request.

Writes need a key with the write scope (or admin), key management needs admin,
reads need a read key only when REGISTRY_REQUIRE_KEY_FOR_READS is set. The
health check and the OpenAPI document stay public. A key is identified in
history and logs by its id, never by its secret.
"""

from __future__ import annotations

from flask import Flask, g, request

from ..keys import ApiKey, touch_key, verify_key
from ..problems import InputError, Problem
from .common import get_db, settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_ENDPOINTS = {"meta.healthz", "meta.readyz", "api-docs.openapi_json"}
# (the audit trail holds every screened name: admins only, whatever the read setting)
BLUEPRINT_SCOPES = {"keys": "admin", "audit": "admin"}
# POST for its body, but a read: screening a list changes nothing.
READ_ENDPOINTS = {"screen.screen_many", "yente.match", "reconcile.queries_post"}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry"'}
INVALID_KEY = "This key is not valid or has been revoked."
# The web pages (registry.web) sign in with a key kept in their session cookie
# and check it themselves.
COOKIE_AUTH_BLUEPRINT = "web"


def scope_needed() -> str | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # routing errors (404, 405) and public views
    if COOKIE_AUTH_BLUEPRINT in request.blueprints:
        return None
    if request.blueprint in BLUEPRINT_SCOPES:
        return BLUEPRINT_SCOPES[request.blueprint]
    if request.method in SAFE_METHODS or endpoint in READ_ENDPOINTS:
        return "read" if settings().require_key_for_reads else None
    return "write"


def _unauthorized(message: str) -> InputError:
    return InputError(
        [Problem(message, field="Authorization", location="header")],
        status=401,
        title="Unauthorized",
        headers=CHALLENGE,
    )


def authenticate() -> None:
    needed = scope_needed()
    header = request.headers.get("Authorization")
    key = None
    if header:
        scheme, _, token = header.partition(" ")
        # "ApiKey <key>" is how yente clients (OpenSanctions' API) send one.
        if scheme.lower() not in ("bearer", "apikey") or not token.strip():
            raise _unauthorized("Use 'Authorization: Bearer <key>'.")
        key = verify_key(get_db(), token)
        if key is None:
            raise _unauthorized(INVALID_KEY)
        g.api_key = key
        g.actor = key.actor
        if not g.get("front_door"):  # the door's look before the body writes nothing
            touch_key(get_db(), key, settings().busy_timeout_ms)
    if needed is None:
        return
    if key is None:
        raise _unauthorized("This needs an API key: 'Authorization: Bearer <key>'.")
    if not key.allows(needed):
        raise forbidden(needed, key)


def forbidden(
    needed: str, key: ApiKey, *, field: str = "Authorization", location: str = "header"
) -> InputError:
    return InputError(
        [
            Problem(
                f"This needs a key with the {needed} scope; this key has {key.scope}.",
                field=field,
                location=location,
            )
        ],
        status=403,
        title="Forbidden",
    )


def register_auth(app: Flask) -> None:
    app.before_request(authenticate)
