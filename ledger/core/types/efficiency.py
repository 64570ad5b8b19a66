"""Carbon-efficiency bodies: `metadata-template`, `industry-benchmark`,
`efficiency-grading-rule` and `carbon-efficiency` (docs/RECORDS.md §3.13-§3.16).

What the bodies must say is checked here; what they must say *together* (an enterprise
template narrowing its industry template, an evaluation's readings covering its period,
its figures) needs the records they link to and is checked by ``ledger.core.templates``
and ``ledger.core.calc.efficiency``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types.carbon import BodyLink, validate_factor_use, validate_rounding
from ledger.core.types.metering import validate_interval
from ledger.core.types.trail import validate_documents

TEMPLATE_LEVELS = ("public", "industry", "enterprise")
# The record types whose activity data a template describes.
TEMPLATE_TARGETS = ("meter-reading", "carbon-efficiency")
LEVELS = ("low", "medium", "high")
GRADES = (1, 2, 3, 4, 5)
SOURCE_KINDS = ("consumption", "zero-carbon-power", "carbon-sink")
DEDUCTION_KINDS = ("zero-carbon-power", "carbon-sink")
INTENSITY_UNIT = "tCO2/10^4CNY"
BENCHMARK_STATUSES = ("official", "illustrative")
VALUE_ADDED_BASES = ("income-method",)
# GB/T 4754-2017 industry classification: a section letter, then a division (2 digits),
# group (3) or class (4), e.g. "C", "C34", "C346", "C3462".
INDUSTRY_CODE_RE = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")


def validate_industry(value: Any, path: str) -> str:
    o = f.obj(value, path, ("code", "name"))
    code = f.matching(
        o["code"], f.sub(path, "code"), INDUSTRY_CODE_RE, "a GB/T 4754 industry code like 'C34'"
    )
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    return code


def validate_party(value: Any, path: str) -> str:
    o = f.obj(value, path, ("id", "name"))
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    return f.text(o["id"], f.sub(path, "id"), max_len=256)


def validate_source_citation(value: Any, path: str) -> None:
    o = f.obj(value, path, ("reference",), ("url",))
    f.text(o["reference"], f.sub(path, "reference"), max_len=1000)
    if "url" in o:
        url = f.text(o["url"], f.sub(path, "url"), max_len=1000)
        if not url.startswith("https://"):
            raise f.fail(f.sub(path, "url"), "expected an https:// URL")


def _link(o: Any, key: str, path: str, rel: str, links: list[BodyLink]) -> None:
    ref_id, digest = f.link(o[key], f.sub(path, key))
    links.append((rel, ref_id, digest, f.sub(path, key)))


def _validate_template_field(value: Any, path: str) -> str:
    o = f.obj(value, path, ("key", "name", "units", "required"), ("min", "max", "description"))
    key = f.matching(o["key"], f.sub(path, "key"), f.SLUG_RE, "a field key like 'natural_gas'")
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    u_path = f.sub(path, "units")
    allowed = [
        f.enum(u, f.sub(u_path, i), units.UNITS)
        for i, u in enumerate(f.array(o["units"], u_path, min_items=1, max_items=len(units.UNITS)))
    ]
    f.unique(allowed, u_path, "unit")
    if len({units.dimension(u) for u in allowed}) > 1:
        raise f.fail(u_path, "the units of one field must measure one dimension")
    f.boolean(o["required"], f.sub(path, "required"))
    lo = f.decimal(o["min"], f.sub(path, "min")) if "min" in o else None
    hi = f.decimal(o["max"], f.sub(path, "max")) if "max" in o else None
    if lo is not None and hi is not None and hi < lo:
        raise f.fail(f.sub(path, "max"), "max must not be below min")
    if "description" in o:
        f.text(o["description"], f.sub(path, "description"), max_len=2000)
    return key


def validate_template_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        ("level", "applies_to", "name", "version", "fields"),
        ("industry", "enterprise", "extends"),
    )
    level = f.enum(o["level"], f.sub(path, "level"), TEMPLATE_LEVELS)
    f.enum(o["applies_to"], f.sub(path, "applies_to"), TEMPLATE_TARGETS)
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    f.text(o["version"], f.sub(path, "version"), max_len=64)
    # Which parts a level carries (docs/RECORDS.md §3.13): the public template belongs to no
    # industry; an enterprise template names its enterprise and extends an industry template.
    needs = {
        "industry": level in ("industry", "enterprise"),
        "enterprise": level == "enterprise",
    }
    for key, needed in needs.items():
        if needed and key not in o:
            raise f.fail(f.sub(path, key), f"missing required field for a {level} template")
        if not needed and key in o:
            raise f.fail(f.sub(path, key), f"a {level} template has no {key}")
    if "industry" in o:
        validate_industry(o["industry"], f.sub(path, "industry"))
    if "enterprise" in o:
        validate_party(o["enterprise"], f.sub(path, "enterprise"))
    links: list[BodyLink] = []
    if level == "public" and "extends" in o:
        raise f.fail(f.sub(path, "extends"), "the public template extends no other")
    if level == "enterprise" and "extends" not in o:
        raise f.fail(f.sub(path, "extends"), "an enterprise template extends an industry template")
    if "extends" in o:
        _link(o, "extends", path, "template", links)
    fl_path = f.sub(path, "fields")
    least = 0 if "extends" in o else 1
    keys = [
        _validate_template_field(item, f.sub(fl_path, i))
        for i, item in enumerate(f.array(o["fields"], fl_path, min_items=least, max_items=500))
    ]
    f.unique(keys, fl_path, "field key")
    return links


def validate_benchmark_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        (
            "industry",
            "region",
            "period",
            "average_intensity",
            "unit",
            "publisher",
            "source",
            "status",
        ),
        ("enterprises", "note"),
    )
    validate_industry(o["industry"], f.sub(path, "industry"))
    f.matching(o["region"], f.sub(path, "region"), f.ISO_REGION_RE, "an ISO 3166 code like 'CN-ZJ'")
    p_path = f.sub(path, "period")
    validate_interval(f.obj(o["period"], p_path, ("start", "end")), p_path)
    f.decimal(o["average_intensity"], f.sub(path, "average_intensity"), positive=True)
    f.enum(o["unit"], f.sub(path, "unit"), (INTENSITY_UNIT,))
    f.text(o["publisher"], f.sub(path, "publisher"), max_len=256)
    validate_source_citation(o["source"], f.sub(path, "source"))
    f.enum(o["status"], f.sub(path, "status"), BENCHMARK_STATUSES)
    if "enterprises" in o:
        f.integer(o["enterprises"], f.sub(path, "enterprises"), lo=1, hi=10_000_000)
    if "note" in o:
        f.text(o["note"], f.sub(path, "note"), max_len=4000)
    return []


def _validate_bands(value: Any, path: str, key: str, names: tuple[Any, ...]) -> None:
    """Bands in order, each up to ``max_inclusive``, strictly increasing; the last is open
    (``null``), so every figure falls in exactly one band."""
    bands = f.array(value, path, min_items=len(names), max_items=len(names))
    previous: Decimal | None = None
    for i, item in enumerate(bands):
        p = f.sub(path, i)
        band = f.obj(item, p, (key, "max_inclusive"))
        if band[key] != names[i] or type(band[key]) is not type(names[i]):
            raise f.fail(f.sub(p, key), f"expected {names[i]!r} at this position")
        bound = band["max_inclusive"]
        last = i == len(names) - 1
        if last:
            if bound is not None:
                raise f.fail(f.sub(p, "max_inclusive"), "the last band is open: expected null")
            continue
        limit = f.decimal(bound, f.sub(p, "max_inclusive"))
        if previous is not None and limit <= previous:
            raise f.fail(f.sub(p, "max_inclusive"), "band limits must increase strictly")
        previous = limit


def validate_grading_rule_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        ("scheme", "version", "source", "intensity_unit", "levels", "grades", "rounding"),
        ("note",),
    )
    f.text(o["scheme"], f.sub(path, "scheme"), max_len=256)
    f.text(o["version"], f.sub(path, "version"), max_len=64)
    validate_source_citation(o["source"], f.sub(path, "source"))
    f.enum(o["intensity_unit"], f.sub(path, "intensity_unit"), (INTENSITY_UNIT,))
    _validate_bands(o["levels"], f.sub(path, "levels"), "level", LEVELS)
    _validate_bands(o["grades"], f.sub(path, "grades"), "grade", GRADES)
    validate_rounding(o["rounding"], f.sub(path, "rounding"))
    if "note" in o:
        f.text(o["note"], f.sub(path, "note"), max_len=4000)
    return []


def _validate_source(value: Any, path: str, links: list[BodyLink]) -> tuple[str, list[str]]:
    o = f.obj(
        value,
        path,
        ("line_id", "kind", "field", "readings", "quantity", "unit", "factor", "emissions_kg"),
    )
    line_id = f.matching(o["line_id"], f.sub(path, "line_id"), f.LINE_ID_RE, "a line id like 'E1'")
    f.enum(o["kind"], f.sub(path, "kind"), SOURCE_KINDS)
    f.matching(o["field"], f.sub(path, "field"), f.SLUG_RE, "a field key like 'natural_gas'")
    r_path = f.sub(path, "readings")
    batch_ids: list[str] = []
    for i, item in enumerate(f.array(o["readings"], r_path, min_items=1, max_items=1000)):
        batch_id, digest = f.link(item, f.sub(r_path, i))
        links.append(("meter-reading", batch_id, digest, f.sub(r_path, i)))
        batch_ids.append(batch_id)
    f.decimal(o["quantity"], f.sub(path, "quantity"), non_negative=True)
    unit = f.enum(o["unit"], f.sub(path, "unit"), units.UNITS)
    factor_path = f.sub(path, "factor")
    factor_unit = validate_factor_use(o["factor"], factor_path, links)
    # The published method counts CO2 (docs/CALC.md §14), so a factor counts CO2 alone.
    if factor_unit.basis != "CO2":
        raise f.fail(
            f.sub(factor_path, "unit"),
            f"expected a CO2 factor like 'kgCO2/kWh', got {factor_unit.text!r}",
        )
    if units.dimension(unit) != units.dimension(factor_unit.per):
        raise f.fail(
            f.sub(path, "unit"),
            f"quantity unit {unit!r} cannot be converted to the factor's unit {factor_unit.per!r}",
        )
    f.decimal(o["emissions_kg"], f.sub(path, "emissions_kg"))
    return line_id, batch_ids


def _validate_result(value: Any, path: str) -> None:
    o = f.obj(
        value,
        path,
        (
            "emissions_kg",
            "net_emissions_t",
            "intensity",
            "industry_average",
            "efficiency_value",
            "level",
            "grade",
        ),
    )
    e_path = f.sub(path, "emissions_kg")
    emissions = f.obj(o["emissions_kg"], e_path, ("consumption", "deductions", "net"))
    for key in ("consumption", "deductions", "net"):
        f.decimal(emissions[key], f.sub(e_path, key))
    f.decimal(o["net_emissions_t"], f.sub(path, "net_emissions_t"))
    for key in ("intensity", "efficiency_value"):
        k_path = f.sub(path, key)
        figure = f.obj(o[key], k_path, ("exact", "value"))
        f.decimal(figure["exact"], f.sub(k_path, "exact"))
        f.decimal(figure["value"], f.sub(k_path, "value"))
    f.decimal(o["industry_average"], f.sub(path, "industry_average"), positive=True)
    f.enum(o["level"], f.sub(path, "level"), LEVELS)
    f.integer(o["grade"], f.sub(path, "grade"), lo=GRADES[0], hi=GRADES[-1])


def validate_efficiency_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        (
            "enterprise",
            "industry",
            "period",
            "boundary",
            "rule",
            "benchmark",
            "sources",
            "value_added",
            "result",
        ),
        ("template", "documents"),
    )
    if subject != validate_party(o["enterprise"], f.sub(path, "enterprise")):
        raise f.fail("subject", "expected the enterprise id of body.enterprise.id")
    validate_industry(o["industry"], f.sub(path, "industry"))
    p_path = f.sub(path, "period")
    validate_interval(f.obj(o["period"], p_path, ("start", "end")), p_path)
    b_path = f.sub(path, "boundary")
    boundary = f.obj(o["boundary"], b_path, ("description", "metering_points"))
    f.text(boundary["description"], f.sub(b_path, "description"), max_len=4000)
    mp_path = f.sub(b_path, "metering_points")
    points = [
        f.identifier(mp, f.sub(mp_path, i)).canonical
        for i, mp in enumerate(f.array(boundary["metering_points"], mp_path, min_items=1))
    ]
    f.unique(points, mp_path, "metering point")
    links: list[BodyLink] = []
    _link(o, "rule", path, "rule", links)
    _link(o, "benchmark", path, "benchmark", links)
    if "template" in o:
        _link(o, "template", path, "template", links)
    s_path = f.sub(path, "sources")
    line_ids: list[str] = []
    batch_ids: list[str] = []
    kinds: set[str] = set()
    for i, item in enumerate(f.array(o["sources"], s_path, min_items=1, max_items=100)):
        line_id, batches = _validate_source(item, f.sub(s_path, i), links)
        line_ids.append(line_id)
        batch_ids.extend(batches)
        kinds.add(item["kind"])
    f.unique(line_ids, s_path, "line_id")
    # A batch counted twice would count its energy twice.
    seen: set[str] = set()
    for batch_id in batch_ids:
        if batch_id in seen:
            raise f.fail(s_path, f"meter-reading batch {batch_id} is counted in more than once")
        seen.add(batch_id)
    if "consumption" not in kinds:
        raise f.fail(s_path, "expected at least one source of kind 'consumption'")
    v_path = f.sub(path, "value_added")
    value_added = f.obj(o["value_added"], v_path, ("amount", "currency", "basis"))
    f.decimal(value_added["amount"], f.sub(v_path, "amount"), positive=True)
    f.enum(value_added["currency"], f.sub(v_path, "currency"), ("CNY",))
    f.enum(value_added["basis"], f.sub(v_path, "basis"), VALUE_ADDED_BASES)
    _validate_result(o["result"], f.sub(path, "result"))
    if "documents" in o:  # the evaluation report, anchored with the evaluation
        validate_documents(o["documents"], f.sub(path, "documents"), min_items=1)
    return links


# The body validators by record type, for the registry in ledger.core.records.
EFFICIENCY_VALIDATORS = {
    "metadata-template": validate_template_body,
    "industry-benchmark": validate_benchmark_body,
    "efficiency-grading-rule": validate_grading_rule_body,
    "carbon-efficiency": validate_efficiency_body,
}
# The reference-data types among them: their subject is a reference-data id.
EFFICIENCY_REFERENCE_TYPES = ("metadata-template", "industry-benchmark", "efficiency-grading-rule")
