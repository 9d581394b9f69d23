"""The entity page, its history, and a source document with its quotes marked.

Thin over what GET /entities/{id}, /entities/{id}/history, /sources/{id} and
/designations use: `api.entities.entity_or_error`, `history.entity_history`,
`queries.get_source` and `queries.list_designations`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from schemas.api import AsOfArgs, HistoryArgs

from .. import history, imports, queries
from ..api.common import get_db
from ..api.entities import entity_or_error
from ..problems import InputError, not_found
from .evidence import in_context, marked_pieces, quote_spans, row_cells, script_name
from .pages import FieldErrors, load_args, problem_of, render

bp = Blueprint("entities", __name__)
HISTORY_PAGE = 20


@bp.route("/entity/<string:entity_id>")
def entity(entity_id: str) -> Response:
    raw_as_of = request.args.get("as_of", "").strip()
    try:
        as_of = load_args(AsOfArgs(), {"as_of": raw_as_of} if raw_as_of else {}).get("as_of")
        found = entity_or_error(entity_id, as_of)
    except InputError as error:
        if (
            raw_as_of
            and error.status in (400, 404)
            and any(p.field == "as_of" for p in error.problems)
        ):
            # A bad or too early date: the page as it stands now, the error by the field.
            found = entity_or_error(entity_id)
            return _entity_page(found, raw_as_of, FieldErrors(problem_of(error)), error.status)
        raise
    return _entity_page(found, raw_as_of, FieldErrors(), 200)


def _entity_page(found: dict[str, Any], raw_as_of: str, errors: FieldErrors, status: int) -> Any:
    db = get_db()
    sources = {s["id"]: s for s in found["sources"]}
    texts: dict[str, str | None] = {}
    entity_quotes: dict[str, list[str]] = {}
    for designation in found["designations"]:
        for item in designation["evidence"]:
            if item.get("quote"):
                entity_quotes.setdefault(item["source"], []).append(item["quote"])
    for source_id in entity_quotes:
        texts[source_id] = (queries.get_source(db, source_id) or {}).get("text")
    row_sources = [
        item["source"]
        for d in found["designations"]
        for item in d["evidence"]
        if item.get("row") is not None or item.get("locator")
    ]
    runs = imports.runs_by_source(db, row_sources)
    designations = []
    for designation in found["designations"]:
        evidence = []
        for item in designation["evidence"]:
            shown: dict[str, Any] = {"item": item, "source": sources.get(item["source"])}
            if item.get("quote"):
                text = texts.get(item["source"])
                shown["pieces"] = in_context(text, item["quote"]) if text else None
                shown["anchor"] = _anchor(text, entity_quotes[item["source"]], item["quote"])
            if item.get("row") is not None:
                shown["cells"] = row_cells(item["row"])
            shown["runs"] = runs.get(item["source"], [])
            evidence.append(shown)
        designations.append({**designation, "shown_evidence": evidence})
    scripts: dict[str, list[dict[str, Any]]] = {}
    names = found["names"]
    if not any(n["name"] == found["name"] for n in names):
        names = [{"name": found["name"], "kind": "primary", "script": None}, *names]
    for name in names:
        scripts.setdefault(script_name(name.get("script") or _guess_script(name)), []).append(name)
    return render(
        "web/entity.html",
        status=status,
        entity=found,
        designations=designations,
        names_by_script=scripts,
        as_of_value=raw_as_of,
        errors=errors,
    )


def _guess_script(name: Mapping[str, Any]) -> str | None:
    # The primary name row carries no script: most are Latin; say so only then.
    text = str(name.get("name") or "")
    return "Latn" if text.isascii() else None


def _anchor(text: str | None, all_quotes: list[str], quote: str) -> str | None:
    """The id of the marked passage holding `quote` on the document page (which
    marks every quote this entity cites from the source, merged where they meet)."""
    if not text:
        return None
    own = quote_spans(text, [quote])
    if not own:
        return None
    start = own[0][0]
    for lo, hi in quote_spans(text, all_quotes):
        if lo <= start < hi:
            return f"q-{lo}"
    return None


@bp.route("/entity/<string:entity_id>/history")
def entity_history(entity_id: str) -> Response:
    db = get_db()
    args = load_args(HistoryArgs(), {"limit": HISTORY_PAGE, **request.args.to_dict()})
    if not history.entity_existed(db, entity_id):
        raise not_found(f"No entity {entity_id!r}.")
    page = history.entity_history(db, entity_id, args)
    current = queries.get_entity(db, entity_id)
    entries = [{**entry, "rows": diff_rows(entry["diff"] or {})} for entry in page.items]
    return render(
        "web/history.html",
        entity_id=entity_id,
        entity=current,
        entries=entries,
        total=page.total,
        next_cursor=page.next_cursor,
        limit=args["limit"],
    )


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_rows(diff: Mapping[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """A record diff (`records.diff_docs`) as rows: field, what happened, before, after."""
    rows: list[dict[str, str]] = []
    for key, change in diff.items():
        path = f"{prefix}{key}"
        if not isinstance(change, Mapping):
            rows.append({"field": path, "change": "changed", "before": "", "after": _text(change)})
            continue
        if "before" in change or "after" in change:
            rows.append(
                {
                    "field": path,
                    "change": "set" if change.get("before") is None else "changed",
                    "before": _text(change.get("before")),
                    "after": _text(change.get("after")),
                }
            )
            continue
        for item in change.get("added", []):
            rows.append({"field": path, "change": "added", "before": "", "after": _text(item)})
        for item in change.get("removed", []):
            rows.append({"field": path, "change": "removed", "before": _text(item), "after": ""})
        for item_id, inner in (change.get("changed") or {}).items():
            rows.extend(diff_rows(inner, f"{path}[{item_id}]."))
    return rows


@bp.route("/document/<string:source_id>")
def document(source_id: str) -> Response:
    db = get_db()
    source = queries.get_source(db, source_id)
    if source is None:
        raise not_found(f"No source {source_id!r}.")
    entity_id = request.args.get("entity", "").strip() or None
    args: dict[str, Any] = {"source": source_id, "limit": 500}
    if entity_id:
        args["entity"] = entity_id
    cited = queries.list_designations(db, args).items
    quotes = [
        item["quote"]
        for d in cited
        for item in d["evidence"]
        if item.get("source") == source_id and item.get("quote")
    ]
    text = source.get("text") or ""
    spans = quote_spans(text, quotes)
    citing: dict[str, dict[str, Any]] = {d["entity"]["id"]: d["entity"] for d in cited}
    return render(
        "web/document.html",
        source=source,
        pieces=marked_pieces(text, spans),
        spans=spans,
        citing=list(citing.values()),
        entity_id=entity_id,
    )
