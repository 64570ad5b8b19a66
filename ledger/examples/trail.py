"""Example trail records: a BIM archive entry and an enterprise's credit change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ledger.core.calc.rating import compute_rating, rectification_deadline
from ledger.core.records import validate_record
from ledger.examples import rules
from ledger.examples.builder import bim_archive, document_hash, envelope
from ledger.examples.equipment import (
    BIM_TANK_INSPECTION,
    CC_ENTERPRISE_2025,
    CR_TANK,
    ENTERPRISE,
    PRODUCER_MES,
    PRODUCER_RATING,
    TANK_HANDLE,
    TANK_IFC,
)
from ledger.examples.factors import RULE_RATING


def tank_inspection_archive(digests: Mapping[str, str]) -> dict[str, Any]:
    """Inspection finding coating degradation, linked to the tank's carbon record."""
    docs = [
        ("inspection-report-2026-03.pdf", "application/pdf", 482113),
        ("coating-thickness-survey.csv", "text/csv", 18211),
        ("T-101-as-maintained.ifc", "application/x-step", 7340032),
    ]
    return bim_archive(
        BIM_TANK_INSPECTION,
        subject=TANK_HANDLE,
        ifc=TANK_IFC,
        issued_at="2026-03-18T10:30:00Z",
        producer=PRODUCER_MES,
        event={
            "kind": "inspection",
            "at": "2026-03-16T09:00:00Z",
            "description": "Coating degradation at the splash zone; recoating "
            "interval shortened from 10 to about 6.7 years",
        },
        documents=[
            {"name": n, "media_type": m, "size": s, "sha256": document_hash(n)} for n, m, s in docs
        ],
        carbon_record={"id": CR_TANK, "digest": digests[CR_TANK]},
    )


def credit_change(
    digests: Mapping[str, str],
    *,
    scores: Mapping[str, str] | None = None,
    rid: str = CC_ENTERPRISE_2025,
    issued_at: str = "2026-03-31T00:00:00Z",
    previous_grade: str | None = "A",
) -> dict[str, Any]:
    """An enterprise's 2025 rating; the grade and total are computed by calc/1."""
    scores = dict(
        scores
        or {
            "lifecycle_anticorrosion_compliance": "86.50",
            "dynamic_carbon_governance": "82.00",
            "green_anticorrosion_materials": "78.00",
            "low_carbon_technical_investment": "75.50",
            "industrial_social_responsibility": "90.00",
        }
    )
    rule = validate_record(rules.rating_rule())
    rating = compute_rating(rule, scores)
    body: dict[str, Any] = {
        "enterprise": {"id": ENTERPRISE, "name": "Example Anti-Corrosion Equipment Co., Ltd."},
        "period": {"start": "2025-01-01", "end": "2026-01-01"},
        "rule": {"id": RULE_RATING, "digest": digests[RULE_RATING]},
        "scores": scores,
        **rating,
        "previous_grade": previous_grade,
        "reason": {"code": "periodic-review", "text": "Annual review of 2025 performance"},
        "warning_list": rating["grade"] == "C",
    }
    if rating["grade"] == "C":
        body["rectification_deadline"] = rectification_deadline(
            rule, date.fromisoformat(issued_at[:10])
        )
    refs = [{"rel": "rule", "id": RULE_RATING, "digest": digests[RULE_RATING]}]
    return envelope("credit-change", rid, ENTERPRISE, issued_at, PRODUCER_RATING, body, refs)
