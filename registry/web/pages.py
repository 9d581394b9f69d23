"""What every page shares: the parent blueprint, rendering, errors, headers.

Errors on a page are shown as a page, carrying the same problem details
(RFC 9457) the API would answer with; form errors are shown next to their field.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, g, render_template, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ..api.common import settings
from ..api.errors import (
    http_error_document,
    input_error_document,
    problem_document,
    problems_from_webargs,
)
from ..problems import InputError, Problem
from ..screen_index import IndexUnavailable
from .session import browser_id, check_csrf, cookie_refused, csrf_token, current_key

log = logging.getLogger(__name__)

page = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

# Every page works under this policy: no inline script or style, nothing from
# another host. (/docs loosens img-src for Swagger UI's data: icons; see docs.py.)
PAGE_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
PUBLIC_ENDPOINTS = {"web.static", "web.decide.session", "web.docs.docs", "web.docs.asset"}


class FieldErrors:
    """Problems of a form, by field, for the template: `errors.of('name')`."""

    def __init__(
        self, problem: dict[str, Any] | None = None, aliases: dict[str, str] | None = None
    ):
        self.problem = problem
        self._by_field: dict[str, list[str]] = {}
        for item in (problem or {}).get("errors", []):
            field = str(item.get("field") or "")
            field = (aliases or {}).get(field, (aliases or {}).get("*", field))
            self._by_field.setdefault(field, []).append(item["message"])

    def of(self, field: str) -> list[str]:
        return self._by_field.get(field, [])

    def __bool__(self) -> bool:
        return self.problem is not None

    @property
    def json(self) -> str:
        return json.dumps(self.problem, ensure_ascii=False, indent=2)


class ArgumentsError(InputError):
    """Arguments a schema refused: the API answers these through webargs, with
    its own wording of the detail; the pages give the very same document."""


def load_args(schema: Schema, data: Mapping[str, Any], location: str = "query") -> dict[str, Any]:
    """Arguments loaded by the API's own schema (its validation, its messages)."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise ArgumentsError(problems_from_webargs({location: exc.messages})) from None
    return loaded


def problem_of(error: InputError) -> dict[str, Any]:
    if isinstance(error, ArgumentsError):
        return problem_document(400, problems=error.problems)
    return input_error_document(error)


def render(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status)
    return response


@page.app_template_global()
def signed_in_key() -> Any:
    return current_key() if request.blueprints and "web" in request.blueprints else None


@page.context_processor
def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "errors": FieldErrors(), "cookie_refused": cookie_refused}


@page.before_request
def _before() -> BaseResponse | None:
    if request.method == "POST":
        try:
            check_csrf()
        except InputError as error:
            return render_error(problem_of(error))
    browser_id()
    if settings().require_key_for_reads and request.endpoint not in PUBLIC_ENDPOINTS:
        key = current_key()
        if key is None:
            from .decide import sign_in_page

            return sign_in_page(
                next_url=request.full_path if request.method == "GET" else "/",
                status=401,
                message="This registry asks for an API key to read it.",
            )
    return None


@page.after_request
def _headers(response: Response) -> Response:
    # Security headers that a service-wide setting has not already given.
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Page addresses hold screened names: never hand them to another site.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint not in ("web.static", "web.docs.asset"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def render_error(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = render("web/error.html", status=problem["status"], problem=FieldErrors(problem))
    for key, value in (headers or {}).items():
        if key.lower() != "www-authenticate":  # a page signs in with a form, not a challenge
            response.headers[key] = value
    return response


@page.errorhandler(InputError)
def _input_error(error: InputError) -> Response:
    return render_error(problem_of(error), error.headers)


@page.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    problem, headers = http_error_document(error)
    return render_error(problem, headers)


@page.errorhandler(sqlite3.OperationalError)
def _database_error(error: sqlite3.OperationalError) -> Response:
    if "locked" in str(error) or "busy" in str(error):
        problem = problem_document(
            503, detail="Another write (an import or a load) holds the database; try again shortly."
        )
        return render_error(problem, {"Retry-After": "5"})
    return _unexpected(error)


@page.errorhandler(IndexUnavailable)
def _index_unavailable(error: IndexUnavailable) -> Response:
    problem = problem_document(503, detail=error.detail)
    return render_error(problem, {"Retry-After": str(error.retry_after)})


@page.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return render_error(problem_document(500))


def field_problem(message: str, field: str, location: str = "query", status: int = 400) -> dict:
    """A problem document naming one field (for checks a page makes itself)."""
    error = InputError([Problem(message, field=field, location=location)], status=status)
    return problem_of(error)


def key_was_dropped() -> bool:
    current_key()
    return bool(g.get("web_key_dropped"))
