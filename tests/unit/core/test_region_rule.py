"""Region-rule schema version 2, the knowledge base (docs/RECORDS.md §3.3.1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.core.errors import MalformedError
from ledger.core.records import validate_record
from ledger.examples import RULE_EU_CBAM, RULE_SEA, RULE_UK
from ledger.examples import knowledge as kb

KB_RULES = (
    kb.RULE_XB_EU,
    kb.RULE_XB_UK,
    kb.RULE_XB_SEA,
    kb.RULE_XB_NA,
    kb.RULE_XB_ME,
    kb.RULE_XB_OC,
)


def test_every_region_is_in_the_knowledge_base(xb_raw: dict[str, dict[str, Any]]) -> None:
    rules = [validate_record(xb_raw[rid]) for rid in KB_RULES]
    assert {r.schema_version for r in rules} == {"2"}
    assert [r.body["region"] for r in rules] == ["EU", "GB", "SEA", "NA", "ME", "OC"]
    for rule in rules:
        body = rule.body
        cited = [body["gases"], body["declaration"], body["risk_bands"], *body["baselines"]]
        cited += body["mandatory_factors"] + body["required_data"] + body["accreditation"]
        cited += body["restricted_chemicals"]["substances"]
        if body["tariff"] is not None:
            t = body["tariff"]
            cited += [t["goods"], t["price"], t["origin_price_deduction"]]
            cited += [t["acceptable_burden_per_t"], *t["free_allocation"]]
        sources = {s["id"] for s in body["sources"]}
        for item in cited:
            assert item["source"] in sources and item["status"] in ("official", "illustrative")
        if body["status"] == "illustrative" and rule.id != kb.RULE_XB_EU:
            assert {item["status"] for item in cited} == {"illustrative"}


def test_eu_rule_marks_official_and_illustrative_figures(
    xb_raw: dict[str, dict[str, Any]],
) -> None:
    """What was read in a legal text is official; what was recalled or has no publisher
    (the price, the baselines, the later CBAM factors) is illustrative."""
    t = xb_raw[kb.RULE_XB_EU]["body"]["tariff"]
    shares = {y["year"]: y["status"] for y in t["free_allocation"]}
    assert shares[2026] == "official" and shares[2027] == "illustrative"
    assert t["price"]["status"] == "illustrative" and t["de_minimis"]["status"] == "official"
    assert {b["status"] for b in xb_raw[kb.RULE_XB_EU]["body"]["baselines"]} == {"illustrative"}


def test_version_1_rules_keep_validating(xb_raw: dict[str, dict[str, Any]]) -> None:
    for rid in (RULE_EU_CBAM, RULE_UK, RULE_SEA):
        assert validate_record(xb_raw[rid]).schema_version == "1"


def _fault(
    xb_raw: dict[str, dict[str, Any]], change: Any, rid: str = kb.RULE_XB_EU
) -> MalformedError:
    record = copy.deepcopy(xb_raw[rid])
    change(record["body"])
    with pytest.raises(MalformedError) as info:
        validate_record(record)
    return info.value


@pytest.mark.parametrize(
    ("attack", "change", "path", "message"),
    [
        (
            "bands_inverted",
            lambda b: b["risk_bands"].update(yellow_to_pct="10"),
            "body.risk_bands.yellow_to_pct",
            "greater than yellow_from_pct",
        ),
        (
            "threshold_at_baseline",
            lambda b: b["baselines"][0].update(access_threshold="2.20"),
            "body.baselines[0].access_threshold",
            "above the baseline",
        ),
        (
            "each_without_evidence",
            lambda b: b["required_data"][0].update(evidence=False),
            "body.required_data[0].evidence",
            "'each' requires evidence",
        ),
        (
            "deadline_on_a_day_some_years_lack",
            lambda b: b["declaration"]["deadline"].update(month=2, day=29),
            "body.declaration.deadline.day",
            "from 1 to 28",
        ),
        (
            "free_allocation_years_out_of_order",
            lambda b: b["tariff"]["free_allocation"][1].update(year=2026),
            "body.tariff.free_allocation[1].year",
            "increasing order",
        ),
        (
            "free_allocation_share_above_one",
            lambda b: b["tariff"]["free_allocation"][0].update(share="1.5"),
            "body.tariff.free_allocation[0].share",
            "from 0 to 1",
        ),
        (
            "restricted_substance_listed_twice",
            lambda b: b["restricted_chemicals"]["substances"].append(
                copy.deepcopy(b["restricted_chemicals"]["substances"][0])
            ),
            "body.restricted_chemicals.substances[9]",
            "duplicate CAS number",
        ),
        (
            "currency_not_iso_4217",
            lambda b: b["tariff"].update(currency="euro"),
            "body.tariff.currency",
            "ISO 4217",
        ),
        (
            "rectification_without_chinese",
            lambda b: b["required_data"][1]["rectification"].pop("zh"),
            "body.required_data[1].rectification.zh",
            "missing required field",
        ),
        (
            "unknown_member",
            lambda b: b.update(carbon_price="80"),
            "body.carbon_price",
            "unexpected field",
        ),
    ],
)
def test_malformed_knowledge_base_rule(
    xb_raw: dict[str, dict[str, Any]], attack: str, change: Any, path: str, message: str
) -> None:
    error = _fault(xb_raw, change)
    assert error.path == path, attack
    assert message in str(error)
