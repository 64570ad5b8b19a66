"""Boundary adaptation beyond dropping (ledger.core.calc.boundary, docs/CALC.md §6.1): a
required stage added from supplementary activity data, a shared stage allocated by mass
share; hand-worked vectors, the refusals, and recomputation of the schema-3 records."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.calc.substitution import check_substitution, compute_substitution
from ledger.core.errors import CalculationMismatchError, MalformedError
from ledger.core.records import Record, validate_record
from ledger.examples import CR_HX, CR_TANK, FS_EU_CBAM_2026, SUB_TANK_EU
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "calc"
BOUNDARY = [
    "boundary_stage_added_heat_exchanger.json",
    "boundary_stage_allocated_storage_tank.json",
]


def _project(items: list[dict[str, Any]], like: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: got.get(k) for k in want} for got, want in zip(items, like, strict=True)]


@pytest.mark.parametrize("name", BOUNDARY)
def test_boundary_vector(name: str) -> None:
    vector = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"] and vector["steps"]
    inputs, expected = vector["inputs"], vector["expected"]
    computed = compute_substitution(
        validate_record(inputs["source"]),
        validate_record(inputs["rule"]),
        [validate_record(s) for s in inputs["factor_sets"]],
        supplements=inputs["supplements"],
        allocations=inputs["allocations"],
    )
    assert computed["result"] == expected["result"]
    assert len(computed["lines"]) == len(expected["lines"])
    assert _project(computed["lines"], expected["lines"]) == expected["lines"]
    assert len(computed["differences"]) == len(expected["differences"])
    assert _project(computed["differences"], expected["differences"]) == expected["differences"]


def test_schema_3_examples_recompute(xb_records: dict[str, Record]) -> None:
    for rid in (xb.SUB_HX_ME, xb.SUB_TANK_EU_SHARED):
        assert xb_records[rid].schema_version == "3"
        check_substitution(xb_records[rid], xb_records)


def _hx_me(records: dict[str, Record], supplements: list[dict[str, Any]]) -> dict[str, Any]:
    return compute_substitution(records[CR_HX], records[kb.RULE_XB_ME], [], supplements=supplements)


def _supplement(raw: dict[str, dict[str, Any]], **change: Any) -> dict[str, Any]:
    line = copy.deepcopy(raw[xb.SUB_HX_ME]["body"]["supplements"][0])
    line.update(change)
    return line


@pytest.mark.parametrize(
    ("attack", "change", "path", "message"),
    [
        (
            "supplement_counts_a_stage_twice",
            {"stage": "manufacturing_surface_treatment"},
            "supplements[0].stage",
            "already covers",
        ),
        (
            "supplement_for_an_excluded_stage",
            {"stage": "end_of_life"},
            "supplements[0].stage",
            "excludes stage",
        ),
        (
            "supplement_reusing_a_source_line_id",
            {"line_id": "H03"},
            "supplements[0].line_id",
            "already used",
        ),
    ],
)
def test_supplement_refused(
    xb_raw: dict[str, dict[str, Any]],
    xb_records: dict[str, Record],
    attack: str,
    change: dict[str, Any],
    path: str,
    message: str,
) -> None:
    with pytest.raises(MalformedError) as info:
        _hx_me(xb_records, [_supplement(xb_raw, **change)])
    assert info.value.path == path, attack
    assert message in str(info.value)


def test_supplement_in_an_excluded_channel_is_refused(xb_records: dict[str, Record]) -> None:
    """Under EU CBAM the tank lacks no stage, and a supplementary line adds nothing the
    rule would drop: the out-of-scope channel is refused before the stage is looked at."""
    tank = copy.deepcopy(dict(xb_records[CR_TANK].raw))
    tank["id"] = "urn:carbonledger:carbon-record:draft-no-transport"
    tank["body"]["boundary"]["stages"] = ["raw_material"]
    tank["body"]["lines"] = [tank["body"]["lines"][0]]
    from ledger.core.calc.lines import compute_carbon_totals

    tank["body"]["totals"] = compute_carbon_totals(validate_record(tank))
    line = copy.deepcopy(xb_records[CR_TANK].raw["body"]["lines"][1])
    line.update(line_id="S01", stage="manufacturing_surface_treatment")
    with pytest.raises(MalformedError) as info:
        compute_substitution(
            validate_record(tank),
            xb_records[kb.RULE_XB_EU],
            [xb_records[FS_EU_CBAM_2026]],
            supplements=[line],
        )
    assert info.value.path == "supplements[0].cbam_channel"


@pytest.mark.parametrize(
    ("attack", "allocation", "path", "message"),
    [
        (
            "allocating_a_dropped_stage",
            {"stage": "transport"},
            "allocations[0].stage",
            "no counted line",
        ),
        (
            "share_above_the_whole",
            {"product_kg": "50000"},
            "allocations[0].product_kg",
            "product_kg <= total_kg",
        ),
        ("unknown_key", {"key": "value"}, "allocations[0].key", "allocation key 'value'"),
    ],
)
def test_allocation_refused(
    xb_records: dict[str, Record], attack: str, allocation: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(MalformedError) as info:
        compute_substitution(
            xb_records[CR_TANK],
            xb_records[kb.RULE_XB_EU],
            [xb_records[FS_EU_CBAM_2026]],
            allocations=[{**xb.BATCH_SHARE, **allocation}],
        )
    assert info.value.path == path, attack
    assert message in str(info.value)


def test_stage_allocated_twice_is_refused(xb_records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError, match="allocated twice"):
        compute_substitution(
            xb_records[CR_TANK],
            xb_records[kb.RULE_XB_EU],
            [xb_records[FS_EU_CBAM_2026]],
            allocations=[xb.BATCH_SHARE, xb.BATCH_SHARE],
        )


def test_forged_supplement_factor_fails_recomputation(
    xb_raw: dict[str, dict[str, Any]], xb_records: dict[str, Record]
) -> None:
    """A supplementary line quoting a lower cleaning factor than its factor set states:
    the figure adds up with the forged value, so the quote itself is checked."""
    forged = copy.deepcopy(xb_raw[xb.SUB_HX_ME])
    forged["body"]["supplements"][0]["factor"]["value"] = "0.5"
    with pytest.raises(CalculationMismatchError) as info:
        check_substitution(validate_record(forged), xb_records)
    assert str(info.value).startswith("body.supplements[0].factor.value")


def test_allocation_share_changed_after_the_fact_fails(
    xb_raw: dict[str, dict[str, Any]], xb_records: dict[str, Record]
) -> None:
    changed = copy.deepcopy(xb_raw[xb.SUB_TANK_EU_SHARED])
    changed["body"]["allocations"][0]["total_kg"] = "80000"
    with pytest.raises(CalculationMismatchError):
        check_substitution(validate_record(changed), xb_records)


def test_schema_1_knows_no_supplements(xb_raw: dict[str, dict[str, Any]]) -> None:
    record = copy.deepcopy(xb_raw[xb.SUB_HX_ME])
    record["schema_version"] = "1"
    with pytest.raises(MalformedError) as info:
        validate_record(record)
    assert info.value.path in ("body.supplements", "body.allocations", "body.lines[6].supplied")
    v1 = copy.deepcopy(xb_raw[SUB_TANK_EU])
    v1["body"]["differences"].append({"kind": "stage-added", "stage": "transport", "lines": ["X"]})
    with pytest.raises(MalformedError, match="expected one of"):
        validate_record(v1)
