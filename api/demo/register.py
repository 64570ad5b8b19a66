"""The demo's register (docs/DEMO.md): its enterprises as a regulator registers them
(``PUT /v1/enterprise``), a second enterprise rated C so that the warning list has an
entry, and the authorised readers with their access requests.

Pure data and builders: ``api.cli.demo`` sends them through the HTTP API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.examples import trail
from ledger.examples.equipment import ENTERPRISE

__all__ = [
    "ACCESS_REQUESTS",
    "CC_WARNED",
    "DEMO_ENTERPRISES",
    "READERS",
    "WARNED_ENTERPRISE",
    "AccessRequest",
    "DemoEnterprise",
    "warned_rating",
]

WARNED_ENTERPRISE = "urn:carbonledger:enterprise:example-coatings-works"
CC_WARNED = "urn:carbonledger:credit-change:example-coatings-works-2026"


@dataclass(frozen=True)
class DemoEnterprise:
    """One ``PUT /v1/enterprise?id=`` of the demo (docs/API.md §3, the register)."""

    enterprise_id: str
    name_en: str
    name_zh: str
    region: str
    handle_prefixes: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        return {
            "name_en": self.name_en,
            "name_zh": self.name_zh,
            "region": self.region,
            "handle_prefixes": list(self.handle_prefixes),
        }


DEMO_ENTERPRISES = (
    # The maker of the scenario: its tank and heat exchanger are under Handle 88.118.8.
    DemoEnterprise(
        ENTERPRISE,
        "Example Anti-Corrosion Equipment Co., Ltd.",
        "示例防腐设备有限公司",
        "CN",
        ("88.118.8",),
    ),
    # A coating contractor rated C: on the warning list, with a rectification deadline.
    DemoEnterprise(
        WARNED_ENTERPRISE,
        "Example Coatings Works Co., Ltd.",
        "示例涂装工程有限公司",
        "CN",
        ("88.118.9",),
    ),
)

#: The authorised readers of the demo: principal name -> role.
READERS = {"demo-bidder": "bidder", "demo-bank": "financial-institution"}


@dataclass(frozen=True)
class AccessRequest:
    """A reader's request for the maker's data, and whether the regulator approves it."""

    principal: str
    scope: str
    purpose: str
    days: int
    approve: bool

    def body(self) -> dict[str, Any]:
        return {
            "enterprise_id": ENTERPRISE,
            "scope": self.scope,
            "purpose": self.purpose,
            "days": self.days,
        }


ACCESS_REQUESTS = (
    AccessRequest(
        "demo-bank",
        "all",
        "Green loan application 2026-118: review of the borrower's ratings and footprints",
        90,
        approve=True,
    ),
    AccessRequest(
        "demo-bidder",
        "ratings",
        "Tender 2026-17 (storage tanks): qualification of the bidder's credit rating",
        30,
        approve=False,  # left pending: the regulator decides it on the access page
    ),
)

_WARNED_SCORES = {
    "lifecycle_anticorrosion_compliance": "52.00",
    "dynamic_carbon_governance": "48.50",
    "green_anticorrosion_materials": "45.00",
    "low_carbon_technical_investment": "40.00",
    "industrial_social_responsibility": "61.00",
}


def warned_rating(digests: Mapping[str, str]) -> dict[str, Any]:
    """The coating contractor's first rating: grade C (total 48.82 under the rating rule),
    so it is on the warning list with the rule's rectification deadline."""
    record = trail.credit_change(
        digests,
        scores=_WARNED_SCORES,
        rid=CC_WARNED,
        issued_at="2026-10-31T00:00:00Z",
        previous_grade=None,
        previous=None,
        period=("2025-11-01", "2026-11-01"),
        reason=(
            "violation-found",
            "Blast-cleaning dust and solvent emissions above the permitted limits at the "
            "coating shop (inspection of 2026-10-12); no low-carbon investment plan",
        ),
    )
    record["subject"] = WARNED_ENTERPRISE
    record["body"]["enterprise"] = {
        "id": WARNED_ENTERPRISE,
        "name": "Example Coatings Works Co., Ltd.",
    }
    return record
