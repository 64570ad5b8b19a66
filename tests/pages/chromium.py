"""Headless Chromium for the page tests: the app served by uvicorn on 127.0.0.1 over its
own copy of the ledger, driven by Selenium through the system's chromedriver (never a
downloaded one); axe-core from node_modules; screenshots kept under build/screenshots/."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.api.world import Template, World, open_world
from tests.pages.test_escaping import hostile_record

__all__ = [
    "BROWSER",
    "By",
    "Keys",
    "NoAlertPresentException",
    "WebDriverWait",
    "driver",
    "screenshot",
    "serious_violations",
    "served",
    "sign_in",
    "sign_out",
    "wait_for",
]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots" / "pages"

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # pragma: no cover - selenium is a dev dependency
    webdriver = None  # type: ignore[assignment]

BROWSER = [
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


def wait_for(driver: Any, element_id: str) -> Any:
    """The element once the page navigated to shows it (a click returns before the next
    page has loaded on a busy machine)."""
    return WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )


def sign_out(driver: Any, base: str) -> None:
    driver.get(base + "/")
    buttons = driver.find_elements(By.ID, "logout")
    if buttons:
        buttons[0].click()
    wait_for(driver, "public-view")


def sign_in(driver: Any, base: str, token: str) -> None:
    driver.get(base + "/login")
    wait_for(driver, "api_key").send_keys(token)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, "signed-in")


def screenshot(driver: Any, name: str) -> Path:
    """The page as the browser shows it, kept for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 5_000, path
    return path


def serious_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical accessibility violations of the page shown."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify(String(e))));"
    )
    violations = json.loads(found)
    assert isinstance(violations, list), violations
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]
