"""Name lists as tables: CSV and XLSX files in, CSV and XLSX answers out.

A table's header names its columns; `name` (and optionally id, type, country,
dob, nationality, id_number: `screening.QUERY_FIELDS`) become the screening
query of each row, the other columns can be carried through to the answer.
XLSX is read with openpyxl in read-only mode (row by row, the first sheet), with
the same row cap as CSV; a bad file or header is a 400 naming the cell.
Pure functions over bytes: no Flask, no SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .problems import InputError, Problem
from .screening import QUERY_FIELDS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAGIC = b"PK\x03\x04"
# A workbook is a zip: refuse one that unpacks to far more than it weighs (a zip bomb).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
CSV_CELL_LIMIT = 131_072  # characters in one CSV cell (the csv module's default limit)
# Characters XML 1.0 (and so a workbook) cannot hold.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Table:
    """The rows of an uploaded table: the screening query of each, and the values of
    its other columns (in `extra_columns` order)."""

    queries: list[dict[str, Any]] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    extras: list[list[str]] = field(default_factory=list)
    # XLSX: the cell of each query field, per row ("Sheet1!C5"), to name in errors.
    cells: list[dict[str, str]] = field(default_factory=list)


def _header_problem(location: str, record: str | None = None) -> InputError:
    return InputError(
        [
            Problem(
                f"The {location.upper()} header needs a 'name' column (and optionally id, "
                "type, country, dob, nationality, id_number).",
                field="name",
                location=location,
                record=record,
            )
        ]
    )


def _too_many(limit: int, location: str) -> InputError:
    return InputError(
        [Problem(f"Send at most {limit} rows per request.", field="rows", location=location)]
    )


def _split(header: Sequence[str]) -> tuple[list[str], list[int]]:
    """Normalised column names, and the positions of the columns that are not
    query fields (carried through)."""
    names = [str(h or "").strip() for h in header]
    lowered = [n.lower() for n in names]
    extra = [i for i, n in enumerate(lowered) if n not in QUERY_FIELDS]
    return lowered, extra


# -- CSV ------------------------------------------------------------------------------------


def read_csv(data: bytes, limit: int) -> Table:
    """The rows of a CSV file (a request body, or a file uploaded on the web page)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem("Send CSV as UTF-8.", field="body", location="csv")]) from None
    # newline="": a bare CR ends a line too (old Mac files), as the csv module expects.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _table(_bounded(reader), limit, "csv")
    except csv.Error as exc:
        # A cell past the csv module's field limit (131,072 characters), a stray quote...
        raise InputError(
            [Problem(f"Line {reader.line_num}: {exc}.", field="body", location="csv")]
        ) from None


def _bounded(reader: Any) -> Iterator[list[str]]:
    """The csv module's rows, each cell within CSV_CELL_LIMIT whatever the process-wide
    csv.field_size_limit is (other libraries raise it)."""
    for row in reader:
        if any(len(cell) > CSV_CELL_LIMIT for cell in row):
            raise csv.Error(f"field larger than field limit ({CSV_CELL_LIMIT})")
        yield row


def _table(rows: Iterator[Sequence[Any]], limit: int, location: str) -> Table:
    header = next(rows, None)
    if header is None:
        raise _header_problem(location)
    lowered, extra = _split(header)
    if "name" not in lowered:
        raise _header_problem(location)
    table = Table(extra_columns=[str(header[i]).strip() for i in extra])
    for row in rows:
        if not row:
            continue  # a blank line (as csv.DictReader skips them)
        if len(table.queries) >= limit:
            raise _too_many(limit, location)
        cells = [_text(v) for v in row]
        query: dict[str, Any] = {}
        for column, value in zip(lowered, cells, strict=False):
            if column in QUERY_FIELDS and column not in query:
                query[column] = value.strip() or None
        table.queries.append(query)
        table.extras.append([cells[i] if i < len(cells) else "" for i in extra])
    return table


def _text(value: Any) -> str:
    """A cell as text: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- XLSX -----------------------------------------------------------------------------------


def is_xlsx(data: bytes, filename: str | None = None, mimetype: str | None = None) -> bool:
    if mimetype == XLSX_MIMETYPE:
        return True
    return data.startswith(XLSX_MAGIC) or bool(filename and filename.lower().endswith(".xlsx"))


def read_xlsx(data: bytes, limit: int) -> Table:
    """The rows of the first sheet of an XLSX workbook (openpyxl, read-only mode:
    one row in memory at a time); blank rows are skipped."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    _check_zip(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; the data is read.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook, a broken part ...
        raise InputError(
            [Problem(f"Not an XLSX workbook: {exc}.", field="body", location="xlsx")]
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise InputError([Problem("The workbook has no sheet.", field="body", location="xlsx")])
        title = sheet.title
        quoted = f"'{title}'" if re.search(r"[^A-Za-z0-9_]", title) else title
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = (
                (number, row)
                for number, row in enumerate(sheet.iter_rows(values_only=True), 1)
                if any(v not in (None, "") for v in row)
            )
            first = next(rows, None)
            if first is None:
                raise _header_problem("xlsx", f"{quoted}!1:1")
            header_row, header = first
            lowered, _ = _split(header)
            if "name" not in lowered:
                raise _header_problem("xlsx", f"{quoted}!{header_row}:{header_row}")
            positions = {c: i for i, c in reversed(list(enumerate(lowered))) if c in QUERY_FIELDS}
            numbered = list(_numbered(rows, limit))
    finally:
        book.close()
    table = _table(iter([header, *(row for _, row in numbered)]), limit, "xlsx")
    table.cells = [
        {c: f"{quoted}!{get_column_letter(i + 1)}{number}" for c, i in positions.items()}
        for number, _ in numbered
    ]
    return table


def _numbered(
    rows: Iterator[tuple[int, tuple[Any, ...]]], limit: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for count, item in enumerate(rows):
        if count >= limit:
            raise _too_many(limit, "xlsx")
        yield item


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError(
            [
                Problem(
                    "Not an XLSX workbook (an .xlsx file is a zip archive); "
                    "an old .xls workbook must be saved as .xlsx or CSV.",
                    field="body",
                    location="xlsx",
                )
            ]
        ) from None
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * max(len(data), 1):
        raise InputError(
            [
                Problem(
                    f"The workbook unpacks to {unpacked:,} bytes, far more than it weighs; "
                    "this service refuses it.",
                    field="body",
                    location="xlsx",
                )
            ]
        )


def annotate_cells(results: list[dict[str, Any]], table: Table) -> None:
    """Name the cell of each field at fault in the row errors of an XLSX table."""
    if not table.cells:
        return
    for result in results:  # (all of a batch's or a chunk of them: by their index)
        error = result.get("error")
        position = result.get("index")
        if not error or not isinstance(position, int) or not 0 <= position < len(table.cells):
            continue
        cells = table.cells[position]
        for problem in error["errors"]:
            base = str(problem.get("field") or "").split("[", 1)[0]
            if base in cells:
                problem["record"] = cells[base]


# -- answers --------------------------------------------------------------------------------


def with_extras(
    columns: Sequence[str], rows: Iterable[tuple[int, list[str]]], table: Table | None
) -> tuple[list[str], Iterator[list[str]]]:
    """The answer's columns and rows, with the input's other columns after them when
    a table is given (a name the answer uses already gets an `input_` prefix).
    `rows` are (query position, cells)."""
    if table is None or not table.extra_columns:
        return list(columns), (cells for _, cells in rows)
    taken = set(columns)
    extra = []
    for name in table.extra_columns:
        shown = name or "column"
        while shown in taken:
            shown = f"input_{shown}"
        taken.add(shown)
        extra.append(shown)

    def joined() -> Iterator[list[str]]:
        for position, cells in rows:
            values = table.extras[position] if 0 <= position < len(table.extras) else []
            yield cells + list(values) + [""] * (len(extra) - len(values))

    return [*columns, *extra], joined()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[str]], title: str) -> bytes:
    """A workbook of one sheet (openpyxl's write-only mode). Every cell is text:
    one that begins with '=' stays text, never a formula (CSV injection)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Sheet1")

    def cells(values: Sequence[str]) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_ILLEGAL.sub("", value))
            cell.data_type = "s"
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
