"""/screen: one name (GET) or a whole list (POST, JSON or CSV) against the registry."""

from __future__ import annotations

import csv
import io
import logging
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from itertools import chain
from typing import Any

from flask import Flask, Response, current_app, g, request
from marshmallow import ValidationError

from schemas.api import (
    ScreenBatchResultSchema,
    ScreenBatchSchema,
    ScreenFileArgs,
    ScreenGetArgs,
    ScreenOneSchema,
)

from ..db import view
from ..exports import neutralise
from ..freshness import VersionCache
from ..matching import DEFAULT_THRESHOLD
from ..problems import InputError, Problem
from ..screen_csv import CSV_COLUMNS
from ..screen_csv import answer_rows as _answer_rows
from ..screening import QUERY_FIELDS, IndexCache, ScreenOptions, screen, screen_chunks
from ..tables import (
    XLSX_MIMETYPE,
    Table,
    annotate_cells,
    read_csv,
    read_xlsx,
    with_extras,
    xlsx_bytes,
)
from .common import Blueprint, get_db, settings
from .errors import problems_from_webargs

blp = Blueprint(
    "screen",
    __name__,
    url_prefix="/screen",
    description="Screen names against the registry (fuzzy matching)",
)

log = logging.getLogger(__name__)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def index_cache(app: Flask | None = None) -> IndexCache:
    """The app's screening indexes (one set per app, shared by its threads)."""
    app = app or current_app
    cache: IndexCache | None = app.extensions.get("registry_index")
    if cache is None:
        config = app.config["REGISTRY_SETTINGS"]
        cache = app.extensions.setdefault(
            "registry_index",
            IndexCache(
                config.db_path,
                busy_timeout_ms=config.busy_timeout_ms,
                keep_past=config.past_indexes,
                wait=config.index_wait_ms / 1000,
                snapshot=config.snapshot_path,
            ),
        )
    return cache


@blp.before_app_request
def count_in() -> None:
    """Requests in flight: the index builder freezes its objects between them."""
    index_cache().request_started()
    g.index_counted = True


@blp.teardown_app_request
def count_out(_exc: BaseException | None = None) -> None:
    if g.pop("index_counted", False):
        index_cache().request_ended()


@blp.after_app_request
def apply_writes(response: Response) -> Response:
    """After a write commits, bring the screening index up to date before the
    answer leaves: the writer's next screening sees what it wrote."""
    if request.method in WRITE_METHODS and response.status_code < 400:
        cache: IndexCache | None = current_app.extensions.get("registry_index")
        if cache is not None and request.endpoint != "screen.screen_many":
            try:
                cache.catch_up()
            except Exception:  # the write stands; a reader's version check retries
                log.exception("screening index: applying a write failed")
    return response


def _dataset_versions(as_of: str | None) -> list[dict[str, Any]]:
    """Which version of each dataset the answer rests on (cached per data generation)."""
    cache: VersionCache = current_app.extensions.setdefault(
        "registry_dataset_versions", VersionCache()
    )
    return cache.get(get_db(), as_of)


def _audit(
    kind: str,
    queries: list[Any],
    options: ScreenOptions,
    versions: Any,
    results: list[dict[str, Any]],
) -> None:
    """The screening for the audit trail (registry.monitoring.audit), recorded with
    the answer's bytes once it is made (queued, not waited for)."""
    from dataclasses import asdict

    from .books import audit_screening

    audit_screening(kind, queries, asdict(options), versions, results)


def audit_compat(
    kind: str,
    queries: Mapping[str, Any],
    params: Mapping[str, Any],
    found: Mapping[str, list[Mapping[str, Any]]],
) -> None:
    """A /match or /reconcile answer for the audit trail, recorded as /screen's are:
    each query as given with its key in the batch, the parameters, the dataset
    versions in force and the entities returned (`id`, `score`) for each query;
    the answer's bytes once made. Call inside the answer's read snapshot."""
    from .books import audit_screening

    keys = list(queries)
    returned = {key: [{"entity_id": m["id"], "score": m["score"]} for m in found.get(key, [])]
                for key in keys}  # fmt: skip
    audit_screening(
        kind,
        [{"key": key, "query": queries[key]} for key in keys],
        {k: v for k, v in params.items() if v not in (None, ())},
        _dataset_versions(None),
        [{"index": k, "key": key, "matches": returned[key]} for k, key in enumerate(keys)],
    )


def screen_options(args: dict[str, Any]) -> ScreenOptions:
    return ScreenOptions(
        threshold=args.get("threshold", DEFAULT_THRESHOLD),
        min_score=args.get("min_score"),
        limit=args["limit"],
        jurisdiction=args.get("jurisdiction"),
        authority=args.get("authority"),
        program=args.get("program"),
        include_delisted=args["include_delisted"],
        hide_false_positives=args["hide_false_positives"],
        as_of=args.get("as_of"),
    )


@blp.route("", methods=["GET"])
@blp.arguments(ScreenGetArgs, location="query")
@blp.response(200, ScreenOneSchema)
def screen_one(args: dict[str, Any]) -> dict[str, Any]:
    """Screen one name; matches best first, each with its explanation."""
    return screen_name(args)


def screen_name(args: dict[str, Any]) -> dict[str, Any]:
    """One name and the options of ScreenGetArgs (loaded); the web page uses it too."""
    options = screen_options(args)
    query = {field: args.get(field) for field in QUERY_FIELDS if field != "id"}
    with view(get_db()):  # filters, entity summaries and decisions from one snapshot
        (result,) = screen(get_db(), index_cache(), [query], options)
        versions = _dataset_versions(options.as_of)
        if result["error"] is not None:
            raise InputError(
                [
                    Problem(e["message"], field=e.get("field"), location="query")
                    for e in result["error"]["errors"]
                ]
            )
        answer = {
            "query": result["query"],
            "threshold": options.threshold,
            "as_of": options.as_of,
            "matches": result["matches"],
            "hidden_false_positives": result["hidden_false_positives"],
            "datasets": versions,
        }
        _audit("GET /screen", [query], options, versions, [result])
    return answer


@blp.route("", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "description": "JSON {queries: [...], options}; or a table, CSV (text/csv) or an XLSX "
        "workbook (its first sheet), with a header holding name and optionally id, type, "
        "country, dob, nationality, id_number, the options then in the query string "
        "(keep_columns=true carries the table's other columns into a CSV or XLSX answer). "
        "Ask Accept: text/csv (or the XLSX type) for a table answer, one row per match "
        "with its one-sentence explanation.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ScreenBatch"}},
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
)
@blp.response(200, ScreenBatchResultSchema)
def screen_many(**_: Any) -> Any:
    """Screen up to REGISTRY_MAX_SCREEN_BATCH names; results in input order."""
    limit = settings().max_screen_batch
    table: Table | None = None
    if request.mimetype in ("text/csv", XLSX_MIMETYPE):
        options = _load(ScreenFileArgs(), request.args.to_dict(), "query")
        data = request.get_data(cache=False)
        table = (
            read_xlsx(data, limit) if request.mimetype == XLSX_MIMETYPE else read_csv(data, limit)
        )
        queries = table.queries
    else:
        # The strict reader: a body that is not acceptable JSON names its fault.
        body = request.get_json() if request.is_json else None
        if not isinstance(body, dict):
            raise InputError(
                [
                    Problem(
                        "Send a JSON object {queries: [...]}, text/csv or an XLSX workbook.",
                        field="body",
                        location="json",
                    )
                ]
            )
        options = _load(ScreenBatchSchema(), body, "json")
        queries = options.pop("queries")
        if len(queries) > limit:
            raise InputError(
                [
                    Problem(
                        f"Send at most {limit} names per request; this one has {len(queries)}.",
                        field="queries",
                        location="json",
                    )
                ]
            )
    keep = table if options.pop("keep_columns", False) else None
    opts = screen_options(options)
    wanted = request.accept_mimetypes.best_match(["application/json", "text/csv", XLSX_MIMETYPE])
    if wanted == "text/csv" or (wanted != XLSX_MIMETYPE and _compact_json()):
        # Answered as it is screened: a 10,000-name answer is never held whole.
        return _streamed(queries, opts, table, keep, wanted == "text/csv")
    with view(get_db()):
        results = screen(get_db(), index_cache(), queries, opts)
        versions = _dataset_versions(opts.as_of)
        # (the JSON answer; a CSV or XLSX one is made from the same results)
        _audit("POST /screen", queries, opts, versions, results)
    if table is not None:
        annotate_cells(results, table)
    if wanted == "text/csv":
        return Response(csv_answer(results, keep), mimetype="text/csv")
    if wanted == XLSX_MIMETYPE:
        return Response(
            xlsx_answer(results, keep),
            mimetype=XLSX_MIMETYPE,
            headers={"Content-Disposition": 'attachment; filename="screened.xlsx"'},
        )
    return {
        "threshold": opts.threshold,
        "as_of": opts.as_of,
        "count": len(results),
        "results": results,
        "datasets": versions,
    }


def _compact_json() -> bool:
    """Whether a JSON answer goes out compact (not indented, as in debug mode): the
    streamed answer joins its pieces the same way."""
    compact = getattr(current_app.json, "compact", None)
    return bool(compact or (compact is None and not current_app.debug))


def _streamed(
    queries: list[Any],
    options: ScreenOptions,
    table: Table | None,
    keep: Table | None,
    as_csv: bool,
) -> Response:
    """The POST /screen answer (JSON or CSV), screened, serialised and sent
    STREAM_CHUNK names at a time: memory holds one chunk's results, not the whole
    answer. The bytes are those the whole answer would have (tests/test_screen_stream.py).
    The setup and the first chunk run here, so an error found before the first
    byte (a bad option, no index) is still a problem+json answer; the connection,
    the read snapshot and the request's place among those in flight are kept by
    the answer until it is sent (or dropped), and the audit trail gets the answer
    as it was sent."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db = get_db()
    cache = index_cache()
    body = _answer_chunks(app, db, cache, queries, options, table, keep, as_csv)
    next(body)  # the setup and the first chunk, inside the request
    # From here the answer owns the connection and the in-flight count: Flask's
    # teardown runs when this function returns, before the body is sent.
    g.pop("db", None)
    counted = g.pop("index_counted", False)

    def release() -> None:
        pool = app.extensions.get("registry_db_pool")
        if pool is not None:
            pool.give(db)
        else:
            db.close()
        if counted:
            cache.request_ended()

    mimetype = "text/csv" if as_csv else app.json.mimetype
    return Response(_Owned(body, release), mimetype=mimetype)


class _Owned:
    """An answer's body that releases what it holds when it is sent whole, fails
    or is closed (the server closes it when the client goes away)."""

    def __init__(self, body: Generator[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._body)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            try:
                self._body.close()  # (ends the read snapshot)
            finally:
                release()


def _answer_chunks(
    app: Flask,
    db: Any,
    cache: IndexCache,
    queries: list[Any],
    options: ScreenOptions,
    table: Table | None,
    keep: Table | None,
    as_csv: bool,
) -> Generator[bytes]:
    """The answer's bytes, chunk by chunk; the first item (empty) comes once the
    first chunk is screened (the caller runs it inside the request)."""
    from dataclasses import asdict

    from ..monitoring.audit import Compressed
    from .books import monitor, screening_record

    with view(db):
        chunks = screen_chunks(db, cache, queries, options, STREAM_CHUNK)
        first = next(chunks)
        versions = _dataset_versions(options.as_of)
        audited: list[dict[str, Any]] = []  # what the audit keeps of each result
        record = screening_record("POST /screen", queries, asdict(options), versions, audited)
        audit = monitor(app).audit
        encoder = None if audit.minimise else zlib.compressobj(1)
        sent: list[bytes] = []  # the answer, compressed as it goes out

        def out(text: str) -> bytes:
            data = text.encode()
            if encoder is not None:
                sent.append(encoder.compress(data))
            return data

        yield b""
        if as_csv:
            header, _ = with_extras(CSV_COLUMNS, (), keep)
            head = _csv_text([header])
            tail = ""
        else:
            head, tail = _json_frame(app, options, len(queries), versions)
        yield out(head)
        pending = chain((first,), chunks)
        del first  # (each chunk is let go once sent)
        for number, chunk in enumerate(pending):
            if table is not None:
                annotate_cells(chunk, table)
            audited.extend(
                {
                    "index": result["index"],
                    "matches": [
                        {"entity_id": m["entity_id"], "score": m["score"]}
                        for m in result["matches"]
                    ],
                }
                for result in chunk
            )
            if as_csv:
                _, rows = with_extras(CSV_COLUMNS, _answer_rows(chunk), keep)
                text = _csv_text([neutralise(cell) for cell in row] for row in rows)
            else:
                text = ("," if number else "") + ",".join(
                    _json_text(app, RESULT_SCHEMA.dump(result)) for result in chunk
                )
            del chunk
            yield out(text)
        yield out(tail)
    answer = None
    if encoder is not None:
        sent.append(encoder.flush())
        answer = Compressed(b"".join(sent))
    mimetype = "text/csv" if as_csv else app.json.mimetype  # type: ignore[attr-defined]
    audit.record(answer=answer, answer_type=mimetype, **record)


#: Names screened, serialised and sent at a time by a streamed POST /screen answer.
STREAM_CHUNK = 200
RESULT_SCHEMA = ScreenBatchResultSchema().fields["results"].inner.schema  # type: ignore[attr-defined]
_RESULTS_HOLE = "\x00results\x00"


def _json_text(app: Flask, value: Any) -> str:
    """As the app's JSON answers are written (compact)."""
    return str(app.json.dumps(value, separators=(",", ":")))


def _json_frame(app: Flask, options: ScreenOptions, count: int, versions: Any) -> tuple[str, str]:
    """The JSON answer around its results: what comes before the first and after
    the last (as `@blp.response` would dump and write the whole)."""
    frame = ScreenBatchResultSchema().dump(
        {
            "threshold": options.threshold,
            "as_of": options.as_of,
            "count": count,
            "results": [],
            "datasets": versions,
        }
    )
    frame["results"] = _RESULTS_HOLE
    head, tail = _json_text(app, frame).split(_json_text(app, _RESULTS_HOLE))
    return f"{head}[", f"]{tail}\n"


def _csv_text(rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _load(schema: Any, data: dict[str, Any], location: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise InputError(problems_from_webargs({location: exc.messages})) from None
    if "queries" in loaded and not isinstance(loaded["queries"], list):
        raise InputError([Problem("Give a list.", field="queries", location=location)])
    return loaded


def rows_from_csv(data: bytes, limit: int) -> list[dict[str, Any]]:
    """The names of a CSV file (a request body or a file uploaded on the web page)."""
    return read_csv(data, limit).queries


def csv_answer(results: list[dict[str, Any]], table: Table | None = None) -> str:
    """The CSV answer: one row per name and match; with a table, its other columns."""
    header, rows = with_extras(CSV_COLUMNS, _answer_rows(results), table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    # Cells a spreadsheet would run as formulas are neutralised (CSV injection).
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


def xlsx_answer(results: list[dict[str, Any]], table: Table | None = None) -> bytes:
    """The same rows as the CSV answer, as a workbook (every cell text)."""
    header, rows = with_extras(CSV_COLUMNS, _answer_rows(results), table)
    return xlsx_bytes(header, rows, "screened")
