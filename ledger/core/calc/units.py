"""calc/1 fixed tables: activity units, factor units and GWP100 values.

These tables are part of the calculation spec (docs/CALC.md §3, §4): changing a
value changes recomputed figures, so a change is a new calc version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ledger.core.errors import MalformedError

# Activity units, by dimension, with their size in the dimension's base unit.
# Every size is an exact decimal so that a conversion introduces no rounding of
# its own (docs/CALC.md §3.1).
UNITS: dict[str, tuple[str, Decimal]] = {
    # energy, base MJ (1 kWh = 3.6 MJ exactly, SI brochure 9th ed. Table 8)
    "MJ": ("energy", Decimal("1")),
    "GJ": ("energy", Decimal("1000")),
    "TJ": ("energy", Decimal("1000000")),
    "kWh": ("energy", Decimal("3.6")),
    "MWh": ("energy", Decimal("3600")),
    # mass, base kg (1 lb = 0.45359237 kg exactly, International Yard and Pound
    # Agreement of 1959)
    "g": ("mass", Decimal("0.001")),
    "kg": ("mass", Decimal("1")),
    "t": ("mass", Decimal("1000")),
    "lb": ("mass", Decimal("0.45359237")),
    # volume, base L
    "L": ("volume", Decimal("1")),
    "m3": ("volume", Decimal("1000")),
    # freight work, base t.km
    "t.km": ("freight", Decimal("1")),
    # area and count
    "m2": ("area", Decimal("1")),
    "piece": ("count", Decimal("1")),
}

# Mass units allowed as the numerator of a factor unit, in kg.
EMISSION_MASS: dict[str, Decimal] = {
    "g": Decimal("0.001"),
    "kg": Decimal("1"),
    "t": Decimal("1000"),
}

# GWP100 by IPCC assessment report. Source: openclimatedata/globalwarmingpotentials
# (CC0) globalwarmingpotentials.csv; AR4/AR5 columns from the GHG Protocol GWP
# table (AR5 WG1 Table 8.A.1), AR6 from AR6 WG1 Ch. 7 Table 7.SM.7. Fossil and
# non-fossil CH4 from AR6 Table 7.15 / GHG Protocol GWP v2.0 (AR5 split is a
# secondary transcription; docs/CALC.md §4 lists it).
GWP: dict[str, dict[str, Decimal]] = {
    "AR4": {
        "CO2": Decimal("1"),
        "CH4": Decimal("25"),
        "N2O": Decimal("298"),
        "SF6": Decimal("22800"),
        "NF3": Decimal("17200"),
        "HFC-134a": Decimal("1430"),
        "HFC-32": Decimal("675"),
        "HFC-125": Decimal("3500"),
        "HFC-143a": Decimal("4470"),
        "HFC-23": Decimal("14800"),
        "CF4": Decimal("7390"),
        "C2F6": Decimal("12200"),
    },
    "AR5": {
        "CO2": Decimal("1"),
        "CH4": Decimal("28"),
        "CH4-fossil": Decimal("30"),
        "CH4-non-fossil": Decimal("28"),
        "N2O": Decimal("265"),
        "SF6": Decimal("23500"),
        "NF3": Decimal("16100"),
        "HFC-134a": Decimal("1300"),
        "HFC-32": Decimal("677"),
        "HFC-125": Decimal("3170"),
        "HFC-143a": Decimal("4800"),
        "HFC-23": Decimal("12400"),
        "CF4": Decimal("6630"),
        "C2F6": Decimal("11100"),
    },
    "AR6": {
        "CO2": Decimal("1"),
        "CH4": Decimal("27.9"),
        "CH4-fossil": Decimal("29.8"),
        "CH4-non-fossil": Decimal("27.0"),
        "N2O": Decimal("273"),
        "SF6": Decimal("25200"),
        "NF3": Decimal("17400"),
        "HFC-134a": Decimal("1530"),
        "HFC-32": Decimal("771"),
        "HFC-125": Decimal("3740"),
        "HFC-143a": Decimal("5810"),
        "HFC-23": Decimal("14600"),
        "CF4": Decimal("7380"),
        "C2F6": Decimal("12400"),
    },
}
GWP_SETS = tuple(GWP)
GASES = tuple(sorted({gas for table in GWP.values() for gas in table}))

# A factor unit: emission mass, gas basis, "/", activity unit: "kgCO2e/kWh",
# "tCO2/t", "kgCO2e/t.km". CO2 means the figure covers carbon dioxide only.
_FACTOR_UNIT_RE = re.compile(r"^(g|kg|t)(CO2e|CO2)/(.+)$")


@dataclass(frozen=True)
class FactorUnit:
    mass: str  # g | kg | t
    basis: str  # CO2e | CO2
    per: str  # an activity unit of UNITS

    @property
    def text(self) -> str:
        return f"{self.mass}{self.basis}/{self.per}"


def parse_factor_unit(value: str, path: str = "") -> FactorUnit:
    match = _FACTOR_UNIT_RE.fullmatch(value)
    if match is None or match.group(3) not in UNITS:
        raise MalformedError(
            f"expected a factor unit like 'kgCO2e/kWh' (mass g|kg|t, basis CO2e|CO2, "
            f"activity unit one of {', '.join(UNITS)}), got {value!r}",
            path=path,
        )
    return FactorUnit(match.group(1), match.group(2), match.group(3))


def dimension(unit: str) -> str:
    return UNITS[unit][0]


def size(unit: str) -> Decimal:
    return UNITS[unit][1]
