"""The pages in a real headless Chromium: the app served by uvicorn on 127.0.0.1, driven
by Selenium through the system's chromedriver (never a downloaded one)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ledger.examples import CC_ENTERPRISE_2025, SUB_TANK_EU
from tests.api.world import TANK_SUBJECT, Template, World, open_world
from tests.pages.test_escaping import HOSTILE_ID, HOSTILE_SUBJECT, hostile_record

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # pragma: no cover - selenium is a dev dependency
    webdriver = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        webdriver is None or not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="browser tests need the Debian packages chromium and chromium-driver "
        "(/usr/bin/chromium, /usr/bin/chromedriver) and the Python package selenium",
    ),
]


@pytest.fixture(scope="module")
def served(
    template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, str]]:
    """The app over its own copy of the ledger, on a free port of 127.0.0.1."""
    world = open_world(template, tmp_path_factory.mktemp("pages-browser") / "data")
    hostile_record(world)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield world, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        world.store.close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager is never asked to download anything.
    chrome = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    chrome.set_page_load_timeout(20)
    try:
        yield chrome
    finally:
        chrome.quit()


def _wait(driver: Any, element_id: str) -> Any:
    """The element once the page navigated to shows it (a click returns before the next
    page has loaded on a busy machine)."""
    return WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )


def _sign_out(driver: Any, base: str) -> None:
    driver.get(base + "/")
    buttons = driver.find_elements(By.ID, "logout")
    if buttons:
        buttons[0].click()
    _wait(driver, "public-view")


def test_regulator_signs_in_browses_a_trail_and_a_conversion(
    served: tuple[World, str], driver: Any, tmp_path: Path
) -> None:
    world, base = served
    driver.get(base + "/")
    driver.find_element(By.ID, "login-link").click()
    _wait(driver, "api_key")
    driver.find_element(By.ID, "api_key").send_keys(world.template.tokens["eu-regulator"])
    driver.find_element(By.ID, "login-submit").click()
    assert "eu-regulator" in _wait(driver, "signed-in").text
    assert driver.find_element(By.NAME, "csrf").get_attribute("type") == "hidden"
    cookies = {c["name"]: c for c in driver.get_cookies()}
    assert cookies["cl_session"]["httpOnly"] and cookies["cl_session"]["sameSite"] == "Strict"

    driver.find_element(By.ID, "subject").send_keys(TANK_SUBJECT)
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    assert _wait(driver, "subject-id").text == TANK_SUBJECT
    rows = driver.find_elements(By.CSS_SELECTOR, "#trail tbody tr")
    assert len(rows) == 5

    driver.find_element(By.LINK_TEXT, SUB_TANK_EU).click()
    assert _wait(driver, "record-id").text == SUB_TANK_EU
    assert "Full view" in driver.find_element(By.ID, "view-kind").text
    table = driver.find_element(By.ID, "differences")
    kinds = [r.get_attribute("class") for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert kinds.count("diff-stage-removed") == 3 and "diff-gwp-changed" in kinds
    assert "AR6 → AR5" in table.text
    shot = tmp_path / "conversion.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    driver.find_element(By.ID, "logout").click()
    _wait(driver, "public-view")
    assert "cl_session" not in {c["name"] for c in driver.get_cookies()}


def test_public_sees_the_grade_not_the_scores(served: tuple[World, str], driver: Any) -> None:
    _world, base = served
    _sign_out(driver, base)
    driver.get(base + "/")
    driver.find_element(By.ID, "id").send_keys(CC_ENTERPRISE_2025)
    driver.find_elements(By.CSS_SELECTOR, "form.search button")[1].click()
    assert _wait(driver, "grade").text == "AA"
    assert "2025-01-01" in driver.find_element(By.ID, "period").text
    assert not driver.find_elements(By.ID, "scores")
    assert driver.find_elements(By.ID, "scores-withheld")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "86.50" not in body and "82.375" not in body and "field hash" in body


def test_hostile_text_stays_text_in_the_dom(served: tuple[World, str], driver: Any) -> None:
    world, base = served
    _sign_out(driver, base)
    for url in (f"/record?id={HOSTILE_ID}", "/trail?subject=" + _quote(HOSTILE_SUBJECT)):
        driver.get(base + url)
        assert driver.find_elements(By.TAG_NAME, "script") == []
        assert driver.find_elements(By.TAG_NAME, "img") == []
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018 - reading it is the check
        assert HOSTILE_SUBJECT in driver.find_element(By.TAG_NAME, "main").text
    assert world.template is not None


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
