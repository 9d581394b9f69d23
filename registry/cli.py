"""The `registry` command: load fixtures, serve the API."""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlite_utils

from schemas.api import IMPORT_FORMATS

from .cli_options import db_option, screening_options
from .config import Settings
from .db import open_registry
from .problems import InputError

if TYPE_CHECKING:  # (the loader imports every list's parser: only `load` needs it)
    from .loader import LoadReport


@contextlib.contextmanager
def _registry(
    db_path: str | None, *, create: bool = False, make_folder: bool = False
) -> Iterator[sqlite_utils.Database]:
    """The registry the command works on. Commands that read need an existing one; those
    that fill it (`create`) start a new one in an existing folder; only `init` and `serve
    --load` (`make_folder`) create the folder too."""
    settings = _settings(db_path)
    path = _require_registry(settings.db_path, create=create, make_folder=make_folder)
    try:
        db = open_registry(path, busy_timeout_ms=settings.busy_timeout_ms)
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(
            f"{path} is not a registry: SQLite cannot open it as a database ({exc})."
        ) from None
    try:
        yield db
    finally:
        db.close()


def _require_registry(path: Path, *, create: bool, make_folder: bool = False) -> Path:
    if path.is_file():
        return path
    if path.exists():
        raise click.ClickException(f"{path} is not a registry file (a folder?).")
    where = f" --db {path}" if str(path) != str(Settings().db_path) else ""
    if not create:
        raise click.ClickException(
            f"No registry at {path}. Create one with `registry init{where}` and fill it "
            "(registry load / import / refresh), or point --db (or REGISTRY_DB) at your "
            "registry."
        )
    if not path.parent.is_dir():
        if not make_folder:
            raise click.ClickException(
                f"No folder {path.parent} for the registry {path}: check the path, or create "
                f"the registry with `registry init{where}`."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"Creating a new registry at {path}", err=True)
    return path


def _settings(db: str | None) -> Settings:
    settings = Settings.from_env()
    if db:
        settings = Settings(**{**settings.__dict__, "db_path": Path(db)})
    return settings


def _screen_args(options: dict[str, Any]) -> dict[str, Any]:
    """The screening options given on the command line, validated as /screen's."""
    from marshmallow import ValidationError

    from schemas.api import ScreenOptionsArgs

    try:
        args: dict[str, Any] = ScreenOptionsArgs().load(
            {k: v for k, v in options.items() if v not in (None, False)}
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc.messages)) from None
    return args


def _require_entities(db_path: str | None, consequence: str) -> None:
    """Refuse to screen against an empty registry (a silent 'no match' for all)."""
    with _registry(db_path) as db:
        entities = db.conn.execute(
            "SELECT COUNT(*) FROM entities WHERE status != 'deleted'"
        ).fetchone()[0]
    if not entities:
        raise click.ClickException(
            f"The registry at {_settings(db_path).db_path} holds no entities: {consequence}. "
            "Fill it first (registry load / import / refresh)."
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


def _load(
    db_path: str | None, paths: tuple[str, ...], dry_run: bool, make_folder: bool = False
) -> LoadReport:
    from .loader import load_paths

    registry: contextlib.AbstractContextManager[sqlite_utils.Database]
    if dry_run and not _settings(db_path).db_path.exists():
        # Checked against an empty registry in memory: a dry run creates no file.
        registry = contextlib.closing(open_registry(":memory:"))
    else:
        registry = _registry(db_path, create=True, make_folder=make_folder)
    with registry as db:
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


@main.command()
@db_option
def init(db_path: str | None) -> None:
    """Create an empty registry (and its folder); a registry there already is left as is."""
    settings = _settings(db_path)
    if settings.db_path.is_file():
        with _registry(db_path) as db:
            entities = db.conn.execute("SELECT COUNT(*) FROM entities").fetchone()[0]
        click.echo(f"{settings.db_path} is a registry already ({entities:,} entities).")
        return
    with _registry(db_path, create=True, make_folder=True):
        pass
    click.echo(f"Created an empty registry at {settings.db_path}")


@main.command(name="screen")
@click.argument("names_csv", type=click.File("rb"))
@screening_options
@click.option("--as-of", default=None, help="Screen as the registry stood then.")
@db_option
def screen_cmd(names_csv: Any, db_path: str | None, **options: Any) -> None:
    """Screen a CSV of names (column name; optional id, type, country, dob,
    nationality, id_number).

    Writes CSV to stdout, one row per name and match with a one-sentence
    explanation; progress on stderr.
    """
    import csv
    import io

    from .screen_csv import CSV_COLUMNS, csv_rows
    from .screening import QUERY_FIELDS, IndexCache, ScreenOptions, screen

    args = _screen_args(options)
    _require_entities(db_path, "every name would come back as no match")
    raw = names_csv.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{names_csv.name}: Send CSV as UTF-8: byte {exc.start} is not UTF-8 text (in a "
            'spreadsheet, save as "CSV UTF-8").'
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
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
    settings = _settings(db_path)
    # Waits for the index (no 503 here); a write meanwhile is patched in as by the service.
    # The index comes from its snapshot next to the database when that is current
    # (and is saved there after a build, for the next run).
    cache = IndexCache(
        settings.db_path,
        busy_timeout_ms=settings.busy_timeout_ms,
        wait=24 * 3600,
        snapshot=settings.snapshot_path,
    )
    audit = _audit_log(settings)
    with _registry(db_path) as db:
        started = time.monotonic()
        cache.view(db, opts.as_of)
        click.echo(f"index ready in {time.monotonic() - started:.1f}s", err=True)
        try:
            with click.progressbar(length=len(rows), label="screening", file=sys.stderr) as bar:
                for start in range(0, len(rows), 200):
                    chunk = rows[start : start + 200]
                    results = screen(db, cache, chunk, opts)
                    for result in results:
                        result["index"] += start
                    writer.writerows(csv_rows(results))
                    bar.update(len(chunk))
                    # Each chunk in the audit trail (registry.monitoring.audit).
                    audit.record(
                        kind="cli screen",
                        actor="cli",
                        queries=chunk,
                        params={k: v for k, v in args.items() if v is not None},
                        data_version=cache.view(db, opts.as_of).version,
                        datasets=[],
                        results=results,
                        answer=results,
                    )
        finally:
            cache.close()
            audit.close()


def _audit_log(settings: Settings) -> Any:
    from .monitoring.audit import AuditLog

    return AuditLog(
        settings.audit_file,
        minimise=settings.audit_minimise,
        retention_s=settings.audit_retention,
        flush_ms=settings.audit_flush_ms,
    )


def _add_books() -> None:
    from .monitoring.cli import books

    main.add_command(books)


_add_books()


@main.command(name="screen-book")
@click.argument("book", type=click.Path(exists=True, path_type=Path))
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="A Dask scheduler (tcp://host:8786); the registry and its index are shipped to "
    "its workers. Default: a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes of the local cluster [default: one per core].",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["parquet", "csv"]),
    default=None,
    help="Of the answer files [default: the book's].",
)
@click.option(
    "--partition-size",
    default="2MB",
    show_default=True,
    help="Bytes of a CSV book per partition (a Parquet book keeps its row groups).",
)
@screening_options
@db_option
def screen_book_cmd(
    book: Path,
    output: Path,
    scheduler: str | None,
    workers: int | None,
    out_format: str | None,
    partition_size: str,
    db_path: str | None,
    **options: Any,
) -> None:
    """Screen a whole book (CSV or Parquet: column name; optional id, type, country,
    dob, nationality, id_number) on Dask into OUTPUT, one answer file per partition
    (the columns of `registry screen`). A rerun skips the partitions already done.
    """
    from .screening import ScreenOptions

    try:
        from .book import screen_book
    except ImportError as exc:  # pragma: no cover (the dev install has it)
        raise click.ClickException(
            f"screen-book needs Dask ({exc.name} is missing): pip install "
            "'sanctions-registry[book]'"
        ) from None
    args = _screen_args(options)
    settings = _settings(db_path)
    _require_entities(db_path, "every row would come back as no match")
    last = [0.0]

    def progress(done: int, parts: int, names_done: int, names: int) -> None:
        now = time.monotonic()
        if done == parts or now - last[0] >= 1.0:
            last[0] = now
            click.echo(
                f"partitions {done}/{parts}, names {names_done:,}/{names:,} "
                f"({100 * names_done // max(names, 1)}%)",
                err=True,
            )

    from .index_snapshot import snapshot_path

    try:
        report = screen_book(
            book,
            output,
            db_path=settings.db_path,
            snapshot=settings.snapshot_path or snapshot_path(settings.db_path),
            options=ScreenOptions(**dict(args)),
            scheduler=scheduler,
            workers=workers,
            out_format=out_format,
            blocksize=partition_size,
            progress=progress,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"screened={report.screened} skipped_partitions={report.skipped} "
        f"partitions={report.partitions} names={report.names} seconds={report.seconds:.1f} "
        f"names_per_s={report.names_per_s:.0f} output={report.output}"
    )


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
@click.option(
    "--allow-older",
    is_flag=True,
    help="Import a publication older than the one loaded (rolls the list back).",
)
@click.option(
    "--allow-mass-delisting",
    is_flag=True,
    help="Let the run delist more than 10% of the dataset's listed entries.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
def import_(
    format_: str,
    strict: bool,
    allow_older: bool,
    allow_mass_delisting: bool,
    paths: tuple[str, ...],
    db_path: str | None,
) -> None:
    """Import official list files as one snapshot of their list, all or nothing.

    The last line reads added=N changed=N removed=N unchanged=N; removed entries
    are delistings, kept in the registry with their history. An older publication
    than the one loaded, or a run that would delist more than 10% of the list, is
    refused (nothing written) unless --allow-older / --allow-mass-delisting.
    """
    from .imports import Guards, ImportRefused, run_import

    with _registry(db_path, create=True) as db:
        try:
            result = run_import(
                db,
                format_,
                [Path(p) for p in paths],
                actor="cli",
                strict=strict,
                progress=_Progress(),
                guards=Guards(allow_older=allow_older, allow_mass_delisting=allow_mass_delisting),
            )
        except ImportRefused as exc:
            for reason in exc.reasons:
                click.echo(f"Refused: {reason}", err=True)
            sys.exit(1)
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
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes serving (one core each at most); with more than one, the screening "
    "index is loaded before they start and shared by them.",
)
@click.option(
    "--load",
    "load_paths_",
    multiple=True,
    type=click.Path(exists=True),
    help="Fixture files or folders to load first (idempotent; creates the registry). Repeatable.",
)
@click.option(
    "--refresh-every",
    default=None,
    metavar="DURATION",
    help="Refresh the official lists in the background: at start-up, then this long after "
    "each run ends (e.g. 6h, 30m).",
)
@click.option(
    "--sources",
    "sources_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Catalogue of list sources (JSON, as `registry sources` prints) [env REGISTRY_SOURCES].",
)
@db_option
def serve(
    host: str,
    port: int,
    threads: int,
    workers: int,
    load_paths_: tuple[str, ...],
    refresh_every: str | None,
    sources_file: str | None,
    db_path: str | None,
) -> None:
    """Serve the HTTP API with a production WSGI server (waitress, hardened: see
    registry/server.py)."""
    import dataclasses

    from .api.common import pool_connections
    from .api.gate import make_gate
    from .api.screen import index_cache
    from .app import create_app
    from .config import parse_duration
    from .screen_index import GC_MIDDLE, GC_YOUNG
    from .server import DoorSettings
    from .server import serve as serve_app

    settings = _settings(db_path)
    if sources_file:
        settings = dataclasses.replace(settings, sources_file=Path(sources_file))
    every = None
    if refresh_every:
        try:
            every = parse_duration(refresh_every)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--refresh-every") from None
    if settings.sources_file:
        _catalogue(settings.sources_file)  # a bad file stops the start, not a later refresh
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if load_paths_:
        _print_report(_load(db_path, load_paths_, dry_run=False, make_folder=True))
    else:
        _require_registry(settings.db_path, create=False)
    app = create_app(settings)
    pool_connections(app)
    # Fewer young collections: a screening request makes sets of thousands of ids,
    # and at the default threshold (700) the collector walked them again and again:
    # a tenth of the service's time in 500 pauses per 20,000 requests. Not too few
    # either: each one stops every thread (`keep_gc_short`, screen_index.GcKeeper).
    gc.set_threshold(GC_YOUNG, GC_MIDDLE, 10)
    door = DoorSettings(
        header_timeout=settings.header_timeout_s,
        idle_timeout=settings.idle_timeout_s,
        connection_limit=settings.max_connections,
        max_body_bytes=max(settings.max_body_bytes, settings.max_import_bytes),
    )

    def start_background(cache: Any, first: bool) -> None:
        """The monitor (delta screening of books, webhooks) and the scheduled refresh
        run in one process only (`first`); every process writes its audit entries
        and flushes them at SIGTERM."""
        from .api.books import monitor
        from .monitoring.service import handle_sigterm

        handle_sigterm()
        atexit.register(monitor(app).stop)
        if not first:
            return
        monitor(app).start()
        if every:
            start_refresh(cache)

    def start_refresh(cache: Any) -> None:
        from .refresh import Scheduler
        from .sources import catalogue

        def rebuild(outcomes: list[Any]) -> None:
            if any(o.status == "updated" for o in outcomes):
                cache.changed()  # caught up in the background (a new base if large)

        assert every is not None
        Scheduler(
            settings.db_path,
            lambda: catalogue(settings.sources_file),
            every,
            busy_timeout_ms=settings.busy_timeout_ms,
            after=rebuild,
        ).start()

    where = (
        f"{settings.db_path} on http://{host}:{port} (pages at /, API docs at /docs, "
        "OpenAPI at /openapi.json)"
    )
    if workers > 1:
        if every:
            click.echo(f"Refreshing the official lists every {refresh_every} (worker 0)", err=True)
        _serve_workers(app, settings, door, host, port, threads, workers, start_background, where)
        return
    cache = index_cache(app)
    # Built in the background: /healthz answers at once, /readyz once screening can.
    cache.start()
    cache.keep_gc_short()
    start_background(cache, True)
    if every:
        click.echo(f"Refreshing the official lists every {refresh_every}", err=True)
    click.echo(f"Serving {where}", err=True)
    serve_app(
        app, gate=make_gate(app), door=door, host=host, port=port, threads=threads, ident="registry"
    )


def _serve_workers(
    app: Any,
    settings: Settings,
    door: Any,
    host: str,
    port: int,
    threads: int,
    workers: int,
    start_background: Any,
    where: str,
) -> None:
    """`serve --workers N`: the index loaded (or built) once, then N forked
    processes over one socket (registry/workers.py)."""
    from .api.gate import make_gate
    from .api.screen import index_cache
    from .screen_index import IndexCache
    from .server import serve as serve_app
    from .workers import Supervisor, bind, freeze

    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    started = time.monotonic()
    click.echo(
        f"Loading the screening index for {workers} workers "
        f"({'from its snapshot, or ' if settings.snapshot_path else ''}built from the registry)",
        err=True,
    )
    # Loaded (or built and saved) here, before the fork: the workers share its
    # memory. The cache's threads end with close(): nothing runs across the fork.
    preload = IndexCache(
        settings.db_path,
        busy_timeout_ms=settings.busy_timeout_ms,
        wait=24 * 3600,
        settle=False,
        snapshot=settings.snapshot_path,
    )
    try:
        base = preload.wait_ready().base.built
        source = (preload.state().get("last_build") or {}).get("source", "built")
    finally:
        preload.close()
    del preload
    # A snapshot's names are read when first needed (NameIndex.thaw): read them all
    # here, once, so that the workers share them rather than each reading its own.
    base.index.thaw()
    click.echo(
        f"Screening index ready ({source}: {base.names:,} names, data version "
        f"{base.version}) in {time.monotonic() - started:.1f}s",
        err=True,
    )
    freeze()

    def run(slot: int) -> None:
        cache = index_cache(app)
        cache.seed(base)
        cache.start()
        cache.keep_gc_short()
        start_background(cache, slot == 0)  # the monitor and the refresh: in one worker
        serve_app(
            app,
            gate=make_gate(app),
            door=door,
            sock=sock,
            threads=threads,
            ident="registry",
        )

    click.echo(f"Serving {where} with {workers} worker processes", err=True)
    sys.exit(Supervisor(workers, run).serve_forever())


def _catalogue(sources_file: str | Path | None) -> list[Any]:
    from .sources import catalogue

    try:
        return catalogue(sources_file)
    except InputError as exc:
        raise click.ClickException(
            "The sources file cannot be used:\n" + "\n".join(f"  {p}" for p in exc.problems)
        ) from None


@main.command()
@click.option(
    "--sources",
    "sources_file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="REGISTRY_SOURCES",
    default=None,
    help="Print this catalogue (checked) instead of the built-in one.",
)
def sources(sources_file: str | None) -> None:
    """Print the catalogue of list sources as JSON: dataset, format, the publisher's URLs
    and what a sane file looks like. `registry refresh --sources FILE` takes this shape."""
    import json

    from .sources import catalogue_json

    click.echo(json.dumps(catalogue_json(_catalogue(sources_file)), indent=2))


class _DownloadBar:
    """A download's progress on stderr: a live bar on a terminal, a line every few
    seconds in a log."""

    def __init__(self, dataset: str, name: str) -> None:
        self.label = f"{dataset}: {name}"
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.done = False

    def __call__(self, size: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and size >= total
        if self.done or (not finished and now - self.last < (0.2 if self.tty else 5.0)):
            return
        self.last = now
        if total:
            filled = int(30 * size / total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {100 * size // total:3d}% "
            text = f"{self.label} {bar}{size / 1e6:,.1f}/{total / 1e6:,.1f} MB"
        else:
            text = f"{self.label} {size / 1e6:,.1f} MB"
        if finished:
            self.done = True
        if self.tty:
            click.echo(f"\r{text}", err=True, nl=finished)
        else:
            click.echo(text, err=True)


@main.command(name="refresh")
@click.argument("datasets", nargs=-1)
@click.option(
    "--sources",
    "sources_file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="REGISTRY_SOURCES",
    default=None,
    help="Catalogue of list sources (JSON, as `registry sources` prints) [env "
    "REGISTRY_SOURCES; default: the publishers].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to connect, and between two reads.",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0.1),
    default=900.0,
    show_default=True,
    help="Seconds for one whole file.",
)
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry; doubles each time (Retry-After wins).",
)
@db_option
def refresh_cmd(
    datasets: tuple[str, ...],
    sources_file: str | None,
    timeout: float,
    deadline: float,
    retries: int,
    backoff: float,
    db_path: str | None,
) -> None:
    """Download the official lists from their publishers and import those that changed.

    DATASET names lists of the catalogue (default: every list with a URL). A list whose
    download or import fails keeps the data it had; the run records why. The last line
    reads updated=N unchanged=N failed=N; the exit status is 1 when any failed.
    """
    from .download import Policy
    from .refresh import RefreshBusy, refresh, summary

    catalogue = _catalogue(sources_file)
    by_name = {d.name: d for d in catalogue}
    unknown = [name for name in datasets if name not in by_name]
    if unknown:
        raise click.UsageError(
            f"Unknown dataset(s) {', '.join(unknown)}; the catalogue holds {', '.join(by_name)}."
        )
    chosen = [by_name[n] for n in datasets] if datasets else [d for d in catalogue if d.urls]
    for dataset in chosen:
        if not dataset.urls:
            carrier = dataset.included_in
            raise click.UsageError(
                f"{dataset.name} has no file of its own"
                + (f": refresh {carrier}, which carries it." if carrier else ".")
            )
    settings = _settings(db_path)
    with _registry(db_path, create=True):
        pass
    try:
        outcomes = refresh(
            settings.db_path,
            chosen,
            policy=Policy(timeout=timeout, deadline=deadline, retries=retries, backoff=backoff),
            actor="cli",
            busy_timeout_ms=settings.busy_timeout_ms,
            file_progress=_DownloadBar,
            import_progress=lambda _: _Progress(),
            report=lambda outcome: click.echo(outcome.describe(), err=True),
            notice=lambda message: click.echo(message, err=True),
        )
    except RefreshBusy as exc:
        raise click.ClickException(f"{exc}; try again when it has finished.") from None
    click.echo(summary(outcomes))
    if any(o.status == "failed" for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
