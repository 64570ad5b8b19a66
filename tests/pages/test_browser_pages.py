"""Every page in a real headless Chromium, in both languages, anonymous and signed in:
axe-core finds no serious or critical violation, the language is the one chosen (and
remembered), a screenshot of each is kept under build/screenshots/pages/; the search by
each kind of key and the sign-in with the keyboard alone; the document check with a real
file hashed by Web Crypto."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from ledger.examples import (
    BIM_TANK_INSPECTION,
    CC_ENTERPRISE_2025,
    CR_TANK,
    SUB_HX_SEA,
    SUB_TANK_EU,
)
from tests.api.world import ENTERPRISE, TANK_SUBJECT, World
from tests.pages.chromium import (
    BROWSER,
    By,
    Keys,
    WebDriverWait,
    driver,
    screenshot,
    serious_violations,
    served,
    sign_in,
    sign_out,
    wait_for,
)

pytestmark = BROWSER
__all__ = ["driver", "served"]  # the fixtures, imported for pytest

NAME_ZH = "示例防腐设备有限公司"
#: (screenshot name, path and query, who may see it: "any" or "signed-in")
PAGES = [
    ("home", "/", "any"),
    ("search-results", "/search?q=" + quote("urn:carbonledger:none"), "any"),
    ("enterprises", "/enterprises", "any"),
    ("enterprise", "/enterprise?id=" + quote(ENTERPRISE), "any"),
    ("equipment-list", "/equipment", "any"),
    ("equipment", "/equipment/view?subject=" + quote(TANK_SUBJECT), "any"),
    ("record-carbon", "/record?id=" + quote(CR_TANK), "any"),
    ("record-conversion", "/record?id=" + quote(SUB_TANK_EU), "any"),
    ("record-credit-change", "/record?id=" + quote(CC_ENTERPRISE_2025), "any"),
    ("trail", "/trail?subject=" + quote(TANK_SUBJECT), "any"),
    ("batches", "/batches", "any"),
    ("batch", "/batch?seq=1", "any"),
    ("warnings", "/warnings", "any"),
    ("whitelist", "/whitelist", "any"),
    ("registry", "/registry", "any"),
    ("check", "/check", "any"),
    ("login", "/login", "any"),
    ("error-not-found", "/record?id=" + quote("urn:carbonledger:carbon-record:none"), "any"),
    ("access", "/access", "signed-in"),
    ("access-log", "/access/log", "signed-in"),
]
#: A word of the navigation in each language: the page really is in that language.
NAV = {"en": ("en", "Overview"), "zh": ("zh-CN", "概览")}


def _register_names(world: World) -> None:
    reply = world.http.put(
        "/v1/enterprise",
        params={"id": ENTERPRISE},
        headers=world.headers("eu-regulator"),
        json={
            "name_en": "Example Anti-Corrosion Equipment Co., Ltd.",
            "name_zh": NAME_ZH,
            "region": "CN",
            "handle_prefixes": ["88.118.8"],
        },
    )
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("principal", [None, "eu-regulator"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_in_both_languages_is_accessible(
    served: tuple[World, str], driver: Any, lang: str, principal: str | None
) -> None:
    world, base = served
    _register_names(world)
    sign_out(driver, base)
    if principal is not None:
        sign_in(driver, base, world.template.tokens[principal])
    driver.get(base + "/?lang=" + lang)  # chosen once, then remembered (cl_lang)
    html_lang, word = NAV[lang]
    problems: dict[str, Any] = {}
    for name, url, who in PAGES:
        if who == "signed-in" and principal is None:
            continue
        driver.get(base + url)
        wait_for(driver, "main")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == html_lang, url
        assert word in driver.find_element(By.CSS_SELECTOR, "nav.main-nav").text, url
        assert "Traceback" not in driver.page_source and not driver.page_source.startswith("{")
        screenshot(driver, f"{name}.{lang}.{principal or 'public'}")
        found = serious_violations(driver)
        if found:
            problems[url] = found
    assert problems == {}


def test_the_error_page_speaks_the_readers_language(served: tuple[World, str], driver: Any) -> None:
    _world, base = served
    sign_out(driver, base)
    driver.get(base + "/record?lang=zh&id=" + quote("urn:carbonledger:carbon-record:none"))
    assert "未找到" in wait_for(driver, "main").text
    driver.get(base + "/search?q=" + quote("0x12"))  # a malformed transaction hash
    assert "请检查输入内容" in wait_for(driver, "main").text
    driver.get(base + "/?lang=en")


def _search_with_the_keyboard(driver: Any, base: str, query: str) -> str:
    """From the top of the home page, with keys only: tab to the search box, type, Enter.
    Returns the path and query the browser lands on."""
    driver.get(base + "/")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link
    for _ in range(6):
        if driver.switch_to.active_element.get_attribute("id") == "q":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "q"
    home = driver.current_url
    driver.switch_to.active_element.send_keys(query, Keys.ENTER)
    # Every search leaves the home page: wait for the next page, not the one still shown.
    WebDriverWait(driver, 15).until(lambda d: d.current_url != home)
    wait_for(driver, "main")
    parts = urlsplit(driver.current_url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_search_finds_each_kind_of_key_with_the_keyboard_alone(
    served: tuple[World, str], driver: Any
) -> None:
    world, base = served
    _register_names(world)
    sign_out(driver, base)
    digest = world.http.get("/v1/record/status", params={"id": SUB_HX_SEA}).json()["digest"]
    batch = world.http.get("/v1/batches").json()["items"][1]
    enterprise_page = "/enterprise?id=" + quote(ENTERPRISE, safe="")
    cases = {
        "  anti-CORROSION   equipment ": enterprise_page,  # part of the name, any case/space
        "防腐设备": enterprise_page,  # part of the Chinese name
        TANK_SUBJECT.lower(): "/equipment/view?subject=" + quote(TANK_SUBJECT, safe=""),
        SUB_HX_SEA: "/record?id=" + quote(SUB_HX_SEA, safe=""),
        digest.upper(): "/record?id=" + quote(SUB_HX_SEA, safe=""),
        batch["tx_hash"]: f"/batch?seq={batch['seq']}",
        f"#{batch['seq']}": f"/batch?seq={batch['seq']}",
    }
    landed = {query: _search_with_the_keyboard(driver, base, query) for query in cases}
    assert landed == cases
    assert _search_with_the_keyboard(driver, base, "no such enterprise").startswith("/search")
    assert "未找到" not in driver.find_element(By.ID, "main").text


def test_sign_in_with_the_keyboard_alone(served: tuple[World, str], driver: Any) -> None:
    world, base = served
    sign_out(driver, base)
    driver.get(base + "/")
    for _ in range(40):
        if driver.switch_to.active_element.get_attribute("id") == "login-link":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "login-link"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(driver, "api_key")
    for _ in range(40):
        if driver.switch_to.active_element.get_attribute("id") == "api_key":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    field = driver.switch_to.active_element
    assert field.get_attribute("id") == "api_key"
    field.send_keys(world.template.tokens["eu-regulator"], Keys.ENTER)
    assert "eu-regulator" in wait_for(driver, "signed-in").text
    sign_out(driver, base)


def _hash_shown(driver: Any) -> str:
    """The SHA-256 the page's script put in the form (Web Crypto answers asynchronously)."""
    value: str = WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.ID, "sha256").get_attribute("value")
    )
    return value


def test_a_document_is_checked_by_its_hash_computed_in_the_browser(
    served: tuple[World, str], driver: Any, tmp_path: Path
) -> None:
    world, base = served
    document = tmp_path / "inspection-report.pdf"
    document.write_bytes(b"%PDF-1.7\n% an inspection report\n" + bytes(range(256)) * 40)
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    record = copy.deepcopy(world.template.records[BIM_TANK_INSPECTION])
    record["id"] = "urn:carbonledger:bim-archive:st-tk-0101-report-check"
    record["body"]["documents"][0]["sha256"] = digest
    record["body"]["documents"][0]["size"] = document.stat().st_size
    world.client("plant-mes").submit(record)
    sign_out(driver, base)

    driver.get(base + "/check")
    wait_for(driver, "document").send_keys(str(document))
    assert _hash_shown(driver) == digest
    driver.find_element(By.ID, "check-submit").click()
    found = wait_for(driver, "check-found")
    assert "1" in found.text
    links = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#check-matches a")]
    assert record["id"] in links
    screenshot(driver, "check-found.en.public")

    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.7\n% not anchored\n")
    driver.get(base + "/check")
    wait_for(driver, "document").send_keys(str(other))
    assert _hash_shown(driver) == hashlib.sha256(other.read_bytes()).hexdigest()
    driver.find_element(By.ID, "check-submit").click()
    assert wait_for(driver, "check-not-found").is_displayed()
