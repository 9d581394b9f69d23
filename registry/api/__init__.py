"""HTTP API: thin blueprints over `registry.queries`, `registry.editing` and the loader."""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from schemas.api import ProblemSchema

from .errors import PROBLEM_JSON, register_error_handlers


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
    from . import entities, listings, meta

    api = RegistryApi(app)
    for blueprint in (
        entities.blp,
        listings.designations,
        listings.actions,
        listings.sources,
        meta.blp,
    ):
        api.register_blueprint(blueprint)
    return api
