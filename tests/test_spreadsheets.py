"""Screening from a spreadsheet: POST /screen takes an XLSX workbook as it takes CSV,
answers CSV or XLSX, and can carry the input's other columns through; the web
page's file form reads workbooks with the same reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook

from registry.tables import XLSX_MIMETYPE

from .conftest import make_app


def workbook(rows: list[list[Any]], title: str = "Customers") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a user may type
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CUSTOMERS: list[list[Any]] = [
    ["Customer no", "name", "dob", "id_number", "Account manager"],
    ["C-1", "Finder Technology", None, None, '=HYPERLINK("http://x")'],
    ["C-2", "Jane Example", dt.datetime(1962, 2, 18), 12345678, "Ann"],
    [None, None, None, None, None],  # a blank row: skipped
    ["C-3", "Juhang Aviation", None, None, "Bob"],
]


def post(client: FlaskClient, body: bytes, accept: str, **params: Any) -> Any:
    return client.post(
        "/screen",
        data=body,
        content_type=XLSX_MIMETYPE,
        headers={"Accept": accept},
        query_string=params,
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_workbook_is_screened_as_the_same_csv_is(anon_client: FlaskClient) -> None:
    body = workbook(CUSTOMERS)
    answer = post(anon_client, body, "application/json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    results = answer.get_json()["results"]
    assert [r["query"]["name"] for r in results] == [
        "Finder Technology",
        "Jane Example",
        "Juhang Aviation",
    ]
    # Excel dates are dates of birth, whole numbers are identifiers without ".0".
    assert results[1]["query"]["dob"] == "1962-02-18"
    assert results[1]["query"]["id_number"] == "12345678"
    as_csv = "\n".join(
        ",".join("" if v is None else str(v) for v in row)
        for row in [
            ["Customer no", "name", "dob", "id_number"],
            ["C-1", "Finder Technology", "", ""],
            ["C-2", "Jane Example", "1962-02-18", "12345678"],
            ["C-3", "Juhang Aviation", "", ""],
        ]
    )
    same = anon_client.post("/screen", data=as_csv, content_type="text/csv").get_json()
    assert same["results"] == results
    assert results[0]["matches"][0]["entity_id"] == "finder-technology-ltd"


def test_the_other_columns_are_carried_through(anon_client: FlaskClient) -> None:
    body = workbook(CUSTOMERS)
    plain = csv_rows(post(anon_client, body, "text/csv").get_data(as_text=True))
    assert "Customer no" not in plain[0]
    kept = post(anon_client, body, "text/csv", keep_columns="true")
    rows = csv_rows(kept.get_data(as_text=True))
    header = next(csv.reader(io.StringIO(kept.get_data(as_text=True))))
    assert header[-2:] == ["Customer no", "Account manager"]
    finder = [r for r in rows if r["query_name"] == "Finder Technology"]
    assert finder[0]["entity_id"] == "finder-technology-ltd"
    assert finder[0]["Customer no"] == "C-1"
    # A formula from the input stays inert in the CSV answer.
    assert finder[0]["Account manager"] == '\'=HYPERLINK("http://x")'
    assert next(r["Customer no"] for r in rows if r["query_name"] == "Juhang Aviation") == "C-3"

    answer = post(anon_client, body, XLSX_MIMETYPE, keep_columns="true")
    assert answer.status_code == 200 and answer.mimetype == XLSX_MIMETYPE
    sheet = load_workbook(io.BytesIO(answer.get_data()), read_only=False).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == header
    as_csv = [r for r in csv.reader(io.StringIO(kept.get_data(as_text=True)))]
    assert len(values) == len(as_csv)
    cell = next(c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'  # text, not a formula


def test_a_bad_workbook_names_the_cell(loaded_db_path: Path) -> None:
    client = make_app(loaded_db_path, max_screen_batch=3).test_client()
    no_name = post(client, workbook([["company", "country"], ["Finder", "CN"]]), "application/json")
    assert no_name.status_code == 400
    error = no_name.get_json()["errors"][0]
    assert (error["field"], error["location"], error["record"]) == ("name", "xlsx", "Customers!1:1")

    bad_dob = post(
        client,
        workbook(
            [["name", "country", "dob"], ["Finder", "CN", None], ["Jane", "GB", "1962-13-01"]]
        ),
        "application/json",
    )
    assert bad_dob.status_code == 200
    row_error = bad_dob.get_json()["results"][1]["error"]["errors"][0]
    assert (row_error["field"], row_error["record"]) == ("dob", "Customers!C3")

    too_many = post(client, workbook([["name"], ["a"], ["b"], ["c"], ["d"]]), "application/json")
    assert too_many.status_code == 400
    assert too_many.get_json()["errors"][0]["field"] == "rows"

    for garbage in (b"PK\x03\x04not really a zip", b"name\nFinder\n"):
        refused = post(client, garbage, "application/json")
        assert refused.status_code == 400
        assert refused.get_json()["errors"][0]["location"] == "xlsx"

    # A zip bomb: a small upload that unpacks to far more.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 50_000_000 + b"</a>")
    refused = post(client, bomb.getvalue(), "application/json")
    assert refused.status_code == 400 and "unpacks to" in refused.get_json()["errors"][0]["message"]


def test_the_web_page_screens_a_workbook(loaded_db_path: Path) -> None:
    app = make_app(loaded_db_path)
    browser = app.test_client()
    page = browser.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = browser.post(
        "/",
        data={
            "csrf_token": token.group(1),
            "keep_columns": "true",
            "file": (io.BytesIO(workbook(CUSTOMERS)), "customers.xlsx"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "customers.xlsx: 3 names screened" in html
    link = re.search(r'href="(/answers/[^"]+\.csv)"', html)
    assert link is not None
    download = browser.get(link.group(1)).get_data(as_text=True)
    api = post(app.test_client(), workbook(CUSTOMERS), "text/csv", keep_columns="true")
    assert download == api.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["text/csv", XLSX_MIMETYPE])
def test_a_csv_upload_can_keep_its_columns_too(anon_client: FlaskClient, accept: str) -> None:
    body = "ref,name,score\nr1,Finder Technology,7\n"
    answer = anon_client.post(
        "/screen",
        data=body,
        content_type="text/csv",
        headers={"Accept": accept},
        query_string={"keep_columns": "true"},
    )
    assert answer.status_code == 200
    if accept == "text/csv":
        header = next(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    else:
        sheet = load_workbook(io.BytesIO(answer.get_data())).active
        assert sheet is not None
        header = [c.value for c in next(sheet.iter_rows())]
    # "score" is an answer column already: the input's keeps its value under input_score.
    assert header[-2:] == ["ref", "input_score"]
