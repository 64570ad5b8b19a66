"""calc/1 carbon lines: one activity line's emissions, their exact sums, and a
carbon record's totals (docs/CALC.md §5, §8)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

from ledger.core.calc import units
from ledger.core.calc.arithmetic import (
    calc_context,
    compare,
    exact_text,
    in_vocabulary_order,
    round_figure,
)
from ledger.core.calc.inputs import (
    equipment_mass_kg,
    factor_use,
    find_entry,
    records_by_id,
    require_type,
)
from ledger.core.errors import CalculationMismatchError, MalformedError, NotFoundError
from ledger.core.records import Record
from ledger.core.types import vocab

UNATTRIBUTED = "unattributed"


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
        return {
            k: round_figure(convert(d[k]), rounding, ctx)
            for k in in_vocabulary_order(d, vocabulary)
        }

    total = convert(sums["total"])
    return {
        "unit": out_unit,
        "by_stage": figures(sums["by_stage"], vocab.STAGES),
        "by_channel": figures(sums["by_channel"], vocab.CHANNELS),
        "by_gas": figures(sums["by_gas"], (*units.GASES, UNATTRIBUTED)),
        "total": round_figure(total, rounding, ctx),
        "total_exact": exact_text(total),
    }


def compute_carbon_totals(record: Record) -> dict[str, Any]:
    """The `totals` of a carbon record from its lines (docs/CALC.md §5, §8)."""
    require_type(record, "carbon-record")
    ctx = calc_context()
    body = record.body
    gwp = body["methodology"]["gwp_set"]
    results = [evaluate_line(line, line["factor"], gwp, ctx) for line in body["lines"]]
    return present(
        aggregate(results, ctx), body["rounding"], "kgCO2e", equipment_mass_kg(record), ctx
    )


def check_factor_quote(use: Mapping[str, Any], sets: Mapping[str, Record], path: str) -> None:
    """A line's factor use equals the entry of the factor set it quotes (docs/RECORDS.md
    §3.1): value, unit, activity, GWP set and per-gas values."""
    set_id = use["set"]["id"]
    if set_id not in sets:
        raise NotFoundError(f"{path}.set: factor set {set_id} is not in the closure")
    entry = find_entry(sets[set_id], use["entry"])
    expected = factor_use(set_id, entry, use["set"]["digest"])
    compare(dict(use), expected, path)


def check_carbon_record(
    record: Record, factor_sets: Mapping[str, Record] | Sequence[Record]
) -> None:
    """Every line quotes its factor-set entry faithfully, the totals recompute, and so does
    a stated primary data share (schema 2, §13)."""
    require_type(record, "carbon-record")
    sets = records_by_id(factor_sets, "factor-set")
    for i, line in enumerate(record.body["lines"]):
        check_factor_quote(line["factor"], sets, f"body.lines[{i}].factor")
    compare(record.body["totals"], compute_carbon_totals(record), "body.totals")
    check_primary_data_share(record, primary_data_share(record))


# -- §13 primary data share of the cradle-to-gate figure ---------------------------------

#: The stages of a record that make up a cradle-to-gate (PACT) figure.
CRADLE_TO_GATE_STAGES = ("raw_material", "manufacturing_surface_treatment")
#: The primary data share is a percentage written with two decimals, rounded once.
PDS_ROUNDING: Mapping[str, Any] = {"mode": "ROUND_HALF_EVEN", "places": 2}


def weighted_share(weighted: Iterable[tuple[Decimal, bool]], ctx: Context) -> str | None:
    """100 x (the primary ones' emissions) / (all emissions), rounded once to two places;
    None when the emissions are not positive (§13)."""
    total = primary = Decimal(0)
    for emissions, is_primary in weighted:
        total = ctx.add(total, emissions)
        if is_primary:
            primary = ctx.add(primary, emissions)
    if total <= 0:
        return None
    return round_figure(ctx.divide(ctx.multiply(primary, Decimal(100)), total), PDS_ROUNDING, ctx)


def primary_data_share(record: Record) -> str | None:
    """§13: 100 x (emissions of cradle-to-gate lines with ``data_type`` primary) / (emissions
    of all cradle-to-gate lines), rounded once to two places; None when they are not
    positive. A line without ``data_type`` counts as secondary."""
    require_type(record, "carbon-record")
    ctx = calc_context()
    gwp = record.body["methodology"]["gwp_set"]
    lines = sorted(record.body["lines"], key=lambda line: line["line_id"])
    return weighted_share(
        (
            (
                evaluate_line(line, line["factor"], gwp, ctx).emissions_kg,
                line.get("data_type") == "primary",
            )
            for line in lines
            if line["stage"] in CRADLE_TO_GATE_STAGES
        ),
        ctx,
    )


def check_primary_data_share(record: Record, computed: str | None) -> None:
    """A stated ``quality.primary_data_share`` must equal its recomputation (none stated:
    nothing to check; stated where none can be computed: a mismatch)."""
    quality = record.body.get("quality")
    if not isinstance(quality, Mapping):
        return
    stated = quality.get("primary_data_share")
    if computed is None:
        raise CalculationMismatchError(
            "body.quality.primary_data_share: stated, but the record has no positive "
            "cradle-to-gate emissions to take a share of",
            expected=stated,
            computed=None,
        )
    compare(stated, computed, "body.quality.primary_data_share")
