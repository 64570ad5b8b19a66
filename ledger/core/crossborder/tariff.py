"""The predicted tariff burden of one declared unit (docs/CALC.md §11.3).

    E  = embedded emissions, t CO2e        = S ÷ 1000 (S: exact kg sum of the figure)
    FA = free-allocation adjustment, t     = (benchmark × share) × mass_t
    D  = origin carbon-price deduction, t  = ((E × covered_share) × paid_per_t) ÷ price
    C  = certificates                      = max(0, (E − FA) − D)
    burden                                 = C × price, rounded once (the rule's tariff rounding)

Exact calc/1 arithmetic throughout; the burden is the only rounded figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

from ledger.core.calc.arithmetic import exact_text, round_figure
from ledger.core.crossborder.rulebook import free_allocation_share, is_levied
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types import fields as f

ORIGIN_PRICE_PATH = "inputs.origin_price"


def validate_origin_price(value: Any, path: str = ORIGIN_PRICE_PATH) -> None:
    """``{per_t, covered_share}``: the carbon price effectively paid at origin per t CO2e,
    in the rule's currency, and the share of the embedded emissions it covered."""
    o = f.obj(value, path, ("per_t", "covered_share"))
    f.decimal(o["per_t"], f.sub(path, "per_t"), non_negative=True)
    share = f.decimal(o["covered_share"], f.sub(path, "covered_share"), non_negative=True)
    if share > 1:
        raise f.fail(f.sub(path, "covered_share"), "expected a share from 0 to 1")


def compute_tariff(
    rule: Record,
    *,
    cn_code: str | None,
    baseline: Mapping[str, Any] | None,
    emissions_kg: Decimal,
    mass_kg: Decimal | None,
    import_year: int,
    origin_price: Mapping[str, Any] | None,
    ctx: Context,
) -> dict[str, Any]:
    """The `tariff` member of a risk assessment: ``{"status": "no-levy"}``, ``{"status":
    "not-levied", ...}`` or the computed burden (``"status": "computed"``)."""
    tariff = rule.body["tariff"]
    if tariff is None:
        if origin_price is not None:
            raise MalformedError(
                f"rule {rule.id} has no border levy: no origin price to deduct",
                path=ORIGIN_PRICE_PATH,
            )
        return {"status": "no-levy"}
    if not is_levied(rule, cn_code):
        if origin_price is not None:
            raise MalformedError(
                f"CN code {cn_code} is not levied under rule {rule.id}: no origin price to deduct",
                path=ORIGIN_PRICE_PATH,
            )
        return {"status": "not-levied", "instrument": tariff["instrument"]}
    if origin_price is not None and not tariff["origin_price_deduction"]["allowed"]:
        raise MalformedError(
            f"rule {rule.id} allows no deduction of a carbon price paid at origin",
            path=ORIGIN_PRICE_PATH,
        )
    if mass_kg is None:
        raise MalformedError(
            "a tariff burden needs the mass of the good", path="body.equipment.mass_kg"
        )
    price = Decimal(tariff["price"]["value"])
    mass_t = ctx.divide(mass_kg, Decimal(1000))
    embedded_t = ctx.divide(emissions_kg, Decimal(1000))
    share_entry = free_allocation_share(rule, import_year)
    share = Decimal(share_entry["share"])
    benchmark = Decimal(baseline["benchmark"]) if baseline and "benchmark" in baseline else None
    free_t = Decimal(0)
    if benchmark is not None:
        free_t = ctx.multiply(ctx.multiply(benchmark, share), mass_t)
    deduction_t = Decimal(0)
    if origin_price is not None:
        covered = ctx.multiply(embedded_t, Decimal(origin_price["covered_share"]))
        deduction_t = ctx.divide(ctx.multiply(covered, Decimal(origin_price["per_t"])), price)
    certificates = ctx.subtract(ctx.subtract(embedded_t, free_t), deduction_t)
    if certificates < 0:
        certificates = Decimal(0)
    burden = round_figure(ctx.multiply(certificates, price), tariff["rounding"], ctx)
    acceptable = ctx.multiply(Decimal(tariff["acceptable_burden_per_t"]["value"]), mass_t)
    return {
        "status": "computed",
        "instrument": tariff["instrument"],
        "currency": tariff["currency"],
        "year": import_year,
        "price": tariff["price"]["value"],
        "price_date": tariff["price"]["date"],
        "mass_t": exact_text(mass_t),
        "embedded_t": exact_text(embedded_t),
        "benchmark": None if benchmark is None else baseline["benchmark"],  # type: ignore[index]
        "free_allocation_share": share_entry["share"],
        "free_allocation_t": exact_text(free_t),
        "origin_deduction_t": exact_text(deduction_t),
        "certificates": exact_text(certificates),
        "burden": burden,
        "acceptable_burden": exact_text(acceptable),
        "within_acceptable": Decimal(burden) <= acceptable,
    }
