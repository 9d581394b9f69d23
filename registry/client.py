"""A Python client for the registry's HTTP API, on requests.

    from registry.client import Registry

    registry = Registry("http://localhost:8000", api_key=None, timeout=60)
    for result in registry.screen(["Finder Technology", {"name": "Kim Yong Chol",
                                                         "dob": "1962-02-18"}]):
        print(result.query["name"], [(m.entity_id, m.score) for m in result.matches])
    registry.screen_csv("customers.csv", "customers-screened.csv")   # any size
    for entity in registry.entities(jurisdiction="GB"):                # every page
        ...

What it does for you:

- **Batches.** `screen` takes any number of names (strings, or dicts with the
  query fields id, name, type, country, dob, nationality, id_number) and sends
  them in batches under the server's cap (REGISTRY_MAX_SCREEN_BATCH, which the
  server states in GET /healthz; `DEFAULT_BATCH` when it does not) and under its
  body limit; the results come back in input order, `index` counting from the
  first name given.
- **Retries.** A 503 or 429 is retried after the server's Retry-After (seconds or
  an HTTP date); a connection refused, reset or dropped is retried with
  exponential backoff and jitter. Reads (screening included: it changes nothing)
  are always retried; writes only when the server refused them (503, 429) or the
  connection failed before the request was sent, so nothing is written twice.
- **Errors** raise `ApiError`, which carries the problem details the server sent
  (status, title, detail, errors with their field); `RegistryConnectionError`
  when the server could not be reached after the retries.
- **Typed results:** dataclasses (`ScreenResult`, `Match`, `Entity` ...); each
  keeps the server's whole answer in `raw`, so fields added later are not lost.
"""

from __future__ import annotations

import csv
import dataclasses
import email.utils
import io
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import click
import requests
from urllib3.exceptions import NewConnectionError

DEFAULT_BATCH = 1_000  # names per request when the server does not state its cap
DEFAULT_BODY_LIMIT = 20 * 1024 * 1024  # the server's default REGISTRY_MAX_BODY_BYTES
PAGE_SIZE = 500  # the largest page the server gives
RETRY_STATUSES = (429, 503)
USER_AGENT = "registry-client/1"
_AT_MOST = re.compile(r"at most ([0-9]+)")

T = TypeVar("T")


# -- errors ---------------------------------------------------------------------------


class RegistryError(Exception):
    """Anything this client raises."""


class RegistryConnectionError(RegistryError):
    """The server could not be reached (or stopped answering) after the retries."""


@dataclass(frozen=True)
class ProblemItem:
    """One thing wrong with a request: the field at fault and why."""

    message: str
    field: str | None = None
    location: str | None = None
    file: str | None = None
    record: str | None = None


class ApiError(RegistryError):
    """The server refused a request: its problem details (RFC 9457)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None,
        errors: Sequence[ProblemItem] = (),
        *,
        type: str = "about:blank",
        instance: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.type = type
        self.instance = instance
        self.headers = dict(headers or {})
        self.body = body
        where = "; ".join(
            f"{e.field}: {e.message}" if e.field else e.message for e in self.errors[:5]
        )
        super().__init__(f"{status} {title}: {detail or ''}" + (f" ({where})" if where else ""))

    @classmethod
    def from_response(cls, response: requests.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(
                response.status_code,
                response.reason or "Error",
                response.text[:500] or None,
                headers=response.headers,
                body=body,
            )
        errors = [_build(ProblemItem, e) for e in body.get("errors") or [] if isinstance(e, dict)]
        detail = body.get("detail")
        return cls(
            int(body.get("status") or response.status_code),
            str(body.get("title") or response.reason or "Error"),
            detail if isinstance(detail, str) else json.dumps(detail) if detail else None,
            errors,
            type=str(body.get("type") or "about:blank"),
            instance=body.get("instance"),
            headers=response.headers,
            body=body,
        )


# -- typed answers ----------------------------------------------------------------------


def _build(cls: type[T], data: Mapping[str, Any], **extra: Any) -> T:
    """A dataclass from the server's object: the fields it knows (the rest stays in
    `raw` where the class has one)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if k in names}
    if "raw" in names:
        values["raw"] = dict(data)
    return cls(**{**values, **extra})


@dataclass
class Decision:
    id: str
    verdict: str
    note: str | None = None
    actor: str | None = None
    created_at: str | None = None
    query: str | None = None
    entity_id: str | None = None
    valid_to: str | None = None
    ended_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class EntitySummary:
    id: str
    name: str
    type: str | None = None
    country: str | None = None
    status: str | None = None
    first_listed: str | None = None
    designations: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Match:
    entity_id: str
    matched_name: str
    score: float
    match: bool
    name: str | None = None
    name_kind: str | None = None
    summary: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict, repr=False)
    entity: EntitySummary | None = None
    decision: Decision | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Match:
        entity = data.get("entity")
        decision = data.get("decision")
        return _build(
            cls,
            data,
            entity=_build(EntitySummary, entity) if entity else None,
            decision=_build(Decision, decision) if decision else None,
        )


@dataclass
class RowError:
    """Why one row of a batch could not be screened (the others were)."""

    message: str
    errors: list[ProblemItem] = field(default_factory=list)


@dataclass
class ScreenResult:
    index: int  # position in the names given to `screen`, from 0
    id: Any
    query: Any
    matches: list[Match]
    hidden_false_positives: int = 0
    error: RowError | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def flagged(self) -> bool:
        """At least one match at or above the threshold."""
        return any(m.match for m in self.matches)

    @classmethod
    def of(cls, data: Mapping[str, Any], offset: int) -> ScreenResult:
        error = data.get("error")
        return cls(
            index=int(data["index"]) + offset,
            id=data.get("id"),
            query=data.get("query"),
            matches=[Match.of(m) for m in data.get("matches") or []],
            hidden_false_positives=int(data.get("hidden_false_positives") or 0),
            error=RowError(
                error.get("message", ""),
                [_build(ProblemItem, e) for e in error.get("errors") or []],
            )
            if error
            else None,
            raw={**data, "index": int(data["index"]) + offset},
        )


@dataclass
class Entity:
    id: str
    name: str
    type: str | None = None
    country: str | None = None
    status: str | None = None
    first_listed: str | None = None
    notes: str | None = None
    names: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    birth_dates: list[dict[str, Any]] = field(default_factory=list)
    nationalities: list[dict[str, Any]] = field(default_factory=list)
    designations: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    as_of: str | None = None
    etag: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class HistoryEntry:
    version: int
    record: str
    change: str
    at: str
    dataset: str | None = None
    actor: str | None = None
    run_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diff: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ImportRun:
    id: str
    status: str
    format: str | None = None
    dataset: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    actor: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings_count: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Dataset:
    name: str
    title: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class CsvScreening:
    """What `screen_csv` wrote."""

    out_path: Path
    names: int  # rows of the input screened
    flagged: int  # of which with at least one match
    errors: int  # rows that could not be screened (their error is in the answer)
    answer_rows: int  # rows written (one per name and match)
    requests: int


# -- the client ---------------------------------------------------------------------------


class Registry:
    """The registry's HTTP API. `timeout` is seconds per request (a screening of a
    whole batch included); `retries` how often a request is retried."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        batch_size: int | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.batch_size = batch_size
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self._limits: dict[str, int] | None = None
        self.sleep: Callable[[float], None] = time.sleep  # tests may watch it

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        files: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request with the retries; an answer of 400 or more raises ApiError.
        `files` is a function giving the multipart files anew for each attempt."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
        url = f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, files=files() if files else None, **kwargs
                )
            except requests.exceptions.ReadTimeout as exc:
                raise RegistryConnectionError(
                    f"{method} {path}: no answer within {self.timeout} s"
                ) from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                if attempt >= self.retries or not (idempotent or _before_sending(exc)):
                    raise RegistryConnectionError(f"{method} {path}: {exc}") from exc
                self.sleep(self._backoff(attempt))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                wait = _retry_after(response.headers.get("Retry-After"))
                response.close()
                self.sleep(min(self.max_wait, wait if wait is not None else self._backoff(attempt)))
                attempt += 1
                continue
            if response.status_code >= 400:
                raise ApiError.from_response(response)
            return response

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_wait, self.backoff * 2**attempt)
        return base * (0.5 + random.random() / 2)  # jitter: clients do not retry in step

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def limits(self) -> dict[str, int]:
        """What one request may hold, as the server states it (GET /healthz)."""
        if self._limits is None:
            health = self._json("GET", "/healthz")
            stated = health.get("limits") if isinstance(health, dict) else None
            self._limits = {
                "max_screen_batch": int((stated or {}).get("max_screen_batch") or DEFAULT_BATCH),
                "max_body_bytes": int((stated or {}).get("max_body_bytes") or DEFAULT_BODY_LIMIT),
            }
        return self._limits

    def _batch_cap(self, batch_size: int | None) -> int:
        cap = self.limits()["max_screen_batch"]
        wanted = batch_size or self.batch_size
        return max(1, min(cap, wanted) if wanted else cap)

    # -- screening ---------------------------------------------------------------------

    def screen(
        self,
        names_or_records: Iterable[str | Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: bool = False,
        **options: Any,
    ) -> list[ScreenResult]:
        """Screen any number of names; the results in input order. `options` are the
        screening options (threshold, min_score, limit, jurisdiction, authority,
        program, include_delisted, hide_false_positives, as_of)."""
        return list(
            self.iter_screen(names_or_records, batch_size=batch_size, progress=progress, **options)
        )

    def iter_screen(
        self,
        names_or_records: Iterable[str | Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: bool = False,
        **options: Any,
    ) -> Iterator[ScreenResult]:
        """`screen`, one result at a time, holding one batch in memory at once."""
        offset = 0
        total = len(names_or_records) if isinstance(names_or_records, Sized) else None
        bar = _progress(progress, total, "screening")
        with bar:
            for batch in self._batches(names_or_records, batch_size, options):
                for result in self._screen_batch(batch, options):
                    yield ScreenResult.of(result, offset)
                offset += len(batch)
                bar.update(len(batch))

    def _screen_batch(
        self, batch: list[dict[str, Any]], options: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """One POST /screen; a server with a smaller cap than expected (an older one
        that does not state it) says so, and the batch is split to fit."""
        try:
            answer = self._json(
                "POST", "/screen", json={**options, "queries": batch}, idempotent=True
            )
        except ApiError as error:
            cap = _stated_cap(error)
            if cap is None or cap >= len(batch):
                raise
            self._limits = {**self.limits(), "max_screen_batch": cap}
            out: list[dict[str, Any]] = []
            for start in range(0, len(batch), cap):
                part = self._screen_batch(batch[start : start + cap], options)
                out.extend({**r, "index": int(r["index"]) + start} for r in part)
            return out
        results: list[dict[str, Any]] = answer["results"]
        return results

    def _batches(
        self,
        records: Iterable[str | Mapping[str, Any]],
        batch_size: int | None,
        options: Mapping[str, Any],
    ) -> Iterator[list[dict[str, Any]]]:
        cap = self._batch_cap(batch_size)
        # Keep a margin under the body limit for the options and the JSON around.
        room = int(self.limits()["max_body_bytes"] * 0.9) - len(json.dumps(dict(options))) - 100
        batch: list[dict[str, Any]] = []
        size = 0
        for record in records:
            query = _query(record)
            length = len(json.dumps(query, ensure_ascii=False).encode()) + 2
            if batch and (len(batch) >= cap or size + length > room):
                yield batch
                batch, size = [], 0
            batch.append(query)
            size += length
        if batch:
            yield batch

    def screen_csv(
        self,
        path: str | os.PathLike[str],
        out_path: str | os.PathLike[str],
        *,
        batch_size: int | None = None,
        progress: bool = True,
        keep_columns: bool = False,
        **options: Any,
    ) -> CsvScreening:
        """Screen a CSV file of any size (a header with `name`, and optionally id,
        type, country, dob, nationality, id_number), streamed a batch at a time, into
        the server's CSV answer (one row per name and match) at `out_path`, written
        whole or not at all. With `keep_columns`, the input's other columns are
        carried into the answer. A progress bar goes to stderr."""
        source = Path(path)
        target = Path(out_path)
        partial = target.with_name(target.name + ".part")
        params = {k: _param(v) for k, v in options.items()}
        if keep_columns:
            params["keep_columns"] = "true"
        cap = self._batch_cap(batch_size)
        room = int(self.limits()["max_body_bytes"] * 0.9)
        summary = CsvScreening(target, 0, 0, 0, 0, 0)
        flagged: set[int] = set()
        errors: set[int] = set()
        try:
            with (
                source.open(encoding="utf-8-sig", newline="") as infile,
                partial.open("w", encoding="utf-8", newline="") as outfile,
                _progress(progress, source.stat().st_size, "screening") as bar,
            ):
                reader = csv.reader(infile)
                writer = csv.writer(outfile, lineterminator="\r\n")
                header = next(reader, None)
                if header is None:
                    raise RegistryError(f"{source}: the file is empty (it needs a header).")
                for rows, consumed in _chunks(reader, header, cap, room):
                    answer = self.request(
                        "POST",
                        "/screen",
                        params=params,
                        data=_csv_bytes(header, rows),
                        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
                        idempotent=True,
                    )
                    lines = csv.reader(io.StringIO(answer.content.decode("utf-8"), newline=""))
                    answer_header = next(lines)
                    if summary.requests == 0:
                        writer.writerow(answer_header)
                    columns = {name: i for i, name in enumerate(answer_header)}
                    for line in lines:
                        index = int(line[columns["query_index"]]) + summary.names
                        line[columns["query_index"]] = str(index)
                        writer.writerow(line)
                        summary.answer_rows += 1
                        if line[columns["match"]] == "true":
                            flagged.add(index)
                        if line[columns["error"]]:
                            errors.add(index)
                    summary.names += len(rows)
                    summary.requests += 1
                    bar.update(consumed)
                if summary.requests == 0:  # a header and no names: the answer's header
                    answer = self.request(
                        "POST",
                        "/screen",
                        params=params,
                        data=_csv_bytes(header, []),
                        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
                        idempotent=True,
                    )
                    text = answer.content.decode("utf-8")
                    writer.writerow(next(csv.reader(io.StringIO(text, newline=""))))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        summary.flagged = len(flagged)
        summary.errors = len(errors)
        return summary

    # -- reading -------------------------------------------------------------------------

    def entities(self, **filters: Any) -> Iterator[EntitySummary]:
        """Every entity matching the filters of GET /entities (q, jurisdiction,
        authority, program, type, country, status, listed_from, listed_to, source,
        as_of), page after page."""
        for item in self._pages("/entities", filters):
            yield _build(EntitySummary, item)

    def entity(self, entity_id: str, *, as_of: str | None = None) -> Entity:
        response = self.request(
            "GET", f"/entities/{_quote(entity_id)}", params={"as_of": as_of} if as_of else None
        )
        return _build(Entity, response.json(), etag=response.headers.get("ETag"))

    def history(self, entity_id: str) -> Iterator[HistoryEntry]:
        """Every change to the entity, oldest first, page after page."""
        for item in self._pages(f"/entities/{_quote(entity_id)}/history", {}):
            yield _build(HistoryEntry, item)

    def datasets(self) -> list[Dataset]:
        """The lists the registry holds (GET /datasets)."""
        answer = self._json("GET", "/datasets")
        items = answer.get("items", []) if isinstance(answer, dict) else answer
        return [_build(Dataset, item) for item in items]

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        query = {k: _param(v) for k, v in params.items() if v is not None}
        query.setdefault("limit", str(PAGE_SIZE))
        while True:
            page = self._json("GET", path, params=query)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    # -- writing -------------------------------------------------------------------------

    def decide(self, query: str, entity_id: str, verdict: str, note: str | None = None) -> Decision:
        """Record an analyst's decision on a match: verdict `false_positive` or
        `true_match` (needs a key with the write scope)."""
        body = {"query": query, "entity_id": entity_id, "verdict": verdict, "note": note}
        return _build(Decision, self._json("POST", "/decisions", json=body, idempotent=False))

    def import_file(
        self,
        format: str,
        *paths: str | os.PathLike[str],
        strict: bool = False,
        **fields: Any,
    ) -> ImportRun:
        """Import an official list's files (POST /imports; a write key): `format` as
        `registry import --format`, e.g. import_file("ofac-csv", "sdn.csv", "alt.csv")."""
        if not paths:
            raise RegistryError("Give the list's files.")
        files = [Path(p) for p in paths]
        opened: list[IO[bytes]] = []

        def multipart() -> list[tuple[str, tuple[str, IO[bytes], str]]]:
            for handle in opened:
                handle.close()
            opened.clear()
            opened.extend(p.open("rb") for p in files)
            return [
                ("files", (p.name, handle, "application/octet-stream"))
                for p, handle in zip(files, opened, strict=True)
            ]

        data = {"format": format, "strict": _param(strict)}
        data.update({k: _param(v) for k, v in fields.items()})
        try:
            answer = self._json("POST", "/imports", data=data, files=multipart, idempotent=False)
        finally:
            for handle in opened:
                handle.close()
        return _build(ImportRun, answer)


# -- helpers --------------------------------------------------------------------------------


def _query(record: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(record, str):
        return {"name": record}
    if isinstance(record, Mapping):
        return {k: v for k, v in record.items() if v is not None}
    raise TypeError(f"Give names as strings or mappings, not {type(record).__name__}.")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quote(value: str) -> str:
    return requests.utils.quote(value, safe=":")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait: Retry-After as delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _before_sending(exc: Exception) -> bool:
    """The connection failed before the request went out (refused, connect timeout):
    even a write can be sent again."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _stated_cap(error: ApiError) -> int | None:
    if error.status not in (400, 413):
        return None
    for problem in error.errors:
        if problem.field in ("queries", "rows"):
            found = _AT_MOST.search(problem.message)
            if found:
                return int(found.group(1))
    return None


def _chunks(
    reader: Iterator[list[str]], header: list[str], cap: int, room: int
) -> Iterator[tuple[list[list[str]], int]]:
    """Rows in chunks of at most `cap` rows and about `room` bytes, with the bytes
    each chunk took (for the progress bar)."""
    rows: list[list[str]] = []
    size = len(",".join(header).encode()) + 2
    consumed = 0
    for row in reader:
        length = sum(len(cell.encode()) + 3 for cell in row) + 2
        if rows and (len(rows) >= cap or size + length > room):
            yield rows, consumed
            rows, size, consumed = [], len(",".join(header).encode()) + 2, 0
        rows.append(row)
        size += length
        consumed += length
    if rows:
        yield rows, consumed


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


class _Count(_NoBar):
    """Progress when the total is unknown: a line per batch on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.done = 0

    def update(self, n: int) -> None:
        self.done += n
        click.echo(f"{self.label}: {self.done:,}", err=True)


def _progress(show: bool, length: int | None, label: str) -> Any:
    if not show:
        return _NoBar()
    if length is None:
        return _Count(label)
    return click.progressbar(length=length, label=label, file=sys.stderr)
