"""The risk level of a figure against its regional baseline (docs/CALC.md §11.4).

With F the figure the region would see (rounded as the rule rounds it), B the baseline,
A the access threshold, p and q the rule's yellow band edges in percent:

    red             F > A, or required data that cannot be supplied before the deadline
    none            F <= B
    yellow          100 F >= (100 + p) B        (so exactly +p % is yellow)
    yellow          100 F <  (100 + p) B and the burden is above the acceptable burden
    blue            100 F <  (100 + p) B and the burden is within it (or there is none)
    not-assessable  no baseline for the CN code (unless red for late data)

A rule's access threshold lies above its baseline and at most q % above it, so every
figure above the baseline and not above A is at most +q %: exactly +q % is yellow,
exactly A is not red. Comparisons are products, never quotients, so an edge is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.types.vocab import RISK_BASES, RISK_LEVELS

__all__ = ["RISK_BASES", "RISK_LEVELS", "risk_level"]


def risk_level(
    figure: Decimal,
    baseline: Mapping[str, Any] | None,
    bands: Mapping[str, Any],
    *,
    burden_ok: bool,
    late_data: bool,
    ctx: Context,
) -> tuple[str, list[str]]:
    """``(level, basis)``: the level and the reasons for it, in :data:`RISK_BASES` order."""
    red: list[str] = []
    if baseline is not None and figure > Decimal(baseline["access_threshold"]):
        red.append("above-access-threshold")
    if late_data:
        red.append("required-data-late")
    if red:
        return "red", red
    if baseline is None:
        return "not-assessable", ["no-baseline"]
    base = Decimal(baseline["baseline"])
    if figure <= base:
        return "none", ["at-or-below-baseline"]
    hundred = Decimal(100)
    scaled = ctx.multiply(figure, hundred)
    yellow_to = ctx.multiply(base, ctx.add(hundred, Decimal(bands["yellow_to_pct"])))
    if scaled > yellow_to:
        # A validated rule cannot get here: its access threshold is within the band.
        raise MalformedError(
            f"figure {figure} is above the yellow band and not above the access threshold "
            f"{baseline['access_threshold']}: the rule's bands leave a gap"
        )
    if scaled >= ctx.multiply(base, ctx.add(hundred, Decimal(bands["yellow_from_pct"]))):
        return "yellow", ["within-yellow-band"]
    if not burden_ok:
        return "yellow", ["burden-above-acceptable"]
    return "blue", ["below-yellow-band"]
