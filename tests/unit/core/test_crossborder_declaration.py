"""The content of an equivalence declaration (docs/API.md §3.7), worked by hand for the
tank's EU conversion with the batch-shared surface treatment: every dropped line with
its effect in the source record (quantity x the source's factor), their total, the
allocated stage, the GWP re-characterisation; both languages on every label."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.core.crossborder.declaration import declaration_content
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.examples import CR_HX, CR_TANK
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb

# line: quantity x factor of the source record (ledger/examples/equipment.py), in kgCO2e
DROPPED_BY_HAND = {
    "L02": Decimal("850") * Decimal("5.2336"),  # epoxy coating, out of scope: 4448.56
    "L04": Decimal("18250") * Decimal("0.5306"),  # grid electricity, indirect: 9683.45
    "L05": Decimal("4000") * Decimal("0.1100"),  # road freight: 440
    "L06": Decimal("243750") * Decimal("0.0160"),  # sea freight: 3900
    "L07": Decimal("120") * Decimal("5.2336"),  # maintenance recoating: 628.032
    "L08": Decimal("12.5") * Decimal("25"),  # dismantling: 312.5
}


def test_the_tanks_eu_declaration(xb_records: dict[str, Record]) -> None:
    content = declaration_content(
        xb_records[xb.SUB_TANK_EU_SHARED], xb_records[CR_TANK], xb_records[kb.RULE_XB_EU]
    )
    dropped = {d["line_id"]: Decimal(d["effect_kg"]) for d in content["dropped"]}
    assert dropped == {line: -value for line, value in DROPPED_BY_HAND.items()}
    assert Decimal(content["dropped_total_kg"]) == -Decimal("19412.542")
    # The source total (stated to 2 places) less what was dropped is what the rule counts
    # before allocation: L01 24420 + L03 4847.04.
    kept = Decimal(content["source"]["total"]) + Decimal(content["dropped_total_kg"])
    assert kept.quantize(Decimal("0.01")) == Decimal("24420") + Decimal("4847.04")
    assert content["allocated"] == [
        {
            "line_id": "L03",
            "stage": "manufacturing_surface_treatment",
            "unallocated_kg": "4847.04",
            "allocated_kg": "1514.7",  # 4847.04 x 12500 / 40000
        }
    ]
    assert content["gwp"] == {"from": "AR6", "to": "AR5"}
    assert content["result"]["total"] == "2.074776"
    for row in content["side_by_side"]:
        assert row["aspect"]["en"] and row["aspect"]["zh"]
    for difference in content["differences"]:
        assert difference["label"]["en"] != difference["label"]["zh"]


def test_the_exchangers_added_maintenance(xb_records: dict[str, Record]) -> None:
    content = declaration_content(
        xb_records[xb.SUB_HX_ME], xb_records[CR_HX], xb_records[kb.RULE_XB_ME]
    )
    # 40 kg x 1.5 kgCO2e/kg and 2 m3 x 12 kgCO2e/m3 (ledger/examples/knowledge.py)
    assert content["added"] == [
        {"line_id": "S01", "stage": "operation_maintenance", "effect_kg": "+60"},
        {"line_id": "S02", "stage": "operation_maintenance", "effect_kg": "+24"},
    ]


def test_records_that_do_not_belong_together_are_refused(xb_records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError, match="does not convert"):
        declaration_content(
            xb_records[xb.SUB_TANK_EU_SHARED], xb_records[CR_HX], xb_records[kb.RULE_XB_EU]
        )
