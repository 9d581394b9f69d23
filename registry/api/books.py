"""/books, /alerts and /audit: monitoring of customer books (registry.monitoring)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
from flask import Flask, Response, current_app, g, request, stream_with_context, url_for

from schemas.api import PageArgs
from schemas.monitoring import (
    AlertDecisionSchema,
    AlertListArgs,
    AlertPageSchema,
    AlertSchema,
    AuditArgs,
    AuditEntrySchema,
    AuditPageSchema,
    BookCreateSchema,
    BookListSchema,
    BookRecordPageSchema,
    BookSchema,
    DeliveryListSchema,
    JobSchema,
    RecordsUploadArgs,
    WebhookCreateSchema,
    WebhookListSchema,
    WebhookSchema,
)

from ..monitoring import alerts, audit, books, webhooks
from ..monitoring.service import Monitor
from ..problems import InputError, Problem, not_found
from ..screening import IndexUnavailable
from ..tables import read_csv
from ..versions import current_version
from .common import Blueprint, actor, get_db, problem, settings
from .screen import WRITE_METHODS, index_cache

blp = Blueprint(
    "books",
    __name__,
    url_prefix="/books",
    description="Books of customer records, re-screened whenever a list changes",
)
alerts_blp = Blueprint(
    "alerts", __name__, url_prefix="/alerts", description="Matches of book records to review"
)
audit_blp = Blueprint(
    "audit", __name__, url_prefix="/audit", description="Every screening as it was answered (admin)"
)

# New or changed records screened before the answer; more go to the background.
INLINE_MAX = 1_000


def monitor(app: Flask | None = None) -> Monitor:
    """The app's monitor (one per app); its threads start on first use."""
    app = app or current_app
    found: Monitor | None = app.extensions.get("registry_monitor")
    if found is None:
        found = app.extensions.setdefault(
            "registry_monitor", Monitor(app.config["REGISTRY_SETTINGS"], index_cache(app))
        )
    return found


def audit_screening(
    kind: str,
    queries: list[Any],
    params: dict[str, Any],
    datasets: Any,
    results: list[dict[str, Any]],
) -> None:
    """A screening answered by this app, recorded with its answer once it is made
    (`record_answer`; call inside the screening's read snapshot)."""
    g.audit_screening = screening_record(kind, queries, params, datasets, results)


def screening_record(
    kind: str,
    queries: list[Any],
    params: dict[str, Any],
    datasets: Any,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    """The audit fields of a screening but its answer (`AuditLog.record` takes them
    with `answer` and `answer_type`; call inside the screening's read snapshot)."""
    return {
        "kind": kind,
        "actor": g.get("actor"),
        "queries": queries,
        "params": {k: v for k, v in params.items() if v not in (None, frozenset())},
        "data_version": current_version(get_db()),
        "datasets": datasets,
        "results": results,
    }


@blp.after_app_request
def record_answer(response: Response) -> Response:
    """The screening of this request in the audit trail, with the answer exactly as
    sent (its bytes and media type)."""
    found = g.pop("audit_screening", None)
    if found is not None and response.status_code == 200 and not response.is_streamed:
        # The bytes, compressed by the audit thread, not here.
        monitor().audit.record(answer=response.get_data(), answer_type=response.mimetype, **found)
    return response


@blp.after_app_request
def wake_monitor(response: Response) -> Response:
    """After a write commits, delta screening runs (in the background)."""
    if request.method in WRITE_METHODS and response.status_code < 400:
        found: Monitor | None = current_app.extensions.get("registry_monitor")
        if found is not None:
            found.wake()
    return response


def _started() -> Monitor:
    found = monitor()
    found.start()
    return found


# ---------------------------------------------------------------------- books
@blp.route("", methods=["POST"])
@blp.arguments(BookCreateSchema)
@blp.response(201, BookSchema)
def create_book(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A new book; its id is how records, alerts and webhooks refer to it."""
    _started()
    book = books.create_book(get_db(), args["name"], actor())
    return book, 201, {"Location": url_for("books.get_book", book_id=book["id"])}


@blp.route("", methods=["GET"])
@blp.response(200, BookListSchema)
def list_books() -> dict[str, Any]:
    """Every book with its counts of records and open alerts."""
    return {"items": books.list_books(get_db())}


@blp.route("/<string:book_id>", methods=["GET"])
@blp.response(200, BookSchema)
@blp.alt_response(404, **problem("No such book."))
def get_book(book_id: str) -> dict[str, Any]:
    """A book and its counts."""
    return books.get_book(get_db(), book_id)


def _records_from_body() -> list[Any]:
    if request.mimetype == "text/csv":
        table = read_csv(request.get_data(cache=False), 10**9)
        return table.queries
    body = request.get_json() if request.is_json else None
    if isinstance(body, dict):
        body = body.get("records")
    if not isinstance(body, list):
        raise InputError(
            [
                Problem(
                    'Send {"records": [...]} (or a JSON list) or text/csv with the columns '
                    "id,name,type,country,dob,nationality,id_number.",
                    field="records",
                    location="json",
                )
            ]
        )
    return body


# The JSON body `_records_from_body` accepts: {"records": [...]} or the list alone
# (a fuzzer sent a list to a schema that said "object" and was right to complain).
_RECORDS_LIST: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
_RECORDS_BODY: dict[str, Any] = {
    "oneOf": [
        {"type": "object", "required": ["records"], "properties": {"records": _RECORDS_LIST}},
        _RECORDS_LIST,
    ]
}


@blp.route("/<string:book_id>/records", methods=["POST"])
@blp.arguments(RecordsUploadArgs, location="query")
@blp.response(200, JobSchema)
@blp.alt_response(202, schema=JobSchema, description="The job screening the records.")
@blp.alt_response(404, **problem("No such book."))
@blp.doc(
    requestBody={
        "required": True,
        "description": "Records to add or replace by id: JSON {records: [{id, name, type, "
        "country, dob, nationality, id_number}]} or CSV with that header.",
        "content": {
            "application/json": {"schema": _RECORDS_BODY},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
)
def upload_records(args: dict[str, Any], book_id: str) -> Any:
    """Add or replace records; new and changed ones are screened at once (a job)."""
    found = _started()
    db = get_db()
    books.get_book(db, book_id)  # 404 before reading the body
    location = "body" if request.mimetype == "text/csv" else "json"
    records = books.check_records(_records_from_body(), location=location)
    job = books.stage(db, book_id, records)
    headers = {"Location": url_for("books.get_job", book_id=book_id, job_id=job["id"])}
    wait = args.get("wait")
    if job["state"] == "finished":
        return job, 200, headers
    if wait is True or (wait is None and job["total"] <= INLINE_MAX and _index_ready(db)):
        job = books.run_job(db, index_cache(), job["id"], audit=found.record_audit)
        found.deliverer.wake()
        return job, 200, headers
    found.wake()
    return job, 202, headers


def _index_ready(db: Any) -> bool:
    """The screening index holds the registry as it is (else the job waits for it in
    the background, and the answer is 202)."""
    try:
        view = index_cache().view(db)
    except IndexUnavailable:
        return False
    return view.version >= current_version(db) and not view.behind


@blp.route("/<string:book_id>/records", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, BookRecordPageSchema)
@blp.alt_response(404, **problem("No such book."))
def list_records(args: dict[str, Any], book_id: str) -> dict[str, Any]:
    """The book's records by id, each with its current matches."""
    return books.list_records(get_db(), book_id, limit=args["limit"], cursor=args.get("cursor"))


@blp.route("/<string:book_id>/records/<string:record_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, **problem("No such book or record."))
def delete_record(book_id: str, record_id: str) -> Response:
    """Remove a record (its alerts stay, with their history)."""
    books.delete_record(get_db(), book_id, record_id)
    return Response(status=204)


@blp.route("/<string:book_id>/jobs/<string:job_id>", methods=["GET"])
@blp.response(200, JobSchema)
@blp.alt_response(404, **problem("No such job."))
def get_job(book_id: str, job_id: str) -> dict[str, Any]:
    """A load's progress: records screened of the total, alerts opened."""
    job = books.get_job(get_db(), job_id)
    if job["book_id"] != book_id:
        raise not_found(f"No job {job_id!r} on book {book_id!r}.")
    return job


# ---------------------------------------------------------------------- webhooks
@blp.route("/<string:book_id>/webhooks", methods=["POST"])
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookSchema)
@blp.alt_response(404, **problem("No such book."))
def create_webhook(args: dict[str, Any], book_id: str) -> tuple[dict[str, Any], int]:
    """New alerts of the book are POSTed to `url`, signed with `secret` (never shown again)."""
    _started()
    return webhooks.add_webhook(get_db(), book_id, args["url"], args["secret"], actor()), 201


@blp.route("/<string:book_id>/webhooks", methods=["GET"])
@blp.response(200, WebhookListSchema)
def list_webhooks(book_id: str) -> dict[str, Any]:
    """The book's webhooks with their delivery counts."""
    books.get_book(get_db(), book_id)
    return {"items": webhooks.list_webhooks(get_db(), book_id)}


@blp.route("/<string:book_id>/webhooks/<string:webhook_id>", methods=["DELETE"])
@blp.response(204)
def delete_webhook(book_id: str, webhook_id: str) -> Response:
    """Stop sending; pending deliveries are dropped."""
    webhooks.delete_webhook(get_db(), book_id, webhook_id)
    return Response(status=204)


@blp.route("/<string:book_id>/webhooks/<string:webhook_id>/deliveries", methods=["GET"])
@blp.response(200, DeliveryListSchema)
def list_deliveries(book_id: str, webhook_id: str) -> dict[str, Any]:
    """Deliveries of a webhook, oldest first: status, attempts, next try, last error."""
    hook = webhooks.get_webhook(get_db(), webhook_id)
    if hook["book_id"] != book_id:
        raise not_found(f"No webhook {webhook_id!r} on book {book_id!r}.")
    return {"items": webhooks.list_deliveries(get_db(), webhook_id, 500)}


# ---------------------------------------------------------------------- alerts
@alerts_blp.route("", methods=["GET"])
@alerts_blp.arguments(AlertListArgs, location="query")
@alerts_blp.response(200, AlertPageSchema)
def list_alerts(args: dict[str, Any]) -> dict[str, Any]:
    """Alerts, newest first, each with its record, entity, listings and history."""
    return alerts.list_alerts(get_db(), args)


@alerts_blp.route("/<string:alert_id>", methods=["GET"])
@alerts_blp.response(200, AlertSchema)
@alerts_blp.alt_response(404, **problem("No such alert."))
def get_alert(alert_id: str) -> dict[str, Any]:
    """One alert with its history."""
    return alerts.get_alert(get_db(), alert_id)


@alerts_blp.route("/<string:alert_id>/clear", methods=["POST"])
@alerts_blp.arguments(AlertDecisionSchema)
@alerts_blp.response(200, AlertSchema)
@alerts_blp.alt_response(409, **problem("The alert was already decided."))
def clear_alert(args: dict[str, Any], alert_id: str) -> dict[str, Any]:
    """A false positive: records the decision; the pair alerts again only if the
    entity's listings change."""
    return alerts.decide(get_db(), alert_id, "clear", actor=actor(), note=args.get("note"))


@alerts_blp.route("/<string:alert_id>/escalate", methods=["POST"])
@alerts_blp.arguments(AlertDecisionSchema)
@alerts_blp.response(200, AlertSchema)
@alerts_blp.alt_response(409, **problem("The alert was already decided."))
def escalate_alert(args: dict[str, Any], alert_id: str) -> dict[str, Any]:
    """A true match: records the decision."""
    return alerts.decide(get_db(), alert_id, "escalate", actor=actor(), note=args.get("note"))


# ---------------------------------------------------------------------- audit
def _audit_conn() -> Any:
    monitor().audit.flush()  # what this process queued is readable at once
    return audit.connect_audit(settings().audit_file)


def _filters(args: dict[str, Any]) -> dict[str, Any]:
    out = dict(args)
    if out.get("query"):
        out["query_sha256"] = audit.query_hash([_get_query(out.pop("query"))])
    if out.get("cursor"):
        try:
            audit.decode_cursor(out["cursor"])
        except ValueError:
            raise InputError(
                [Problem("Not a cursor this service gave.", field="cursor", location="query")]
            ) from None
    return out


def _get_query(name: str) -> dict[str, Any]:
    """The query GET /screen records for a name given alone."""
    return {"name": name, "type": None, "country": None, "dob": None, "nationality": None,
            "id_number": None}  # fmt: skip


CSV_COLUMNS = ("id", "at", "kind", "actor", "query_sha256", "queries", "names", "params",
               "data_version", "datasets", "entities", "matches")  # fmt: skip


@audit_blp.route("", methods=["GET"])
@audit_blp.arguments(AuditArgs, location="query")
@audit_blp.response(200, AuditPageSchema)
@audit_blp.doc(
    responses={
        "200": {
            "description": "A page of entries (JSON), or every entry that matches as CSV or "
            "JSON Lines.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/AuditPage"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    }
)
@audit_blp.alt_response(403, **problem("Not an admin key."))
def list_audit(args: dict[str, Any]) -> Any:
    """Screenings newest first, filtered; `format=jsonl` or `csv` (or Accept:
    text/csv, application/x-ndjson) exports every entry that matches."""
    filters = _filters(args)
    fmt = filters.pop("format", None)
    if fmt is None:
        wanted = request.accept_mimetypes.best_match(
            ["application/json", "application/x-ndjson", "text/csv"]
        )
        fmt = {"application/x-ndjson": "jsonl", "text/csv": "csv"}.get(wanted or "", "json")
    conn = _audit_conn()
    if fmt == "json":
        try:
            limit = filters.pop("limit")
            rows = list(audit.search(conn, filters, limit=limit + 1))
            total = audit.count(conn)
        finally:
            conn.close()
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = audit.encode_cursor(rows[-1]["_seq"]) if more else None
        for row in rows:
            row.pop("_seq")
        return {"items": rows, "total": total, "next_cursor": cursor}
    filters.pop("limit", None)
    filters.pop("cursor", None)

    def generate() -> Iterator[str]:
        try:
            if fmt == "csv":
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(CSV_COLUMNS)
            for row in audit.search(conn, filters, limit=None):
                row.pop("_seq")
                if fmt == "jsonl":
                    yield orjson.dumps(row).decode() + "\n"
                    continue
                writer.writerow(
                    [
                        ""
                        if row[c] is None
                        else row[c]
                        if isinstance(row[c], str | int)
                        else orjson.dumps(row[c]).decode()
                        for c in CSV_COLUMNS
                    ]
                )
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            if fmt == "csv" and out.getvalue():
                yield out.getvalue()
        finally:
            conn.close()

    if fmt == "csv":
        # The header goes out even when nothing matches.
        return Response(stream_with_context(generate()), mimetype="text/csv")
    return Response(stream_with_context(generate()), mimetype="application/x-ndjson")


@audit_blp.route("/<string:audit_id>", methods=["GET"])
@audit_blp.response(200, AuditEntrySchema)
@audit_blp.alt_response(404, **problem("No such entry (or pruned)."))
def get_audit(audit_id: str) -> dict[str, Any]:
    """One screening exactly as it was answered (`answer`), with what it rested on."""
    conn = _audit_conn()
    try:
        found = audit.get(conn, audit_id)
    finally:
        conn.close()
    if found is None:
        raise not_found(f"No audit entry {audit_id!r}.")
    return found
