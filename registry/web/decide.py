"""Decide: record a false positive or a true match on a screened name and an
entity, see the earlier verdicts on it, withdraw one. And signing in with a key.

Thin over `registry.decisions` (what POST/GET/DELETE /decisions use), with the
request checked by the API's own `DecisionCreateSchema`; the actor is the
signed-in key, exactly as with `Authorization: Bearer`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from schemas.api import DecisionCreateSchema, ScreenGetArgs

from .. import decisions, queries
from ..api.common import get_db
from ..api.screen import screen_name
from ..problems import InputError, Problem
from . import explain
from .pages import FieldErrors, key_was_dropped, load_args, problem_of, render
from .session import current_key, require_key, safe_next, sign_in, sign_out

bp = Blueprint("decide", __name__)
VERDICT_WORDS = {"false_positive": "false positive", "true_match": "true match"}
SHOWN_FROM = 0.5  # the decide page shows the match's score down to this


def sign_in_page(
    next_url: str, status: int = 200, errors: FieldErrors | None = None, message: str = ""
) -> Response:
    return render(
        "web/session.html",
        status=status,
        next_url=safe_next(next_url),
        errors=errors or FieldErrors(),
        message=message,
        dropped=key_was_dropped(),
    )


@bp.route("/session", methods=["GET", "POST"])
def session() -> Response:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return sign_in_page(next_url)
    try:
        key = sign_in(request.form.get("key", ""))
    except InputError as error:
        return sign_in_page(next_url, error.status, FieldErrors(problem_of(error)))
    flash(f"Signed in with the key “{key.name}” ({key.scope}) for this browser session.")
    return redirect(next_url, 303)


@bp.route("/session/end", methods=["POST"])
def session_end() -> Response:
    sign_out()
    flash("Signed out: this browser no longer holds the key.")
    return redirect(safe_next(request.form.get("next")), 303)


def _decide_url(query: str, entity_id: str) -> str:
    return url_for("web.decide.decide") + "?" + urlencode({"query": query, "entity": entity_id})


@bp.route("/decide", methods=["GET"])
def decide() -> Response:
    query = request.args.get("query", "").strip()
    entity_id = request.args.get("entity", "").strip()
    if not query or not entity_id:
        return _overview()
    return _decide_page(query, entity_id)


def _overview() -> Response:
    page = decisions.list_decisions(get_db(), {"limit": 200, "include_ended": False})
    return render("web/decisions.html", decisions=page.items, total=page.total)


def _decide_page(
    query: str,
    entity_id: str,
    errors: FieldErrors | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    db = get_db()
    entity = queries.get_entity(db, entity_id)
    if entity is None:
        raise InputError(
            [Problem(f"No entity {entity_id!r}.", field="entity", location="query")],
            status=404,
            title="Not Found",
        )
    earlier = decisions.list_decisions(
        db, {"query": query, "entity": entity_id, "include_ended": True, "limit": 100}
    ).items
    match = _the_match(query, entity_id)
    key = current_key()
    return render(
        "web/decide.html",
        status=status,
        query=query,
        entity=entity,
        match=match,
        earlier=earlier,
        in_force=[d for d in earlier if d["valid_to"] is None],
        key=key,
        errors=errors or FieldErrors(),
        form=form or {},
        here=_decide_url(query, entity_id),
        verdict_words=VERDICT_WORDS,
    )


def _the_match(query: str, entity_id: str) -> dict[str, Any] | None:
    """How the name scores against this entity today (the same screening as /screen)."""
    try:
        args = load_args(ScreenGetArgs(), {"name": query, "limit": 100, "min_score": SHOWN_FROM})
        answer = screen_name(args)
    except InputError:
        return None
    for match in answer["matches"]:
        if match["entity_id"] == entity_id:
            return {**match, "why": explain.why(match, answer["threshold"])}
    return None


@bp.route("/decide", methods=["POST"])
def record() -> Response:
    form = {k: request.form.get(k, "") for k in ("query", "entity_id", "verdict", "note")}
    query, entity_id = form["query"].strip(), form["entity_id"].strip()
    try:
        key = require_key("write")
        data = {k: v for k, v in form.items() if v.strip()}
        if "note" in data:
            data["note"] = data["note"].strip()
        loaded = load_args(DecisionCreateSchema(), data, "form")
        decision = decisions.record_decision(
            get_db(),
            query=loaded["query"],
            entity_id=loaded["entity_id"],
            verdict=loaded["verdict"],
            note=loaded.get("note"),
            actor=key.actor,
        )
    except InputError as error:
        if not query or not entity_id:
            raise
        return _decide_page(
            query, entity_id, FieldErrors(problem_of(error)), form, status=error.status
        )
    flash(f"Recorded: {VERDICT_WORDS[decision['verdict']]} ({decision['id']}).")
    return redirect(_decide_url(query, entity_id), 303)


@bp.route("/decide/withdraw", methods=["POST"])
def withdraw() -> Response:
    query = request.form.get("query", "").strip()
    entity_id = request.form.get("entity_id", "").strip()
    decision_id = request.form.get("decision", "").strip()
    try:
        key = require_key("write")
        decisions.withdraw_decision(get_db(), decision_id, actor=key.actor)
    except InputError as error:
        if not query or not entity_id:
            raise
        return _decide_page(query, entity_id, FieldErrors(problem_of(error)), status=error.status)
    flash(f"Withdrawn: {decision_id}. It stays in the history below.")
    return redirect(_decide_url(query, entity_id), 303)
