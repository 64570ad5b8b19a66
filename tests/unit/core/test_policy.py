"""Disclosure policies (ledger.core.policy, docs/RECORDS.md §4), used with real
commitments and redaction (ledger.core.commitment)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger import examples as ex
from ledger.core.commitment import flatten
from ledger.core.errors import MalformedError
from ledger.core.policy import (
    AUDIENCES,
    is_confidential,
    is_confidential_set,
    policy_table,
    public_view,
    reveals,
)
from ledger.core.records import RECORD_TYPES
from ledger.core.view import RedactedView, commit, reconstruct, redact, verify_view


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    return ex.example_records()


def _shown(record: dict[str, Any], audience: str) -> set[tuple[str | int, ...]]:
    predicate = reveals(record["type"], audience)
    return {path for path, _ in flatten(record) if predicate(path)}


def test_public_sees_grade_and_period_not_scores(records: dict[str, dict[str, Any]]) -> None:
    shown = _shown(records[ex.CC_ENTERPRISE_2025], "public")
    assert ("body", "grade") in shown
    assert ("body", "period", "start") in shown
    assert ("body", "enterprise", "id") in shown
    assert not any(p[:2] == ("body", "scores") for p in shown)
    assert ("body", "total") not in shown
    assert ("body", "total_exact") not in shown
    assert ("body", "reason", "text") not in shown


def test_public_sees_totals_not_line_evidence(records: dict[str, dict[str, Any]]) -> None:
    shown = _shown(records[ex.CR_TANK], "public")
    assert ("body", "totals", "total") in shown
    assert ("body", "equipment", "identifiers", 0, "value") in shown
    assert ("body", "lines", 3, "stage") in shown
    assert not any(len(p) > 3 and p[:2] == ("body", "lines") and p[3] == "quantity" for p in shown)
    assert not any(len(p) > 3 and p[:2] == ("body", "lines") and p[3] == "evidence" for p in shown)
    assert not any(len(p) > 3 and p[:2] == ("body", "lines") and p[3] == "factor" for p in shown)


def test_public_substitution_shows_result_and_differences(
    records: dict[str, dict[str, Any]],
) -> None:
    shown = _shown(records[ex.SUB_TANK_UK], "public")
    assert ("body", "result", "total") in shown
    assert ("body", "differences", 0, "kind") in shown
    assert not any("emissions_kg" in p for p in shown)
    assert not any("original" in p or "replacement" in p for p in shown)


@pytest.mark.parametrize("audience", ["regulator", "auditor"])
def test_regulator_and_auditor_see_everything(
    records: dict[str, dict[str, Any]], audience: str
) -> None:
    for record in records.values():
        assert _shown(record, audience) == {p for p, _ in flatten(record)}


def test_reference_data_is_public_in_full(records: dict[str, dict[str, Any]]) -> None:
    """Official and illustrative factor sets, region and rating rules: the public gets the
    full view (record and salts), so anyone can recompute from them."""
    for rid in (ex.FS_DESNZ_2025, ex.FS_ILLUSTRATIVE, ex.RULE_EU_CBAM, ex.RULE_RATING):
        full = commit(records[rid])
        assert not is_confidential(records[rid])
        assert public_view(full) is full


def test_a_suppliers_declared_values_are_confidential(records: dict[str, dict[str, Any]]) -> None:
    supplier = records[ex.FS_SUPPLIER]
    assert is_confidential_set(supplier) and is_confidential(supplier)
    view = public_view(commit(supplier))
    assert isinstance(view, RedactedView)
    shown = {d.path for d in view.disclosures}
    assert ("body", "status") in shown and ("body", "entries", 0, "activity") in shown
    assert not any(p[-1] == "value" or "per_gas" in p for p in shown)


def test_figures_on_confidential_inputs_are_redacted_and_the_rest_public(
    records: dict[str, dict[str, Any]],
) -> None:
    hidden_sets = frozenset({ex.FS_SUPPLIER})
    tank = records[ex.CR_TANK]  # quotes the supplier's steel and epoxy factors
    assert is_confidential(tank, confidential_sets=hidden_sets)
    assert isinstance(public_view(commit(tank), confidential_sets=hidden_sets), RedactedView)
    # Without a confidential input the same record is public in full.
    assert not is_confidential(tank, confidential_sets=frozenset())
    # A credit change always hides its scores; a BIM archive entry its documents.
    for rid in (ex.CC_ENTERPRISE_2025, ex.BIM_TANK_INSPECTION):
        assert is_confidential(records[rid])
        assert isinstance(public_view(commit(records[rid])), RedactedView)


def test_public_always_sees_the_envelope(records: dict[str, dict[str, Any]]) -> None:
    for record in records.values():
        shown = _shown(record, "public")
        for key in ("type", "schema_version", "id", "subject", "issued_at", "producer"):
            assert (key,) in shown


def test_redacted_public_view_verifies_against_the_digest(
    records: dict[str, dict[str, Any]],
) -> None:
    record = records[ex.CC_ENTERPRISE_2025]
    full = commit(record)
    view = redact(full, reveal=reveals(record["type"], "public"))
    verify_view(view, full.digest_hex)
    visible = reconstruct(view)
    assert visible["body"]["grade"] == "AA"
    assert "86.50" not in str(visible)


def test_unknown_audience_or_type() -> None:
    with pytest.raises(MalformedError, match="audience"):
        reveals("credit-change", "press")
    with pytest.raises(MalformedError, match="record type"):
        reveals("carbon-footprint", "public")


def test_policy_table_covers_every_type_and_audience() -> None:
    table = policy_table()
    assert set(table) == set(RECORD_TYPES)
    for row in table.values():
        assert set(row) == set(AUDIENCES)
