"""The pages in a real headless Chromium against a real `registry serve`: screen
a name and read its evidence, upload a list and download the answer, open an
entity and its history, decide with a key, bad input, keyboard only. One
browser and one server for the module; every page is also checked for
Content-Security-Policy violations in the browser's console."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver import Chrome
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .browser import DESKTOP, PHONE, missing, set_width, start_chromium
from .conftest import served
from .test_web_pages import FINDER_QUOTE, load_registry

WAIT_S = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("browser") / "registry.db"
    info = load_registry(path)
    with served(path, "--load", "fixtures") as running:
        yield {"base": running.base, "server": running, **info}


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Chrome]:
    why = missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    chromium = start_chromium(tmp_path_factory.mktemp("profile"), downloads)
    try:
        yield chromium
    finally:
        chromium.quit()


@pytest.fixture
def browser(driver: Chrome, server: dict[str, Any]) -> Iterator[WebDriver]:
    """The module's browser, as a new visitor (no cookies), checked for console
    errors after the test."""
    driver.delete_all_cookies()
    driver.get_log("browser")  # start from an empty console
    yield driver
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in errors if not answered_with_an_error_page(m)] == []


def answered_with_an_error_page(message: str) -> bool:
    """The console's note that a page itself came with a 4xx status (a refused
    form, by design), as opposed to a failing asset, script or policy."""
    url = message.split(" ", 1)[0]
    return "/assets/" not in url and "the server responded with a status of 4" in message


def wait_for(driver: WebDriver, css: str) -> WebElement:
    found: WebElement = WebDriverWait(driver, WAIT_S).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )
    return found


def follow(driver: WebDriver, act: Any) -> None:
    """Run `act` (a click or Enter that loads a page) and wait until the old page is
    gone, so later look-ups never see elements of the page being left (a
    StaleElementReferenceException or a false match under load)."""
    old = driver.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(driver, WAIT_S).until(lambda _: is_gone(old))


def is_gone(element: WebElement) -> bool:
    """Whether `element` has left the document. Like `ec.staleness_of`, but also
    when chromedriver, asked mid-navigation, answers "Node with given id does not
    belong to the document" as a generic error instead of a stale reference (seen
    once in a clean CI run)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in (error.msg or ""):
            return True
        raise
    return False


def active(driver: WebDriver) -> WebElement:
    element: WebElement = driver.switch_to.active_element
    return element


def tab_to(driver: WebDriver, predicate: Any, limit: int = 40) -> WebElement:
    """Press Tab until the focused element satisfies `predicate`."""
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = active(driver)
        if predicate(element):
            return element
    raise AssertionError("Tab never reached the element")


def test_screen_a_name_and_see_finder_technology_with_its_evidence(
    browser: WebDriver, server: dict[str, Any]
) -> None:
    browser.get(server["base"] + "/")
    name = browser.find_element(By.ID, "name")
    name.send_keys("Finder Тechnology Co., Ltd.")  # a Cyrillic Т inside
    follow(browser, lambda: name.send_keys(Keys.ENTER))
    first = wait_for(browser, "li.match h3 a")
    assert first.text == "FINDER TECHNOLOGY LTD"
    match = browser.find_element(By.CSS_SELECTOR, "li.match")
    marked = [m.text for m in match.find_elements(By.CSS_SELECTOR, ".align mark")]
    assert "finder" in marked and "technology" in marked
    why = match.find_element(By.CSS_SELECTOR, ".why").text
    assert "3 of 4 words of the query match FINDER TECHNOLOGY LTD (the primary name)" in why
    assert why.endswith("at or above the 0.80 threshold.")
    quotes = [q.text for q in match.find_elements(By.CSS_SELECTOR, "figure.evidence mark")]
    assert FINDER_QUOTE in quotes
    # The evidence link opens the source document with the quote marked in it.
    follow(browser, match.find_element(By.LINK_TEXT, "read it in the document").click)
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".document mark")]
    assert any(FINDER_QUOTE in m for m in marks)


def test_keyboard_only_use_of_the_screen_form(browser: WebDriver, server: dict[str, Any]) -> None:
    browser.get(server["base"] + "/")
    skip = tab_to(browser, lambda e: e.tag_name == "a", limit=1)
    assert skip.text == "Skip to content"
    name = tab_to(browser, lambda e: e.get_attribute("id") == "name")
    # The focused field is visibly outlined.
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", name) in (
        "solid",
        "auto",
    )
    name.send_keys("Juhang Aviation Technology")
    kind = tab_to(browser, lambda e: e.get_attribute("id") == "type", limit=1)
    kind.send_keys("c")  # the first option starting with "c": Company
    country = tab_to(browser, lambda e: e.get_attribute("id") == "country", limit=1)
    country.send_keys("CN")
    options = tab_to(browser, lambda e: e.tag_name == "summary")
    options.send_keys(Keys.ENTER)  # open "More options" from the keyboard
    hide = tab_to(browser, lambda e: e.get_attribute("id") == "hide_false_positives")
    hide.send_keys(Keys.SPACE)
    button = tab_to(browser, lambda e: e.tag_name == "button")
    assert button.text == "Screen"
    follow(browser, lambda: button.send_keys(Keys.ENTER))
    wait_for(browser, "li.match h3 a")
    assert "type=company" in browser.current_url and "country=CN" in browser.current_url
    assert "hide_false_positives=true" in browser.current_url
    link = tab_to(
        browser,
        lambda e: (e.get_attribute("href") or "").endswith(
            "/entity/juhang-aviation-technology-shenzhen-co-limited"
        ),
    )
    follow(browser, lambda: link.send_keys(Keys.ENTER))
    assert wait_for(browser, "h1").text.startswith("JUHANG AVIATION TECHNOLOGY")


def test_upload_a_csv_and_download_the_answer(
    browser: WebDriver, server: dict[str, Any], tmp_path: Path, downloads: Path
) -> None:
    names = (
        "id,name,type\nA1,Finder Technology Limited,company\nA2,Juhang Aviation,\nA3,Acme Bakery,\n"
    )
    upload = tmp_path / "customers.csv"
    upload.write_text(names)
    browser.get(server["base"] + "/")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    follow(
        browser, browser.find_element(By.CSS_SELECTOR, "section.batch button[type=submit]").click
    )
    heading = wait_for(browser, "#batch-results-heading")
    assert heading.text == "customers.csv: 3 names screened, 2 with a match"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.results-table tbody tr")
    assert "FINDER TECHNOLOGY LTD" in rows[0].text
    assert "No match" in rows[-1].text
    browser.find_element(By.PARTIAL_LINK_TEXT, "Download the answer file").click()
    answer = downloads / "customers-screened.csv"
    deadline = time.monotonic() + WAIT_S
    while not answer.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answer.exists(), list(downloads.iterdir())
    api = requests.post(
        server["base"] + "/screen",
        data=names.encode(),
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=30,
    )
    assert answer.read_bytes() == api.content
    ids = [r["entity_id"] for r in csv.DictReader(io.StringIO(answer.read_text()))]
    assert ids[0] == "finder-technology-ltd"


def test_a_bad_file_shows_a_clear_message(
    browser: WebDriver, server: dict[str, Any], tmp_path: Path
) -> None:
    bad = tmp_path / "customers.csv"
    bad.write_text("company,country\nFinder,CN\n")
    browser.get(server["base"] + "/")
    browser.find_element(By.ID, "file").send_keys(str(bad))
    follow(
        browser, browser.find_element(By.CSS_SELECTOR, "section.batch button[type=submit]").click
    )
    message = wait_for(browser, "#file-error")
    assert "The CSV header needs a 'name' column" in message.text
    field = browser.find_element(By.ID, "file")
    assert field.get_attribute("aria-invalid") == "true"
    described_by = field.get_attribute("aria-describedby")
    assert described_by is not None
    assert "file-error" in described_by


def test_open_an_entity_and_its_history(browser: WebDriver, server: dict[str, Any]) -> None:
    browser.get(server["base"] + "/?name=Banco+Nacional+de+Cuba")
    follow(browser, wait_for(browser, "li.match h3 a").click)
    assert wait_for(browser, "h1").text == "BANCO NACIONAL DE CUBA"
    row = browser.find_element(By.CSS_SELECTOR, "figure.row-evidence")
    assert "sdn_2024-02-23.csv" in row.text and server["runs"][1] in row.text
    follow(browser, browser.find_element(By.LINK_TEXT, "History of every change").click)
    versions = browser.find_elements(By.CSS_SELECTOR, "ol.history > li")
    assert len(versions) == 2
    assert "NATIONAL BANK OF CUBA" in versions[1].find_element(By.CSS_SELECTOR, "ins").text
    # The entity as it stood at the first version: before the alias was added.
    follow(browser, versions[0].find_element(By.LINK_TEXT, "the entity as it stood then").click)
    assert "As the registry stood at" in wait_for(browser, "p.notice").text
    assert (
        "NATIONAL BANK OF CUBA"
        not in browser.find_element(By.ID, "names-h").find_element(By.XPATH, "..").text
    )


def test_record_and_withdraw_a_decision_with_a_key(
    browser: WebDriver, server: dict[str, Any]
) -> None:
    browser.get(server["base"] + "/?name=Beijing+Micropilot+Flight+Control")
    wait_for(browser, "li.match")
    follow(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Decide on this match").click)
    follow(browser, browser.find_element(By.LINK_TEXT, "Sign in with an API key").click)
    # A bad key first: refused, the message by the field.
    key = wait_for(browser, "#key")
    key.send_keys("rk_nope")
    follow(browser, lambda: key.send_keys(Keys.ENTER))
    assert wait_for(browser, "#key-error").text == "This key is not valid or has been revoked."
    assert browser.find_element(By.ID, "key").get_attribute("aria-invalid") == "true"
    key = browser.find_element(By.ID, "key")
    key.send_keys(server["keys"]["write"])
    follow(browser, lambda: key.send_keys(Keys.ENTER))
    assert "Signed in with the key" in wait_for(browser, ".notice").text
    assert "/decide?query=" in browser.current_url  # back where the person was
    browser.find_element(By.ID, "verdict-fp").send_keys(Keys.SPACE)
    browser.find_element(By.ID, "note").send_keys("Our supplier is a flight school in Xi'an.")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "section button[type=submit]").click)
    assert "Recorded: false positive" in wait_for(browser, ".notice").text
    in_force = browser.find_element(By.CSS_SELECTOR, "section table tbody tr")
    assert "in force" in in_force.text and "flight school" in in_force.text
    # The same decision, through the API.
    decisions = requests.get(
        server["base"] + "/decisions",
        params={"entity": "beijing-micropilot-flight-control-systems-co-ltd"},
        timeout=10,
    ).json()["items"]
    assert [d["note"] for d in decisions] == ["Our supplier is a flight school in Xi'an."]
    follow(browser, in_force.find_element(By.CSS_SELECTOR, "button").click)
    assert "Withdrawn:" in wait_for(browser, ".notice").text
    state = browser.find_element(By.CSS_SELECTOR, "section table tbody tr").text
    assert "withdrawn" in state
    # Signing out forgets the key.
    follow(browser, browser.find_element(By.CSS_SELECTOR, "header .who button").click)
    assert "Signed out" in wait_for(browser, ".notice").text
    cookie = browser.get_cookie("registry_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True


PHONE_PAGES = (
    "/?name=Finder+Technology",
    "/entity/finder-technology-ltd",
    "/entity/us-ofac-sdn:306/history",
    "/decide?query=Finder&entity=finder-technology-ltd",
    "/lists",
)


def test_pages_fit_a_phone_width(browser: WebDriver, server: dict[str, Any]) -> None:
    """Nothing wider than a phone's screen: no sideways scrolling of the page (a
    wide table scrolls inside its own frame or becomes cards)."""
    set_width(browser, PHONE)
    try:
        for path in PHONE_PAGES:
            browser.get(server["base"] + path)
            wide = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], (path, wide)
            size = browser.execute_script(
                "return parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)"
            )
            assert size >= 14, (path, size)
            # Tables of results and diffs become one card per row: they fit too.
            for table in browser.find_elements(By.CSS_SELECTOR, "table.diff, table.results-table"):
                fits = browser.execute_script(
                    "return arguments[0].scrollWidth <= arguments[0].parentElement.clientWidth",
                    table,
                )
                assert fits, path
    finally:
        set_width(browser, DESKTOP)


def test_lists_and_docs_pages(browser: WebDriver, server: dict[str, Any]) -> None:
    browser.get(server["base"] + "/lists")
    follow(browser, browser.find_element(By.LINK_TEXT, server["runs"][1]).click)
    follow(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Delisted").click)
    assert "ANGLO-CARIBBEAN" in wait_for(browser, "ol.changes").text
    browser.get(server["base"] + "/docs")
    wait_for(browser, ".swagger-ui .opblock-tag")
    assert "/screen" in browser.find_element(By.ID, "swagger-ui").text
