"""The `registry` command: load fixtures, serve the API."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from schemas.api import IMPORT_FORMATS

from .config import Settings
from .db import open_registry
from .loader import LoadReport, load_paths
from .problems import InputError


@contextlib.contextmanager
def _registry(db_path: str | None) -> Iterator[sqlite_utils.Database]:
    settings = _settings(db_path)
    db = open_registry(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        yield db
    finally:
        db.close()


def _settings(db: str | None) -> Settings:
    settings = Settings.from_env()
    if db:
        settings = Settings(**{**settings.__dict__, "db_path": Path(db)})
    return settings


db_option = click.option(
    "--db",
    "db_path",
    envvar="REGISTRY_DB",
    default=None,
    help="SQLite file of the registry [env REGISTRY_DB; default data/registry.db].",
)


@click.group()
def main() -> None:
    """Sanctions registry and screening service."""


def _print_report(report: LoadReport) -> None:
    for file in report.files:
        parts = []
        for label, counts in (
            ("sources", file.sources),
            ("actions", file.actions),
            ("entities", file.entities),
        ):
            total = counts.added + counts.changed + counts.removed + counts.unchanged
            if total:
                parts.append(f"{label} +{counts.added} ~{counts.changed} ={counts.unchanged}")
        click.echo(f"{file.file} [{file.dataset}]: {', '.join(parts) or 'empty'}", err=True)
    totals = report.totals
    verdict = (
        "dry run, nothing written"
        if report.dry_run
        else ("loaded" if report.changed else "nothing changed")
    )
    click.echo(
        f"added={totals.added} changed={totals.changed} removed={totals.removed} "
        f"unchanged={totals.unchanged} ({verdict})"
    )


def _load(db_path: str | None, paths: tuple[str, ...], dry_run: bool) -> LoadReport:
    with _registry(db_path) as db:
        try:
            return load_paths(db, paths, actor="load", dry_run=dry_run)
        except InputError as exc:
            click.echo(f"Nothing was written: {len(exc.problems)} problem(s).", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
@db_option
def load(paths: tuple[str, ...], dry_run: bool, db_path: str | None) -> None:
    """Load fixture files or folders, all or nothing; loading again changes nothing."""
    _print_report(_load(db_path, paths, dry_run))


@main.command(name="screen")
@click.argument("names_csv", type=click.File("r", encoding="utf-8-sig"))
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="A score at or above it is a match [default: the service's].",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=None,
    help="Also list candidates down to this score.",
)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--jurisdiction", default=None)
@click.option("--authority", default=None)
@click.option("--program", default=None)
@click.option("--include-delisted", is_flag=True)
@click.option("--hide-false-positives", is_flag=True)
@click.option("--as-of", default=None, help="Screen as the registry stood then.")
@db_option
def screen_cmd(names_csv: Any, db_path: str | None, **options: Any) -> None:
    """Screen a CSV of names (column name; optional id, type, country, dob,
    nationality, id_number).

    Writes CSV to stdout, one row per name and match with a one-sentence
    explanation; progress on stderr.
    """
    import csv

    from marshmallow import ValidationError

    from schemas.api import ScreenOptionsArgs

    from .api.screen import CSV_COLUMNS, csv_rows
    from .screening import QUERY_FIELDS, IndexCache, ScreenOptions, screen

    try:
        args = ScreenOptionsArgs().load(
            {k: v for k, v in options.items() if v not in (None, False)}
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc.messages)) from None
    reader = csv.DictReader(names_csv)
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    if "name" not in reader.fieldnames:
        raise click.UsageError("The CSV header needs a 'name' column.")
    rows = [
        {k: (v or "").strip() or None for k, v in row.items() if k in QUERY_FIELDS}
        for row in reader
    ]
    opts = ScreenOptions(**{k: v for k, v in args.items()})
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    cache = IndexCache()
    with _registry(db_path) as db:
        started = time.monotonic()
        cache.get(db, opts.as_of)
        click.echo(f"index ready in {time.monotonic() - started:.1f}s", err=True)
        with click.progressbar(length=len(rows), label="screening", file=sys.stderr) as bar:
            for start in range(0, len(rows), 200):
                chunk = rows[start : start + 200]
                results = screen(db, cache, chunk, opts)
                for result in results:
                    result["index"] += start
                writer.writerows(csv_rows(results))
                bar.update(len(chunk))


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option("--scope", required=True, type=click.Choice(["read", "write", "admin"]))
@db_option
def keys_create(name: str, scope: str, db_path: str | None) -> None:
    """Create a key and print it once; only its hash is stored."""
    from .keys import create_key

    with _registry(db_path) as db:
        key, secret = create_key(db, name, scope, created_by="cli")
    click.echo(
        f"Created key {key.id} ({key.scope}) for {key.name}. It is shown only now:", err=True
    )
    click.echo(secret)


@keys.command("list")
@db_option
def keys_list(db_path: str | None) -> None:
    """Every key with its scope and state (never the secret)."""
    from .keys import list_keys

    with _registry(db_path) as db:
        rows = list_keys(db)
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(f"{row['id']}  {row['scope']:<5}  {state:<36}  {row['name']}")


@keys.command("revoke")
@click.argument("key_id")
@db_option
def keys_revoke(key_id: str, db_path: str | None) -> None:
    """Revoke a key by its id."""
    from .keys import revoke_key

    with _registry(db_path) as db:
        done = revoke_key(db, key_id)
    if not done:
        click.echo(f"No active key {key_id}.", err=True)
        sys.exit(1)
    click.echo(f"Revoked {key_id}.")


class _Progress:
    """Progress of a long import on stderr: a live line on a terminal, a line
    every few seconds in a log."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.phase = ""
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if phase != self.phase:
            if self.phase and self.tty:
                click.echo("", err=True)
            self.phase, self.last = phase, 0.0
        finished = total is not None and done >= total
        if not finished and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        share = f" ({100 * done // total}%)" if total else ""
        text = f"{phase}: {done:,}{f'/{total:,}' if total else ''} rows{share}"
        text += f" {now - self.started:.1f}s"
        if self.tty:
            click.echo(f"\r{text}", err=True, nl=finished)
        else:
            click.echo(text, err=True)


@main.command(name="import")
@click.option(
    "--format",
    "format_",
    required=True,
    type=click.Choice(IMPORT_FORMATS),
    help="The layout of the files.",
)
@click.option("--strict", is_flag=True, help="A malformed row fails the import.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
def import_(format_: str, strict: bool, paths: tuple[str, ...], db_path: str | None) -> None:
    """Import official list files as one snapshot of their list, all or nothing.

    The last line reads added=N changed=N removed=N unchanged=N; removed entries
    are delistings, kept in the registry with their history.
    """
    from .imports import run_import

    with _registry(db_path) as db:
        try:
            result = run_import(
                db,
                format_,
                [Path(p) for p in paths],
                actor="cli",
                strict=strict,
                progress=_Progress(),
            )
        except InputError as exc:
            click.echo("Nothing was written:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
    for warning in result.warnings[:20]:
        click.echo(f"warning: {warning['file']}:{warning['line']}: {warning['message']}", err=True)
    if len(result.warnings) > 20:
        click.echo(f"... and {len(result.warnings) - 20} more warnings", err=True)
    elapsed = _seconds(result.started_at, result.finished_at)
    click.echo(
        f"run {result.run_id}: {result.format} -> dataset {result.dataset}, "
        f"{sum(result.counts.as_dict().values()):,} records in {elapsed:.1f}s, "
        f"{len(result.warnings)} warnings",
        err=True,
    )
    click.echo(result.summary_line())


def _seconds(start: str, end: str) -> float:
    from datetime import datetime

    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--load",
    "load_paths_",
    multiple=True,
    type=click.Path(exists=True),
    help="Fixture files or folders to load first (idempotent). Repeatable.",
)
@db_option
def serve(
    host: str, port: int, threads: int, load_paths_: tuple[str, ...], db_path: str | None
) -> None:
    """Serve the HTTP API with a production WSGI server (waitress, hardened: see
    registry/server.py)."""
    from .api.gate import make_gate
    from .api.screen import index_cache
    from .app import create_app
    from .server import DoorSettings
    from .server import serve as serve_app

    settings = _settings(db_path)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if load_paths_:
        _print_report(_load(db_path, load_paths_, dry_run=False))
    app = create_app(settings)
    index_cache(app).warm(settings.db_path, settings.busy_timeout_ms)
    click.echo(
        f"Serving {settings.db_path} on http://{host}:{port} (pages at /, API docs at /docs, "
        "OpenAPI at /openapi.json)",
        err=True,
    )
    door = DoorSettings(
        header_timeout=settings.header_timeout_s,
        idle_timeout=settings.idle_timeout_s,
        connection_limit=settings.max_connections,
        max_body_bytes=max(settings.max_body_bytes, settings.max_import_bytes),
    )
    serve_app(
        app, gate=make_gate(app), door=door, host=host, port=port, threads=threads, ident="registry"
    )


if __name__ == "__main__":
    main()
