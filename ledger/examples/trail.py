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
    CC_ENTERPRISE_2024,
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
    previous: str | None = CC_ENTERPRISE_2024,
    period: tuple[str, str] = ("2025-01-01", "2026-01-01"),
    reason: tuple[str, str] = ("periodic-review", "Annual review of 2025 performance"),
) -> dict[str, Any]:
    """An enterprise's 2025 rating; the grade and total are computed by calc/1. It follows
    the rating ``previous`` (schema 2's ``previous`` link), whose grade is
    ``previous_grade``; when ``digests`` does not hold ``previous`` the record is a
    schema-1 one that names no previous rating."""
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
        "period": {"start": period[0], "end": period[1]},
        "rule": {"id": RULE_RATING, "digest": digests[RULE_RATING]},
        "scores": scores,
        **rating,
        "previous_grade": previous_grade,
        "reason": {"code": reason[0], "text": reason[1]},
        "warning_list": rating["grade"] == "C",
    }
    if rating["grade"] == "C":
        body["rectification_deadline"] = rectification_deadline(
            rule, date.fromisoformat(issued_at[:10])
        )
    refs = [{"rel": "rule", "id": RULE_RATING, "digest": digests[RULE_RATING]}]
    version = "2"
    if previous_grade is not None:
        if previous is not None and previous in digests:
            refs.append({"rel": "previous", "id": previous, "digest": digests[previous]})
        else:
            version = "1"  # names no previous rating: only schema 1 allows that
    record = envelope("credit-change", rid, ENTERPRISE, issued_at, PRODUCER_RATING, body, refs)
    record["schema_version"] = version
    return record


def initial_credit_change(digests: Mapping[str, str]) -> dict[str, Any]:
    """The enterprise's first rating (2024): grade A, no previous grade."""
    return credit_change(
        digests,
        scores={
            "lifecycle_anticorrosion_compliance": "75.00",
            "dynamic_carbon_governance": "72.00",
            "green_anticorrosion_materials": "70.00",
            "low_carbon_technical_investment": "68.00",
            "industrial_social_responsibility": "80.00",
        },
        rid=CC_ENTERPRISE_2024,
        issued_at="2026-02-15T00:00:00Z",
        previous_grade=None,
        previous=None,
        period=("2024-01-01", "2025-01-01"),
        reason=("initial-rating", "First rating under the low-carbon credit scheme, for 2024"),
    )
