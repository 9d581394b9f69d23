"""/entities.csv and /entities.ftm.jsonl: every entity matching the /entities filters."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response

from schemas.api import ExportArgs

from .. import exports, queries
from ..db import connect, view
from .common import Blueprint, settings

blp = Blueprint("exports", __name__, description="Exports of the registry")
PAGE = 500


def _entities(args: dict[str, Any]) -> tuple[Iterator[dict[str, Any]], Callable[[], None]]:
    """Every matching entity in detail, all read from one snapshot of the registry
    (one read transaction from the first page to the last, on the stream's own
    connection), and the function that ends it. The first page is read before
    anything is sent, so bad filters answer 400 instead of breaking a started stream."""
    config = settings()
    resources = contextlib.ExitStack()
    db = connect(config.db_path, busy_timeout_ms=config.busy_timeout_ms)
    resources.callback(db.close)
    try:
        resources.enter_context(view(db))
        as_of = args.pop("as_of", None)
        first = queries.list_entities(db, {**args, "limit": PAGE, "cursor": None}, as_of)
    except BaseException:
        resources.close()
        raise

    def generate(page: queries.Page) -> Iterator[dict[str, Any]]:
        try:
            while True:
                for item in page.items:
                    detail = queries.get_entity(db, item["id"], as_of)
                    if detail is not None:
                        yield detail
                if page.next_cursor is None:
                    return
                page = queries.list_entities(
                    db, {**args, "limit": PAGE, "cursor": page.next_cursor}, as_of
                )
        finally:
            resources.close()

    return generate(first), resources.close


def _stream(lines: Iterator[str], end: Callable[[], None], mimetype: str, **kw: Any) -> Response:
    response = Response(lines, mimetype=mimetype, **kw)
    # A stream never started (the client left first) still ends its snapshot.
    response.call_on_close(end)
    return response


@blp.route("/entities.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="text/csv", description="One row per entity.")
def export_csv(args: dict[str, Any]) -> Response:
    """Entities as CSV; cells a spreadsheet would run as formulas are neutralised."""
    entities, end = _entities(args)
    return _stream(
        exports.csv_lines(entities),
        end,
        "text/csv",
        headers={"Content-Disposition": 'attachment; filename="entities.csv"'},
    )


@blp.route("/entities.ftm.jsonl")
@blp.arguments(ExportArgs, location="query")
@blp.response(
    200,
    content_type="application/x-ndjson",
    description="FollowTheMoney entities, one JSON object a line.",
)
def export_ftm(args: dict[str, Any]) -> Response:
    """Entities and their sanctions as FollowTheMoney entities (JSON lines)."""
    entities, end = _entities(args)
    return _stream(exports.ftm_lines(entities), end, "application/x-ndjson")
