"""`registry books ...`: books from the command line (the same functions as the API)."""

from __future__ import annotations

import csv
import io
import sys
import time
from typing import Any

import click

from ..cli_options import db_option
from ..problems import InputError


def _registry(db_path: str | None) -> Any:
    from ..cli import _registry as open_registry_cm

    return open_registry_cm(db_path)


def _settings(db_path: str | None) -> Any:
    from ..cli import _settings as settings_of

    return settings_of(db_path)


def _fail(exc: InputError) -> click.ClickException:
    return click.ClickException("\n".join(f"  {p}" for p in exc.problems))


@click.group()
def books() -> None:
    """Books of customer records, re-screened whenever a list changes."""


@books.command("create")
@click.argument("name")
@db_option
def books_create(name: str, db_path: str | None) -> None:
    """Create a book; prints its id."""
    from . import books as book_store

    with _registry(db_path) as db:
        book = book_store.create_book(db, name, "cli")
    click.echo(book["id"])


@books.command("list")
@db_option
def books_list(db_path: str | None) -> None:
    """Every book: id, records, open alerts, name."""
    from . import books as book_store

    with _registry(db_path) as db:
        for book in book_store.list_books(db):
            click.echo(
                f"{book['id']}  {book['records']:>9}  {book['open_alerts']:>6}  {book['name']}"
            )


@books.command("load")
@click.argument("book")
@click.argument("records_csv", type=click.File("rb"))
@db_option
def books_load(book: str, records_csv: Any, db_path: str | None) -> None:
    """Add or replace the records of a CSV file (id,name,type,country,dob,nationality,
    id_number) in BOOK (its id or name), then screen the new and changed ones against
    the registry as one job, with progress on stderr. Last line:
    `added=N replaced=N unchanged=N screened=N alerts=N`."""
    from ..screening import IndexCache
    from . import books as book_store
    from .audit import AuditLog

    raw = records_csv.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{records_csv.name}: Send CSV as UTF-8: byte {exc.start} is not UTF-8 text."
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    if "name" not in reader.fieldnames or "id" not in reader.fieldnames:
        raise click.UsageError("The CSV header needs 'id' and 'name' columns.")
    rows = [{k: (v or "").strip() or None for k, v in row.items() if k} for row in reader]
    settings = _settings(db_path)
    log = AuditLog(
        settings.audit_file,
        minimise=settings.audit_minimise,
        retention_s=settings.audit_retention,
        flush_ms=settings.audit_flush_ms,
    )
    with _registry(db_path) as db:
        try:
            book_id = book_store.find_book(db, book)
            started = time.monotonic()
            records = book_store.check_records(rows, location="csv")
            job = book_store.stage(db, book_id, records)
        except InputError as exc:
            raise _fail(exc) from None
        click.echo(
            f"staged {len(records)} records in {time.monotonic() - started:.1f}s "
            f"(job {job['id']}: {job['total']} to screen)",
            err=True,
        )
        if job["state"] != "finished":
            cache = IndexCache(
                settings.db_path, busy_timeout_ms=settings.busy_timeout_ms, wait=24 * 3600
            )
            try:
                cache.view(db)
                with click.progressbar(
                    length=job["total"], label="screening", file=sys.stderr
                ) as bar:

                    def audit(**fields: Any) -> None:
                        log.record(
                            actor="cli",
                            params={},
                            data_version=None,
                            datasets=[],
                            results=[
                                {"index": 0, "matches": [
                                    {"entity_id": e, "score": None} for e in fields.pop("entities")
                                ]}
                            ],
                            answer=None,
                            **fields,
                        )  # fmt: skip

                    job = book_store.run_job(db, cache, job["id"], progress=bar.update, audit=audit)
            finally:
                cache.close()
                log.close()
    click.echo(
        f"added={job['added']} replaced={job['replaced']} unchanged={job['unchanged']} "
        f"screened={job['screened']} alerts={job['alerts']}"
    )


@books.command("remove")
@click.argument("book")
@click.argument("record_ids", nargs=-1, required=True)
@db_option
def books_remove(book: str, record_ids: tuple[str, ...], db_path: str | None) -> None:
    """Take records out of BOOK by their ids (as DELETE /books/{id}/records/{record}):
    they are screened no more; their alerts stay as they were."""
    from . import books as book_store

    with _registry(db_path) as db:
        try:
            book_id = book_store.find_book(db, book)
            for record_id in record_ids:
                book_store.delete_record(db, book_id, record_id)
        except InputError as exc:
            raise _fail(exc) from None
    click.echo(f"removed={len(record_ids)}")


@books.command("alerts")
@click.argument("book")
@click.option("--status", type=click.Choice(["open", "cleared", "escalated"]), default="open")
@db_option
def books_alerts(book: str, status: str, db_path: str | None) -> None:
    """The alerts of BOOK as JSON Lines, newest first."""
    import orjson

    from . import alerts
    from . import books as book_store

    with _registry(db_path) as db:
        try:
            book_id = book_store.find_book(db, book)
        except InputError as exc:
            raise _fail(exc) from None
        cursor = None
        while True:
            page = alerts.list_alerts(
                db, {"book": book_id, "status": status, "limit": 500, "cursor": cursor}
            )
            for item in page["items"]:
                click.echo(orjson.dumps(item).decode())
            cursor = page["next_cursor"]
            if not cursor:
                break
