"""`risk-assessment` body (docs/RECORDS.md §3.9, docs/CALC.md §11).

The shape only: that the figures, level and findings follow from the source record and
the rule is what `check_risk_assessment` recomputes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import BodyLink, validate_totals
from ledger.core.types.region_rule import CURRENCY_RE, FIGURE_STATUSES, validate_bilingual
from ledger.core.types.substitution import validate_difference, validate_rule_links

# Every member of the body, in the order a check compares the computed ones: causes
# (figure, baseline, tariff) before the level they decide (docs/CALC.md §11.5).
ASSESSMENT_MEMBERS = (
    "source",
    "rule",
    "factor_sets",
    "region",
    "inputs",
    "result",
    "cn_code",
    "baseline",
    "bands",
    "ratio",
    "tariff",
    "level",
    "level_basis",
    "differences",
    "findings",
    "suggestions",
)
FINDING_KINDS = ("required-data-missing", "restricted-chemical", "gas-not-covered", "no-baseline")
TARIFF_STATUSES = ("no-levy", "not-levied", "computed")

_COMPUTED_DECIMALS = (
    "price",
    "mass_t",
    "embedded_t",
    "free_allocation_share",
    "free_allocation_t",
    "origin_deduction_t",
    "certificates",
    "burden",
    "acceptable_burden",
)


def validate_tariff_view(value: Any, path: str) -> None:
    """`no-levy` (the rule has no border levy), `not-levied` (the good is outside the
    levy) or `computed` with every term of the burden formula."""
    if not isinstance(value, Mapping):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    status = f.enum(value.get("status"), f.sub(path, "status"), TARIFF_STATUSES)
    if status == "no-levy":
        f.obj(value, path, ("status",))
        return
    if status == "not-levied":
        o = f.obj(value, path, ("status", "instrument"))
        f.text(o["instrument"], f.sub(path, "instrument"), max_len=256)
        return
    o = f.obj(
        value,
        path,
        (
            "status",
            "instrument",
            "currency",
            "year",
            "price_date",
            "benchmark",
            "within_acceptable",
            *_COMPUTED_DECIMALS,
        ),
    )
    f.text(o["instrument"], f.sub(path, "instrument"), max_len=256)
    f.matching(o["currency"], f.sub(path, "currency"), CURRENCY_RE, "an ISO 4217 code")
    f.integer(o["year"], f.sub(path, "year"), lo=2000, hi=2100)
    f.calendar_date(o["price_date"], f.sub(path, "price_date"))
    if o["benchmark"] is not None:
        f.decimal(o["benchmark"], f.sub(path, "benchmark"), non_negative=True)
    f.boolean(o["within_acceptable"], f.sub(path, "within_acceptable"))
    for key in _COMPUTED_DECIMALS:
        f.decimal(o[key], f.sub(path, key), non_negative=True)


def _inputs(value: Any, path: str) -> None:
    o = f.obj(value, path, ("import_date", "choices", "origin_price"))
    if not 2000 <= f.calendar_date(o["import_date"], f.sub(path, "import_date")).year <= 2100:
        raise f.fail(f.sub(path, "import_date"), "expected a date from 2000 to 2100")
    c_path = f.sub(path, "choices")
    line_ids = []
    for i, item in enumerate(f.array(o["choices"], c_path, max_items=f.MAX_ITEMS)):
        p = f.sub(c_path, i)
        choice = f.obj(item, p, ("line_id", "set", "entry"))
        line_ids.append(
            f.matching(choice["line_id"], f.sub(p, "line_id"), f.LINE_ID_RE, "a line id")
        )
        f.urn(choice["set"], f.sub(p, "set"))
        f.text(choice["entry"], f.sub(p, "entry"), max_len=128)
    f.unique(line_ids, c_path, "line_id")
    if o["origin_price"] is not None:
        op_path = f.sub(path, "origin_price")
        op = f.obj(o["origin_price"], op_path, ("per_t", "covered_share"))
        f.decimal(op["per_t"], f.sub(op_path, "per_t"), non_negative=True)
        f.decimal(op["covered_share"], f.sub(op_path, "covered_share"), non_negative=True)


def _baseline(value: Any, path: str) -> None:
    o = f.obj(value, path, ("cn_code", "baseline", "access_threshold", "unit", "status"))
    f.matching(o["cn_code"], f.sub(path, "cn_code"), f.CN_CODE_RE, "a CN code")
    f.decimal(o["baseline"], f.sub(path, "baseline"), positive=True)
    f.decimal(o["access_threshold"], f.sub(path, "access_threshold"), positive=True)
    f.enum(o["unit"], f.sub(path, "unit"), vocab.OUTPUT_UNITS)
    f.enum(o["status"], f.sub(path, "status"), FIGURE_STATUSES)


_FINDING_FIELDS: dict[str, tuple[str, ...]] = {
    "required-data-missing": (
        "key",
        "what",
        "lines",
        "status",
        "lead_time_days",
        "supply_by",
        "deadline",
        "in_time",
    ),
    "restricted-chemical": ("line_id", "cas", "name", "catalogue", "legal_ref", "status"),
    "gas-not-covered": ("gas",),
    "no-baseline": ("cn_code", "message"),
}


def _finding(value: Any, path: str) -> None:
    if not isinstance(value, Mapping):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    kind = f.enum(value.get("kind"), f.sub(path, "kind"), FINDING_KINDS)
    o = f.obj(value, path, ("kind", *_FINDING_FIELDS[kind]))
    if kind == "required-data-missing":
        f.matching(o["key"], f.sub(path, "key"), f.SLUG_RE, "a key")
        f.text(o["what"], f.sub(path, "what"), max_len=1000)
        l_path = f.sub(path, "lines")
        for i, line_id in enumerate(f.array(o["lines"], l_path)):
            f.matching(line_id, f.sub(l_path, i), f.LINE_ID_RE, "a line id")
        f.enum(o["status"], f.sub(path, "status"), FIGURE_STATUSES)
        f.integer(o["lead_time_days"], f.sub(path, "lead_time_days"), lo=0, hi=3650)
        f.calendar_date(o["supply_by"], f.sub(path, "supply_by"))
        f.calendar_date(o["deadline"], f.sub(path, "deadline"))
        f.boolean(o["in_time"], f.sub(path, "in_time"))
    elif kind == "restricted-chemical":
        f.matching(o["line_id"], f.sub(path, "line_id"), f.LINE_ID_RE, "a line id")
        f.cas_number(o["cas"], f.sub(path, "cas"))
        for key in ("name", "catalogue", "legal_ref"):
            f.text(o[key], f.sub(path, key), max_len=1000)
        f.enum(o["status"], f.sub(path, "status"), FIGURE_STATUSES)
    elif kind == "gas-not-covered":
        f.enum(o["gas"], f.sub(path, "gas"), units.GASES)
    else:
        if o["cn_code"] is not None:
            f.matching(o["cn_code"], f.sub(path, "cn_code"), f.CN_CODE_RE, "a CN code")
        f.text(o["message"], f.sub(path, "message"), max_len=200)


def _suggestion(value: Any, path: str) -> None:
    o = f.obj(value, path, ("for", "en", "zh"))
    f.text(o["for"], f.sub(path, "for"), max_len=200)
    validate_bilingual({"en": o["en"], "zh": o["zh"]}, path)


def validate_assessment_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, ASSESSMENT_MEMBERS)
    links = validate_rule_links(o, path)
    f.text(o["region"], f.sub(path, "region"), max_len=64)
    _inputs(o["inputs"], f.sub(path, "inputs"))
    validate_totals(o["result"], f.sub(path, "result"), vocab.OUTPUT_UNITS)
    if o["cn_code"] is not None:
        f.matching(o["cn_code"], f.sub(path, "cn_code"), f.CN_CODE_RE, "a CN code")
    b_path = f.sub(path, "bands")
    bands = f.obj(o["bands"], b_path, ("yellow_from_pct", "yellow_to_pct"))
    for key in ("yellow_from_pct", "yellow_to_pct"):
        f.decimal(bands[key], f.sub(b_path, key), positive=True)
    level = f.enum(o["level"], f.sub(path, "level"), vocab.RISK_LEVELS)
    basis_path = f.sub(path, "level_basis")
    basis = [
        f.enum(b, f.sub(basis_path, i), vocab.RISK_BASES)
        for i, b in enumerate(f.array(o["level_basis"], basis_path, min_items=1, max_items=2))
    ]
    f.unique(basis, basis_path, "basis")
    # Without a baseline there is no ratio, and no level but red for late data.
    if o["baseline"] is None:
        if o["ratio"] is not None:
            raise f.fail(f.sub(path, "ratio"), "no baseline, so no ratio: expected null")
        if level not in ("not-assessable", "red"):
            raise f.fail(f.sub(path, "level"), "no baseline: level not assessable")
    else:
        _baseline(o["baseline"], f.sub(path, "baseline"))
        f.decimal(o["ratio"], f.sub(path, "ratio"), non_negative=True)
        if level == "not-assessable":
            raise f.fail(f.sub(path, "level"), "a baseline was found: the level is assessable")
    validate_tariff_view(o["tariff"], f.sub(path, "tariff"))
    d_path = f.sub(path, "differences")
    for i, item in enumerate(f.array(o["differences"], d_path, max_items=1000)):
        validate_difference(item, f.sub(d_path, i))
    fi_path = f.sub(path, "findings")
    for i, item in enumerate(f.array(o["findings"], fi_path, max_items=1000)):
        _finding(item, f.sub(fi_path, i))
    s_path = f.sub(path, "suggestions")
    for i, item in enumerate(f.array(o["suggestions"], s_path, max_items=200)):
        _suggestion(item, f.sub(s_path, i))
    return links
