"""The `registry` command: load fixtures, serve the API."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from schemas.api import IMPORT_FORMATS

from .config import Settings
from .db import open_registry
from .loader import LoadReport, load_paths
from .problems import InputError


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


def _load(settings: Settings, paths: tuple[str, ...], dry_run: bool) -> LoadReport:
    db = open_registry(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        return load_paths(db, paths, actor="load", dry_run=dry_run)
    except InputError as exc:
        click.echo(f"Nothing was written: {len(exc.problems)} problem(s).", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    finally:
        db.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
@db_option
def load(paths: tuple[str, ...], dry_run: bool, db_path: str | None) -> None:
    """Load fixture files or folders, all or nothing; loading again changes nothing."""
    _print_report(_load(_settings(db_path), paths, dry_run))


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

    settings = _settings(db_path)
    db = open_registry(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        result = run_import(
            db, format_, [Path(p) for p in paths], actor="cli", strict=strict, progress=_Progress()
        )
    except InputError as exc:
        click.echo("Nothing was written:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    finally:
        db.close()
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
    """Serve the HTTP API with a production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    from .app import create_app

    settings = _settings(db_path)
    if load_paths_:
        _print_report(_load(settings, load_paths_, dry_run=False))
    app = create_app(settings)
    click.echo(
        f"Serving {settings.db_path} on http://{host}:{port} (OpenAPI at /openapi.json)", err=True
    )
    waitress_serve(app, host=host, port=port, threads=threads, ident="registry")


if __name__ == "__main__":
    main()
