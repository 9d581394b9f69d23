"""Screen at `/`: one name (GET, so a result can be bookmarked like GET /screen),
or a CSV file or XLSX workbook (POST) shown as a table with its answer file to
download.

Thin over the API's own functions: `api.screen.screen_name` for one name,
`tables.read_csv`/`read_xlsx`, `screening.screen` and `csv_answer` for a file, so a page and
the API give the same matches, the same errors and the same answer file.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from schemas.api import ScreenGetArgs, ScreenOptionsArgs

from .. import queries
from ..api.common import get_db, settings
from ..api.screen import csv_answer, index_cache, screen_name, screen_options
from ..matching import DEFAULT_THRESHOLD
from ..problems import InputError, Problem
from ..screening import ENTITY_TYPES, screen
from ..tables import XLSX_MAGIC, annotate_cells, is_xlsx, read_csv, read_xlsx
from . import explain
from .answers import AnswerStore
from .evidence import in_context
from .pages import FieldErrors, load_args, problem_of, render
from .session import browser_id

bp = Blueprint("screen", __name__)

# Fields of the one-name form. Those the screening arguments do not know yet
# (date of birth, identifier) are shown but not sent, and the form says so.
QUERY_FIELDS = ("name", "type", "country", "dob", "nationality", "id_number")
OPTION_FIELDS = ("jurisdiction", "threshold", "include_delisted", "hide_false_positives", "as_of")
BATCH_OPTIONS = ("hide_false_positives", "include_delisted", "keep_columns")
SHOWN_ROWS = 500  # table rows on the page; the answer file has them all


def answers() -> AnswerStore:
    store: AnswerStore = current_app.extensions.setdefault("registry_web_answers", AnswerStore())
    return store


def _supported() -> set[str]:
    return set(ScreenGetArgs().fields)


def _form_values(source: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {k: str(source.get(k, "")).strip() for k in names if str(source.get(k, "")).strip()}


def _page(**context: Any) -> Response:
    status = context.pop("status", 200)
    context.setdefault("form", {})
    context.setdefault("errors", FieldErrors())
    context.setdefault("batch_errors", FieldErrors())
    return render(
        "web/screen.html",
        status=status,
        entity_types=ENTITY_TYPES,
        supported=_supported(),
        default_threshold=DEFAULT_THRESHOLD,
        max_rows=settings().max_screen_batch,
        **context,
    )


@bp.route("/", methods=["GET"])
def index() -> Response:
    form = _form_values(request.args, QUERY_FIELDS + OPTION_FIELDS)
    if "name" not in request.args:
        return _page(form=form)
    supported = _supported()
    try:
        args = load_args(ScreenGetArgs(), {k: v for k, v in form.items() if k in supported})
        answer = screen_name(args)
    except InputError as error:
        return _page(form=form, errors=FieldErrors(problem_of(error)), status=error.status)
    db = get_db()
    texts: dict[str, str | None] = {}  # source texts, read once for all the matches
    matches = []
    for match in answer["matches"]:
        entity = queries.get_entity(db, match["entity_id"], answer["as_of"]) or {}
        matches.append(_shown(match, answer["threshold"], entity, db, texts))
    return _page(form=form, answer=answer, matches=matches)


def _shown(
    match: dict[str, Any],
    threshold: float,
    entity: dict[str, Any],
    db: Any,
    texts: dict[str, str | None],
) -> dict[str, Any]:
    """A match with what the page shows of it: marked words, the sentence, evidence."""
    quotes = []
    for designation in entity.get("designations", []):
        for item in designation.get("evidence", []):
            if not item.get("quote"):
                continue
            source = item["source"]
            if source not in texts:
                found = queries.get_source(db, source)
                texts[source] = (found or {}).get("text")
            text = texts[source]
            quotes.append(
                {
                    "designation": designation,
                    "source": source,
                    "quote": item["quote"],
                    "pieces": in_context(text, item["quote"], around=160) if text else None,
                }
            )
    sources = {s["id"]: s for s in entity.get("sources", [])}
    return {
        **match,
        "why": explain.why(match, threshold),
        "query_words": explain.query_words(match.get("explanation")),
        "listed_words": explain.listed_words(match.get("explanation")),
        "pairs": explain.pairs(match.get("explanation")),
        "kind_words": explain.KIND_WORDS.get(match.get("name_kind") or "", "listed name"),
        "quotes": quotes[:2],
        "sources": sources,
        "full": entity,
    }


@bp.route("/", methods=["POST"])
def upload() -> Response:
    options_form = _form_values(request.form, BATCH_OPTIONS)
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return _batch_error(
            Problem(
                "Choose a CSV file or an XLSX workbook with a 'name' column.",
                field="file",
                location="form",
            ),
            options_form,
        )
    data = storage.read()
    filename = PurePath(storage.filename).name
    if filename.lower().endswith(".xls") and not data.startswith(XLSX_MAGIC):
        return _batch_error(
            Problem(
                "This is an old Excel workbook (.xls); save it as .xlsx or as CSV (UTF-8) "
                "and upload that.",
                field="file",
                location="form",
            ),
            options_form,
        )
    keep = options_form.pop("keep_columns", "") == "true"
    try:
        options = load_args(ScreenOptionsArgs(), options_form, "form")
    except InputError as error:
        return _page(batch_errors=FieldErrors(problem_of(error)), status=400)
    if keep:
        options_form["keep_columns"] = "true"
    limit = settings().max_screen_batch
    try:
        # The same readers as POST /screen with text/csv or an XLSX body.
        names = read_xlsx(data, limit) if is_xlsx(data, filename) else read_csv(data, limit)
    except InputError as error:
        # The file's own problems (its header, its encoding) are the file field's.
        return _page(batch_errors=FieldErrors(problem_of(error), {"*": "file"}), status=400)
    rows = names.queries
    if not rows:
        return _batch_error(
            Problem("The file has a header but no names.", field="file", location="csv"),
            options_form,
        )
    opts = screen_options(options)
    results = screen(get_db(), index_cache(), rows, opts)
    annotate_cells(results, names)
    stem = secure_filename(PurePath(filename).stem) or "names"
    answer_name = f"{stem}-screened.csv"
    token = answers().put(browser_id(), answer_name, csv_answer(results, names if keep else None))
    table: list[dict[str, Any]] = []
    for result in results:
        if result["error"] or not result["matches"]:
            table.append({"result": result, "match": None})
        for match in result["matches"]:
            table.append(
                {"result": result, "match": match, "why": explain.why(match, opts.threshold)}
            )
    flagged = sum(1 for r in results if any(m["match"] for m in r["matches"]))
    return _page(
        batch={
            "filename": filename,
            "names": len(results),
            "flagged": flagged,
            "errors": sum(1 for r in results if r["error"]),
            "rows": table[:SHOWN_ROWS],
            "all_rows": len(table),
            "threshold": opts.threshold,
            "download": url_for("web.screen.download", token=token) if token else None,
            "answer_name": answer_name,
        },
        batch_form=options_form,
    )


def _batch_error(problem: Problem, options_form: dict[str, str]) -> Response:
    error = InputError([problem])
    return _page(batch_errors=FieldErrors(problem_of(error)), batch_form=options_form, status=400)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Response:
    limit = settings().max_body_bytes
    error = InputError(
        [
            Problem(
                f"The file is larger than this service accepts ({limit // (1024 * 1024)} MiB); "
                "split it into smaller files.",
                field="file",
                location="form",
            )
        ],
        status=413,
        title="Content Too Large",
    )
    return _page(batch_errors=FieldErrors(problem_of(error)), status=413)


@bp.route("/answers/<token>.csv")
def download(token: str) -> Response:
    answer = answers().get(browser_id(), token)
    if answer is None:
        raise InputError(
            [
                Problem(
                    "This answer file is no longer kept (they are kept for an hour, for the "
                    "browser that asked); upload the names again.",
                    field="token",
                    location="path",
                )
            ],
            status=404,
            title="Not Found",
        )
    return Response(
        answer.body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{answer.filename}"'},
    )
