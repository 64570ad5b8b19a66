"""calc/1: the calculation spec (DESIGN §3.7, docs/CALC.md).

The service produces figures with these functions and the verifier recomputes
them with the same ones. All arithmetic goes through an explicit
:func:`calc_context` (never the thread's current decimal context); no float is
involved anywhere between a record and a result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from ledger.core import units
from ledger.core.errors import CalculationMismatchError, MalformedError, NotFoundError
from ledger.core.records import Record
from ledger.core.types import fields as f
from ledger.core.types import vocab

CALC_VERSION = "calc/1"
PRECISION = 34  # IEEE 754 decimal128 (docs/CALC.md §2)
_ROUNDING = {
    "ROUND_HALF_EVEN": ROUND_HALF_EVEN,
    "ROUND_HALF_UP": ROUND_HALF_UP,
    "ROUND_DOWN": ROUND_DOWN,
    "ROUND_UP": ROUND_UP,
}
UNATTRIBUTED = "unattributed"


def calc_context() -> Context:
    """A fresh calc/1 context: 34 digits, half-even, and every exceptional
    condition except Inexact/Rounded trapped (docs/CALC.md §2)."""
    return Context(
        prec=PRECISION,
        rounding=ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        capitals=1,
        clamp=0,
        flags=[],
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def exact_text(value: Decimal) -> str:
    """An unrounded figure in plain notation without trailing zeros."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def round_figure(value: Decimal, rounding: Mapping[str, Any], ctx: Context) -> str:
    """The one rounding of calc/1 (docs/CALC.md §8): quantize to `places`."""
    quantum = Decimal(1).scaleb(-int(rounding["places"]))
    try:
        rounded = value.quantize(quantum, rounding=_ROUNDING[rounding["mode"]], context=ctx)
    except InvalidOperation:
        # More than 34 digits before and after the point together (docs/CALC.md §2).
        raise MalformedError(
            f"figure {exact_text(value)} cannot be written to {rounding['places']} places "
            f"within {PRECISION} digits"
        ) from None
    if rounded == 0:
        rounded = abs(rounded)  # never write "-0.00"
    return format(rounded, "f")


@dataclass
class LineResult:
    """One activity line evaluated under a target GWP set, in kg (docs/CALC.md §5)."""

    line_id: str
    stage: str
    channel: str
    emissions_kg: Decimal
    by_gas: dict[str, Decimal] = field(default_factory=dict)
    gwp_treatment: str = "none"


def evaluate_line(
    line: Mapping[str, Any], factor: Mapping[str, Any], target_gwp: str, ctx: Context
) -> LineResult:
    """Emissions of one line with ``factor`` (a factor use), in kg CO2e."""
    unit = units.parse_factor_unit(factor["unit"])
    qty = Decimal(line["quantity"])
    mass = units.EMISSION_MASS[unit.mass]
    size_q = units.size(line["unit"])
    size_f = units.size(unit.per)
    if units.dimension(line["unit"]) != units.dimension(unit.per):
        raise MalformedError(
            f"line {line['line_id']}: quantity unit {line['unit']!r} does not convert to "
            f"{unit.per!r}"
        )

    def scale(per_unit: Decimal) -> Decimal:
        # docs/CALC.md §5.1: ((q x v) x m x size(q unit)) / size(factor unit)
        x = ctx.multiply(qty, per_unit)
        x = ctx.multiply(x, mass)
        x = ctx.multiply(x, size_q)
        return ctx.divide(x, size_f)

    result = LineResult(line["line_id"], line["stage"], line["cbam_channel"], Decimal(0))
    value = Decimal(factor["value"])
    per_gas = {g: Decimal(v) for g, v in sorted(factor.get("per_gas", {}).items())}
    if unit.basis == "CO2":
        result.emissions_kg = scale(value)
        result.by_gas = {"CO2": result.emissions_kg}
        return result
    source_gwp = factor["gwp_set"]
    if source_gwp == target_gwp:
        result.emissions_kg = scale(value)
        attributed = Decimal(0)
        for gas, per_unit in per_gas.items():
            result.by_gas[gas] = scale(per_unit)
            attributed = ctx.add(attributed, result.by_gas[gas])
        residual = ctx.subtract(result.emissions_kg, attributed)
        if residual != 0 or not per_gas:
            result.by_gas[UNATTRIBUTED] = residual
        return result
    if not per_gas:
        # docs/CALC.md §7: no per-gas split, so the figure cannot be
        # re-characterised; it is carried as stated and flagged.
        result.emissions_kg = scale(value)
        result.by_gas = {UNATTRIBUTED: result.emissions_kg}
        result.gwp_treatment = "not-recharacterised"
        return result
    total = Decimal(0)
    for gas, per_unit in per_gas.items():
        gwp_s = units.GWP[source_gwp].get(gas)
        gwp_t = units.GWP[target_gwp].get(gas)
        if gwp_s is None or gwp_t is None:
            raise MalformedError(
                f"line {line['line_id']}: no GWP of {gas} in {source_gwp} or {target_gwp}"
            )
        # docs/CALC.md §7: (scaled CO2e of the gas) x GWP_target / GWP_source
        converted = ctx.divide(ctx.multiply(scale(per_unit), gwp_t), gwp_s)
        result.by_gas[gas] = converted
        total = ctx.add(total, converted)
    result.emissions_kg = total
    result.gwp_treatment = "recharacterised"
    return result


def aggregate(results: Iterable[LineResult], ctx: Context) -> dict[str, Any]:
    """Exact sums by stage, channel and gas, in ascending line_id order so that
    the order of lines in a record cannot change a figure (docs/CALC.md §8)."""
    by_stage: dict[str, Decimal] = {}
    by_channel: dict[str, Decimal] = {}
    by_gas: dict[str, Decimal] = {}
    total = Decimal(0)
    for r in sorted(results, key=lambda r: r.line_id):
        by_stage[r.stage] = ctx.add(by_stage.get(r.stage, Decimal(0)), r.emissions_kg)
        by_channel[r.channel] = ctx.add(by_channel.get(r.channel, Decimal(0)), r.emissions_kg)
        for gas, amount in r.by_gas.items():
            by_gas[gas] = ctx.add(by_gas.get(gas, Decimal(0)), amount)
        total = ctx.add(total, r.emissions_kg)
    return {"by_stage": by_stage, "by_channel": by_channel, "by_gas": by_gas, "total": total}


def _order(keys: Iterable[str], vocabulary: Sequence[str]) -> list[str]:
    rank = {k: i for i, k in enumerate(vocabulary)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def present(
    sums: Mapping[str, Any],
    rounding: Mapping[str, Any],
    out_unit: str,
    mass_kg: Decimal | None,
    ctx: Context,
) -> dict[str, Any]:
    """Convert exact kg sums to the output unit and round each figure once."""

    def convert(x: Decimal) -> Decimal:
        if out_unit.startswith("t"):
            x = ctx.divide(x, Decimal(1000))
        if out_unit.endswith("/t"):
            if mass_kg is None:
                raise MalformedError(
                    "output unit per tonne needs body.equipment.mass_kg",
                    path="body.equipment.mass_kg",
                )
            x = ctx.divide(x, ctx.divide(mass_kg, Decimal(1000)))
        return x

    def figures(d: Mapping[str, Decimal], vocabulary: Sequence[str]) -> dict[str, str]:
        return {k: round_figure(convert(d[k]), rounding, ctx) for k in _order(d, vocabulary)}

    total = convert(sums["total"])
    return {
        "unit": out_unit,
        "by_stage": figures(sums["by_stage"], vocab.STAGES),
        "by_channel": figures(sums["by_channel"], vocab.CHANNELS),
        "by_gas": figures(sums["by_gas"], (*units.GASES, UNATTRIBUTED)),
        "total": round_figure(total, rounding, ctx),
        "total_exact": exact_text(total),
    }


def _require(record: Record, rtype: str) -> None:
    if record.type != rtype:
        raise MalformedError(f"{record.id} is a {record.type}, expected a {rtype}")


def _mass(record: Record) -> Decimal | None:
    mass = record.body["equipment"].get("mass_kg")
    return None if mass is None else Decimal(mass)


def compute_carbon_totals(record: Record) -> dict[str, Any]:
    """The `totals` of a carbon record from its lines (docs/CALC.md §5, §8)."""
    _require(record, "carbon-record")
    ctx = calc_context()
    body = record.body
    gwp = body["methodology"]["gwp_set"]
    results = [evaluate_line(line, line["factor"], gwp, ctx) for line in body["lines"]]
    return present(aggregate(results, ctx), body["rounding"], "kgCO2e", _mass(record), ctx)


def find_entry(factor_set: Record, entry_id: str) -> Mapping[str, Any]:
    for entry in factor_set.body["entries"]:
        if entry["id"] == entry_id:
            return entry
    raise NotFoundError(f"factor set {factor_set.id} has no entry {entry_id!r}")


def factor_use(factor_set: Record, entry: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """How a line quotes a factor-set entry (docs/RECORDS.md §3.1)."""
    use: dict[str, Any] = {
        "set": {"id": factor_set.id, "digest": digest},
        "entry": entry["id"],
        "activity": entry["activity"],
        "value": entry["value"],
        "unit": entry["unit"],
        "gwp_set": entry["gwp_set"],
    }
    if "per_gas" in entry:
        use["per_gas"] = dict(entry["per_gas"])
    return use


def compare(stated: Any, computed: Any, path: str) -> None:
    """Raise CalculationMismatchError at the first figure that differs.

    Decimal strings compare by value ("4448.0" equals "4448.00"); everything
    else compares exactly.
    """
    if type(stated) is type(computed) and stated == computed:
        # Equal JSON (the usual case, checked at C speed): nothing below can differ. Python's
        # == takes True for 1 inside containers, but no computed figure structure holds an
        # integer or a boolean below its top level, where the type test above applies.
        return
    if isinstance(stated, Mapping) and isinstance(computed, Mapping):
        for key in _order(set(stated) | set(computed), ()):
            if key not in stated or key not in computed:
                raise CalculationMismatchError(
                    f"{f.sub(path, key)}: figure missing on one side",
                    expected=stated.get(key),
                    computed=computed.get(key),
                )
            compare(stated[key], computed[key], f.sub(path, key))
        return
    if isinstance(stated, list) and isinstance(computed, list):
        if len(stated) != len(computed):
            raise CalculationMismatchError(
                f"{path}: {len(stated)} items stated, {len(computed)} recomputed",
                expected=len(stated),
                computed=len(computed),
            )
        for i, (a, b) in enumerate(zip(stated, computed, strict=True)):
            compare(a, b, f.sub(path, i))
        return
    if (
        isinstance(stated, str)
        and isinstance(computed, str)
        and f.DECIMAL_RE.fullmatch(stated)
        and f.DECIMAL_RE.fullmatch(computed)
    ):
        if Decimal(stated) == Decimal(computed):
            return
    elif stated == computed and type(stated) is type(computed):
        return
    raise CalculationMismatchError(
        f"{path}: stated {stated!r}, recomputed {computed!r}", expected=stated, computed=computed
    )


def _check_factor(use: Mapping[str, Any], sets: Mapping[str, Record], path: str) -> None:
    set_id = use["set"]["id"]
    if set_id not in sets:
        raise NotFoundError(f"{path}.set: factor set {set_id} is not in the closure")
    entry = find_entry(sets[set_id], use["entry"])
    expected = factor_use(sets[set_id], entry, use["set"]["digest"])
    compare(dict(use), expected, path)


def check_carbon_record(
    record: Record, factor_sets: Mapping[str, Record] | Sequence[Record]
) -> None:
    """Every line quotes its factor-set entry faithfully and the totals recompute."""
    _require(record, "carbon-record")
    sets = _by_id(factor_sets, "factor-set")
    for i, line in enumerate(record.body["lines"]):
        _check_factor(line["factor"], sets, f"body.lines[{i}].factor")
    compare(record.body["totals"], compute_carbon_totals(record), "body.totals")


def _by_id(records: Mapping[str, Record] | Sequence[Record], rtype: str) -> dict[str, Record]:
    items = records.values() if isinstance(records, Mapping) else records
    out: dict[str, Record] = {}
    for r in items:
        _require(r, rtype)
        out[r.id] = r
    return out


# The factor-substitution computation lives with its own module to keep files
# short; it is part of calc/1 all the same.
from ledger.core.conversion import check_substitution, compute_substitution  # noqa: E402

__all__ = [
    "CALC_VERSION",
    "calc_context",
    "check_carbon_record",
    "check_substitution",
    "compute_carbon_totals",
    "compute_substitution",
]
