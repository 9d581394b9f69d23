"""One error envelope for every error path: RFC 9457 problem details.

Validation errors from webargs/marshmallow, the registry's own InputError,
HTTP errors raised by Werkzeug (404, 405, 413 ...) and unexpected exceptions
all leave as `application/problem+json` with status, title, detail and, where
a field is at fault, `errors: [{location, field, message}]`.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from ..problems import InputError, Problem, flatten_messages
from ..screen_index import IndexUnavailable

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

_DETAILS = {
    400: "The request is not valid; see errors for each field at fault.",
    404: "Nothing exists at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than this service accepts.",
    415: "Send JSON (Content-Type: application/json).",
    500: "The service failed to answer. The failure has been logged.",
}


def problem_document(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    problems: list[Problem] | None = None,
) -> dict[str, Any]:
    """The problem details of an error (the web pages show the same)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _title(status),
        "status": status,
        "detail": detail or _DETAILS.get(status, _title(status)),
        "instance": request.path,
    }
    if problems:
        body["errors"] = [p.as_dict() for p in problems]
    return body


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    problems: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_document(status, title=title, detail=detail, problems=problems)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _title(status: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return HTTP_STATUS_CODES.get(status, "Error")


def problems_from_webargs(messages: Any) -> list[Problem]:
    """webargs nests messages under their location: {"query": {"limit": [...]}}."""
    problems = []
    if isinstance(messages, dict):
        for location, inner in messages.items():
            for field, message in flatten_messages(inner):
                problems.append(Problem(message, field=field or None, location=location))
    else:
        problems = [Problem(m) for _, m in flatten_messages(messages)]
    return problems


def http_error_document(error: HTTPException) -> tuple[dict[str, Any], dict[str, str]]:
    """The problem details and headers of an HTTP error raised by Werkzeug or webargs."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    problems = None
    if "messages" in data or "errors" in data:
        problems = problems_from_webargs(data.get("messages", data.get("errors")))
    if status >= 500:
        detail = _DETAILS.get(status, _DETAILS[500])
    else:
        detail = data.get("message") or _clean_description(error, status)
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem_document(status, detail=detail, problems=problems), headers


def handle_http_exception(error: HTTPException) -> Response:
    body, headers = http_error_document(error)
    return _response(body, headers)


def _response(body: dict[str, Any], headers: dict[str, str]) -> Response:
    response = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_JSON)
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _clean_description(error: HTTPException, status: int) -> str:
    description = error.description or ""
    generic = type(error).description
    # Werkzeug's stock texts talk about "the browser"; ours are for API clients.
    if description == generic or not description:
        return _DETAILS.get(status, _title(status))
    return description


def input_error_document(error: InputError) -> dict[str, Any]:
    if error.status == 400 or not error.problems:
        detail = "The input is not valid; see errors for each field at fault."
    else:
        detail = " ".join(p.message for p in error.problems[:3])
    return problem_document(error.status, title=error.title, detail=detail, problems=error.problems)


def handle_input_error(error: InputError) -> Response:
    return _response(input_error_document(error), error.headers)


def handle_database_busy(error: sqlite3.OperationalError) -> Response:
    """Another writer held the database past the busy timeout: a clean, retryable
    refusal rather than a failure. Other database errors are failures."""
    if "locked" not in str(error) and "busy" not in str(error):
        return handle_unexpected(error)
    log.warning("database busy on %s %s", request.method, request.path)
    return problem_response(
        503,
        detail="Another write (an import or a load) holds the database; try again shortly.",
        headers={"Retry-After": "5"},
    )


def handle_index_unavailable(error: IndexUnavailable) -> Response:
    """No screening index can answer yet (being built): retry shortly."""
    return problem_response(
        503, detail=error.detail, headers={"Retry-After": str(error.retry_after)}
    )


def handle_unexpected(error: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem_response(500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InputError, handle_input_error)
    app.register_error_handler(sqlite3.OperationalError, handle_database_busy)
    app.register_error_handler(IndexUnavailable, handle_index_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
