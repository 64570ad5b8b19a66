"""The answer a record page leads with (docs/PAGES.md §1.2): what a conversion changed and
by how much, what a rating changed, from the records as the caller's view discloses them.

A replaced factor's effect is the line's emissions with the new factor minus with the old
one, both under the rule's GWP set, computed with calc/1's own line evaluation
(``ledger.core.calc.lines.evaluate_line``) from the source line's quantity: so it needs the
source and the conversion in full, and is "withheld" in the public view. A removed stage's
effect is the source's stage total (public); an added stage's is the result's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.core.calc.arithmetic import calc_context
from ledger.core.calc.lines import evaluate_line
from ledger.core.errors import LedgerError
from ledger.core.view import HIDDEN

__all__ = ["ConversionSummary", "ReplacedFactor", "StageChange", "conversion_summary"]

_CENT = Decimal("0.01")


def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value is not HIDDEN else None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def _shown(value: Decimal | None) -> str | None:
    """An effect for display: to the hundredth of a kg, half-even, with its sign."""
    if value is None:
        return None
    rounded = value.quantize(_CENT, context=calc_context())
    return f"+{rounded}" if rounded > 0 else str(rounded)


@dataclass(frozen=True)
class ReplacedFactor:
    line_id: str
    stage: str | None
    activity: str | None
    source_set: str | None
    source_entry: str | None
    target_set: str | None
    target_entry: str | None
    old_value: str | None
    new_value: str | None
    unit: str | None
    effect_kg: str | None


@dataclass(frozen=True)
class StageChange:
    kind: str
    stage: str | None
    channel: str | None
    effect: str | None
    unit: str | None
    legal_ref: str | None


@dataclass(frozen=True)
class ConversionSummary:
    source_total: str | None
    source_unit: str | None
    result_total: str | None
    result_unit: str | None
    gwp_from: str | None
    gwp_to: str | None
    replaced: tuple[ReplacedFactor, ...]
    changes: tuple[StageChange, ...]
    regime: str | None
    regime_version: str | None
    region: str | None


def _line_effect(
    source_line: Mapping[str, Any] | None,
    original: Mapping[str, Any],
    replacement: Mapping[str, Any],
    gwp: str | None,
) -> Decimal | None:
    if source_line is None or gwp is None or _s(source_line.get("quantity")) is None:
        return None
    try:
        ctx = calc_context()
        before = evaluate_line(source_line, original, gwp, ctx).emissions_kg
        after = evaluate_line(source_line, replacement, gwp, ctx).emissions_kg
    except (LedgerError, KeyError, TypeError, ValueError, InvalidOperation):
        return None
    return ctx.subtract(after, before)


def _set_id(use: Mapping[str, Any]) -> str | None:
    link = use.get("set")
    return _s(_m(link).get("id")) if isinstance(link, Mapping) else _s(link)


def conversion_summary(
    conversion: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    rule: Mapping[str, Any] | None,
) -> ConversionSummary:
    """The answer of a factor-substitution page from the records as disclosed."""
    body = _m(conversion.get("body"))
    source_body = _m((source or {}).get("body"))
    source_totals = _m(source_body.get("totals"))
    result = _m(body.get("result"))
    gwp = _m(body.get("gwp"))
    source_lines = {
        str(line.get("line_id")): line
        for line in source_body.get("lines", ())
        if isinstance(line, Mapping)
    }
    replaced = []
    for line in body.get("lines", ()):
        if not isinstance(line, Mapping) or line.get("action") != "substitute":
            continue
        original, replacement = _m(line.get("original")), _m(line.get("replacement"))
        line_effect = _line_effect(
            source_lines.get(str(line.get("line_id"))), original, replacement, _s(gwp.get("to"))
        )
        replaced.append(
            ReplacedFactor(
                line_id=str(line.get("line_id")),
                stage=_s(line.get("stage")),
                activity=_s(original.get("activity")) or _s(replacement.get("activity")),
                source_set=_set_id(original),
                source_entry=_s(original.get("entry")),
                target_set=_set_id(replacement),
                target_entry=_s(replacement.get("entry")),
                old_value=_s(original.get("value")),
                new_value=_s(replacement.get("value")),
                unit=_s(replacement.get("unit")) or _s(original.get("unit")),
                effect_kg=_shown(line_effect),
            )
        )
    by_stage = _m(source_totals.get("by_stage"))
    result_by_stage = _m(result.get("by_stage"))
    changes = []
    for item in body.get("differences", ()):
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("kind"))
        stage = _s(item.get("stage"))
        effect: Decimal | None = None
        unit = None
        if kind == "stage-removed" and stage is not None:
            found = _decimal(by_stage.get(stage))
            effect, unit = (-found if found is not None else None), _s(source_totals.get("unit"))
        elif kind == "stage-not-in-source" and stage is not None:
            effect, unit = _decimal(result_by_stage.get(stage)), _s(result.get("unit"))
        elif kind != "channel-removed":
            continue
        changes.append(
            StageChange(
                kind=kind,
                stage=stage,
                channel=_s(item.get("channel")),
                effect=_shown(effect),
                unit=unit,
                legal_ref=_s(item.get("legal_ref")),
            )
        )
    rule_body = _m((rule or {}).get("body"))
    return ConversionSummary(
        source_total=_s(source_totals.get("total")),
        source_unit=_s(source_totals.get("unit")),
        result_total=_s(result.get("total")),
        result_unit=_s(result.get("unit")),
        gwp_from=_s(gwp.get("from")),
        gwp_to=_s(gwp.get("to")),
        replaced=tuple(replaced),
        changes=tuple(changes),
        regime=_s(rule_body.get("regime")),
        regime_version=_s(rule_body.get("regime_version")),
        region=_s(rule_body.get("region")),
    )
