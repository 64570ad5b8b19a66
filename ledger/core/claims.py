"""One claim per unit (docs/RECORDS.md §3.11): the regimes a unit's embedded emissions can
be declared into, and which of them exclude each other.

A claim puts the embedded emissions of one unit (a piece of equipment named by its serial
number, a Handle) into one regime. Regimes of one **exclusivity group** exclude each other:
a unit can hold at most one claim per group. The border levies are one group — a unit
released for free circulation under EU CBAM is not also liable under UK CBAM, and declaring
it in both counts its emissions twice — so the second of those claims is refused, whoever
makes it. A buyer's GHG Protocol scope 3 inventory is a group of its own: reporting a unit
there does not declare it for a levy, so it may coexist with one CBAM claim, but two
inventories claiming the same unit are refused.

This table is the rule the accept path and the verifier apply; changing it is a change of
the claim format (a new schema version), never an edit in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["REGIMES", "Regime", "may_coexist"]


@dataclass(frozen=True)
class Regime:
    code: str
    group: str
    name: str


REGIMES = MappingProxyType(
    {
        "EU-CBAM": Regime(
            "EU-CBAM", "border-levy", "EU Carbon Border Adjustment Mechanism, Reg. (EU) 2023/956"
        ),
        "UK-CBAM": Regime("UK-CBAM", "border-levy", "UK Carbon Border Adjustment Mechanism"),
        "GHGP-SCOPE3": Regime(
            "GHGP-SCOPE3", "scope3-inventory", "a buyer's GHG Protocol scope 3 inventory"
        ),
    }
)


def may_coexist(first: str, second: str) -> bool:
    """Whether one unit may hold claims into both regimes (different groups)."""
    return REGIMES[first].group != REGIMES[second].group
