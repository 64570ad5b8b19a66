"""calc/1 boundary adaptation beyond dropping (docs/CALC.md §6.1): a stage the rule
requires and the source lacks, added from supplementary activity data the exporter
supplies; and a stage shared with other products, allocated by mass share.

Both are inputs of a factor substitution of schema version 3 (docs/RECORDS.md §3.4.1):
``supplements`` are activity lines in the carbon-record line format, ``allocations``
are ``{stage, key, product_kg, total_kg, basis}`` with key ``mass``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Context, Decimal
from typing import Any

from ledger.core.calc.lines import LineResult
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types import vocab


def check_supplements(
    source: Record,
    supplements: Sequence[Mapping[str, Any]],
    *,
    stages_in: set[str],
    channels_in: set[str],
) -> None:
    """Supplementary lines only add a stage the rule counts and the source lacks, in a
    channel the rule counts, under line ids of their own."""
    ids = {line["line_id"] for line in source.body["lines"]}
    source_stages = set(source.body["boundary"]["stages"])
    for i, line in enumerate(supplements):
        path = f"supplements[{i}]"
        if line["line_id"] in ids:
            raise MalformedError(
                f"line id {line['line_id']!r} is already used", path=f"{path}.line_id"
            )
        ids.add(line["line_id"])
        stage = line["stage"]
        if stage not in stages_in:
            raise MalformedError(
                f"the rule excludes stage {stage!r}: supplementary data for it would be dropped",
                path=f"{path}.stage",
            )
        if stage in source_stages:
            raise MalformedError(
                f"the source already covers stage {stage!r}: supplementary lines only add a "
                "stage the source lacks (anything else would count it twice)",
                path=f"{path}.stage",
            )
        if line["cbam_channel"] not in channels_in:
            raise MalformedError(
                f"the rule excludes channel {line['cbam_channel']!r}: the line would be dropped",
                path=f"{path}.cbam_channel",
            )


def allocation_shares(
    allocations: Sequence[Mapping[str, Any]], counted_stages: set[str]
) -> dict[str, tuple[Decimal, Decimal]]:
    """stage -> (product_kg, total_kg) of each allocation, checked: a counted stage at
    most once, key ``mass``, 0 < product_kg <= total_kg."""
    shares: dict[str, tuple[Decimal, Decimal]] = {}
    for i, allocation in enumerate(allocations):
        path = f"allocations[{i}]"
        stage = allocation["stage"]
        if stage not in counted_stages:
            raise MalformedError(
                f"no counted line in stage {stage!r}: nothing to allocate", path=f"{path}.stage"
            )
        if stage in shares:
            raise MalformedError(f"stage {stage!r} is allocated twice", path=f"{path}.stage")
        if allocation["key"] not in vocab.ALLOCATION_KEYS:
            raise MalformedError(
                f"allocation key {allocation['key']!r}; known: {', '.join(vocab.ALLOCATION_KEYS)}",
                path=f"{path}.key",
            )
        product, total = Decimal(allocation["product_kg"]), Decimal(allocation["total_kg"])
        if not 0 < product <= total:
            raise MalformedError("expected 0 < product_kg <= total_kg", path=f"{path}.product_kg")
        shares[stage] = (product, total)
    return shares


def allocate(result: LineResult, product: Decimal, total: Decimal, ctx: Context) -> LineResult:
    """The line's share: every figure x product ÷ total, in that order (docs/CALC.md §6.1)."""

    def share(x: Decimal) -> Decimal:
        return ctx.divide(ctx.multiply(x, product), total)

    return replace(
        result,
        emissions_kg=share(result.emissions_kg),
        by_gas={gas: share(amount) for gas, amount in result.by_gas.items()},
    )


def stage_differences(
    source: Record,
    rule: Record,
    supplied: Mapping[str, list[str]],
    allocations: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The stage rows of the difference table, in the fixed stage order: removed, not in
    the source, added from supplementary data, allocated (docs/CALC.md §6)."""
    rb = rule.body
    stages_in = {s["stage"] for s in rb["stages"]}
    stage_refs = {s["stage"]: s["legal_ref"] for s in rb["excluded_stages"]}
    source_stages = source.body["boundary"]["stages"]
    by_stage = {a["stage"]: a for a in allocations}
    rows: list[dict[str, Any]] = []
    for stage in vocab.STAGES:
        if stage in source_stages and stage not in stages_in:
            rows.append({"kind": "stage-removed", "stage": stage, "legal_ref": stage_refs[stage]})
        if stage in stages_in and stage not in source_stages:
            if stage in supplied:
                rows.append({"kind": "stage-added", "stage": stage, "lines": supplied[stage]})
            else:
                rows.append({"kind": "stage-not-in-source", "stage": stage})
        if stage in by_stage:
            a = by_stage[stage]
            rows.append(
                {
                    "kind": "stage-allocated",
                    "stage": stage,
                    "key": a["key"],
                    "product_kg": a["product_kg"],
                    "total_kg": a["total_kg"],
                }
            )
    return rows
