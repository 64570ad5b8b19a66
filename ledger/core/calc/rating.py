"""calc/1 rating: an enterprise's low-carbon credit grade (docs/CALC.md §9)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledger.core.calc.arithmetic import calc_context, compare, exact_text, round_figure
from ledger.core.calc.inputs import require_type
from ledger.core.errors import CalculationMismatchError, MalformedError
from ledger.core.records import Record
from ledger.core.types import fields as f
from ledger.core.types import vocab


def _score(value: Any, key: str, lo: Decimal, hi: Decimal) -> Decimal:
    path = f"scores.{key}"
    if isinstance(value, Decimal):
        number = value
        if not number.is_finite():
            raise MalformedError("expected a finite decimal", path=path)
    else:
        number = f.decimal(value, path)
    if not lo <= number <= hi:
        raise MalformedError(f"score {number} is outside the rule's range {lo}..{hi}", path=path)
    return number


def compute_rating(rule: Record, scores: Mapping[str, Any]) -> dict[str, str]:
    """Weighted total (exact and rounded) and the grade whose band holds the
    rounded total: ``{"total_exact", "total", "grade"}``."""
    require_type(rule, "rating-rule")
    body = rule.body
    lo = Decimal(body["score_range"]["min"])
    hi = Decimal(body["score_range"]["max"])
    unknown = sorted(set(scores) - set(vocab.RATING_DIMENSIONS))
    if unknown:
        raise MalformedError("unknown dimension", path=f"scores.{unknown[0]}")
    weights = {d["key"]: Decimal(d["weight"]) for d in body["dimensions"]}
    ctx = calc_context()
    total = Decimal(0)
    # Fixed order (vocab.RATING_DIMENSIONS) so the sum never depends on how
    # the scores were listed (docs/CALC.md §9).
    for key in vocab.RATING_DIMENSIONS:
        if key not in scores:
            raise MalformedError("missing score", path=f"scores.{key}")
        total = ctx.add(total, ctx.multiply(weights[key], _score(scores[key], key, lo, hi)))
    rounded = round_figure(total, body["rounding"], ctx)
    # The band test is on the rounded total: the figure people see decides the
    # grade (79.995 half-even to 2 places is 80.00, an AA).
    grade = next(
        b["grade"] for b in body["bands"] if Decimal(rounded) >= Decimal(b["min_inclusive"])
    )
    return {"total_exact": exact_text(total), "total": rounded, "grade": grade}


def rectification_deadline(rule: Record, issued_on: date) -> str:
    """A C grade's deadline: the issue date plus the rule's rectification days."""
    days = int(rule.body["c_grade"]["rectification_days"])
    return (issued_on + timedelta(days=days)).isoformat()


def check_credit_change(record: Record, rule: Record, *, previous: Record | None = None) -> None:
    """Recompute a credit-change's total and grade from its rule and scores."""
    require_type(record, "credit-change")
    body = record.body
    if body["rule"]["id"] != rule.id:
        raise MalformedError(
            f"body.rule names {body['rule']['id']}, not {rule.id}", path="body.rule.id"
        )
    computed = compute_rating(rule, body["scores"])
    for key in ("total_exact", "total", "grade"):
        compare(body[key], computed[key], f"body.{key}")
    if body["grade"] == "C":
        expected = rectification_deadline(rule, record.issued_at.date())
        compare(body["rectification_deadline"], expected, "body.rectification_deadline")
        compare(
            body["warning_list"], bool(rule.body["c_grade"]["warning_list"]), "body.warning_list"
        )
    if previous is not None:
        if previous.type != "credit-change" or previous.subject != record.subject:
            raise MalformedError(f"{previous.id} is not an earlier rating of {record.subject}")
        if body["previous_grade"] != previous.body["grade"]:
            raise CalculationMismatchError(
                "body.previous_grade: differs from the grade of the record it follows",
                expected=body["previous_grade"],
                computed=previous.body["grade"],
            )
