"""The web pages through Flask's test client: what each shows, that they show
what the API answers (the same functions underneath), errors next to their
field with the API's problem details, the key session and CSRF, and that
nothing on them comes from another host."""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.db import open_registry
from registry.imports import run_import
from registry.keys import create_key, revoke_key
from registry.loader import load_paths
from registry.web import explain
from registry.web.answers import AnswerStore
from registry.web.evidence import in_context, quote_spans

from .conftest import FIXTURES, make_app

FINDER_QUOTE = (
    "According to the UK Government, China’s Finder Technology and Juhang Aviation "
    "Technology allegedly supplied sanctioned electronics to Russia"
)
# A real OFAC SDN CSV layout (no header), two snapshots three days apart: the
# second changes one entry, drops one and adds one.
SDN_1 = (
    '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"a.k.a. 'BNC'.\"\n"
    '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'
    '173,"ANGLO-CARIBBEAN CO., LTD.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'
)
SDN_2 = (
    '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"a.k.a. 'BNC'; a.k.a. 'NATIONAL BANK OF CUBA'.\"\n"
    '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'
    '9999,"ZEPHYR ORBITAL TRADING LLC",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'
)


def load_registry(path: Path) -> dict[str, Any]:
    """The seed fixtures plus two small OFAC imports; the runs and a key per scope."""
    db = open_registry(path)
    try:
        load_paths(db, [FIXTURES])
        files = path.parent / "lists"
        files.mkdir()
        first, second = files / "sdn_2024-02-20.csv", files / "sdn_2024-02-23.csv"
        first.write_text(SDN_1)
        second.write_text(SDN_2)
        first_run = run_import(db, "ofac-csv", [first]).run_id
        second_run = run_import(db, "ofac-csv", [second]).run_id
        keys = {s: create_key(db, f"web {s}", s)[1] for s in ("read", "write", "admin")}
        return {"runs": [first_run, second_run], "keys": keys}
    finally:
        db.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("web") / "registry.db"
    return {"path": path, **load_registry(path)}


@pytest.fixture(scope="module")
def web_app(registry: dict[str, Any]) -> Flask:
    return make_app(registry["path"])


@pytest.fixture
def browser(web_app: Flask) -> FlaskClient:
    """A fresh browser session (its own cookies)."""
    return web_app.test_client()


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.scripts: list[str] = []
        self.links: list[tuple[str, str]] = []  # (tag, url) of fetched assets
        self.styled: list[str] = []
        self.ids: dict[str, dict[str, str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] = {"tag": tag, **a}
        if "style" in a:
            self.styled.append(tag)
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({"tag": tag, **a})
        if tag == "script":
            self.scripts.append(a.get("src", "INLINE"))
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.links.append((tag, a["src"]))
        if tag == "link" and a.get("href"):
            self.links.append((tag, a["href"]))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def problem_json(html: str) -> dict[str, Any]:
    found = re.search(r'<pre class="json">(.*?)</pre>', html, re.S)
    assert found, "the page shows no problem details"
    return dict(json.loads(html_lib.unescape(found.group(1))))


def field_error(html: str, field: str) -> str:
    """The error text shown next to a field (its element `<field>-error`)."""
    found = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", found.group(1)).strip()) if found else ""


def entity_links(html: str) -> list[str]:
    section = html.split('id="results-heading"', 1)[-1]
    return re.findall(r'<h3 id="m\d+-name"><a href="/entity/([^"]+)"', section)


def status_of(client: FlaskClient, url: str) -> int:
    """A GET's status, its response closed (static files are open files)."""
    response = client.get(url)
    response.close()
    return response.status_code


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


# -- screen ---------------------------------------------------------------------------


def test_screen_form_every_control_has_a_label(browser: FlaskClient) -> None:
    response = browser.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Page(response.get_data(as_text=True))
    assert {c["id"] for c in page.controls} >= {"name", "type", "country", "dob", "id_number"}
    assert {"file", "threshold", "as_of", "jurisdiction"} <= {c["id"] for c in page.controls}
    unlabelled = [c["id"] for c in page.controls if c.get("id") not in page.labels]
    assert unlabelled == []


def test_screen_a_name_shows_finder_technology_with_why_and_evidence(
    browser: FlaskClient,
) -> None:
    html = browser.get("/?name=Finder+Tecnology+Co.,+Ltd.").get_data(as_text=True)
    assert entity_links(html)[0] == "finder-technology-ltd"
    assert "FINDER TECHNOLOGY LTD" in html
    # The aligned words are marked, on both sides.
    assert "<mark>finder</mark>" in html and "<mark>tecnology</mark>" in html
    assert "<mark>technology</mark>" in html
    # One sentence of why (the match's summary), naming the close spelling.
    assert "approximately ('tecnology' for 'technology')" in html.replace("&#39;", "'")
    assert "at or above the 0.80 threshold." in html
    # The quote that supports the UK listing, marked inside its source's words.
    assert f"<mark>{FINDER_QUOTE}</mark>" in html.replace("&#39;", "'")
    assert "/document/seed-000?entity=finder-technology-ltd" in html
    assert "Decide on this match" in html


def test_the_page_screens_exactly_as_the_api(web_app: Flask, browser: FlaskClient) -> None:
    api = web_app.test_client()
    for params in (
        "name=Juhang+Aviation&country=CN",
        "name=巨航航空科技（深圳）有限公司",
        "name=Beijing+Micro-Pilot&type=company",
        "name=Beijing+Pilot+School",
        "name=Finder&threshold=0.5",
    ):
        expected = [m["entity_id"] for m in api.get(f"/screen?{params}").get_json()["matches"]]
        page = browser.get(f"/?{params}").get_data(as_text=True)
        assert entity_links(page) == expected, params


def test_a_bad_field_shows_its_error_next_to_it_with_the_api_problem(
    web_app: Flask, browser: FlaskClient
) -> None:
    response = browser.get("/?name=Finder&country=China&threshold=2")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "country") == "Use a two-letter upper-case code."
    assert "Must be greater than or equal to 0" in field_error(html, "threshold")
    page = Page(html)
    assert page.ids["country"]["aria-invalid"] == "true"
    assert "country-error" in page.ids["country"]["aria-describedby"]
    assert field_error(html, "name") == ""
    api = web_app.test_client().get("/screen?name=Finder&country=China&threshold=2")
    assert without_instance(problem_json(html)) == without_instance(api.get_json())
    # A name without letters is refused by screening itself, as in the API.
    html = browser.get("/?name=%21%21%21").get_data(as_text=True)
    assert field_error(html, "name") == "Give a name with at least one letter or digit."


def test_upload_a_csv_shows_a_table_and_the_answer_file_is_the_apis(
    web_app: Flask, browser: FlaskClient
) -> None:
    names = "id,name,country\nc1,Finder Technology Co Ltd,HK\nc2,Beijing Pilot School,CN\nc3,\n"
    token = csrf(browser.get("/").get_data(as_text=True))
    response = browser.post(
        "/",
        data={"csrf_token": token, "file": (io.BytesIO(names.encode()), "customers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "customers.csv: 3 names screened, 1 with a match, 1 not screened" in html
    assert "FINDER TECHNOLOGY LTD" in html and "No match" in html
    assert "Give a name with at least one letter or digit." in html
    link = re.search(r'href="(/answers/[^"]+\.csv)"', html)
    assert link
    download = browser.get(link.group(1))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert 'filename="customers-screened.csv"' in download.headers["Content-Disposition"]
    api = web_app.test_client().post(
        "/screen", data=names.encode(), content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert download.get_data(as_text=True) == api.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0]["entity_id"] == "finder-technology-ltd"
    # Another browser cannot fetch it, even with the address.
    other = web_app.test_client()
    assert other.get(link.group(1)).status_code == 404


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"id,company\n1,Finder\n", "names.csv", "The CSV header needs a 'name' column"),
        (b"name\n\xff\xfeFinder\n", "names.csv", "Send CSV as UTF-8."),
        (b"PK\x03\x04rest of a zip", "names.xlsx", "Not an XLSX workbook"),
        (b"\xd0\xcf\x11\xe0 an old workbook", "names.xls", "save it as .xlsx or as CSV"),
        (b"name\n", "names.csv", "The file has a header but no names."),
    ],
)
def test_a_bad_file_gets_a_clear_message_next_to_the_file_field(
    browser: FlaskClient, content: bytes, filename: str, message: str
) -> None:
    token = csrf(browser.get("/").get_data(as_text=True))
    response = browser.post(
        "/",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_error(html, "file")
    assert 'aria-invalid="true"' in html
    assert problem_json(html)["status"] == 400


def test_an_upload_over_the_body_limit_says_so_by_the_file_field(
    registry: dict[str, Any],
) -> None:
    client = make_app(registry["path"], max_body_bytes=2_000).test_client()
    token = csrf(client.get("/").get_data(as_text=True))
    response = client.post(
        "/",
        data={"csrf_token": token, "file": (io.BytesIO(b"name\n" + b"x" * 5_000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than this service accepts" in field_error(
        response.get_data(as_text=True), "file"
    )


def test_a_form_post_without_this_sessions_token_is_refused(browser: FlaskClient) -> None:
    browser.get("/")
    response = browser.post(
        "/",
        data={"csrf_token": "forged", "file": (io.BytesIO(b"name\nFinder\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "did not come from this site" in html
    assert problem_json(html)["errors"][0]["field"] == "csrf_token"


def test_plain_http_to_another_host_is_told_why_forms_cannot_work(web_app: Flask) -> None:
    remote = web_app.test_client()
    page = remote.get("/", base_url="http://registry.example.org:8000")
    assert "This page came over plain HTTP." in page.get_data(as_text=True)
    # Its browser keeps no cookie: the form arrives without a session.
    sent = web_app.test_client().post(
        "/",
        base_url="http://registry.example.org:8000",
        data={"csrf_token": "x", "file": (io.BytesIO(b"name\nFinder\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 400
    assert "keeps this site's Secure cookie only over HTTPS" in html_lib.unescape(
        sent.get_data(as_text=True)
    )
    for fine in ("https://registry.example.org", "http://localhost:8000", "http://127.0.0.1"):
        assert "plain HTTP" not in remote.get("/", base_url=fine).get_data(as_text=True)
    behind_proxy = remote.get(
        "/", base_url="http://registry.example.org", headers={"X-Forwarded-Proto": "https"}
    )
    assert "plain HTTP" not in behind_proxy.get_data(as_text=True)


# -- entity, history, document ----------------------------------------------------------------


def test_entity_page_shows_names_by_script_identifiers_designations_and_evidence(
    browser: FlaskClient,
) -> None:
    juhang = "/entity/juhang-aviation-technology-shenzhen-co-limited"
    html = browser.get(juhang).get_data(as_text=True)
    assert "<h3>Chinese</h3>" in html and "<h3>Latin</h3>" in html
    assert "巨航航空科技（深圳）有限公司" in html
    assert "91440300MA5GN73B4F" in html  # the USCC identifier
    for label in (
        "Jurisdiction",
        "Authority",
        "Programme",
        "Listed",
        "Delisted",
        "Alleged conduct",
    ):
        assert f"<dt>{label}</dt>" in html
    # Quoted words inside their source; the official list row as published.
    assert "<mark>" in html and "Official list row as published" in html
    assert "loaded from the registry&#39;s fixtures" in html or "loaded from the registry's" in html
    assert "Merged records and why" in html


def test_entity_from_an_import_shows_the_row_with_its_file_and_run(
    browser: FlaskClient, registry: dict[str, Any]
) -> None:
    html = browser.get("/entity/us-ofac-sdn:306").get_data(as_text=True)
    second = registry["runs"][1]
    assert "BANCO NACIONAL DE CUBA" in html
    # The entry did change in the second run: its row is the second file's.
    assert f'href="/lists/runs/{second}"' in html
    assert "sdn_2024-02-23.csv" in html
    assert "NATIONAL BANK OF CUBA" in html


def test_entity_as_the_registry_stood_on_a_day(browser: FlaskClient) -> None:
    old = browser.get("/entity/us-ofac-sdn:306?as_of=2000-01-01")
    assert old.status_code == 404
    html = old.get_data(as_text=True)
    assert "was not in the registry" in field_error(html, "as_of")
    assert "BANCO NACIONAL DE CUBA" in html  # the page as it stands, the error by the field
    bad = browser.get("/entity/us-ofac-sdn:306?as_of=yesterday")
    assert bad.status_code == 400
    assert "Not a date" in field_error(bad.get_data(as_text=True), "as_of")
    future = browser.get("/entity/us-ofac-sdn:306?as_of=2999-01-01").get_data(as_text=True)
    assert "As the registry stood at 2999-01-01T23:59:59" in future


def test_history_shows_each_version_with_its_diff(
    browser: FlaskClient, registry: dict[str, Any]
) -> None:
    response = browser.get("/entity/us-ofac-sdn:306/history")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2 versions" in html
    assert f'href="/lists/runs/{registry["runs"][1]}"' in html
    assert "<ins>" in html and "NATIONAL BANK OF CUBA" in html
    assert browser.get("/entity/no-such-entity/history").status_code == 404


def test_document_page_marks_every_quote_the_entity_cites(browser: FlaskClient) -> None:
    html = browser.get("/document/seed-000?entity=finder-technology-ltd").get_data(as_text=True)
    marks = re.findall(r'<mark id="q-\d+">(.*?)</mark>', html, re.S)
    assert len(marks) == 2
    assert any("Finder Technology and Juhang" in m for m in marks)


def test_unknown_entity_is_a_page_with_the_apis_problem(
    web_app: Flask, browser: FlaskClient
) -> None:
    response = browser.get("/entity/no-such-entity")
    assert response.status_code == 404 and response.mimetype == "text/html"
    api = web_app.test_client().get("/entities/no-such-entity").get_json()
    assert without_instance(problem_json(response.get_data(as_text=True))) == without_instance(api)


# -- decide ---------------------------------------------------------------------------------


def sign_in(client: FlaskClient, key: str, next_url: str = "/decide") -> Any:
    token = csrf(client.get("/session").get_data(as_text=True))
    return client.post("/session", data={"csrf_token": token, "key": key, "next": next_url})


def test_the_key_cookie_is_secure_httponly_strict_and_ends_with_the_browser(
    browser: FlaskClient, registry: dict[str, Any]
) -> None:
    response = sign_in(browser, registry["keys"]["write"])
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("registry_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie


def test_a_bad_key_is_refused_next_to_the_key_field(browser: FlaskClient) -> None:
    response = sign_in(browser, "rk_000000000000_" + "x" * 43)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert field_error(html, "key") == "This key is not valid or has been revoked."
    assert problem_json(html)["title"] == "Unauthorized"


def test_record_see_and_withdraw_a_decision(
    web_app: Flask, browser: FlaskClient, registry: dict[str, Any]
) -> None:
    page = "/decide?query=Finder+Tech+Ltd&entity=finder-technology-ltd"
    html = browser.get(page).get_data(as_text=True)
    assert "Sign in with an API key</a> to record a decision" in html
    assert sign_in(browser, registry["keys"]["write"], page).headers["Location"] == page
    html = browser.get(page).get_data(as_text=True)
    assert "score <strong>" in html  # today's match of the name on the entity
    recorded = browser.post(
        "/decide",
        data={
            "csrf_token": csrf(html),
            "query": "Finder Tech Ltd",
            "entity_id": "finder-technology-ltd",
            "verdict": "false_positive",
            "note": "our customer is the Finder Tech of Oslo",
        },
    )
    assert recorded.status_code == 303
    html = browser.get(recorded.headers["Location"]).get_data(as_text=True)
    assert "Recorded: false positive" in html
    assert "<strong>in force</strong>" in html and "the Finder Tech of Oslo" in html
    # The API sees the same decision, made by the signed-in key.
    api = web_app.test_client().get("/decisions?entity=finder-technology-ltd").get_json()
    (decision,) = [d for d in api["items"] if d["query"] == "Finder Tech Ltd"]
    assert decision["actor"].startswith("key:")
    assert decision["verdict"] == "false_positive"
    withdrawn = browser.post(
        "/decide/withdraw",
        data={
            "csrf_token": csrf(html),
            "query": "Finder Tech Ltd",
            "entity_id": "finder-technology-ltd",
            "decision": decision["id"],
        },
    )
    assert withdrawn.status_code == 303
    html = browser.get(withdrawn.headers["Location"]).get_data(as_text=True)
    assert f"Withdrawn: {decision['id']}" in html and "withdrawn 20" in html
    # A second withdrawal (a stale page) gets the API's 409, shown on the page.
    again = browser.post(
        "/decide/withdraw",
        data={
            "csrf_token": csrf(html),
            "query": "Finder Tech Ltd",
            "entity_id": "finder-technology-ltd",
            "decision": decision["id"],
        },
    )
    assert again.status_code == 409
    assert "was withdrawn at" in again.get_data(as_text=True)


def test_a_decision_needs_a_write_key_and_a_verdict(
    browser: FlaskClient, registry: dict[str, Any]
) -> None:
    page = "/decide?query=Juhang&entity=finder-technology-ltd"
    form = {"query": "Juhang", "entity_id": "finder-technology-ltd", "verdict": "true_match"}
    assert "Sign in with an API key</a> to record" in browser.get(page).get_data(as_text=True)
    token = csrf(browser.get("/").get_data(as_text=True))
    unsigned = browser.post("/decide", data={**form, "csrf_token": token})
    assert unsigned.status_code == 401
    assert "Sign in with an API key first" in field_error(unsigned.get_data(as_text=True), "key")
    sign_in(browser, registry["keys"]["read"], page)
    reader = browser.post("/decide", data={**form, "csrf_token": csrf(browser.get(page).text)})
    assert reader.status_code == 403
    assert field_error(reader.get_data(as_text=True), "key") == (
        "This needs a key with the write scope; this key has read."
    )
    sign_in(browser, registry["keys"]["write"], page)
    token = csrf(browser.get(page).get_data(as_text=True))
    no_verdict = browser.post("/decide", data={**form, "verdict": "", "csrf_token": token})
    assert no_verdict.status_code == 400
    assert field_error(no_verdict.get_data(as_text=True), "verdict") == (
        "Missing data for required field."
    )


def test_a_revoked_key_stops_working_at_once(web_app: Flask, registry: dict[str, Any]) -> None:
    db = open_registry(registry["path"])
    key_id, key = (lambda k: (k[0].id, k[1]))(create_key(db, "short-lived", "write"))
    db.close()
    client = web_app.test_client()
    sign_in(client, key)
    assert "short-lived" in client.get("/").get_data(as_text=True)
    db = open_registry(registry["path"])
    revoke_key(db, key_id)
    db.close()
    html = client.get("/session").get_data(as_text=True)
    assert "no longer valid" in html
    assert "short-lived" not in client.get("/").get_data(as_text=True)


def test_pages_ask_for_a_key_when_reads_need_one(registry: dict[str, Any]) -> None:
    client = make_app(registry["path"], require_key_for_reads=True).test_client()
    response = client.get("/entity/finder-technology-ltd")
    assert response.status_code == 401
    assert "asks for an API key to read it" in response.get_data(as_text=True)
    sign_in(client, registry["keys"]["read"], "/entity/finder-technology-ltd")
    assert client.get("/entity/finder-technology-ltd").status_code == 200
    assert client.get("/docs").status_code == 200  # the docs stay public, like /openapi.json


# -- lists and docs -----------------------------------------------------------------------------


def test_lists_show_datasets_and_runs_with_their_changes(
    browser: FlaskClient, registry: dict[str, Any]
) -> None:
    first, second = registry["runs"]
    html = browser.get("/lists").get_data(as_text=True)
    assert "<code>fixtures</code>" in html and "<code>us-ofac-sdn</code>" in html
    assert f'href="/lists/runs/{second}"' in html and f'href="/lists/runs/{first}"' in html
    tabs = {}
    for change in ("added", "changed", "removed"):
        tabs[change] = browser.get(f"/lists/runs/{second}?change={change}").get_data(as_text=True)
    assert "ZEPHYR ORBITAL TRADING LLC" in tabs["added"]
    assert "BANCO NACIONAL DE CUBA" in tabs["changed"] and "<ins>" in tabs["changed"]
    assert "ANGLO-CARIBBEAN" in tabs["removed"]
    assert "sdn_2024-02-23.csv" in tabs["added"]
    assert browser.get("/lists/runs/imp-nope").status_code == 404
    assert browser.get(f"/lists/runs/{second}?change=maybe").status_code == 400


def test_lists_say_which_list_is_current_and_which_went_stale(registry: dict[str, Any]) -> None:
    html = make_app(registry["path"]).test_client().get("/lists").get_data(as_text=True)
    assert "current: confirmed under a minute ago" in html and "stale" not in html
    assert '<td data-label="Published">2024-02-23</td>' in html  # the SDN file loaded last
    # The same registry once a list may be at most a second old, as /readyz would judge it.
    strict = make_app(registry["path"], max_list_age=0.001).test_client()
    time.sleep(0.01)
    html = strict.get("/lists").get_data(as_text=True)
    assert "stale: not confirmed current for" in html and "(the limit is under a minute)" in html


def test_docs_are_swagger_ui_served_from_here(browser: FlaskClient) -> None:
    response = browser.get("/docs")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert "INLINE" not in page.scripts
    for _, url in page.links:
        assert url.startswith("/"), url
        assert status_of(browser, url) == 200, url
    assert "/docs/assets/swagger-ui-bundle.js" in page.scripts
    assert "swagger-ui" in page.ids and page.ids["swagger-ui"]["data-spec-url"] == "/openapi.json"
    # Only img-src is loosened, for Swagger UI's data: icons; only here.
    assert response.headers["Content-Security-Policy"].startswith(
        "default-src 'self'; img-src 'self' data:;"
    )
    assert browser.get("/docs/assets/../../app.py").status_code == 404
    assert browser.get("/swagger").headers["Location"].endswith("/docs")


PAGES = [
    "/",
    "/?name=Finder+Technology",
    "/entity/finder-technology-ltd",
    "/entity/finder-technology-ltd/history",
    "/document/seed-000",
    "/decide",
    "/decide?query=Finder&entity=finder-technology-ltd",
    "/lists",
    "/session",
    "/entity/no-such-entity",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_load_nothing_from_elsewhere_and_run_under_a_strict_csp(
    browser: FlaskClient, url: str
) -> None:
    response = browser.get(url)
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = Page(response.get_data(as_text=True))
    assert page.scripts == []  # no script at all (only /docs has Swagger UI)
    assert page.styled == []  # no inline style attribute
    for _, asset in page.links:
        assert asset.startswith("/assets/"), asset
        assert status_of(browser, asset) == 200
    unlabelled = [c.get("id") for c in page.controls if c.get("id") not in page.labels]
    assert unlabelled == []
    html = response.get_data(as_text=True)
    for form in re.findall(r'<form method="post".*?</form>', html, re.S):
        assert 'name="csrf_token"' in form


def test_answer_files_are_kept_for_a_while_and_only_so_many() -> None:
    store = AnswerStore(max_items=2, ttl_s=3600)
    first = store.put("browser-a", "a.csv", "x")
    assert first is not None and store.get("browser-a", first) is not None
    assert store.get("browser-b", first) is None
    store.put("browser-a", "b.csv", "y")
    store.put("browser-a", "c.csv", "z")
    assert store.get("browser-a", first) is None and len(store) == 2
    expired = AnswerStore(ttl_s=0)
    token = expired.put("browser-a", "a.csv", "x")
    assert token is not None
    time.sleep(0.01)
    assert expired.get("browser-a", token) is None
    assert AnswerStore(max_chars=3).put("browser-a", "big.csv", "four") is None


def test_api_answers_are_unchanged_by_the_pages(web_app: Flask) -> None:
    client = web_app.test_client()
    missing = client.get("/no-such-path")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/screen?name=Finder").mimetype == "application/json"
    assert "/entity/{entity_id}" not in client.get("/openapi.json").get_json()["paths"]


# -- the pure parts -----------------------------------------------------------------------------


def test_why_reads_alignment_lists_and_named_objects_alike() -> None:
    as_lists = {
        "query_normalized": "finder tecnology",
        "candidate_normalized": "finder technology ltd",
        "alignment": [["finder", "finder", 1.0, 1.0], ["tecnology", "technology", 0.95, 0.45]],
        "unmatched_query": [],
        "unmatched_candidate": ["ltd"],
        "penalties": [],
        "rule": "alignment",
    }
    keys = ("query_word", "listed_word", "similarity", "weight")
    as_objects = {
        **as_lists,
        "alignment": [dict(zip(keys, a, strict=True)) for a in as_lists["alignment"]],
    }
    match = {"matched_name": "FINDER TECHNOLOGY LTD", "name_kind": "primary", "score": 0.93}
    first = explain.why({**match, "explanation": as_lists}, 0.8)
    assert first == explain.why({**match, "explanation": as_objects}, 0.8)
    assert first == (
        "Every word of your name lines up with the listed name “FINDER TECHNOLOGY LTD” "
        "(a close spelling: “tecnology” ≈ “technology” (0.95)); its “ltd” not in yours; "
        "score 0.93, at or above the 0.80 threshold."
    )
    assert [w.state for w in explain.listed_words(as_objects)] == [
        "aligned",
        "aligned",
        "unmatched",
    ]
    # A sentence the screening gives is used, with where the score stands.
    assert explain.why({**match, "summary": "Said by the matcher.", "explanation": {}}, 0.8) == (
        "Said by the matcher; score 0.93, at or above the 0.80 threshold."
    )


def test_quotes_are_found_across_any_whitespace() -> None:
    text = "One line\nThe UK  announces\n\nsanctions today."
    assert quote_spans(text, ["UK announces sanctions"]) == [(13, 37)]
    assert text[13:37] == "UK  announces\n\nsanctions"
    pieces = in_context(text, "announces sanctions", around=5)
    assert pieces is not None
    assert [p.text for p in pieces if p.marked] == ["announces\n\nsanctions"]
    assert in_context(text, "not in it") is None
