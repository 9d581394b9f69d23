"""Screenshots of every page at desktop and phone width, for the README.

    python -m scripts.screenshots [OUT_DIR]     (default docs/screenshots)

Serves a fresh registry (the seed fixtures and two small OFAC imports, as the
browser tests do) with `registry serve`, drives Debian's headless Chromium
through the same flows a person would, and saves one PNG per page and width;
pngquant, when installed, makes them small.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import DESKTOP, PHONE, set_width, start_chromium
from tests.conftest import served
from tests.test_web_pages import load_registry

ROOT = Path(__file__).resolve().parents[1]


def shoot(driver: WebDriver, out: Path, name: str) -> None:
    """The page as it shows, from its top (up to two screens long)."""
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        set_width(driver, size)
        driver.execute_script(
            "const target = location.hash && document.querySelector(location.hash);"
            "if (target) { target.scrollIntoView(); }"
        )
        time.sleep(0.3)
        # The desktop from the top; the phone from where the page put the reader
        # (the results, after a search).
        top = 0 if size == DESKTOP else int(driver.execute_script("return window.scrollY"))
        full = int(driver.execute_script("return document.documentElement.scrollHeight"))
        height = min(full - top, size[1] * 2)
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": top, "width": size[0], "height": height, "scale": 1},
            },
        )
        path = out / f"{name}-{suffix}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        if shutil.which("pngquant"):
            subprocess.run(
                ["pngquant", "--force", "--skip-if-larger", "--output", str(path), "64", str(path)],
                check=False,
            )
        print(f"{path}  {path.stat().st_size // 1024} KiB")
    set_width(driver, DESKTOP)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="registry-shots-") as tmp:
        db_path = Path(tmp) / "registry.db"
        info = load_registry(db_path)
        with served(db_path) as server:
            driver = start_chromium(Path(tmp) / "profile", Path(tmp) / "downloads")
            wait = WebDriverWait(driver, 20)
            base = server.base
            try:
                driver.get(f"{base}/?name=Finder+Tecnology+Co.,+Ltd.#results")
                wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "li.match")))
                shoot(driver, out, "screen")

                names = Path(tmp) / "customers.csv"
                names.write_text(
                    "id,name,country\nC-101,Finder Technology Limited,HK\n"
                    "C-102,Juhang Aviation Technology,CN\nC-103,Beijing Pilot School,CN\n"
                    "C-104,Dennex Enterprises,\nC-105,Acme Bakery,GB\n"
                )
                driver.get(f"{base}/")
                driver.find_element(By.ID, "file").send_keys(str(names))
                driver.find_element(By.CSS_SELECTOR, "section.batch button").click()
                wait.until(ec.visibility_of_element_located((By.ID, "batch-results-heading")))
                shoot(driver, out, "screen-list")

                driver.get(f"{base}/entity/finder-technology-ltd")
                shoot(driver, out, "entity")
                driver.get(f"{base}/entity/us-ofac-sdn:306/history")
                shoot(driver, out, "history")

                page = f"{base}/decide?query=Finder+Tech+Ltd&entity=finder-technology-ltd"
                driver.get(f"{base}/session?next=" + page.removeprefix(base).replace("&", "%26"))
                key = driver.find_element(By.ID, "key")
                key.send_keys(info["keys"]["write"], Keys.ENTER)
                wait.until(ec.visibility_of_element_located((By.ID, "verdict-fp")))
                driver.find_element(By.ID, "verdict-fp").click()
                driver.find_element(By.ID, "note").send_keys(
                    "Our customer is Finder Tech AS of Oslo (org. no. 912 345 678)."
                )
                driver.find_element(By.CSS_SELECTOR, "section button[type=submit]").click()
                wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".notice")))
                shoot(driver, out, "decide")

                driver.get(f"{base}/lists")
                shoot(driver, out, "lists")
                driver.get(f"{base}/lists/runs/{info['runs'][1]}?change=changed")
                shoot(driver, out, "run")
                driver.get(f"{base}/docs")
                wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".opblock-tag")))
                shoot(driver, out, "docs")
            finally:
                driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
