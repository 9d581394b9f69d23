"""Refresh: fetch each official list from its publisher and import it when it changed,
never losing good data.

For each dataset of the catalogue (registry/sources.py):

1. fetch its files (registry/download.py), conditionally: the ETag / Last-Modified of the
   files the registry loaded last; every file 304 -> unchanged, nothing imported;
2. refuse what is not the list: an HTML page served with 200, a media type the list is not
   published as, an empty file;
3. same SHA-256 as the files loaded last -> unchanged, nothing imported;
4. otherwise import them (registry/imports.py) with the guards: a file of the wrong
   dataset, fewer records than a complete file holds, an older publication than the one
   loaded, a run delisting more than 10% of the list are refused; an unparsable file
   fails. An import is one transaction: a refused or failed one writes nothing.

Every attempt is recorded (`refresh_runs`: status updated / unchanged / failed, the reason,
the files with their HTTP outcome and checksums), and GET /datasets shows it. One refresh
runs at a time per registry (a lock file next to the database).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import sqlite_utils

from .db import immediate, open_registry, utcnow
from .download import (
    DEFAULT_POLICY,
    ByteProgress,
    Download,
    DownloadError,
    Policy,
    download,
    new_session,
)
from .imports import Guards, ImportRefused, Progress, run_import
from .problems import InputError
from .sources import Dataset

log = logging.getLogger(__name__)

STATUSES = ("updated", "unchanged", "failed")
# Media types that say nothing about the content: accepted for any list.
GENERIC_TYPES = {"application/octet-stream", "binary/octet-stream", "application/download"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}


@dataclass
class Outcome:
    """What one refresh attempt of one dataset did."""

    run_id: str
    dataset: str
    status: str  # updated, unchanged or failed
    reason: str | None = None
    import_run: str | None = None
    counts: dict[str, int] | None = None
    published: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    def describe(self) -> str:
        if self.status == "updated" and self.counts:
            counts = " ".join(f"{k}={v}" for k, v in self.counts.items())
            published = f", published {self.published}" if self.published else ""
            return f"{self.dataset}: updated: {counts} (import {self.import_run}{published})"
        if self.status == "failed":
            return f"{self.dataset}: FAILED: {self.reason} The registry keeps the list it had."
        return f"{self.dataset}: {self.status}: {self.reason}"


class RefreshBusy(Exception):
    """Another refresh of the same registry is running."""


class FileRejected(Exception):
    """A downloaded file is not the list (an HTML page, another media type, nothing)."""


def summary(outcomes: Sequence[Outcome]) -> str:
    """The last line of `registry refresh`: updated=N unchanged=N failed=N."""
    return " ".join(f"{s}={sum(o.status == s for o in outcomes)}" for s in STATUSES)


@contextlib.contextmanager
def refresh_lock(db_path: str | Path) -> Iterator[None]:
    """One refresh at a time per registry, across threads and processes (an flock on a
    file next to the database; released by the system if the process dies)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the in-process lock alone
        fcntl = None  # type: ignore[assignment]
    busy = RefreshBusy(f"another refresh of {db_path} is running")
    key = str(Path(db_path).resolve())
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        raise busy
    try:
        if fcntl is None:
            yield
            return
        with Path(f"{db_path}.refresh-lock").open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        lock.release()


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def refresh(
    db_path: str | Path,
    datasets: Sequence[Dataset],
    *,
    policy: Policy = DEFAULT_POLICY,
    actor: str = "refresh",
    busy_timeout_ms: int = 10_000,
    file_progress: Callable[[str, str], ByteProgress | None] | None = None,
    import_progress: Callable[[str], Progress | None] | None = None,
    report: Callable[[Outcome], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Refresh each dataset in turn; raises RefreshBusy when another refresh runs."""
    outcomes = []
    with refresh_lock(db_path):
        db = open_registry(db_path, busy_timeout_ms=busy_timeout_ms)
        session = new_session()
        try:
            for dataset in datasets:
                outcome = refresh_dataset(
                    db,
                    session,
                    dataset,
                    policy=policy,
                    actor=actor,
                    file_progress=file_progress,
                    import_progress=import_progress(dataset.name) if import_progress else None,
                    notice=notice,
                )
                outcomes.append(outcome)
                if report:
                    report(outcome)
        finally:
            session.close()
            db.close()
    return outcomes


def refresh_dataset(
    db: sqlite_utils.Database,
    session: requests.Session,
    dataset: Dataset,
    *,
    policy: Policy = DEFAULT_POLICY,
    actor: str = "refresh",
    file_progress: Callable[[str, str], ByteProgress | None] | None = None,
    import_progress: Progress | None = None,
    notice: Callable[[str], None] | None = None,
) -> Outcome:
    outcome = Outcome(run_id=_run_id(), dataset=dataset.name, status="failed", started_at=utcnow())
    try:
        _refresh(
            db, session, dataset, outcome, policy, actor, file_progress, import_progress, notice
        )
    except DownloadError as exc:
        outcome.reason = f"{_name_of(dataset, exc.url)}: {exc.reason}."
    except FileRejected as exc:
        outcome.reason = str(exc)
    except ImportRefused as exc:
        outcome.reason = " ".join(exc.reasons)
    except InputError as exc:
        outcome.reason = "The file cannot be imported: " + "; ".join(
            p.message for p in exc.problems
        )
    except sqlite3.OperationalError as exc:
        outcome.reason = f"The database refused the write ({exc})."
    except Exception as exc:  # a refresh must report, not die, whatever happened
        log.exception("refresh of %s failed", dataset.name)
        outcome.reason = f"Unexpected error: {type(exc).__name__}: {exc}"
    outcome.finished_at = utcnow()
    _record(db, outcome, actor)
    log.info("%s", outcome.describe())
    return outcome


def _refresh(
    db: sqlite_utils.Database,
    session: requests.Session,
    dataset: Dataset,
    outcome: Outcome,
    policy: Policy,
    actor: str,
    file_progress: Callable[[str, str], ByteProgress | None] | None,
    import_progress: Progress | None,
    notice: Callable[[str], None] | None,
) -> None:
    if not dataset.urls:
        raise FileRejected(
            f"{dataset.name} has no file of its own"
            + (f": it is refreshed with {dataset.included_in}." if dataset.included_in else ".")
        )
    known = _loaded_files(db, dataset.name)
    names = file_names(dataset)
    with tempfile.TemporaryDirectory(prefix="registry-refresh-") as tmp:

        def fetch(url: str, name: str, conditional: bool) -> Download:
            last = known.get(url) if conditional else None
            return download(
                session,
                url,
                Path(tmp) / name,
                etag=last["etag"] if last else None,
                last_modified=last["last_modified"] if last else None,
                policy=policy,
                max_bytes=dataset.max_bytes,
                progress=file_progress(dataset.name, name) if file_progress else None,
                notice=notice,
            )

        got = [fetch(url, name, True) for url, name in zip(dataset.urls, names, strict=True)]
        outcome.files = [_file_entry(d, name) for d, name in zip(got, names, strict=True)]
        if not any(d.modified for d in got):
            outcome.status, outcome.reason = "unchanged", "not modified (HTTP 304)."
            _remember(db, dataset.name, got, known)
            return
        # An import takes the whole publication: fetch again what the server did not resend.
        got = [
            d if d.modified else fetch(d.url, name, False)
            for d, name in zip(got, names, strict=True)
        ]
        outcome.files = [_file_entry(d, name) for d, name in zip(got, names, strict=True)]
        for d, name in zip(got, names, strict=True):
            _check_file(dataset, d, name)
        if known and all(known.get(d.url, {}).get("sha256") == d.sha256 for d in got):
            outcome.status = "unchanged"
            outcome.reason = "the same files as the ones loaded (SHA-256)."
            _remember(db, dataset.name, got, known)
            return
        result = run_import(
            db,
            dataset.format,
            [d.path for d in got if d.path is not None],
            actor=f"{actor}:{outcome.run_id}",
            file_names=names,
            guards=Guards(min_records=dataset.min_records, dataset=dataset.name),
            published=got[0].published,
            progress=import_progress,
        )
    outcome.status = "updated"
    outcome.import_run = result.run_id
    outcome.counts = result.counts.as_dict()
    outcome.published = result.published
    outcome.reason = f"imported as {result.run_id}."
    _remember(db, dataset.name, got, known, import_run=result.run_id)


def file_names(dataset: Dataset) -> list[str]:
    """Local names for the dataset's files: the URL's last path segment when it names a
    file (the importers read dates and roles from names: sdn_2024-02-23.csv, CONS_ALT.CSV),
    else the dataset's name."""
    names: list[str] = []
    for index, url in enumerate(dataset.urls):
        segment = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        segment = "".join(ch for ch in segment if ch.isalnum() or ch in "._-")
        if not segment or "." not in segment.strip("."):
            segment = f"{dataset.name}{'-' + str(index + 1) if index else ''}{dataset.suffix}"
        while segment in names:
            segment = f"{index + 1}-{segment}"
        names.append(segment)
    return names


def _name_of(dataset: Dataset, url: str) -> str:
    names = file_names(dataset)
    return names[dataset.urls.index(url)] if url in dataset.urls else url


def _check_file(dataset: Dataset, got: Download, name: str) -> None:
    if got.size == 0:
        raise FileRejected(f"{name}: the server sent an empty file (HTTP 200, 0 bytes).")
    media = (got.content_type or "").split(";")[0].strip().lower()
    accepted = {t.lower() for t in dataset.accepted_types}
    if media in HTML_TYPES and media not in accepted:
        raise FileRejected(
            f"{name}: the server answered 200 with an HTML page ({media}), not the "
            f"{dataset.format} file: an error, login or maintenance page?"
        )
    if media and accepted and media not in accepted and media not in GENERIC_TYPES:
        raise FileRejected(
            f"{name}: served as {media}; {dataset.name} is published as "
            f"{', '.join(sorted(accepted))}."
        )
    assert got.path is not None
    with got.path.open("rb") as handle:
        head = handle.read(2048).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and b"<body" in head):
        raise FileRejected(
            f"{name}: the server answered 200 with an HTML page (served as "
            f"{media or 'no media type'}), not the {dataset.format} file."
        )


def _file_entry(got: Download, name: str) -> dict[str, Any]:
    return {
        "url": got.url,
        "name": name,
        "http": 200 if got.modified else 304,
        "size": got.size if got.modified else None,
        "sha256": got.sha256,
        "etag": got.etag,
        "last_modified": got.last_modified,
        "content_type": got.content_type,
        "attempts": got.attempts,
        "seconds": round(got.seconds, 3),
    }


def _loaded_files(db: sqlite_utils.Database, dataset: str) -> dict[str, dict[str, Any]]:
    """What each URL served when the dataset's current publication was loaded; empty when
    the registry has loaded something else since (a hand import, another mirror), so the
    next fetch is unconditional and compares against nothing."""
    latest = db.conn.execute(
        "SELECT id FROM import_runs WHERE dataset = ? AND status = 'finished' "
        "ORDER BY finished_at DESC LIMIT 1",
        (dataset,),
    ).fetchone()
    rows = db.conn.execute(
        "SELECT url, etag, last_modified, sha256, import_run FROM refresh_sources "
        "WHERE dataset = ?",
        (dataset,),
    ).fetchall()
    if latest is None or any(row[4] != latest[0] for row in rows):
        return {}
    return {row[0]: {"etag": row[1], "last_modified": row[2], "sha256": row[3]} for row in rows}


def _remember(
    db: sqlite_utils.Database,
    dataset: str,
    got: Sequence[Download],
    known: dict[str, dict[str, Any]],
    *,
    import_run: str | None = None,
) -> None:
    """Keep what each URL served, for the next conditional fetch. Only called when the
    registry holds exactly these files (just imported, or confirmed unchanged)."""
    now = utcnow()
    if import_run is None:
        row = db.conn.execute(
            "SELECT import_run FROM refresh_sources WHERE dataset = ? LIMIT 1", (dataset,)
        ).fetchone()
        import_run = row[0] if row else None
    with immediate(db):
        if known == {} or import_run is not None:
            db.conn.execute("DELETE FROM refresh_sources WHERE dataset = ?", (dataset,))
        for d in got:
            previous = known.get(d.url, {})
            db.conn.execute(
                "INSERT OR REPLACE INTO refresh_sources (dataset, url, etag, last_modified, "
                "sha256, size, import_run, checked_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    dataset,
                    d.url,
                    d.etag,
                    d.last_modified,
                    d.sha256 or previous.get("sha256"),
                    d.size if d.modified else None,
                    import_run,
                    now,
                ),
            )


def _record(db: sqlite_utils.Database, outcome: Outcome, actor: str) -> None:
    with immediate(db):
        db.conn.execute(
            "INSERT INTO refresh_runs (id, dataset, started_at, finished_at, status, reason, "
            "import_run, files, actor) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                outcome.run_id,
                outcome.dataset,
                outcome.started_at,
                outcome.finished_at,
                outcome.status,
                outcome.reason,
                outcome.import_run,
                json.dumps(outcome.files),
                actor,
            ),
        )


def _run_id() -> str:
    stamp = utcnow().replace("-", "").replace(":", "").replace("T", "t").split(".")[0].lower()
    return f"ref-{stamp}-{secrets.token_hex(3)}"


class Scheduler:
    """`registry serve --refresh-every`: refresh in a background thread, first at start-up,
    then every `every` seconds after the previous run ended (so runs never overlap)."""

    def __init__(
        self,
        db_path: str | Path,
        datasets: Callable[[], Sequence[Dataset]],
        every: float,
        *,
        policy: Policy = DEFAULT_POLICY,
        busy_timeout_ms: int = 10_000,
        after: Callable[[list[Outcome]], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.datasets = datasets
        self.every = every
        self.policy = policy
        self.busy_timeout_ms = busy_timeout_ms
        self.after = after
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="list-refresh", daemon=True)

    def start(self) -> Scheduler:
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def run_once(self) -> list[Outcome]:
        try:
            outcomes = refresh(
                self.db_path,
                [d for d in self.datasets() if d.urls],
                policy=self.policy,
                actor="refresh:scheduled",
                busy_timeout_ms=self.busy_timeout_ms,
            )
        except RefreshBusy as exc:
            log.warning("scheduled refresh skipped: %s", exc)
            return []
        for outcome in outcomes:
            if outcome.status == "failed":
                log.warning("%s", outcome.describe())
        log.info("scheduled refresh: %s", summary(outcomes))
        if self.after:
            self.after(outcomes)
        return outcomes

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:  # the schedule goes on; the next run may succeed
                log.exception("scheduled refresh failed")
            self.stopping.wait(self.every)
