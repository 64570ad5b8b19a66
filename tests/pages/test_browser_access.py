"""Authorised queries in a real headless Chromium, from the request to the expiry: a
bidder sees the public view, asks for an enterprise's data, the regulator approves, the
bidder reads in full and every such read is in the access log (the regulator's page, the
enterprise's own, the API), then the grant runs out and the bidder is back to the public
view, with an expired grant refused in the reader's language."""

from __future__ import annotations

from typing import Any

from ledger.examples import CC_ENTERPRISE_2025
from tests.api.world import ENTERPRISE, World
from tests.pages.chromium import (
    BROWSER,
    By,
    WebDriverWait,
    driver,
    served,
    sign_in,
    sign_out,
    wait_for,
)

pytestmark = BROWSER
__all__ = ["driver", "served"]  # the fixtures, imported for pytest

DAYS = 7


def _view_kind(driver: Any, base: str) -> str:
    driver.get(f"{base}/record?id={CC_ENTERPRISE_2025}")
    text: str = wait_for(driver, "view-kind").text
    return text


def test_a_grant_from_request_to_expiry_with_its_access_log(
    served: tuple[World, str], driver: Any
) -> None:
    world, base = served
    tokens = world.template.tokens
    sign_out(driver, base)
    sign_in(driver, base, tokens["bidder-co"])
    assert "Public view" in _view_kind(driver, base)

    driver.get(f"{base}/access?enterprise={ENTERPRISE}")
    assert wait_for(driver, "r-enterprise").get_attribute("value") == ENTERPRISE
    driver.find_element(By.CSS_SELECTOR, "#r-scope option[value='ratings']").click()
    driver.find_element(By.ID, "r-purpose").send_keys("Tender 2026-17: bidder qualification")
    days = driver.find_element(By.ID, "r-days")
    days.clear()
    days.send_keys(str(DAYS))
    driver.find_element(By.ID, "request-submit").click()
    row = wait_for(driver, "requests").find_element(By.CSS_SELECTOR, "tbody tr")
    request_id = row.get_attribute("data-request-id")
    assert row.get_attribute("class") == "request-pending"
    assert "Public view" in _view_kind(driver, base)  # nothing before the decision

    sign_out(driver, base)
    sign_in(driver, base, tokens["eu-regulator"])
    driver.get(base + "/access")
    row = wait_for(driver, "requests").find_element(
        By.CSS_SELECTOR, f"tr[data-request-id='{request_id}']"
    )
    row.find_element(By.CSS_SELECTOR, "button.approve").click()
    # The decision posts and lands back on /access: wait for the new page's row.
    WebDriverWait(driver, 15).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, f"tr[data-request-id='{request_id}'].request-approved"
        )
    )

    sign_out(driver, base)
    sign_in(driver, base, tokens["bidder-co"])
    assert "Full view" in _view_kind(driver, base)
    assert wait_for(driver, "scores").is_displayed()

    # The read is logged: the regulator's page, the enterprise's own log, the API.
    sign_out(driver, base)
    sign_in(driver, base, tokens["eu-regulator"])
    driver.get(base + "/access/log")
    rows = wait_for(driver, "access-log").find_elements(By.CSS_SELECTOR, "tbody tr")
    # The page read the rating and, for the scores against it, the previous one.
    bidder_rows = [r.text for r in rows if "bidder-co" in r.text]
    assert any(CC_ENTERPRISE_2025 in r for r in bidder_rows)
    assert all(request_id in r and r.endswith("Pages") for r in bidder_rows)
    sign_out(driver, base)
    sign_in(driver, base, tokens["tank-maker"])
    driver.get(base + "/access/log")
    own = wait_for(driver, "access-log").text
    assert "bidder-co" in own and CC_ENTERPRISE_2025 in own
    log = world.http.get("/v1/access-log", headers=world.headers("tank-maker")).json()["items"]
    reads = [e for e in log if e["principal"] == "bidder-co"]
    assert reads and all(e["enterprise_id"] == ENTERPRISE for e in reads)
    assert all(request_id in e["basis"] for e in reads)
    denied = world.http.get("/v1/access-log", headers=world.headers("bidder-co"))
    assert denied.status_code == 403

    # The period runs out: the bidder is back to the public view, the grant says so.
    world.clock.advance((DAYS + 1) * 86_400)
    sign_out(driver, base)
    sign_in(driver, base, tokens["bidder-co"])
    assert "Public view" in _view_kind(driver, base)
    driver.get(base + "/access?lang=zh")
    row = wait_for(driver, "requests").find_element(By.CSS_SELECTOR, "tbody tr")
    assert row.get_attribute("class") == "request-expired" and "已过期" in row.text
    logged = world.http.get("/v1/access-log", headers=world.headers("eu-regulator")).json()
    assert len([e for e in logged["items"] if e["principal"] == "bidder-co"]) == len(reads)

    # Deciding an expired grant is refused, in the reader's language, with 409.
    sign_out(driver, base)
    sign_in(driver, base, tokens["eu-regulator"])
    reply = world.http.post(
        f"/v1/access-requests/{request_id}/end", headers=world.headers("eu-regulator")
    )
    assert reply.status_code == 409, reply.text
    driver.get(base + "/?lang=en")


def _forge_csrf(driver: Any, form_css: str) -> None:
    """Replace the form's CSRF token with a forged one of the same shape (through the
    driver, as an attacker's page could not: our CSP allows no script on /access)."""
    driver.execute_script(
        "const f = document.querySelector(arguments[0]);"
        "f.querySelector('input[name=csrf]').value = 'Zm9yZ2Vk.Zm9yZ2VkLXNpZ25hdHVyZQ';",
        form_css,
    )


def _requests_of(world: World, principal: str) -> list[dict[str, Any]]:
    reply = world.http.get("/v1/access-requests", headers=world.headers(principal))
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def test_a_forged_csrf_token_is_refused_and_changes_nothing(
    served: tuple[World, str], driver: Any
) -> None:
    world, base = served
    tokens = world.template.tokens
    sign_out(driver, base)
    sign_in(driver, base, tokens["green-bank"])
    before = _requests_of(world, "green-bank")

    # The request form with a forged token: 403, in the reader's language, nothing stored.
    driver.get(f"{base}/access?enterprise={ENTERPRISE}&lang=zh")
    wait_for(driver, "r-purpose").send_keys("Green loan 2026-03: collateral review")
    _forge_csrf(driver, "#request-form")
    driver.find_element(By.ID, "request-submit").click()
    error = wait_for(driver, "error")
    assert error.get_attribute("data-status") == "403"
    assert error.get_attribute("data-slug") == "form-refused"
    assert "csrf" in wait_for(driver, "error-detail").text
    assert _requests_of(world, "green-bank") == before

    # A pending request (through the API), then the regulator's approval with a forged
    # token: 403, and the request is still pending.
    made = world.http.post(
        "/v1/access-requests",
        headers=world.headers("green-bank"),
        json={
            "enterprise_id": ENTERPRISE,
            "scope": "ratings",
            "purpose": "Green loan 2026-04: collateral review",
            "days": 30,
        },
    )
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]
    sign_out(driver, base)
    sign_in(driver, base, tokens["eu-regulator"])
    driver.get(base + "/access?lang=en")
    row_css = f"tr[data-request-id='{request_id}']"
    wait_for(driver, "requests").find_element(By.CSS_SELECTOR, row_css)
    _forge_csrf(driver, f"{row_css} form.decide")
    driver.find_element(By.CSS_SELECTOR, f"{row_css} button.approve").click()
    error = wait_for(driver, "error")
    assert error.get_attribute("data-status") == "403"
    assert "Not allowed" in driver.find_element(By.TAG_NAME, "h1").text
    states = {r["request_id"]: r["state"] for r in _requests_of(world, "eu-regulator")}
    assert states[request_id] == "pending"
    # The genuine form still works: the refusal was the token's, not the account's.
    driver.get(base + "/access")
    wait_for(driver, "requests").find_element(By.CSS_SELECTOR, f"{row_css} button.approve").click()
    WebDriverWait(driver, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"{row_css}.request-approved")
    )
    sign_out(driver, base)
