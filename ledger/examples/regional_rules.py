"""The illustrative regions of the knowledge base (region-rule schema 2): a South-East
Asian manufacturing-only rule, and North-American, Middle-Eastern and Oceanian rules.

None of these regions levies a border charge on these goods at the time of writing
(`tariff: null`). Their boundaries follow the product definition's examples
(manufacturing only; strict local factor databases and baseline quotas; explosion-proof
monitoring; local grid factors); every figure is illustrative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.types import vocab
from ledger.examples import rules
from ledger.examples.knowledge import (
    FS_XB_GRIDS,
    HX_PRODUCT,
    RULE_XB_ME,
    RULE_XB_NA,
    RULE_XB_OC,
    RULE_XB_SEA,
    TANK_PRODUCT,
    baseline,
    cited,
    iso14065,
    knowledge_rule,
    no_restricted_chemicals,
    risk_bands,
    sources,
    suggestions,
)

ILL = "illustrative"


def _boundary(included: tuple[str, ...], why_in: str, why_out: str) -> dict[str, Any]:
    """Stages decided by the rule; every channel counted."""
    return {
        "stages": [{"stage": s, "legal_ref": why_in} for s in vocab.STAGES if s in included],
        "excluded_stages": [
            {"stage": s, "legal_ref": why_out} for s in vocab.STAGES if s not in included
        ],
        "channels": [{"channel": c, "legal_ref": why_in} for c in vocab.CHANNELS],
        "excluded_channels": [],
    }


def _common(accreditation_bodies: tuple[str, ...], after_import_days: int) -> dict[str, Any]:
    return {
        "status": ILL,
        "sources": sources("product-definition", "illustrative", "iaf-mla"),
        "gases": cited("illustrative", ILL, covered=["CH4", "CO2", "N2O"]),
        "accreditation": iso14065("iaf-mla", ILL, *accreditation_bodies),
        "restricted_chemicals": no_restricted_chemicals(),
        "declaration": cited(
            "illustrative", ILL, deadline={"kind": "after-import", "days": after_import_days}
        ),
        "tariff": None,
        "risk_bands": risk_bands(),
        "suggestions": suggestions(),
    }


def _grid_rule(digests: Mapping[str, str], entry: str) -> dict[str, Any]:
    """The factor set and mandatory grid entry of a rule with a local grid factor."""
    return {
        "factor_sets": [{"id": FS_XB_GRIDS, "digest": digests[FS_XB_GRIDS]}],
        "mandatory_factors": [
            cited("illustrative", ILL, activity="electricity.grid", set=FS_XB_GRIDS, entry=entry)
        ],
    }


def sea_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """Manufacturing stage only, with the producer country's official grid factors."""
    body = dict(rules.sea_rule(digests)["body"])
    body.update(_common(("CNAS", "JAS-ANZ"), after_import_days=0))
    body.update(
        {
            "mandatory_factors": [],
            "required_data": [],
            "baselines": [baseline("8419", HX_PRODUCT, "4300", "5200")],
        }
    )
    body["notes"] = (
        "Illustrative South-East Asian coastal rule: manufacturing stage only (operation and "
        "maintenance data are filtered out); the plant's regional grid factor is chosen "
        "per line. No border levy."
    )
    return knowledge_rule(
        RULE_XB_SEA, "sea-manufacturing-only-kb", body, rules.sea_rule(digests)["refs"]
    )


def north_america_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """Cradle to gate with a local grid factor and baseline quotas."""
    why_in = "illustrative procurement rule: cradle to gate (material and production)"
    why_out = "illustrative procurement rule: outside cradle to gate"
    body: dict[str, Any] = {
        "region": "NA",
        "regime": "North-American procurement baseline (illustrative)",
        "regime_version": "1",
        **_boundary(("raw_material", "manufacturing_surface_treatment"), why_in, why_out),
        "gwp_set": "AR5",
        "rounding": {"mode": "ROUND_HALF_EVEN", "places": 4},
        "output_unit": "tCO2e/t",
        "template": "na-procurement-epd-illustrative",
        "notes": "Illustrative: strict local factor database (the US grid factor is "
        "mandatory for grid electricity) and industry baseline quotas per product. No "
        "border levy.",
        **_common(("ANAB", "SCC"), after_import_days=0),
        **_grid_rule(digests, "egrid-2023-us"),
        "required_data": [],
        "baselines": [
            baseline("7309", TANK_PRODUCT, "2.40", "3.00"),
            baseline("8419", HX_PRODUCT, "7.00", "8.50"),
        ],
    }
    refs = [{"rel": "factor-set", "id": FS_XB_GRIDS, "digest": digests[FS_XB_GRIDS]}]
    return knowledge_rule(RULE_XB_NA, "north-america-procurement-kb", body, refs)


def middle_east_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """Process-plant projects: use phase counted, explosion-proof monitoring data asked."""
    why_in = "illustrative project rule: cradle to the end of operation"
    why_out = "illustrative project rule: end of life is outside the project's scope"
    included = (
        "raw_material",
        "manufacturing_surface_treatment",
        "transport",
        "operation_maintenance",
    )
    body: dict[str, Any] = {
        "region": "ME",
        "regime": "Middle-Eastern process-plant project rule (illustrative)",
        "regime_version": "1",
        **_boundary(included, why_in, why_out),
        "factor_sets": [],
        "gwp_set": "AR6",
        "rounding": {"mode": "ROUND_HALF_UP", "places": 0},
        "output_unit": "kgCO2e",
        "template": "me-project-carbon-statement-illustrative",
        "notes": "Illustrative: voluntary offsets may be bundled with the declaration; "
        "explosion-proof monitoring data are asked for before the goods clear customs. "
        "No border levy.",
        **_common(("GAC",), after_import_days=30),
        "mandatory_factors": [],
        "required_data": [
            cited(
                "product-definition",
                ILL,
                key="explosion-proof-monitoring",
                what="Energy use of the explosion-proof (hazardous-area) monitoring system "
                "over the operation phase, with commissioning records",
                lines="some",
                where={"stage": "operation_maintenance", "activity": "electricity.monitoring"},
                evidence=True,
                lead_time_days=90,
                rectification={
                    "en": "Supply the energy use of the explosion-proof monitoring system as "
                    "operation-and-maintenance lines, with its commissioning records as "
                    "evidence.",
                    "zh": "补充防爆监测系统的能耗数据作为运维阶段数据行，并附调试记录作为证据。",
                },
            )
        ],
        "baselines": [
            baseline("7309", TANK_PRODUCT, "50000", "60000"),
            baseline("8419", HX_PRODUCT, "26000", "32000"),
        ],
    }
    return knowledge_rule(RULE_XB_ME, "middle-east-process-plant-kb", body, [])


def oceania_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """Cradle to site with the Australian grid factor."""
    why_in = "illustrative procurement rule: cradle to site (material, production, delivery)"
    why_out = "illustrative procurement rule: outside cradle to site"
    included = ("raw_material", "manufacturing_surface_treatment", "transport")
    body: dict[str, Any] = {
        "region": "OC",
        "regime": "Oceanian procurement rule (illustrative)",
        "regime_version": "1",
        **_boundary(included, why_in, why_out),
        "gwp_set": "AR5",
        "rounding": {"mode": "ROUND_HALF_EVEN", "places": 2},
        "output_unit": "tCO2e",
        "template": "oc-procurement-illustrative",
        "notes": "Illustrative: the Australian national grid factor is mandatory for grid "
        "electricity. No border levy.",
        **_common(("JAS-ANZ",), after_import_days=0),
        **_grid_rule(digests, "nga-2024-au"),
        "required_data": [],
        "baselines": [baseline("8419", HX_PRODUCT, "24.00", "30.00")],
    }
    refs = [{"rel": "factor-set", "id": FS_XB_GRIDS, "digest": digests[FS_XB_GRIDS]}]
    return knowledge_rule(RULE_XB_OC, "oceania-procurement-kb", body, refs)
