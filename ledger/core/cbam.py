"""The CBAM supplier-to-declarant package (docs/CBAM.md): what an installation operator
communicates to the declarant for one CBAM good and one reference period.

:func:`parse_request` reads the operator's statement (``carbonledger-cbam-request/1``: the
good, the period, the installation and operator, the production routes with their net
masses and consignments, and optionally the free-allocation inputs, the carbon price paid
at origin and the attestation of conformance). :func:`compute_package` turns it, with the
records of the consignments, into ``carbonledger-cbam-package/1``: every figure carries the
records it comes from (id, digest and JSON path), so that anyone holding the records — the
verifier, from their evidence bundles — recomputes the whole package with this function.

The declaration is refused (``MalformedError`` naming the path) when the period spans two
calendar years, when a consignment is not an EU CBAM conversion of this good within the
period, or when the net masses do not add up: per route, the consignments' masses must
equal the route's stated net mass, and the routes' masses the stated total.

Arithmetic is calc/1's (docs/CALC.md §2): exact decimals; a specific embedded emission of
a route (total embedded emissions over total mass) is rounded once, half-even, to six
places (``SEE_ROUNDING``); every other figure is exact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

from ledger.core.calc import units
from ledger.core.calc.arithmetic import calc_context, exact_text, round_figure
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types import fields as f

__all__ = [
    "PACKAGE_FORMAT",
    "REQUEST_FORMAT",
    "SEE_ROUNDING",
    "Consignment",
    "Evidence",
    "MassMismatchError",
    "compute_package",
    "factor_set_ids",
    "parse_request",
]

REQUEST_FORMAT = "carbonledger-cbam-request/1"
PACKAGE_FORMAT = "carbonledger-cbam-package/1"
SEE_ROUNDING: Mapping[str, Any] = {"mode": "ROUND_HALF_EVEN", "places": 6}
CN8_RE = re.compile(r"^\d{8}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
UNLOCODE_RE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
MAX_CONSIGNMENTS = 10_000


class MassMismatchError(MalformedError):
    """The stated net masses do not add up (evidence: stated and computed)."""

    def __init__(self, message: str, *, path: str, stated: str, computed: str) -> None:
        super().__init__(message, path=path)
        self.expected = stated
        self.computed = computed


@dataclass(frozen=True)
class Evidence:
    """A record and its digest v1."""

    record: Record
    digest: str

    def ref(self, path: str) -> dict[str, str]:
        return {"record": self.record.id, "digest": self.digest, "path": path}


@dataclass(frozen=True)
class Consignment:
    """One unit's EU CBAM conversion and what its figures rest on."""

    conversion: Evidence
    source: Evidence
    rule: Evidence
    factor_sets: Mapping[str, Evidence]


# -- the request --------------------------------------------------------------------------


def _decimal_text(value: Any, path: str, *, positive: bool = False) -> str:
    number = f.decimal(value, path, non_negative=True, positive=positive)
    return exact_text(number)


def parse_request(value: Any) -> dict[str, Any]:
    """The operator's statement, checked field by field; returns it normalised."""
    o = f.obj(
        value,
        "",
        ("format", "cn_code", "period", "installation", "operator", "routes", "net_mass_t"),
        ("free_allocation", "carbon_price", "attestation"),
    )
    if o["format"] != REQUEST_FORMAT:
        raise f.fail("format", f"expected {REQUEST_FORMAT!r}")
    f.matching(o["cn_code"], "cn_code", CN8_RE, "a CN code of 8 digits")
    period = f.obj(o["period"], "period", ("start", "end"))
    start = f.calendar_date(period["start"], "period.start")
    end = f.calendar_date(period["end"], "period.end")
    if end < start:
        raise f.fail("period.end", "the period ends before it starts")
    if end.year != start.year:
        raise f.fail(
            "period.end",
            f"a package covers one calendar year: {start.year} and {end.year} are two "
            "(CBAM declarations are annual); ask for one package per year",
        )
    inst = f.obj(
        o["installation"],
        "installation",
        ("id", "name", "country"),
        ("address", "unlocode", "latitude", "longitude"),
    )
    f.text(inst["id"], "installation.id", max_len=200)
    f.text(inst["name"], "installation.name", max_len=256)
    f.matching(
        inst["country"], "installation.country", re.compile(r"^[A-Z]{2}$"), "ISO 3166-1 alpha-2"
    )
    if "address" in inst:
        f.text(inst["address"], "installation.address", max_len=512)
    if "unlocode" in inst:
        f.matching(inst["unlocode"], "installation.unlocode", UNLOCODE_RE, "a UN/LOCODE")
    for axis in ("latitude", "longitude"):
        if axis in inst:
            f.decimal(inst[axis], f"installation.{axis}")
    op = f.obj(o["operator"], "operator", ("id", "name"), ("contact",))
    f.text(op["id"], "operator.id", max_len=200)
    f.text(op["name"], "operator.name", max_len=256)
    if "contact" in op:
        f.text(op["contact"], "operator.contact", max_len=256)
    routes = f.array(o["routes"], "routes", min_items=1, max_items=100)
    seen: set[str] = set()
    count = 0
    for i, route in enumerate(routes):
        p = f"routes[{i}]"
        r = f.obj(route, p, ("route", "net_mass_t", "consignments"))
        f.text(r["route"], f"{p}.route", max_len=256)
        _decimal_text(r["net_mass_t"], f"{p}.net_mass_t", positive=True)
        ids = f.array(
            r["consignments"], f"{p}.consignments", min_items=1, max_items=MAX_CONSIGNMENTS
        )
        for j, rid in enumerate(ids):
            f.urn(rid, f"{p}.consignments[{j}]")
            if rid in seen:
                raise f.fail(f"{p}.consignments[{j}]", f"{rid} is listed twice")
            seen.add(rid)
        count += len(ids)
    if count > MAX_CONSIGNMENTS:
        raise f.fail("routes", f"at most {MAX_CONSIGNMENTS} consignments per package")
    _decimal_text(o["net_mass_t"], "net_mass_t", positive=True)
    if "free_allocation" in o:
        fa = f.obj(
            o["free_allocation"], "free_allocation", ("benchmark", "cbam_factor", "legal_ref")
        )
        _decimal_text(fa["benchmark"], "free_allocation.benchmark")
        factor = f.decimal(fa["cbam_factor"], "free_allocation.cbam_factor", non_negative=True)
        if factor > 1:
            raise f.fail("free_allocation.cbam_factor", "a share from 0 to 1")
        f.text(fa["legal_ref"], "free_allocation.legal_ref", max_len=512)
    if "carbon_price" in o:
        cp = f.obj(
            o["carbon_price"],
            "carbon_price",
            ("instrument", "legal_act", "amount", "currency"),
            ("per_tonne", "rebate"),
        )
        f.text(cp["instrument"], "carbon_price.instrument", max_len=256)
        f.text(cp["legal_act"], "carbon_price.legal_act", max_len=512)
        _decimal_text(cp["amount"], "carbon_price.amount")
        f.matching(cp["currency"], "carbon_price.currency", CURRENCY_RE, "an ISO 4217 code")
        for key in ("per_tonne", "rebate"):
            if key in cp:
                _decimal_text(cp[key], f"carbon_price.{key}")
    if "attestation" in o:
        at = f.obj(
            o["attestation"],
            "attestation",
            ("verifier", "accreditation_number", "accreditation_body", "link"),
        )
        for key in ("verifier", "accreditation_number", "accreditation_body"):
            f.text(at[key], f"attestation.{key}", max_len=256)
        if not isinstance(at["link"], str) or not at["link"].startswith("https://"):
            raise f.fail("attestation.link", "expected an https:// URL")
        f.text(at["link"], "attestation.link", max_len=2000)
    return dict(o)


def consignment_ids(request: Mapping[str, Any]) -> list[str]:
    return [rid for route in request["routes"] for rid in route["consignments"]]


def factor_set_ids(conversion: Evidence, source: Evidence, rule: Evidence) -> set[str]:
    """The factor sets a consignment's figures quote: those of the conversion and the rule
    (the factors applied) and those of the source carbon record (the factors of its lines,
    among them the electricity factor whose publisher and status the package states)."""
    return {
        r.id for e in (conversion, source, rule) for r in e.record.refs if r.rel == "factor-set"
    }


# -- the package --------------------------------------------------------------------------


def _figure(
    value: Decimal, unit: str, *sources: dict[str, str], computed: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"value": exact_text(value), "unit": unit}
    if sources:
        out["sources"] = list(sources)
    if computed is not None:
        out["computed"] = computed
    return out


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _check(c: Consignment, request: Mapping[str, Any], path: str) -> None:
    conv, src, rule = c.conversion.record, c.source.record, c.rule.record
    if conv.type != "factor-substitution":
        raise f.fail(path, f"{conv.id} is a {conv.type}, not a conversion")
    if conv.body["source"]["id"] != src.id or conv.body["rule"]["id"] != rule.id:
        raise f.fail(path, f"{conv.id}: source or rule given do not match the conversion")
    if not str(rule.body["regime"]).startswith("EU-CBAM"):
        raise f.fail(path, f"{conv.id} converts under {rule.body['regime']}, not EU CBAM")
    if conv.body["result"]["unit"] != "tCO2e/t":
        raise f.fail(
            path, f"{conv.id}: its result is in {conv.body['result']['unit']}, not tCO2e/t"
        )
    equipment = src.body["equipment"]
    if equipment.get("cn_code") != request["cn_code"]:
        raise f.fail(
            path, f"{conv.id}: the good is CN {equipment.get('cn_code')}, not {request['cn_code']}"
        )
    if "mass_kg" not in equipment:
        raise f.fail(path, f"{src.id}: no net mass (equipment.mass_kg)")
    period = src.body["reference_period"]
    start = datetime.fromisoformat(period["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(period["end"].replace("Z", "+00:00"))
    lo = _midnight(date.fromisoformat(request["period"]["start"]))
    hi = _midnight(date.fromisoformat(request["period"]["end"])) + timedelta(days=1)
    if start < lo or end > hi:
        raise f.fail(
            path,
            f"{conv.id}: reference period {period['start']}..{period['end']} lies outside "
            f"{request['period']['start']}..{request['period']['end']}",
        )


def _line_of(record: Record, line_id: str) -> Mapping[str, Any]:
    return next(line for line in record.body["lines"] if line["line_id"] == line_id)


def _consignment(
    c: Consignment, route: str, request: Mapping[str, Any], ctx: Any
) -> dict[str, Any]:
    conv, src = c.conversion, c.source
    result = conv.record.body["result"]["by_channel"]
    equipment = src.record.body["equipment"]
    mass_t = ctx.divide(Decimal(equipment["mass_kg"]), Decimal(1000))

    def channel(name: str) -> Decimal:
        return Decimal(result.get(name, "0"))

    direct, precursors, indirect = channel("direct"), channel("precursor"), channel("indirect")
    see_direct = ctx.add(direct, precursors)
    see_total = ctx.add(see_direct, indirect)
    by = "body.result.by_channel"
    out: dict[str, Any] = {
        "unit": src.record.subject,
        "route": route,
        "conversion": {"id": conv.record.id, "digest": conv.digest},
        "source": {"id": src.record.id, "digest": src.digest},
        "quantity": _figure(
            Decimal(equipment["declared_unit"]["amount"]),
            equipment["declared_unit"]["unit"],
            src.ref("body.equipment.declared_unit.amount"),
        ),
        "net_mass_t": _figure(
            mass_t, "t", src.ref("body.equipment.mass_kg"), computed="mass_kg / 1000"
        ),
        "see_attributed_direct": _figure(direct, "tCO2e/t", conv.ref(f"{by}.direct")),
        "see_precursors": _figure(precursors, "tCO2e/t", conv.ref(f"{by}.precursor")),
        "see_direct": _figure(
            see_direct,
            "tCO2e/t",
            conv.ref(f"{by}.direct"),
            conv.ref(f"{by}.precursor"),
            computed="direct + precursor",
        ),
        "see_indirect": _figure(indirect, "tCO2e/t", conv.ref(f"{by}.indirect")),
        "see_total": _figure(
            see_total, "tCO2e/t", conv.ref(by), computed="see_direct + see_indirect"
        ),
        "embedded_total_t": _figure(
            ctx.multiply(see_total, mass_t), "tCO2e", computed="see_total x net_mass_t"
        ),
    }
    conv_lines = {line["line_id"]: (k, line) for k, line in enumerate(conv.record.body["lines"])}
    electricity = []
    precursor_rows = []
    default_sets = {s["id"] for s in c.rule.record.body["factor_sets"]}
    default_kg = total_kg = Decimal(0)
    default_lines = []
    for i, line in enumerate(src.record.body["lines"]):
        k, mapped = conv_lines.get(line["line_id"], (-1, {}))
        action = mapped.get("action")
        factor = {"keep": mapped.get("factor"), "substitute": mapped.get("replacement")}.get(
            str(action), line["factor"]
        )
        kept = action in ("keep", "substitute")
        kg = Decimal(mapped["emissions_kg"]) if kept else Decimal(0)
        if kept:
            total_kg = ctx.add(total_kg, kg)
            if factor["set"]["id"] in default_sets:
                default_kg = ctx.add(default_kg, kg)
                default_lines.append(line["line_id"])
        if line["emission_class"] == "purchased_electricity":
            fs = c.factor_sets.get(factor["set"]["id"])
            electricity.append(
                {
                    "line_id": line["line_id"],
                    "mwh_per_t": _figure(
                        ctx.divide(_to_mwh(Decimal(line["quantity"]), line["unit"], ctx), mass_t),
                        "MWh/t",
                        src.ref(f"body.lines[{i}].quantity"),
                        src.ref("body.equipment.mass_kg"),
                        computed="quantity in MWh / net_mass_t",
                    ),
                    "factor": _factor(factor),
                    "factor_source": {
                        "set": factor["set"]["id"],
                        "digest": factor["set"]["digest"],
                        "status": fs.record.body["status"] if fs else None,
                        "publisher": fs.record.body["publisher"] if fs else None,
                        "default_value": factor["set"]["id"] in default_sets,
                    },
                    "counted": kept,
                }
            )
        if line["cbam_channel"] == "precursor":
            embedded = ctx.divide(kg, Decimal(1000))
            where = [conv.ref(f"body.lines[{k}].emissions_kg")] if kept else []
            precursor_rows.append(
                {
                    "line_id": line["line_id"],
                    "process": line["process"],
                    "quantity": _figure(
                        Decimal(line["quantity"]),
                        line["unit"],
                        src.ref(f"body.lines[{i}].quantity"),
                    ),
                    "see": _factor(factor),
                    "embedded_t": _figure(
                        embedded, "tCO2e", *where, computed="emissions_kg / 1000"
                    ),
                }
            )
    share = (
        ctx.divide(ctx.multiply(default_kg, Decimal(100)), total_kg) if total_kg > 0 else Decimal(0)
    )
    out["electricity"] = electricity
    out["precursors"] = precursor_rows
    out["default_values"] = {
        "used": bool(default_lines),
        "lines": default_lines,
        "share_pct": _figure(
            share,
            "%",
            conv.ref("body.lines"),
            computed="emissions of lines on the rule's default factor sets / all counted",
        ),
    }
    fa = request.get("free_allocation")
    if fa is not None:
        per_t = ctx.multiply(Decimal(fa["benchmark"]), Decimal(fa["cbam_factor"]))
        out["free_allocation_t"] = _figure(
            ctx.multiply(per_t, mass_t), "tCO2e", computed="benchmark x cbam_factor x net_mass_t"
        )
    return out


def _factor(use: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "value": use["value"],
        "unit": use["unit"],
        "set": use["set"]["id"],
        "digest": use["set"]["digest"],
        "entry": use["entry"],
    }


def _to_mwh(quantity: Decimal, unit: str, ctx: Context) -> Decimal:
    """An energy quantity in MWh, by calc/1's unit table (docs/CALC.md §3.1)."""
    if units.dimension(unit) != "energy":
        raise MalformedError(f"electricity in {unit!r} cannot be read as MWh")
    return ctx.divide(ctx.multiply(quantity, units.size(unit)), units.size("MWh"))


def compute_package(
    request: Mapping[str, Any], consignments: Mapping[str, Consignment]
) -> dict[str, Any]:
    """The package of a parsed request, from its consignments' records (by conversion id)."""
    ctx = calc_context()
    rows: list[dict[str, Any]] = []
    routes_out = []
    grand_mass = grand_direct = grand_indirect = grand_fa = Decimal(0)
    for i, route in enumerate(request["routes"]):
        mass = direct = indirect = fa = Decimal(0)
        for j, rid in enumerate(route["consignments"]):
            path = f"routes[{i}].consignments[{j}]"
            c = consignments.get(rid)
            if c is None:
                raise f.fail(path, f"no anchored conversion {rid} to declare")
            _check(c, request, path)
            row = _consignment(c, route["route"], request, ctx)
            rows.append(row)
            m = Decimal(row["net_mass_t"]["value"])
            mass = ctx.add(mass, m)
            direct = ctx.add(direct, ctx.multiply(Decimal(row["see_direct"]["value"]), m))
            indirect = ctx.add(indirect, ctx.multiply(Decimal(row["see_indirect"]["value"]), m))
            if "free_allocation_t" in row:
                fa = ctx.add(fa, Decimal(row["free_allocation_t"]["value"]))
        stated = Decimal(route["net_mass_t"])
        if mass != stated:
            raise MassMismatchError(
                f"route {route['route']!r}: its consignments weigh {exact_text(mass)} t, "
                f"the route states {route['net_mass_t']} t",
                path=f"routes[{i}].net_mass_t",
                stated=route["net_mass_t"],
                computed=exact_text(mass),
            )
        routes_out.append(
            {
                "route": route["route"],
                "consignments": len(route["consignments"]),
                "net_mass_t": _figure(mass, "t", computed="sum of the route's consignments"),
                "see_direct": {
                    "value": round_figure(ctx.divide(direct, mass), SEE_ROUNDING, ctx),
                    "unit": "tCO2e/t",
                    "computed": "embedded direct / net mass, 6 places",
                },
                "see_indirect": {
                    "value": round_figure(ctx.divide(indirect, mass), SEE_ROUNDING, ctx),
                    "unit": "tCO2e/t",
                    "computed": "embedded indirect / net mass, 6 places",
                },
                "see_total": {
                    "value": round_figure(
                        ctx.divide(ctx.add(direct, indirect), mass), SEE_ROUNDING, ctx
                    ),
                    "unit": "tCO2e/t",
                    "computed": "embedded total / net mass, 6 places",
                },
                "embedded_direct_t": _figure(
                    direct, "tCO2e", computed="sum of see_direct x net_mass_t"
                ),
                "embedded_indirect_t": _figure(
                    indirect, "tCO2e", computed="sum of see_indirect x net_mass_t"
                ),
            }
        )
        grand_mass = ctx.add(grand_mass, mass)
        grand_direct = ctx.add(grand_direct, direct)
        grand_indirect = ctx.add(grand_indirect, indirect)
        grand_fa = ctx.add(grand_fa, fa)
    if grand_mass != Decimal(request["net_mass_t"]):
        raise MassMismatchError(
            f"the routes weigh {exact_text(grand_mass)} t together, the package states "
            f"{request['net_mass_t']} t",
            path="net_mass_t",
            stated=request["net_mass_t"],
            computed=exact_text(grand_mass),
        )
    totals: dict[str, Any] = {
        "consignments": len(rows),
        "net_mass_t": _figure(grand_mass, "t", computed="sum of the routes"),
        "embedded_direct_t": _figure(grand_direct, "tCO2e", computed="sum of the routes"),
        "embedded_indirect_t": _figure(grand_indirect, "tCO2e", computed="sum of the routes"),
        "embedded_total_t": _figure(
            ctx.add(grand_direct, grand_indirect), "tCO2e", computed="embedded direct + indirect"
        ),
    }
    if "free_allocation" in request:
        totals["free_allocation_adjustment_t"] = _figure(
            grand_fa, "tCO2e", computed="sum of consignments"
        )
    if "carbon_price" in request:
        cp = request["carbon_price"]
        totals["carbon_price_paid"] = {
            "amount": cp["amount"],
            "currency": cp["currency"],
            "stated_by": "operator",
        }
    return {
        "format": PACKAGE_FORMAT,
        "request": dict(request),
        "good": {"cn_code": request["cn_code"], "period": dict(request["period"])},
        "routes": routes_out,
        "consignments": rows,
        "totals": totals,
    }
