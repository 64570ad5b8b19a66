"""Every page for every audience (public, producer, auditor, regulator), through the app
in-process over the anchored example ledger: what each page shows and what it withholds."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.examples import (
    BIM_TANK_INSPECTION,
    CC_ENTERPRISE_2025,
    CR_HX,
    CR_TANK,
    CR_TANK_REVISED,
    SUB_HX_SEA,
    SUB_TANK_EU,
    SUB_TANK_UK,
)
from ledger.store.chainfacts import mark_status_mined, mark_status_sending, request_revocation
from tests.api.world import TANK_SUBJECT, World
from tests.pages.conftest import browser, page_of

HX_SUBJECT = "88.118.8/TI-HX-0042"
ENTERPRISE = "urn:carbonledger:enterprise:example-anticorrosion-equipment"
TANK_RECORDS = {CR_TANK, CR_TANK_REVISED, BIM_TANK_INSPECTION, SUB_TANK_EU, SUB_TANK_UK}


def _trail_ids(response: Any) -> list[str]:
    page = page_of(response)
    return [
        str(a["data-record-id"])
        for name, a in page.tags
        if name == "tr" and a.get("data-record-id")
    ]


def _api_record(world: World, record_id: str, principal: str | None) -> dict[str, Any]:
    reply = world.http.get("/v1/record", params={"id": record_id}, headers=world.headers(principal))
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_home_is_public_until_signed_in(world: World) -> None:
    public = page_of(browser(world, None).get("/"))
    assert public.by_id("public-view") is not None and public.by_id("login-link") is not None
    assert public.by_id("signed-in") is None
    regulator = page_of(browser(world, "eu-regulator").get("/"))
    assert "Signed in as eu-regulator (Regulator)" in regulator.text
    assert regulator.by_id("logout") is not None


def test_pages_send_security_headers(world: World) -> None:
    reply = browser(world, None).get("/trail", params={"subject": TANK_SUBJECT})
    csp = reply.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"
    css = browser(world, None).get("/static/pages.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert browser(world, None).get("/static/other.css").status_code == 404


@pytest.mark.parametrize("principal", [None, "eu-regulator", "tuv-auditor"])
def test_trail_lists_every_record_newest_first(world: World, principal: str | None) -> None:
    reply = browser(world, principal).get("/trail", params={"subject": TANK_SUBJECT})
    assert reply.status_code == 200
    ids = _trail_ids(reply)
    assert set(ids) == TANK_RECORDS
    issued = [world.template.records[i]["issued_at"] for i in ids]
    assert issued == sorted(issued, reverse=True)
    text = page_of(reply).text
    # v1 was superseded by v2: the trail says so and links to the successor.
    assert "Superseded" in text and "superseded by" in text
    assert f"/record?id={CR_TANK_REVISED.replace(':', '%3A')}" in page_of(reply).links()
    assert "Anchored on-chain" in text and "tx 0x" in text


def test_trail_of_a_producer_holds_only_its_own_records(world: World) -> None:
    ids = _trail_ids(browser(world, "plant-mes").get("/trail", params={"subject": TANK_SUBJECT}))
    assert set(ids) == {CR_TANK, CR_TANK_REVISED, BIM_TANK_INSPECTION}
    ids = _trail_ids(browser(world, "rating").get("/trail", params={"subject": TANK_SUBJECT}))
    assert ids == []


def test_trail_shows_conversion_links(world: World) -> None:
    reply = browser(world, None).get("/trail", params={"subject": HX_SUBJECT})
    assert set(_trail_ids(reply)) == {CR_HX, SUB_HX_SEA}
    assert "Regional conversion (source) ←" in page_of(reply).text


def test_credit_change_public_shows_grade_not_scores(world: World) -> None:
    reply = browser(world, None).get("/record", params={"id": CC_ENTERPRISE_2025})
    assert reply.status_code == 200
    page = page_of(reply)
    assert "Public view: 8 fields withheld." in page.text
    assert page.by_id("grade") is not None and "A → AA" in page.text
    assert "2025-01-01 – 2026-01-01" in page.text
    assert page.by_id("scores") is None and page.by_id("scores-withheld") is not None
    for secret in ("86.50", "82.375", "82.38", "Annual review", "dynamic_carbon_governance"):
        assert secret not in reply.text
    hidden = _api_record(world, CC_ENTERPRISE_2025, None)["view"]["hidden"]
    assert hidden and all(f"field hash {h}" in page.text for h in hidden)


def test_credit_change_regulator_sees_everything(world: World) -> None:
    reply = browser(world, "eu-regulator").get("/record", params={"id": CC_ENTERPRISE_2025})
    page = page_of(reply)
    assert "Full view: every field." in page.text and page.by_id("scores") is not None
    for shown in ("86.50", "82.375", "82.38", "Annual review of 2025 performance"):
        assert shown in page.text
    assert "field hash" not in page.text


def test_record_of_another_producer_is_not_found_for_a_producer(world: World) -> None:
    # The API's object-level rule (docs/API.md §2): another producer's record does not
    # exist for a producer, so its existence is not revealed.
    reply = browser(world, "plant-mes").get("/record", params={"id": CC_ENTERPRISE_2025})
    assert reply.status_code == 404
    assert "404 · Not found" in page_of(reply).text
    own = page_of(browser(world, "plant-mes").get("/record", params={"id": CR_TANK}))
    assert "Full view: every field." in own.text


def test_auditor_sees_granted_subjects_in_full_and_the_rest_public(world: World) -> None:
    auditor = browser(world, "tuv-auditor")
    assert "Full view" in page_of(auditor.get("/record", params={"id": CR_TANK})).text
    assert "Public view" in page_of(auditor.get("/record", params={"id": CR_HX})).text


def test_conversion_difference_table_public_and_regulator(world: World) -> None:
    public = page_of(browser(world, None).get("/record", params={"id": SUB_HX_SEA}))
    regulator = page_of(browser(world, "eu-regulator").get("/record", params={"id": SUB_HX_SEA}))
    for page in (public, regulator):
        assert page.by_id("differences") is not None
        assert page.by_id("replaced") is not None and "diff-factor-replaced" in str(page.tags)
        assert "Replaced factors" in page.text and "H03" in page.text
    record = world.template.records[SUB_HX_SEA]
    replaced = next(d for d in record["body"]["differences"] if d["kind"] == "factor-replaced")
    value = str(replaced["replacement"]["value"])
    # The replaced factor's value is supplier data: the regulator sees it, the public not.
    assert value in regulator.text
    assert value not in public.text and "withheld withheld withheld withheld" in public.text
    assert str(record["body"]["result"]["total"]) in public.text


def test_conversion_of_eu_rule_lists_removed_stages_and_gwp(world: World) -> None:
    page = page_of(browser(world, None).get("/record", params={"id": SUB_TANK_EU}))
    rows = [a.get("class") for name, a in page.tags if name == "tr" and a.get("class")]
    assert rows.count("diff-stage-removed") == 3
    assert "diff-channel-removed" in rows and "diff-gwp-changed" in rows
    assert "AR6 → AR5" in page.text


def test_batches_and_batch_pages(world: World) -> None:
    listing = browser(world, None).get("/batches")
    batches = world.http.get("/v1/batches").json()["items"]
    page = page_of(listing)
    assert all(b["root"] in page.text and b["tx_hash"] in page.text for b in batches)
    first = batches[0]
    detail = world.http.get(f"/v1/batches/{first['seq']}").json()
    public = page_of(browser(world, None).get("/batch", params={"seq": first["seq"]}))
    assert public.by_id("root") is not None and first["root"] in public.text
    assert f"Records {first['leaf_count']}" in public.text
    assert detail["manifest_cid"] in public.text
    record_links = [h for h in public.links() if h.startswith("/record?id=")]
    assert len(record_links) == first["leaf_count"]  # ids are public; every leaf links
    producer = page_of(browser(world, "plant-mes").get("/batch", params={"seq": first["seq"]}))
    own = [h for h in producer.links() if h.startswith("/record?id=")]
    assert len(own) < len(record_links) and "not visible to you" in producer.text


@pytest.mark.parametrize(
    "principal", [None, "plant-mes", "tuv-auditor", "eu-regulator", "ops-admin"]
)
@pytest.mark.parametrize(
    "url,params",
    [
        ("/", {}),
        ("/trail", {"subject": TANK_SUBJECT}),
        ("/record", {"id": CR_TANK}),
        ("/batches", {}),
        ("/batch", {"seq": "2"}),
        ("/login", {}),
    ],
)
def test_every_page_renders_for_every_audience(
    world: World, principal: str | None, url: str, params: dict[str, str]
) -> None:
    reply = browser(world, principal).get(url, params=params)
    assert reply.status_code == 200, reply.text
    page = page_of(reply)
    assert page.count("script") == 0
    assert (page.by_id("signed-in") is not None) == (principal is not None)
    if url == "/record":
        full = principal in ("plant-mes", "tuv-auditor", "eu-regulator")
        assert ("Full view" in page.text) == full


def test_pages_stay_out_of_the_api_document(world: World) -> None:
    paths = world.http.get("/v1/openapi.json").json()["paths"]
    assert not {"/", "/trail", "/record", "/login", "/batches", "/batch"} & set(paths)


def test_a_revoked_record_says_so_with_its_reason_in_both_languages(world: World) -> None:
    digest = world.http.get("/v1/record/status", params={"id": CR_HX}).json()["digest"]
    with world.store.transaction() as session:
        row = request_revocation(
            session, digest_hex=digest, reason_code=6, reason_digest_hex="cd" * 32,
            requested_at=world.clock(), requested_by="eu-regulator",
        )  # fmt: skip
        mark_status_sending(session, "revoke", row.id)
        mark_status_mined(
            session, "revoke", row.id, tx_hash="0x" + "12" * 32, block_number=41,
            block_hash="0x" + "34" * 32, at=world.clock(),
        )  # fmt: skip
    for principal in (None, "eu-regulator"):
        client = browser(world, principal)
        text = page_of(client.get("/record", params={"id": CR_HX})).text
        assert "Revoked" in text and "The record is fraudulent or falsified" in text
        assert "block 41" in text
        text = page_of(client.get("/record", params={"id": CR_HX, "lang": "zh"})).text
        assert "已撤销" in text and "记录涉嫌欺诈或造假" in text and "区块 41" in text
