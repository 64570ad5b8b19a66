"""The pages in a real headless Chromium: the app served by uvicorn on 127.0.0.1, driven
by Selenium through the system's chromedriver (never a downloaded one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.examples import CC_ENTERPRISE_2025, SUB_TANK_EU
from tests.api.world import TANK_SUBJECT, World
from tests.pages.chromium import BROWSER, By, NoAlertPresentException, driver, served, sign_out
from tests.pages.chromium import wait_for as _wait
from tests.pages.test_escaping import HOSTILE_ID, HOSTILE_SUBJECT

pytestmark = BROWSER
__all__ = ["driver", "served"]  # the fixtures, imported for pytest


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

    driver.get(base + "/trail?subject=" + _quote(TANK_SUBJECT))
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
    sign_out(driver, base)
    driver.get(base + "/")
    driver.find_element(By.ID, "q").send_keys(CC_ENTERPRISE_2025)
    driver.find_element(By.ID, "search-submit").click()
    assert "AA" in _wait(driver, "grade").text
    assert "2025-01-01" in driver.find_element(By.ID, "period").text
    assert not driver.find_elements(By.ID, "scores")
    assert driver.find_elements(By.ID, "scores-withheld")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "86.50" not in body and "82.375" not in body and "withheld" in body


def test_hostile_text_stays_text_in_the_dom(served: tuple[World, str], driver: Any) -> None:
    world, base = served
    sign_out(driver, base)
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
