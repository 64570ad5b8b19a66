"""Hypothesis properties of the pre-assessment (docs/CALC.md §11.3, §11.4): the risk level
agrees with an independent exact-rational reading of the band table and never falls as
the figure rises; the burden is never negative, never rises when more is deducted, and
is the exact product rounded once."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.calc.arithmetic import calc_context
from ledger.core.crossborder.bands import risk_level
from ledger.core.crossborder.tariff import compute_tariff
from ledger.core.records import validate_record
from ledger.examples import knowledge as kb
from ledger.examples.crossborder import crossborder_records

SEVERITY = {"none": 0, "blue": 1, "yellow": 2, "red": 3}
EU = validate_record(crossborder_records()[kb.RULE_XB_EU])
BANDS = {"yellow_from_pct": "10", "yellow_to_pct": "30"}

# Decimal strings of up to 6 places, as rules and figures write them.
decimals = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n).scaleb(-6))


def _expected(figure: Fraction, base: Fraction, threshold: Fraction, burden_ok: bool) -> str:
    """The band table of docs/CALC.md §11.4 read with exact rationals."""
    if figure > threshold:
        return "red"
    if figure <= base:
        return "none"
    if figure >= base * Fraction(110, 100):
        return "yellow"
    return "blue" if burden_ok else "yellow"


@st.composite
def baselines(draw: Any) -> dict[str, str]:
    """A baseline and a threshold above it and at most 30 % above it (as rules have),
    both in millionths."""
    base = draw(st.integers(min_value=10, max_value=10**9))
    threshold = draw(st.integers(min_value=base + 1, max_value=base * 13 // 10))
    return {
        "baseline": str(Decimal(base).scaleb(-6)),
        "access_threshold": str(Decimal(threshold).scaleb(-6)),
    }


@settings(max_examples=400, deadline=None)
@given(baselines(), st.data(), st.booleans())
def test_level_matches_the_band_table(
    baseline: dict[str, str], data: st.DataObject, burden_ok: bool
) -> None:
    base = Decimal(baseline["baseline"])
    threshold = Decimal(baseline["access_threshold"])
    edges = [base, base * Decimal("1.1"), base * Decimal("1.3"), threshold]
    near = st.sampled_from(edges).flatmap(
        lambda e: st.sampled_from([e - Decimal("0.000001"), e, e + Decimal("0.000001")])
    )
    figure = data.draw(st.one_of(decimals, near))
    level, _ = risk_level(
        figure, baseline, BANDS, burden_ok=burden_ok, late_data=False, ctx=calc_context()
    )
    assert level == _expected(Fraction(figure), Fraction(base), Fraction(threshold), burden_ok)


@settings(max_examples=200, deadline=None)
@given(baselines(), decimals, decimals, st.booleans())
def test_level_never_falls_as_the_figure_rises(
    baseline: dict[str, str], a: Decimal, b: Decimal, burden_ok: bool
) -> None:
    low, high = sorted((a, b))
    ctx = calc_context()
    lo, _ = risk_level(low, baseline, BANDS, burden_ok=burden_ok, late_data=False, ctx=ctx)
    hi, _ = risk_level(high, baseline, BANDS, burden_ok=burden_ok, late_data=False, ctx=ctx)
    assert SEVERITY[lo] <= SEVERITY[hi]


def _tariff(emissions_kg: Decimal, per_t: str, share: str) -> dict[str, Any]:
    return compute_tariff(
        EU,
        cn_code="7309",
        baseline={"cn_code": "7309", "benchmark": "1.370"},
        emissions_kg=emissions_kg,
        mass_kg=Decimal(12500),
        import_year=2026,
        origin_price={"per_t": per_t, "covered_share": share},
        ctx=calc_context(),
    )


@settings(max_examples=300, deadline=None)
@given(decimals, st.integers(0, 200), st.integers(0, 100), st.integers(0, 100))
def test_burden_is_the_exact_product_rounded_once(
    emissions: Decimal, per_t: int, share_a: int, share_b: int
) -> None:
    kg = emissions * 1000
    low, high = sorted((share_a, share_b))
    less = _tariff(kg, str(per_t), str(Decimal(low).scaleb(-2)))
    more = _tariff(kg, str(per_t), str(Decimal(high).scaleb(-2)))
    for t in (less, more):
        assert Decimal(t["certificates"]) >= 0 and Decimal(t["burden"]) >= 0
        exact = Fraction(Decimal(t["certificates"])) * Fraction(Decimal("80.00"))
        assert Decimal(t["burden"]) == (
            Decimal(exact.numerator) / Decimal(exact.denominator)
        ).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    # A larger share covered at origin deducts more: the burden never rises.
    assert Decimal(more["burden"]) <= Decimal(less["burden"])
    # Without a deduction, certificates = E - FA (or 0), exactly.
    plain = Fraction(kg) / 1000 - Fraction(1370, 1000) * Fraction(975, 1000) * Fraction(25, 2)
    if per_t == 0:
        assert Fraction(Decimal(less["certificates"])) == max(plain, Fraction(0))
