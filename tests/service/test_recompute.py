"""Figures are recomputed at acceptance (docs/SUBMISSION.md §5, docs/CALC.md §10): each
wrong figure is refused naming the path, the stated and the recomputed value, alone and
inside a bulk (all or nothing, the first fault named), and nothing is stored. Also the
rating in force, factor sets outside their validity, and keys revoked before the
submission arrives."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.calc.rating import compute_rating
from ledger.core.records import validate_record
from ledger.core.view import Commitment, commit
from ledger.examples import (
    CC_ENTERPRISE_2024,
    CC_ENTERPRISE_2025,
    CR_HX,
    CR_TANK,
    FS_CN_MEE_2023,
    FS_SUPPLIER,
    RULE_RATING,
    SUB_TANK_EU,
    rules,
)
from ledger.service import LedgerService, RefusedRecordError
from ledger.service.recompute import FigureMismatchError
from ledger.store import Store
from ledger.store.producers import add_producer_key, revoke_producer_key
from tests.service.conftest import (
    NOW,
    PRODUCER_KEYS,
    Examples,
    bulk,
    dump,
    seeded_key,
    submission,
    submission_json,
)
from tests.support.ledgerdata import example_types

MES = "urn:carbonledger:producer:example-plant-mes"


def accept_until(service: LedgerService, examples: Examples, stop: str) -> None:
    """Accept the examples in dependency order, up to (without) ``stop``."""
    for rid in examples.order:
        if rid == stop:
            return
        service.accept(submission(examples[rid]))
    raise AssertionError(f"{stop} is not an example")


def changed(examples: Examples, rid: str, change: Callable[[dict[str, Any]], None]) -> Commitment:
    record = copy.deepcopy(examples[rid].record)
    change(record)
    return commit(record)


def _wrong_total(record: dict[str, Any]) -> None:
    record["body"]["totals"]["total"] = "48000.00"


def _factor_not_in_set(record: dict[str, Any]) -> None:
    """Line L04 quotes the national grid factor with another value; the totals are made
    to agree with the lines, so only the quote is wrong."""
    record["body"]["lines"][3]["factor"]["value"] = "0.4306"
    record["body"]["totals"] = compute_carbon_totals(validate_record(record))


def _substitution_one(record: dict[str, Any]) -> None:
    record["body"]["result"]["total"] = "1.000000"


def _b_on_c_scores(record: dict[str, Any]) -> None:
    """Scores that compute to C (55.70), stated as a B without the warning-list flag."""
    scores = {
        "lifecycle_anticorrosion_compliance": "52.00",
        "dynamic_carbon_governance": "58.00",
        "green_anticorrosion_materials": "55.00",
        "low_carbon_technical_investment": "60.00",
        "industrial_social_responsibility": "56.00",
    }
    computed = compute_rating(validate_record(_rating_rule_of(record)), scores)
    assert computed["grade"] == "C" and computed["total"] == "55.70"
    record["body"].update(scores=scores, total=computed["total"], grade="B")
    record["body"]["total_exact"] = computed["total_exact"]


def _rating_rule_of(record: dict[str, Any]) -> dict[str, Any]:
    assert record["body"]["rule"]["id"] == RULE_RATING
    return rules.rating_rule()


#: name -> (record, change, path refused, stated, recomputed)
WRONG_FIGURES: dict[str, tuple[str, Callable[[dict[str, Any]], None], str, str, str]] = {
    "carbon_record_wrong_total": (
        CR_TANK, _wrong_total, "body.totals.total", "48000.00", "48679.58",
    ),
    "factor_value_not_in_the_quoted_set": (
        CR_TANK, _factor_not_in_set, "body.lines[3].factor.value", "0.4306", "0.5306",
    ),
    "substitution_one_where_calc_gives_2_341363": (
        SUB_TANK_EU, _substitution_one, "body.result.total", "1.000000", "2.341363",
    ),
    "credit_change_b_on_scores_that_compute_to_c": (
        CC_ENTERPRISE_2025, _b_on_c_scores, "body.grade", "B", "C",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRONG_FIGURES))
def test_a_wrong_figure_is_refused_alone_and_in_a_bulk(
    name: str, service: LedgerService, store: Store, examples: Examples
) -> None:
    rid, change, path, stated, recomputed = WRONG_FIGURES[name]
    accept_until(service, examples, rid)
    wrong = changed(examples, rid, change)
    before = dump(store)
    with pytest.raises(FigureMismatchError) as refused:
        service.accept(submission(wrong))
    error = refused.value
    assert (error.record_id, error.field, error.index) == (rid, path, 0), str(error)
    assert (error.stated, error.recomputed) == (stated, recomputed)
    assert f"record {rid}: {path}" in str(error) and "calc/1" in str(error)
    assert dump(store) == before
    # In a bulk after good records (the HX footprint, a record of its own): all refused,
    # the wrong one named by its place; nothing stored.
    good = submission_json(examples[CR_HX], _key(examples[CR_HX]))
    with pytest.raises(FigureMismatchError) as in_bulk:
        service.accept_bulk(bulk(good, submission_json(wrong, _key(wrong))))
    assert (in_bulk.value.field, in_bulk.value.index) == (path, 1)
    assert dump(store) == before


def _key(item: Commitment) -> Any:
    return PRODUCER_KEYS[item.record["producer"]]


def test_the_right_figures_are_accepted(service: LedgerService, examples: Examples) -> None:
    for item in examples.all():
        service.accept(submission(item))


# -- the rating in force -----------------------------------------------------------------


def _rating(
    examples: Examples, *, rid: str, previous: str | None, previous_grade: str | None
) -> Commitment:
    def change(record: dict[str, Any]) -> None:
        record["id"] = rid
        record["body"]["previous_grade"] = previous_grade
        record["refs"] = [r for r in record["refs"] if r["rel"] != "previous"]
        if previous is not None:
            record["refs"].append(
                {"rel": "previous", "id": previous, "digest": examples[previous].digest_hex}
            )

    return changed(examples, CC_ENTERPRISE_2025, change)


def test_previous_grade_must_be_the_grade_in_force(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    """The 2024 rating (A) is in force; a rating claiming to follow an AAA is refused."""
    accept_until(service, examples, CC_ENTERPRISE_2025)
    before = dump(store)
    lie = _rating(
        examples, rid=f"{CC_ENTERPRISE_2025}-lie", previous=CC_ENTERPRISE_2024,
        previous_grade="AAA",
    )  # fmt: skip
    with pytest.raises(FigureMismatchError) as refused:
        service.accept(submission(lie))
    assert refused.value.field == "body.previous_grade"
    assert (refused.value.stated, refused.value.recomputed) == ("AAA", "A")
    # Naming no previous rating while one is in force is refused too.
    silent = _rating(
        examples, rid=f"{CC_ENTERPRISE_2025}-silent", previous=None, previous_grade=None
    )
    with pytest.raises(
        FigureMismatchError, match="the rating in force .* is " + CC_ENTERPRISE_2024
    ):
        service.accept(submission(silent))
    assert dump(store) == before
    service.accept(submission(examples[CC_ENTERPRISE_2025]))
    # Now the 2025 rating is in force: following the 2024 one again is refused.
    stale = _rating(
        examples, rid=f"{CC_ENTERPRISE_2025}-stale", previous=CC_ENTERPRISE_2024,
        previous_grade="A",
    )  # fmt: skip
    with pytest.raises(FigureMismatchError, match="rating in force .* is " + CC_ENTERPRISE_2025):
        service.accept(submission(stale))


def test_ratings_follow_each_other_inside_one_bulk(
    service: LedgerService, examples: Examples
) -> None:
    accept_until(service, examples, CC_ENTERPRISE_2024)
    first, second = examples[CC_ENTERPRISE_2024], examples[CC_ENTERPRISE_2025]
    receipts = service.accept_bulk(
        bulk(submission_json(first, _key(first)), submission_json(second, _key(second)))
    )
    assert [r.record_id for r in receipts] == [CC_ENTERPRISE_2024, CC_ENTERPRISE_2025]


# -- factor sets outside their validity ------------------------------------------------


def test_a_factor_set_outside_its_validity_needs_a_stated_reason(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    """The tank's 2025 footprint quotes the 2023 Chinese grid factors. Its schema-2 record
    states why; the same record without the reason (or as schema 1) is refused."""
    accept_until(service, examples, CR_TANK)
    before = dump(store)

    def drop_reason(record: dict[str, Any]) -> None:
        del record["body"]["validity_exceptions"]

    def as_schema_1(record: dict[str, Any]) -> None:
        drop_reason(record)
        record["schema_version"] = "1"

    for change in (drop_reason, as_schema_1):
        with pytest.raises(RefusedRecordError) as refused:
            service.accept(submission(changed(examples, CR_TANK, change)))
        assert refused.value.field == "body.lines[3].factor.set"
        assert FS_CN_MEE_2023 in str(refused.value) and "2023-01-01..2023-12-31" in str(
            refused.value
        )

    # A reason for a set that needs none justifies nothing, and is refused.
    def reason_for_supplier(record: dict[str, Any]) -> None:
        record["body"]["validity_exceptions"].append(
            {
                "factor_set": {"id": FS_SUPPLIER, "digest": examples[FS_SUPPLIER].digest_hex},
                "code": "other",
                "text": "nothing to justify",
            }
        )

    with pytest.raises(RefusedRecordError, match="nothing to justify") as refused:
        service.accept(submission(changed(examples, CR_TANK, reason_for_supplier)))
    assert refused.value.field == "body.validity_exceptions[1].factor_set.id"
    assert dump(store) == before
    service.accept(submission(examples[CR_TANK]))


# -- keys revoked before the submission arrives ---------------------------------------


def test_a_back_dated_record_signed_with_a_revoked_key_is_refused(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    """The key was revoked at 07:34; at 12:00 a record arrives saying it was issued in
    February, when the key was still valid. The service judges the key now."""
    accept_until(service, examples, CR_TANK)
    key = seeded_key("revoked this morning")
    revoked_at = datetime(2026, 6, 1, 7, 34, tzinfo=UTC)
    assert revoked_at < NOW
    with store.transaction() as session:
        row = add_producer_key(
            session,
            producer=MES,
            public_key_hex=key.public_key().public_bytes_raw().hex(),
            valid_from=datetime(2025, 1, 1, tzinfo=UTC),
            record_types=example_types()[MES],
        )
        revoke_producer_key(session, row.key_id, at=revoked_at)
    item = examples[CR_TANK]
    assert item.record["issued_at"] < "2026-06-01T07:34:00Z"
    before = dump(store)
    with pytest.raises(RefusedRecordError) as refused:
        service.accept(submission(item, key))
    assert refused.value.field == "signature.key_id"
    assert "revoked at 2026-06-01T07:34:00Z, before this submission was received" in str(
        refused.value
    )
    assert dump(store) == before


def test_stated_figures_are_compared_by_value(service: LedgerService, examples: Examples) -> None:
    """ "48679.580" states the same figure as "48679.58" (docs/CALC.md §10)."""
    accept_until(service, examples, CR_TANK)

    def pad(record: dict[str, Any]) -> None:
        total = record["body"]["totals"]["total"]
        record["body"]["totals"]["total"] = str(Decimal(total).quantize(Decimal("0.001")))

    service.accept(submission(changed(examples, CR_TANK, pad)))
