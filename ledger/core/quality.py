"""Data quality of a carbon record's cradle-to-gate figure (docs/CALC.md §12).

PACT Tech Spec v3 (docs/PACT.md) exchanges the cradle-to-gate part of a footprint only:
the stages ``raw_material`` (EN 15804 A1, with inbound transport when reported there) and
``manufacturing_surface_treatment`` (A3). Its primary data share is the share of that
figure which rests on primary activity data; it is recomputed here from the lines, with the
same calc/1 arithmetic as the totals, so the service and the verifier agree on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledger.core.calc import calc_context, evaluate_line, round_figure
from ledger.core.errors import MalformedError
from ledger.core.records import Record

__all__ = [
    "CRADLE_TO_GATE_STAGES",
    "PDS_ROUNDING",
    "cradle_to_gate_stages",
    "primary_data_share",
]

#: The stages of a record that make up a PACT (cradle-to-gate) footprint.
CRADLE_TO_GATE_STAGES = ("raw_material", "manufacturing_surface_treatment")
#: The primary data share is a percentage written with two decimals, rounded once.
PDS_ROUNDING: Mapping[str, Any] = {"mode": "ROUND_HALF_EVEN", "places": 2}


def cradle_to_gate_stages(stages: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The cradle-to-gate stages among ``stages``, in vocabulary order."""
    return tuple(s for s in CRADLE_TO_GATE_STAGES if s in stages)


def primary_data_share(record: Record) -> str | None:
    """The primary data share of a carbon record's cradle-to-gate emissions, in percent.

    100 x (emissions of cradle-to-gate lines whose ``data_type`` is ``primary``) / (emissions
    of all cradle-to-gate lines), exact, then rounded once to two places half-even. A line
    without ``data_type`` counts as secondary. None when the cradle-to-gate emissions are
    not positive (no such lines, or they sum to zero or less): no share can be stated.
    """
    if record.type != "carbon-record":
        raise MalformedError(f"{record.id} is a {record.type}, expected a carbon-record")
    ctx = calc_context()
    gwp = record.body["methodology"]["gwp_set"]
    total = Decimal(0)
    primary = Decimal(0)
    for line in sorted(record.body["lines"], key=lambda line: line["line_id"]):
        if line["stage"] not in CRADLE_TO_GATE_STAGES:
            continue
        emissions = evaluate_line(line, line["factor"], gwp, ctx).emissions_kg
        total = ctx.add(total, emissions)
        if line.get("data_type") == "primary":
            primary = ctx.add(primary, emissions)
    if total <= 0:
        return None
    share = ctx.divide(ctx.multiply(primary, Decimal(100)), total)
    return round_figure(share, PDS_ROUNDING, ctx)
