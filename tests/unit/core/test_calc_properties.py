"""Hypothesis properties of calc/1 (docs/CALC.md §8): recomputation is identical,
totals do not depend on the order of lines, and there is exactly one rounding,
of the exact sum, as an independent exact-rational recomputation confirms."""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import examples as ex
from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.calc.substitution import check_substitution, compute_substitution
from ledger.core.records import Record, validate_record

RECORDS = ex.example_records()
TANK = RECORDS[ex.CR_TANK]
CLOSURE = [validate_record(r) for r in RECORDS.values()]
BY_ID = {r.id: r for r in CLOSURE}
# The factor uses of the example tank, each with line units whose conversion to
# the factor's unit is exact in the fixed table.
POOL = [
    (TANK["body"]["lines"][0]["factor"], ["t", "kg"]),
    (TANK["body"]["lines"][1]["factor"], ["kg", "t", "g"]),
    (TANK["body"]["lines"][2]["factor"], ["GJ", "MJ", "TJ"]),
    (TANK["body"]["lines"][3]["factor"], ["kWh", "MWh"]),
    (TANK["body"]["lines"][4]["factor"], ["t.km"]),
    (TANK["body"]["lines"][5]["factor"], ["t.km"]),
    (TANK["body"]["lines"][7]["factor"], ["t", "kg"]),
]
STAGES = TANK["body"]["boundary"]["stages"]
CHANNELS = ["direct", "indirect", "precursor", "out_of_scope"]
SIZES = {
    "t": Fraction(1000),
    "kg": Fraction(1),
    "g": Fraction(1, 1000),
    "GJ": Fraction(1000),
    "MJ": Fraction(1),
    "TJ": Fraction(10**6),
    "kWh": Fraction(36, 10),
    "MWh": Fraction(3600),
    "t.km": Fraction(1),
}


@st.composite
def quantities(draw: st.DrawFn) -> str:
    whole = draw(st.integers(min_value=0, max_value=10**7))
    places = draw(st.integers(min_value=0, max_value=4))
    if places == 0:
        return str(whole)
    frac = draw(st.integers(min_value=0, max_value=10**places - 1))
    return f"{whole}.{frac:0{places}d}"


@st.composite
def lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=12))
    out = []
    for i in range(count):
        factor, units = draw(st.sampled_from(POOL))
        out.append(
            {
                "line_id": f"P{i:02d}",
                "stage": draw(st.sampled_from(STAGES)),
                "process": "generated line",
                "emission_class": "other",
                "cbam_channel": draw(st.sampled_from(CHANNELS)),
                "quantity": draw(quantities()),
                "unit": draw(st.sampled_from(units)),
                "factor": copy.deepcopy(factor),
            }
        )
    return out


def _record(body_lines: list[dict[str, Any]], places: int = 2) -> Record:
    raw = copy.deepcopy(TANK)
    raw["body"]["lines"] = body_lines
    raw["body"]["rounding"] = {"mode": "ROUND_HALF_EVEN", "places": places}
    return validate_record(raw)


def _exact_total(body_lines: list[dict[str, Any]]) -> Fraction:
    """Independent reference: exact rationals, same formula (docs/CALC.md §5.1)."""
    total = Fraction(0)
    for line in body_lines:
        unit = line["factor"]["unit"]
        mass = Fraction(1000) if unit.startswith("t") else Fraction(1)
        per = unit.split("/", 1)[1]
        total += (
            Fraction(line["quantity"])
            * Fraction(line["factor"]["value"])
            * mass
            * SIZES[line["unit"]]
            / SIZES[per]
        )
    return total


@settings(max_examples=150, deadline=None)
@given(lines(), st.integers(min_value=0, max_value=6))
def test_one_rounding_of_the_exact_sum(body_lines: list[dict[str, Any]], places: int) -> None:
    totals = compute_carbon_totals(_record(body_lines, places))
    exact = _exact_total(body_lines)
    assert Fraction(totals["total_exact"]) == exact
    # round() on a Fraction rounds half to even, like the rule's mode.
    assert Fraction(totals["total"]) == round(exact, places)
    assert len(totals["total"].partition(".")[2]) == places


@settings(max_examples=80, deadline=None)
@given(lines(), st.randoms(use_true_random=False))
def test_totals_do_not_depend_on_line_order(body_lines: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(body_lines)
    rnd.shuffle(shuffled)
    assert compute_carbon_totals(_record(body_lines)) == compute_carbon_totals(_record(shuffled))
    uk = BY_ID[ex.RULE_UK], [BY_ID[ex.FS_DESNZ_2025]]
    first = compute_substitution(_record(body_lines), *uk)
    second = compute_substitution(_record(shuffled), *uk)
    assert first["result"] == second["result"]


@settings(max_examples=50, deadline=None)
@given(lines(), st.sampled_from(["eu", "uk"]))
def test_recomputation_is_identical(body_lines: list[dict[str, Any]], which: str) -> None:
    source = _record(body_lines)
    rule_id, set_id = {
        "eu": (ex.RULE_EU_CBAM, ex.FS_EU_CBAM_2026),
        "uk": (ex.RULE_UK, ex.FS_DESNZ_2025),
    }[which]
    # The EU set has three grid factors; a conversion names the one it uses.
    choices = {
        line["line_id"]: (set_id, "annex-ii-other")
        for line in body_lines
        if which == "eu" and line["factor"]["activity"] == "electricity.grid"
    }
    args = (source, BY_ID[rule_id], [BY_ID[set_id]])
    produced = compute_substitution(*args, choices=choices)
    assert compute_substitution(*args, choices=choices) == produced
    body = {
        "source": {"id": source.id, "digest": "a" * 64},
        "rule": {"id": rule_id, "digest": "b" * 64},
        **produced,
    }
    record = Record(**{**source.__dict__, "type": "factor-substitution", "body": body})
    check_substitution(record, [*CLOSURE, source])
    assert compute_carbon_totals(source) == compute_carbon_totals(source)
