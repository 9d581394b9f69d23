"""/entities.csv and /entities.ftm.jsonl: every entity matching the /entities filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context

from schemas.api import ExportArgs

from .. import exports, queries
from .common import Blueprint, get_db

blp = Blueprint("exports", __name__, description="Exports of the registry")
PAGE = 500


def _entities(args: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every matching entity in detail. The first page is read before anything is
    sent, so bad filters answer 400 instead of breaking a started stream."""
    db = get_db()
    as_of = args.pop("as_of", None)
    page = queries.list_entities(db, {**args, "limit": PAGE, "cursor": None}, as_of)

    def generate(page: queries.Page) -> Iterator[dict[str, Any]]:
        db = get_db()  # the stream's own connection: the view's closes when it returns
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

    return generate(page)


@blp.route("/entities.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="text/csv", description="One row per entity.")
def export_csv(args: dict[str, Any]) -> Response:
    """Entities as CSV; cells a spreadsheet would run as formulas are neutralised."""
    lines = exports.csv_lines(_entities(args))
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
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
    return Response(
        stream_with_context(exports.ftm_lines(_entities(args))), mimetype="application/x-ndjson"
    )
