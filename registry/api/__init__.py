"""HTTP API: thin blueprints over `registry.queries`, `registry.editing` and the loader."""

from __future__ import annotations

import http

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from schemas.api import ProblemSchema, ScreenBatchSchema, ScreenQueryItemSchema
from schemas.reconcile import ReconcileResultSchema
from schemas.yente import EntityResponseSchema

from .errors import PROBLEM_JSON, register_error_handlers

SAFE_METHODS = {"get", "head", "options"}
# POSTs for their bodies, but reads (see api.auth.READ_ENDPOINTS).
READ_POSTS = {"/screen", "/match/{dataset}", "/reconcile"}
PUBLIC_PATHS = {"/healthz", "/readyz"}


class SecurityPlugin(BasePlugin):
    """Documents who may call what (see api.auth): writes need a bearer key."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: object
    ) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            read = method in SAFE_METHODS or (path in READ_POSTS and method == "post")
            if read and not (path or "").startswith(("/keys", "/audit")):
                # Open unless REGISTRY_REQUIRE_KEY_FOR_READS is set.
                operation["security"] = [{}, {"bearerAuth": []}]
            else:
                operation["security"] = [{"bearerAuth": []}]
                responses.setdefault("403", "FORBIDDEN")
            responses.setdefault("401", "UNAUTHORIZED")


class RegistryApi(Api):
    """flask-smorest's Api with problem+json errors, documented as such."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def register_api(app: Flask) -> RegistryApi:
    from . import (
        books,
        datasets,
        decisions,
        entities,
        exports,
        imports,
        keys,
        listings,
        match,
        meta,
        reconcile,
        screen,
    )

    api = RegistryApi(app, spec_kwargs={"extra_plugins": [SecurityPlugin()]})
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `registry keys create` or POST /keys.",
        },
    )
    for blueprint in (
        exports.blp,
        entities.blp,
        listings.designations,
        listings.actions,
        listings.sources,
        meta.blp,
        screen.blp,
        imports.blp,
        datasets.blp,
        keys.blp,
        decisions.blp,
        match.blp,
        reconcile.blp,
        books.blp,
        books.alerts_blp,
        books.audit_blp,
    ):
        api.register_blueprint(blueprint)
    api.spec.components.schema("ScreenQueryItem", schema=ScreenQueryItemSchema)
    api.spec.components.schema("ScreenBatch", schema=ScreenBatchSchema)
    api.spec.components.schema("EntityResponse", schema=EntityResponseSchema)
    api.spec.components.schema("ReconcileResult", schema=ReconcileResultSchema)
    return api
