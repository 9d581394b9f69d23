"""Import runs: official list files into the registry, recorded, diffed, all or nothing.

An import parses the files (`registry.importers`), then writes the whole list in
one transaction as a snapshot of its dataset: entries new to the dataset are
added, changed ones get a new version, and entries the list no longer holds are
delisted (kept, with the delisting date and the file that shows it). The run
itself (files, checksums, times, counts, warnings) is recorded, a failed one too.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from . import history
from .db import immediate, in_view, utcnow
from .importers import ImportFormatError, ParsedList, parse
from .problems import InputError, Problem
from .queries import Page, Where, page_rows
from .store import Counts, Snapshot, Writer

log = logging.getLogger(__name__)

# progress(phase, done, total): phase is "parse" or "write".
Progress = Callable[[str, int, int | None], None]

# A run may delist at most this share of a dataset's listed entries unless told to; fewer
# than MIN_MASS_DELISTING entries never count as a mass delisting (a small list of a few
# entries may well drop one of them).
MAX_DELISTING_SHARE = 0.10
MIN_MASS_DELISTING = 10


@dataclass(frozen=True)
class Guards:
    """What an import may do to a list already loaded: roll it back to an older
    publication, delist more than MAX_DELISTING_SHARE of it. Refresh adds a floor on the
    records a sane file of the list holds."""

    allow_older: bool = False
    allow_mass_delisting: bool = False
    min_records: int | None = None
    dataset: str | None = None  # the files must be of this dataset


class ImportRefused(InputError):
    """A guard refused the run; nothing was written. `reasons` say what would have happened."""

    def __init__(self, problems: list[Problem], reasons: list[str]) -> None:
        super().__init__(problems, status=409, title="Import refused")
        self.reasons = reasons


@dataclass
class ImportResult:
    run_id: str
    format: str
    dataset: str
    status: str
    started_at: str
    finished_at: str
    files: list[dict[str, Any]]
    counts: Counts
    sources: Counts = field(default_factory=Counts)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    published: str | None = None  # publication date of the list file(s)

    def summary_line(self) -> str:
        c = self.counts
        return f"added={c.added} changed={c.changed} removed={c.removed} unchanged={c.unchanged}"


def new_run_id(now: str) -> str:
    stamp = now.replace("-", "").replace(":", "").replace("T", "t").split(".")[0].lower()
    return f"imp-{stamp}-{secrets.token_hex(3)}"


def run_import(
    db: sqlite_utils.Database,
    format: str,
    paths: Sequence[str | Path],
    *,
    actor: str = "import",
    strict: bool = False,
    progress: Progress | None = None,
    file_names: Sequence[str] | None = None,
    guards: Guards = Guards(),
    published: str | None = None,
) -> ImportResult:
    """Parse and write one list. Raises InputError for files the format cannot
    read, ImportRefused when a guard says no (either way the failed run is recorded and
    nothing else is written). `published` is the publication date to assume when the
    files do not state one (refresh passes the server's Last-Modified date)."""
    started = utcnow()
    run_id = new_run_id(started)
    file_paths = [Path(p) for p in paths]
    names = list(file_names) if file_names else [p.name for p in file_paths]
    try:
        parsed = parse(
            format,
            file_paths,
            strict=strict,
            progress=(lambda done, total: progress("parse", done, total)) if progress else None,
        )
    except ImportFormatError as exc:
        _record_failure(db, run_id, format, "", names, started, actor, str(exc))
        raise InputError(
            [Problem(f"{exc} (run {run_id}, recorded as failed)", field="files", location="file")],
            title="Unreadable list file",
        ) from None
    except Exception as exc:
        # The parser itself failed (a KeyError on a field the file lacks, ...): the
        # files are not what the format expects, or the parser has a bug. Either
        # way the run is recorded with the reason, and the answer says so.
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("import %s: the %s parser failed on %s", run_id, format, names, exc_info=exc)
        _record_failure(db, run_id, format, "", names, started, actor, f"parser failed: {reason}")
        raise InputError(
            [
                Problem(
                    f"The {format} parser could not read these files ({reason}); run {run_id} "
                    "is recorded as failed.",
                    field="files",
                    location="file",
                )
            ],
            title="Unreadable list file",
        ) from None
    files = _file_entries(parsed, names)
    published = parsed.snapshot_date or published
    try:
        if guards.dataset and parsed.dataset != guards.dataset:
            reason = (
                f"{_files_text(names)} hold the {parsed.dataset} list, not {guards.dataset}. "
                "Nothing was written."
            )
            raise ImportRefused([Problem(reason, field="files", location="file")], [reason])
        if guards.min_records is not None and len(parsed.records) < guards.min_records:
            raise _too_few(parsed, names, guards.min_records)
        with immediate(db):
            now = utcnow()
            listed_before = _listed(db, parsed.dataset)
            loaded = _loaded_publication(db, parsed.dataset)
            writer = Writer(db, now=now, actor=f"{actor}:{run_id}", run_id=run_id)
            source_counts = writer.write_sources(parsed.sources)
            counts = writer.write_records(
                parsed.dataset,
                parsed.records,
                snapshot=Snapshot(
                    date=published or now[:10],
                    evidence=_absence_evidence(parsed, names, now),
                ),
                progress=(lambda done: progress("write", done, len(parsed.records)))
                if progress
                else None,
            )
            # The guards look at what the write did; raising rolls all of it back.
            _check_guards(parsed.dataset, names, published, loaded, listed_before, counts, guards)
            writer.finish()
            result = ImportResult(
                run_id=run_id,
                format=format,
                dataset=parsed.dataset,
                status="finished",
                started_at=started,
                finished_at=utcnow(),
                files=files,
                counts=counts,
                sources=source_counts,
                stats=dict(parsed.stats),
                warnings=[
                    {"file": w.file, "line": w.line, "message": w.message} for w in parsed.warnings
                ],
                published=published,
            )
            _insert_run(db, result, actor)
        # Fresh statistics for the query planner after a large write (cheap when
        # nothing needs analysing).
        db.conn.execute("PRAGMA optimize")
    except ImportRefused as exc:
        reason = " ".join(exc.reasons)
        _record_failure(db, run_id, format, parsed.dataset, names, started, actor, reason)
        raise
    except Exception as exc:
        _record_failure(
            db,
            run_id,
            format,
            parsed.dataset,
            names,
            started,
            actor,
            f"{type(exc).__name__}: {exc}",
        )
        raise
    return result


def _listed(db: sqlite_utils.Database, dataset: str) -> int:
    row = db.conn.execute(
        "SELECT COUNT(*) FROM records WHERE dataset = ? AND removed_at IS NULL "
        "AND deleted_at IS NULL",
        (dataset,),
    ).fetchone()
    return int(row[0])


def _loaded_publication(db: sqlite_utils.Database, dataset: str) -> tuple[str, str] | None:
    """(publication date, run id) of the newest publication of the dataset loaded."""
    row = db.conn.execute(
        "SELECT published, id FROM import_runs WHERE dataset = ? AND status = 'finished' "
        "AND published IS NOT NULL ORDER BY published DESC, finished_at DESC LIMIT 1",
        (dataset,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _files_text(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _too_few(parsed: ParsedList, names: Sequence[str], floor: int) -> ImportRefused:
    reason = (
        f"{_files_text(names)} holds {len(parsed.records):,} {parsed.dataset} records; a "
        f"complete file of this list holds at least {floor:,}: a truncated or partial file? "
        "Nothing was written."
    )
    return ImportRefused([Problem(reason, field="files", location="file")], [reason])


def _check_guards(
    dataset: str,
    names: Sequence[str],
    published: str | None,
    loaded: tuple[str, str] | None,
    listed_before: int,
    counts: Counts,
    guards: Guards,
) -> None:
    effect = (
        f"{counts.removed:,} of the {listed_before:,} entries listed now delisted, "
        f"{counts.added:,} added and {counts.changed:,} changed"
    )
    problems, reasons = [], []
    if not guards.allow_older and published and loaded and published < loaded[0]:
        reason = (
            f"{_files_text(names)} is the {dataset} list published {published}, older than "
            f"the one loaded (published {loaded[0]}, import {loaded[1]}). Importing it would "
            f"roll the list back: {effect}. Nothing was written; to import it anyway, say "
            "allow older (--allow-older, form field allow_older=true)."
        )
        problems.append(Problem(reason, field="allow_older"))
        reasons.append(reason)
    share = counts.removed / listed_before if listed_before else 0.0
    mass = share > MAX_DELISTING_SHARE and counts.removed >= MIN_MASS_DELISTING
    if not guards.allow_mass_delisting and mass:
        reason = (
            f"Importing {_files_text(names)} would delist {counts.removed:,} of the "
            f"{listed_before:,} entries of {dataset} listed now ({share:.0%}; a run may delist "
            f"at most {MAX_DELISTING_SHARE:.0%}): {effect}. A partial or wrong file? Nothing "
            "was written; if the list really dropped them, say allow mass delisting "
            "(--allow-mass-delisting, form field allow_mass_delisting=true)."
        )
        problems.append(Problem(reason, field="allow_mass_delisting"))
        reasons.append(reason)
    if problems:
        raise ImportRefused(problems, reasons)


def _file_entries(parsed: ParsedList, names: Sequence[str]) -> list[dict[str, Any]]:
    entries = []
    for name, source in zip(names, parsed.sources, strict=False):
        entries.append(
            {
                "name": name,
                "source": source["id"],
                "checksum": source.get("checksum"),
                "size": source.get("size"),
            }
        )
    return entries


def _absence_evidence(parsed: ParsedList, names: Sequence[str], now: str) -> dict[str, Any]:
    listed_on = parsed.snapshot_date or f"imported {now[:10]}"
    return {
        "source": parsed.sources[0]["id"],
        "locator": ", ".join(names),
        "note": f"No longer in the list ({listed_on}): absent from {', '.join(names)}.",
    }


def _insert_run(
    db: sqlite_utils.Database, result: ImportResult, actor: str, error: str | None = None
) -> None:
    counts = {**result.counts.as_dict(), "sources": result.sources.as_dict(), "stats": result.stats}
    db.conn.execute(
        "INSERT INTO import_runs (id, format, dataset, files, started_at, finished_at, status, "
        "counts, warnings, actor, published) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            result.run_id,
            result.format,
            result.dataset,
            json.dumps(result.files),
            result.started_at,
            result.finished_at,
            result.status,
            json.dumps(counts if error is None else {"error": error}),
            json.dumps(result.warnings),
            actor,
            result.published,
        ),
    )


def _record_failure(
    db: sqlite_utils.Database,
    run_id: str,
    format: str,
    dataset: str,
    names: Sequence[str],
    started: str,
    actor: str,
    error: str,
) -> None:
    result = ImportResult(
        run_id=run_id,
        format=format,
        dataset=dataset or "-",
        status="failed",
        started_at=started,
        finished_at=utcnow(),
        files=[{"name": n} for n in names],
        counts=Counts(),
    )
    with immediate(db):
        _insert_run(db, result, actor, error=error)


# -- reading runs and their changes ---------------------------------------------------


def run_row(row: Mapping[str, Any]) -> dict[str, Any]:
    counts = json.loads(row["counts"]) if row["counts"] else {}
    warnings = json.loads(row["warnings"]) if row["warnings"] else []
    return {
        "id": row["id"],
        "format": row["format"],
        "dataset": row["dataset"],
        "status": row["status"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "actor": row["actor"],
        "files": json.loads(row["files"]),
        "counts": {
            k: counts[k] for k in ("added", "changed", "removed", "unchanged") if k in counts
        },
        "sources": counts.get("sources"),
        "stats": counts.get("stats"),
        "error": counts.get("error"),
        "published": row.get("published"),
        "warnings_count": len(warnings),
        "warnings": warnings[:100],
    }


CHANGE_KINDS = {
    "added": ("added", "relisted", "restored"),
    "changed": ("changed",),
    "removed": ("removed", "deleted"),
}


@in_view
def list_runs(db: sqlite_utils.Database, args: Mapping[str, Any]) -> Page:
    where = Where()
    for key in ("dataset", "format", "status"):
        where.when(args.get(key), f"{key} = ?")
    rows, total, next_cursor = page_rows(
        db,
        select="id AS _key, *",
        table="import_runs",
        key="id",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
        descending=True,
    )
    return Page([run_row(r) for r in rows], total, next_cursor)


@in_view
def get_run(db: sqlite_utils.Database, run_id: str) -> dict[str, Any] | None:
    cur = db.conn.execute("SELECT * FROM import_runs WHERE id = ?", (run_id,))
    cols = [c[0] for c in cur.description]
    row = cur.fetchone()
    return run_row(dict(zip(cols, row, strict=True))) if row else None


@in_view
def list_changes(db: sqlite_utils.Database, run_id: str, args: Mapping[str, Any]) -> Page:
    """What one import run changed, record by record, with field-level diffs."""
    where = Where("object_type = 'record'")
    where.add("run_id = ?", run_id)
    if args.get("change"):
        kinds = CHANGE_KINDS[args["change"]]
        where.add(f"change IN ({','.join('?' * len(kinds))})", *kinds)
    rows, total, next_cursor = page_rows(
        db,
        select="printf('%012d', id) AS _key, object_type, object_id, entity_id, dataset, "
        "version, change, at, actor, run_id, doc",
        table="history",
        key="printf('%012d', id)",
        where=where,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    items = []
    for row in rows:
        item = history.entry(db, row)
        item["entity_id"] = row["entity_id"]
        item["name"] = (item["after"] or item["before"] or {}).get("name")
        items.append(item)
    return Page(items, total, next_cursor)


def runs_by_source(db: sqlite_utils.Database, source_ids: Sequence[str]) -> dict[str, list[dict]]:
    """The finished import runs that read each source (an official list file),
    oldest first: the first is the run that brought the file in."""
    wanted = sorted(set(source_ids))
    out: dict[str, list[dict]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.conn.execute(
            "SELECT json_extract(f.value, '$.source'), json_extract(f.value, '$.name'), "
            "r.id, r.format, r.dataset, r.started_at, r.finished_at FROM import_runs r, "
            f"json_each(r.files) f WHERE json_extract(f.value, '$.source') IN ({marks}) "
            "AND r.status = 'finished' ORDER BY r.started_at, r.id",
            chunk,
        ):
            out.setdefault(row[0], []).append(
                {
                    "file": row[1],
                    "id": row[2],
                    "format": row[3],
                    "dataset": row[4],
                    "started_at": row[5],
                    "finished_at": row[6],
                }
            )
    return out
