"""calc/1 rating on every band edge (ledger.core.calc.rating, docs/CALC.md §9)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger import examples as ex
from ledger.core.calc.rating import check_credit_change, compute_rating
from ledger.core.errors import CalculationMismatchError, MalformedError
from ledger.core.records import Record, validate_record
from ledger.examples import trail

VECTOR = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "rating" / "band_edges.json").read_text(
        encoding="utf-8"
    )
)


@pytest.fixture(scope="module")
def rule() -> Record:
    return validate_record(VECTOR["rule"])


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    return ex.example_records()


def test_vector_is_documented() -> None:
    assert VECTOR["description"] and VECTOR["source"]
    assert all(case["steps"] for case in VECTOR["cases"])


@pytest.mark.parametrize("case", VECTOR["cases"], ids=lambda c: c["name"])
def test_band_edge(rule: Record, case: dict[str, Any]) -> None:
    assert compute_rating(rule, case["scores"]) == {
        "total_exact": case["total_exact"],
        "total": case["total"],
        "grade": case["grade"],
    }


@pytest.mark.parametrize("case", VECTOR["cases"], ids=lambda c: c["name"])
def test_credit_change_checks(
    rule: Record, records: dict[str, dict[str, Any]], case: dict[str, Any]
) -> None:
    digests = {ex.RULE_RATING: "c" * 64}
    raw = trail.credit_change(digests, scores=case["scores"])
    record = validate_record(raw)
    check_credit_change(record, rule)
    assert record.body["grade"] == case["grade"]
    assert record.body["warning_list"] is (case["grade"] == "C")


def test_c_grade_deadline(rule: Record) -> None:
    c = VECTOR["c_grade"]
    scores = next(case["scores"] for case in VECTOR["cases"] if case["grade"] == "C")
    raw = trail.credit_change({ex.RULE_RATING: "c" * 64}, scores=scores, issued_at=c["issued_at"])
    assert raw["body"]["rectification_deadline"] == c["expected_deadline"]
    record = validate_record(raw)
    check_credit_change(record, rule)
    raw["body"]["rectification_deadline"] = "2026-09-28"
    with pytest.raises(CalculationMismatchError, match="rectification_deadline"):
        check_credit_change(validate_record(raw), rule)


def test_example_credit_change_and_tampering(
    rule: Record, records: dict[str, dict[str, Any]]
) -> None:
    record = validate_record(records[ex.CC_ENTERPRISE_2025])
    check_credit_change(record, rule)
    for key, value in (("total", "82.37"), ("grade", "A"), ("total_exact", "82.38")):
        raw = copy.deepcopy(records[ex.CC_ENTERPRISE_2025])
        raw["body"][key] = value
        with pytest.raises(CalculationMismatchError) as info:
            check_credit_change(validate_record(raw), rule)
        assert str(info.value).startswith(f"body.{key}")
        assert info.value.expected == value


def test_scores_order_does_not_matter(rule: Record) -> None:
    case = VECTOR["cases"][-1]
    reordered = dict(reversed(list(case["scores"].items())))
    assert compute_rating(rule, reordered)["total_exact"] == case["total_exact"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("dynamic_carbon_governance", "100.01", "outside the rule's range"),
        ("dynamic_carbon_governance", 80.0, "decimal string"),
        ("dynamic_carbon_governance", "-1", "outside"),
        ("made_up_dimension", "50", "unknown dimension"),
    ],
)
def test_bad_scores(rule: Record, key: str, value: Any, message: str) -> None:
    scores: dict[str, Any] = dict(VECTOR["cases"][0]["scores"])
    scores[key] = value
    with pytest.raises(MalformedError, match=message):
        compute_rating(rule, scores)


def test_missing_score(rule: Record) -> None:
    scores = dict(VECTOR["cases"][0]["scores"])
    del scores["industrial_social_responsibility"]
    with pytest.raises(MalformedError, match="missing score"):
        compute_rating(rule, scores)


def test_previous_grade_follows_the_earlier_record(
    rule: Record, records: dict[str, dict[str, Any]]
) -> None:
    current = validate_record(records[ex.CC_ENTERPRISE_2025])
    earlier_raw = trail.credit_change(
        {ex.RULE_RATING: "c" * 64},
        scores=VECTOR["cases"][5]["scores"],
        rid="urn:carbonledger:credit-change:example-anticorrosion-2024",
        issued_at="2025-03-31T00:00:00Z",
        previous_grade=None,
    )
    earlier = validate_record(earlier_raw)
    assert earlier.body["grade"] == "A"
    check_credit_change(current, rule, previous=earlier)
    earlier_raw["body"]["grade"] = "B"
    earlier_raw["body"]["total"] = "65.00"
    with pytest.raises(CalculationMismatchError, match="previous_grade"):
        check_credit_change(current, rule, previous=validate_record(earlier_raw))
