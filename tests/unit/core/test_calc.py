"""calc/1 against hand-worked vectors (ledger.core.calc, docs/CALC.md)."""

from __future__ import annotations

import ast
import copy
import decimal
import json
from pathlib import Path
from typing import Any

import pytest

from ledger import examples as ex
from ledger.core.calc.arithmetic import calc_context
from ledger.core.calc.lines import check_carbon_record, compute_carbon_totals
from ledger.core.calc.substitution import check_substitution, compute_substitution
from ledger.core.errors import (
    CalculationMismatchError,
    DigestMismatchError,
    MalformedError,
    NotFoundError,
)
from ledger.core.records import Record, validate_record

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "vectors" / "calc"
SUBSTITUTIONS = [
    "eu_cbam_storage_tank.json",
    "uk_desnz_storage_tank.json",
    "sea_manufacturing_heat_exchanger.json",
]


def _vector(name: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"] and vector["steps"]
    assert vector["calc_version"] == "calc/1"
    return vector


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    return {rid: validate_record(r) for rid, r in ex.example_records().items()}


@pytest.mark.parametrize(
    "name", ["carbon_totals_storage_tank.json", "carbon_totals_heat_exchanger.json"]
)
def test_carbon_totals_vector(name: str) -> None:
    vector = _vector(name)
    record = validate_record(vector["inputs"]["record"])
    sets = [validate_record(s) for s in vector["inputs"]["factor_sets"]]
    assert compute_carbon_totals(record) == vector["expected"]["totals"]
    check_carbon_record(record, sets)


def _run(vector: dict[str, Any]) -> dict[str, Any]:
    inputs = vector["inputs"]
    choices = {k: tuple(v) for k, v in inputs.get("choices", {}).items()}
    return compute_substitution(
        validate_record(inputs["source"]),
        validate_record(inputs["rule"]),
        [validate_record(s) for s in inputs["factor_sets"]],
        choices=choices,
    )


@pytest.mark.parametrize("name", SUBSTITUTIONS)
def test_substitution_vector(name: str) -> None:
    vector = _vector(name)
    expected = vector["expected"]
    computed = _run(vector)
    assert computed["result"] == expected["result"]
    assert len(computed["lines"]) == len(expected["lines"])
    for got, want in zip(computed["lines"], expected["lines"], strict=True):
        for key, value in want.items():
            if key == "replacement_entry":
                assert got["replacement"]["entry"] == value
            else:
                assert got[key] == value, (want["line_id"], key)
    assert len(computed["differences"]) == len(expected["differences"])
    for got, want in zip(computed["differences"], expected["differences"], strict=True):
        assert {k: got[k] for k in want} == want


@pytest.mark.parametrize("name", SUBSTITUTIONS)
def test_substitution_record_checks_against_its_closure(name: str) -> None:
    vector = _vector(name)
    inputs = vector["inputs"]
    source = validate_record(inputs["source"])
    rule = validate_record(inputs["rule"])
    sets = [validate_record(s) for s in inputs["factor_sets"]]
    body = {
        "source": {"id": source.id, "digest": "a" * 64},
        "rule": {"id": rule.id, "digest": "b" * 64},
        **_run(vector),
    }
    record = Record(**{**source.__dict__, "type": "factor-substitution", "body": body})
    check_substitution(record, [source, rule, *sets])


def test_example_substitutions_check(records: dict[str, Record]) -> None:
    closure = list(records.values())
    digests = {r.id: ex.seeded_digest(dict(r.raw)) for r in closure}
    for rid in (ex.SUB_TANK_EU, ex.SUB_TANK_UK, ex.SUB_HX_SEA):
        check_substitution(records[rid], closure, digests=digests)
    for rid in (ex.CR_TANK, ex.CR_HX, ex.CR_TANK_REVISED):
        check_carbon_record(records[rid], [r for r in closure if r.type == "factor-set"])


def _tampered(records: dict[str, Record], rid: str, *path: Any, value: Any) -> Record:
    raw = copy.deepcopy(dict(records[rid].raw))
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return validate_record(raw)


@pytest.mark.parametrize(
    ("path", "value", "figure"),
    [
        (("body", "result", "total"), "42239.4", "body.result.total"),
        (("body", "result", "by_stage", "transport"), "4335.7", "body.result.by_stage.transport"),
        (("body", "result", "by_gas", "CH4"), "287.9", "body.result.by_gas.CH4"),
        (("body", "lines", 3, "emissions_kg"), "3230.26", "body.lines[3].emissions_kg"),
        (("body", "lines", 3, "replacement", "value"), "0.177", None),
        (("body", "lines", 7, "gwp_treatment"), "none", "body.lines[7].gwp_treatment"),
    ],
)
def test_tampered_substitution_is_caught(
    records: dict[str, Record], path: tuple[Any, ...], value: str, figure: str | None
) -> None:
    tampered = _tampered(records, ex.SUB_TANK_UK, *path, value=value)
    if figure is None:
        # "0.177" equals "0.17700" by value: the same factor, not a tampered one.
        check_substitution(tampered, list(records.values()))
        return
    with pytest.raises(CalculationMismatchError) as info:
        check_substitution(tampered, list(records.values()))
    assert str(info.value).startswith(figure)
    assert info.value.expected == value


def test_replacement_of_another_activity_is_rejected(records: dict[str, Record]) -> None:
    tampered = _tampered(
        records,
        ex.SUB_TANK_UK,
        "body",
        "lines",
        3,
        "replacement",
        "entry",
        value="27_304_3140_14_1",
    )
    with pytest.raises(MalformedError, match="activity"):
        check_substitution(tampered, list(records.values()))


def test_kept_line_that_should_be_substituted_is_caught(records: dict[str, Record]) -> None:
    raw = copy.deepcopy(dict(records[ex.SUB_TANK_UK].raw))
    line = raw["body"]["lines"][4]
    raw["body"]["lines"][4] = {
        k: v for k, v in line.items() if k not in ("original", "replacement")
    } | {"action": "keep", "factor": line["original"]}
    with pytest.raises(CalculationMismatchError, match=r"body\.lines\[4\]"):
        check_substitution(validate_record(raw), list(records.values()))


def test_missing_closure_and_wrong_digest(records: dict[str, Record]) -> None:
    record = records[ex.SUB_TANK_EU]
    others = [r for r in records.values() if r.id != ex.RULE_EU_CBAM]
    with pytest.raises(NotFoundError, match=r"body\.rule"):
        check_substitution(record, others)
    digests = {r.id: ex.seeded_digest(dict(r.raw)) for r in records.values()}
    digests[ex.CR_TANK] = "0" * 64
    with pytest.raises(DigestMismatchError, match=r"body\.source\.digest"):
        check_substitution(record, list(records.values()), digests=digests)


def test_tampered_carbon_totals_and_factor(records: dict[str, Record]) -> None:
    sets = [r for r in records.values() if r.type == "factor-set"]
    bad_total = _tampered(records, ex.CR_TANK, "body", "totals", "total", value="48679.59")
    with pytest.raises(CalculationMismatchError, match=r"^body\.totals\.total"):
        check_carbon_record(bad_total, sets)
    bad_factor = _tampered(records, ex.CR_TANK, "body", "lines", 3, "factor", "value", value="0.4")
    with pytest.raises(CalculationMismatchError, match=r"^body\.lines\[3\]\.factor\.value"):
        check_carbon_record(bad_factor, sets)


def test_ambiguous_replacement_needs_a_choice(records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError, match="several replacements"):
        compute_substitution(records[ex.CR_HX], records[ex.RULE_SEA], [records[ex.FS_CN_MEE_2023]])


def test_factor_sets_must_be_the_rules(records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError, match="not the ones rule"):
        compute_substitution(
            records[ex.CR_TANK], records[ex.RULE_UK], [records[ex.FS_EU_CBAM_2026]]
        )


def test_per_tonne_output_needs_mass(records: dict[str, Record]) -> None:
    raw = copy.deepcopy(dict(records[ex.CR_TANK].raw))
    del raw["body"]["equipment"]["mass_kg"]
    source = validate_record(raw)
    with pytest.raises(MalformedError, match="mass_kg"):
        compute_substitution(source, records[ex.RULE_EU_CBAM], [records[ex.FS_EU_CBAM_2026]])


def test_unit_conversions_in_the_fixed_table(records: dict[str, Record]) -> None:
    raw = copy.deepcopy(dict(records[ex.CR_TANK].raw))
    raw["body"]["lines"][3]["quantity"] = "18.25"
    raw["body"]["lines"][3]["unit"] = "MWh"  # 18.25 MWh = 18250 kWh
    raw["body"]["lines"][0]["quantity"] = "29100.75"
    raw["body"]["lines"][0]["unit"] = "lb"
    totals = compute_carbon_totals(validate_record(raw))
    assert totals["by_channel"]["indirect"] == "9683.45"
    # By hand: 29100.75 lb x 0.45359237 kg/lb = 13199.8781612775 kg;
    # x 1.850 t/t = 24419.774598363375 kg -> 24419.77
    assert totals["by_channel"]["precursor"] == "24419.77"


def test_context_is_explicit_and_local() -> None:
    ctx = calc_context()
    assert ctx.prec == 34
    assert ctx.rounding == decimal.ROUND_HALF_EVEN
    assert ctx.traps[decimal.InvalidOperation] and ctx.traps[decimal.DivisionByZero]
    assert not ctx.traps[decimal.Inexact]
    assert calc_context() is not ctx
    before = decimal.getcontext().prec
    decimal.getcontext().prec = 3
    try:
        assert (
            compute_carbon_totals(validate_record(ex.example_records()[ex.CR_TANK]))["total_exact"]
            == "48679.582"
        )
    finally:
        decimal.getcontext().prec = before


CORE = REPO / "ledger" / "core"


def _isinstance_checks(tree: ast.AST) -> set[int]:
    """ids of `float` names used only to refuse floats: isinstance(x, float)."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
            for arg in node.args[1:]:
                allowed.update(id(n) for n in ast.walk(arg))
    return allowed


def test_no_float_in_ledger_core() -> None:
    """No float literal, float() call, float annotation or float division result in
    the pure core; `isinstance(x, float)` (to refuse a float) is the one use allowed."""
    offenders: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        allowed = _isinstance_checks(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} float literal")
            if isinstance(node, ast.Name) and node.id == "float" and id(node) not in allowed:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} float")
            if isinstance(node, ast.Attribute) and node.attr in ("from_float", "fsum"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {node.attr}")
    # The store's UnavailableError.retry_after_s is the one float the error tree
    # carries (seconds for Retry-After, not a quantity).
    offenders = [o for o in offenders if not o.startswith("ledger/core/errors.py")]
    assert offenders == []


def test_choosing_the_quoted_entry_keeps_the_line(records: dict[str, Record]) -> None:
    source, rule, cn = records[ex.CR_HX], records[ex.RULE_SEA], records[ex.FS_CN_MEE_2023]
    computed = compute_substitution(
        source, rule, [cn], choices={"H03": (ex.FS_CN_MEE_2023, "cn-2023-national")}
    )
    h03 = next(line for line in computed["lines"] if line["line_id"] == "H03")
    assert h03["action"] == "keep"
    assert h03["emissions_kg"] == "3395.84"  # 6400 x 0.5306
    assert not any(d["kind"] == "factor-replaced" for d in computed["differences"])
    body = {
        "source": {"id": source.id, "digest": "a" * 64},
        "rule": {"id": rule.id, "digest": "b" * 64},
        **computed,
    }
    record = Record(**{**source.__dict__, "type": "factor-substitution", "body": body})
    check_substitution(record, [source, rule, cn])


def test_a_line_already_on_the_rules_only_factor_checks(records: dict[str, Record]) -> None:
    """A source line that quotes the very DESNZ entry the UK rule would substitute: with no
    choice made, calc/1 substitutes it by itself (docs/CALC.md §6 step 3), and the check
    must recompute the same instead of reading a choice into it (found by the property
    test of acceptance, tests/service/test_recompute_property.py)."""
    raw = copy.deepcopy(dict(records[ex.CR_TANK].raw))
    desnz, rule = records[ex.FS_DESNZ_2025], records[ex.RULE_UK]
    grid = next(e for e in desnz.body["entries"] if e["activity"] == "electricity.grid")
    digest = rule.body["factor_sets"][0]["digest"]
    raw["body"]["lines"][3]["factor"] = {
        "set": {"id": desnz.id, "digest": digest},
        "entry": grid["id"],
        "activity": grid["activity"],
        "value": grid["value"],
        "unit": grid["unit"],
        "gwp_set": grid["gwp_set"],
        "per_gas": dict(grid["per_gas"]),
    }
    raw["refs"].append({"rel": "factor-set", "id": desnz.id, "digest": digest})
    raw["body"]["totals"] = compute_carbon_totals(validate_record(raw))
    source = validate_record(raw)
    computed = compute_substitution(source, rule, [desnz])
    line = computed["lines"][3]
    assert line["action"] == "substitute" and line["original"] == line["replacement"]
    body = {
        "source": {"id": source.id, "digest": "a" * 64},
        "rule": {"id": rule.id, "digest": "b" * 64},
        **computed,
    }
    record = Record(**{**source.__dict__, "type": "factor-substitution", "body": body})
    closure = [source, rule, desnz, *(records[r.id] for r in source.refs_with("factor-set")[:4])]
    check_substitution(record, closure)


def test_figure_beyond_34_digits_is_malformed(records: dict[str, Record]) -> None:
    raw = copy.deepcopy(dict(records[ex.CR_TANK].raw))
    raw["body"]["lines"][3]["quantity"] = "9" * 33
    with pytest.raises(MalformedError, match="34 digits"):
        compute_carbon_totals(validate_record(raw))


def test_degradation_revision_recomputes(records: dict[str, Record]) -> None:
    revised = records[ex.CR_TANK_REVISED]
    assert revised.supersedes is not None and revised.supersedes.id == ex.CR_TANK
    totals = compute_carbon_totals(revised)
    # By hand: recoating 180 kg x 5.2336 = 942.048 replaces 120 kg x 5.2336 = 628.032;
    # 48679.582 - 628.032 + 942.048 = 48993.598 -> 48993.60
    assert totals["total_exact"] == "48993.598"
    assert totals["total"] == "48993.60"
    assert totals["by_stage"]["operation_maintenance"] == "942.05"
