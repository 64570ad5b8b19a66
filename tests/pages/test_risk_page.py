"""Risk assessments and export locks on the pages, in a real headless Chromium, in both
languages: the page of an assessment leads with the answer (level, region, the estimated
tariff with its date, the differences and findings, whether exports are locked and why),
and the equipment's and the enterprise's pages show the assessment in force per target
region; axe-core finds no serious or critical violation. The assessments are accepted
through the real accept path, the same lock function deciding what the pages say."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import pytest

from ledger.core.canonical import format_timestamp
from ledger.core.crossborder import compose
from ledger.core.records import validate_record
from ledger.core.signature import private_key_from_seed, public_key_bytes
from ledger.core.submission import submission_bytes
from ledger.core.view import commit
from ledger.examples import cbam_rules, regional_rules
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from ledger.examples.equipment import CR_TANK
from ledger.store.producers import add_producer, add_producer_key
from tests.api.world import ENTERPRISE, KEYS_FROM, TANK_SUBJECT, World
from tests.pages.chromium import (
    BROWSER,
    By,
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

ASSESSOR_KEY = private_key_from_seed(b"\x07" * 32)


@pytest.fixture(scope="module")
def assessed(served: tuple[World, str]) -> dict[str, str]:
    """The knowledge base for the EU and North America, and two stored assessments of the
    tank: EU for imports of 2030 (yellow) and North America (red, so locked)."""
    world, _base = served
    # The enterprise's Handle prefix, so that its page lists the tank.
    registered = world.http.put(
        "/v1/enterprise",
        params={"id": ENTERPRISE},
        headers=world.headers("eu-regulator"),
        json={"name_en": "Example Anti-Corrosion Equipment Co., Ltd.", "region": "CN",
              "handle_prefixes": ["88.118.8"]},
    )  # fmt: skip
    assert registered.status_code in (200, 201), registered.text
    with world.store.transaction() as session:
        add_producer(session, xb.PRODUCER_ASSESSOR, created_at=KEYS_FROM)
        add_producer_key(
            session, producer=xb.PRODUCER_ASSESSOR, valid_from=KEYS_FROM,
            public_key_hex=public_key_bytes(ASSESSOR_KEY).hex(),
            record_types=("risk-assessment",),
        )  # fmt: skip
    records = world.template.records
    digests = {rid: r.digest_hex for rid, r in world.template.receipts.items()}
    refdata = world.client("refdata")
    for record in (kb.regional_grids_factor_set(), kb.materials_factor_set()):
        digests[record["id"]] = refdata.submit(record).digest_hex
        records[record["id"]] = record
    rules = {
        "EU": cbam_rules.eu_cbam_kb_rule(digests),
        "NA": regional_rules.north_america_kb_rule(digests),
    }
    for rule in rules.values():
        digests[rule["id"]] = refdata.submit(rule).digest_hex
    ledger = world.app.state.api.ledger
    ids = {}
    for region, year in (("EU", 2030), ("NA", 2026)):
        rule = rules[region]
        record = compose.assessment_record(
            f"urn:carbonledger:risk-assessment:page-test-{region.lower()}",
            format_timestamp(world.clock()),
            xb.PRODUCER_ASSESSOR,
            validate_record(records[CR_TANK]),
            validate_record(rule),
            [validate_record(records[s["id"]]) for s in rule["body"]["factor_sets"]],
            digests,
            import_date=date(year, 7, 1),
        )
        ledger.accept(submission_bytes(commit(record), ASSESSOR_KEY))
        ids[region] = record["id"]
    return ids


#: What each language says, by element: (level, lock) of the red and the yellow one.
WORDS = {
    "en": {"red": "Red: high risk", "yellow": "Yellow: abnormal", "locked": "are locked by this",
           "not-locked": "Not locked", "panel": "Export risk per target region"},
    "zh": {"red": "红", "yellow": "黄", "locked": "已被本评估锁定", "not-locked": "未锁定",
           "panel": "各目标市场的出口风险"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_risk_pages_lead_with_the_answer_in_both_languages(
    served: tuple[World, str], assessed: dict[str, str], driver: Any, lang: str
) -> None:
    world, base = served
    sign_out(driver, base)
    words = WORDS[lang]
    problems: dict[str, Any] = {}

    def visit(url: str, name: str) -> Any:
        driver.get(base + url + "&lang=" + lang)
        main = wait_for(driver, "main")
        assert "Traceback" not in driver.page_source
        screenshot(driver, f"{name}.{lang}")
        found = serious_violations(driver)
        if found:
            problems[url] = found
        return main

    visit("/risk?id=" + quote(assessed["NA"]), "risk-na")
    assert words["red"] in driver.find_element(By.ID, "risk-level").text
    assert driver.find_element(By.ID, "risk-region").text == "NA"
    assert words["locked"] in driver.find_element(By.ID, "risk-lock").text
    # The public sees the level, not the tariff, the table or the findings.
    assert driver.find_elements(By.ID, "risk-withheld")
    sign_in(driver, base, world.template.tokens["eu-regulator"])
    visit("/risk?id=" + quote(assessed["EU"]), "risk-eu")
    assert words["yellow"] in driver.find_element(By.ID, "risk-level").text
    tariff = driver.find_element(By.ID, "risk-tariff").text
    assert "1,635.81" in tariff and "EUR" in tariff and "2030" in tariff
    assert words["not-locked"] in driver.find_element(By.ID, "risk-lock").text
    for url, name in (
        ("/equipment/view?subject=" + quote(TANK_SUBJECT), "equipment-risks"),
        ("/enterprise?id=" + quote(ENTERPRISE), "enterprise-risks"),
    ):
        visit(url, name)
        panel = driver.find_element(By.ID, "risks-in-force")
        assert words["panel"] in panel.text
        rows = panel.find_elements(By.CSS_SELECTOR, "tr.risk-row")
        levels = sorted(r.get_attribute("class").split("risk-row-")[1] for r in rows)
        assert levels == ["red", "yellow"], url
    assert problems == {}
