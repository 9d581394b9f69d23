"""`registry screen-book` on Dask: a small CSV and Parquet book screened in
partitions equals POST /screen's answers; a rerun skips finished partitions."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from registry.book import MANIFEST, screen_book
from registry.cli import main
from registry.index_snapshot import snapshot_path
from registry.screening import ScreenOptions

from .conftest import make_app

# Fixture names, variants, made-up names, a bad row, and the attribute columns.
BOOK = [
    {"id": "c1", "name": "Finder Technology", "country": "HK"},
    {"id": "c2", "name": "Juhang Aviation Co Ltd", "type": "company"},
    {"id": "c3", "name": "Beijing Micropilot", "dob": "", "nationality": ""},
    {"id": "c4", "name": "Dennex Enterprises", "country": "CN"},
    {"id": "c5", "name": "Northern Amber Logistics"},
    {"id": "c6", "name": "Olaf Scholz", "type": "person", "dob": "1958-06-14"},
    {"id": "c7", "name": "", "type": "company"},  # an error row
    {"id": "c8", "name": "Finder Technologies Limited", "id_number": "12345678"},
    {"id": "c9", "name": "Zenith Quartz Holdings", "nationality": "RU"},
    {"id": "c10", "name": "Juhang", "type": "vessel"},
    {"id": "c11", "name": "Micro Pilot Beijing", "type": "bogus"},  # an error row
    {"id": "c12", "name": "Dennex", "dob": "1970"},
]
COLUMNS = ["id", "name", "type", "country", "dob", "nationality", "id_number"]


def book_csv(path: Path, rows: list[dict[str, str]] = BOOK) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def expected_rows(db_path: Path) -> list[dict[str, str]]:
    """POST /screen's CSV answer for the whole book in one request."""
    app = make_app(db_path)
    client = app.test_client()
    body = book_csv(db_path.parent / "all.csv").read_bytes()
    answer = client.post(
        "/screen", data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    app.extensions["registry_index"].close()
    return list(csv.DictReader(io.StringIO(answer.text)))


def result_rows(output: Path, fmt: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for part in sorted(output.glob(f"part-*.{fmt}")):
        if fmt == "csv":
            frame = pd.read_csv(part, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_parquet(part).fillna("")
        rows += [
            {k: ("" if v is None else str(v)) for k, v in r.items()}
            for r in frame.to_dict("records")
        ]
    return rows


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (int(r["query_index"]), r["rank"]))


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    from registry.db import open_registry
    from registry.loader import load_paths

    from .conftest import FIXTURES

    db_path = tmp_path_factory.mktemp("book") / "registry.db"
    db = open_registry(db_path)
    try:
        load_paths(db, [FIXTURES])
    finally:
        db.close()
    return db_path, expected_rows(db_path)


def run(db_path: Path, source: Path, output: Path, **kw: Any) -> Any:
    return screen_book(
        source,
        output,
        db_path=db_path,
        snapshot=snapshot_path(db_path),
        options=ScreenOptions(),
        workers=2,
        processes=False,  # threads in this process: CI-fast
        **kw,
    )


def test_a_csv_book_equals_screen(expected: tuple[Path, list], tmp_path: Path) -> None:
    db_path, rows = expected
    source = book_csv(tmp_path / "book.csv")
    progress: list[tuple[int, int, int, int]] = []
    report = run(
        db_path,
        source,
        tmp_path / "out",
        blocksize=120,  # several partitions of a small file
        progress=lambda *args: progress.append(args),
    )
    assert report.partitions >= 3
    assert report.names == len(BOOK) and report.screened == len(BOOK)
    assert comparable(result_rows(tmp_path / "out", "csv")) == comparable(rows)
    assert any(r["entity_id"] == "finder-technology-ltd" for r in rows)
    assert progress[-1] == (report.partitions, report.partitions, len(BOOK), len(BOOK))
    assert (tmp_path / "out" / MANIFEST).is_file()


def test_a_parquet_book_equals_screen(expected: tuple[Path, list], tmp_path: Path) -> None:
    db_path, rows = expected
    folder = tmp_path / "book.parquet"
    folder.mkdir()
    for k, start in enumerate(range(0, len(BOOK), 5)):  # three files: three partitions
        chunk = [{c: row.get(c) for c in COLUMNS} for row in BOOK[start : start + 5]]
        frame = pd.DataFrame(chunk, columns=COLUMNS, dtype="string")  # (missing cells: null)
        frame.to_parquet(folder / f"part-{k}.parquet", index=False)
    report = run(db_path, folder, tmp_path / "out")
    assert report.partitions == 3
    assert comparable(result_rows(tmp_path / "out", "parquet")) == comparable(rows)


def test_a_rerun_skips_finished_partitions(expected: tuple[Path, list], tmp_path: Path) -> None:
    db_path, rows = expected
    source = book_csv(tmp_path / "book.csv")
    output = tmp_path / "out"
    first = run(db_path, source, output, blocksize=120, out_format="parquet")
    parts = sorted(output.glob("part-*.parquet"))
    assert len(parts) == first.partitions >= 3
    # A crash: one partition's file never written, another's left half-way (a temporary file).
    parts[1].unlink()
    (output / f".{parts[2].name}.x.tmp").write_bytes(b"half")
    kept = {p.name: p.stat().st_mtime_ns for p in parts if p != parts[1]}
    second = run(db_path, source, output, blocksize=120, out_format="parquet")
    assert second.skipped == first.partitions - 1
    # Only the missing partition was screened again: its names, no others.
    assert second.screened == pd.read_parquet(parts[1]).query_index.nunique() > 0
    assert {p.name: p.stat().st_mtime_ns for p in parts if p != parts[1]} == kept
    assert comparable(result_rows(output, "parquet")) == comparable(rows)
    # Another book into the same folder is refused, not mixed in.
    other = book_csv(tmp_path / "other.csv", BOOK[:3])
    with pytest.raises(ValueError, match="another book"):
        run(db_path, other, output, blocksize=120, out_format="parquet")


def test_the_command(expected: tuple[Path, list], tmp_path: Path) -> None:
    db_path, rows = expected
    source = book_csv(tmp_path / "book.csv")
    result = CliRunner().invoke(
        main,
        ["screen-book", str(source), str(tmp_path / "out"), "--workers", "1"],
        env={"REGISTRY_DB": str(db_path)},
    )
    assert result.exit_code == 0, result.output
    assert f"screened={len(BOOK)} skipped_partitions=0" in result.stdout
    assert "partitions 1/1" in result.stderr
    assert comparable(result_rows(tmp_path / "out", "csv")) == comparable(rows)
