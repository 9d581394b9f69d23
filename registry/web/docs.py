"""API docs at /docs: Swagger UI over the service's own /openapi.json.

The Swagger UI files come from the flask-swagger-ui package (its `dist`
folder, the upstream build) and are served from here; nothing is fetched
from another host. The page's start-up script is a file of ours, not inline.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, redirect, send_from_directory, url_for

from .pages import render

bp = Blueprint("docs", __name__)
SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "LICENSE"}
# Swagger UI draws its icons as data: images; nothing else is loosened.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@bp.route("/docs")
def docs() -> Response:
    response = render("web/docs.html", spec_url=url_for("api-docs.openapi_json"))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@bp.route("/docs/assets/<string:filename>")
def asset(filename: str) -> Response:
    if filename not in SWAGGER_FILES:
        from ..problems import not_found

        raise not_found(f"No asset {filename!r}.", field="filename")
    response = send_from_directory(SWAGGER_DIST, filename, max_age=86400)
    return response


@bp.route("/swagger")
@bp.route("/redoc")
def elsewhere() -> Response:
    return redirect(url_for("web.docs.docs"), 308)  # type: ignore[return-value]
