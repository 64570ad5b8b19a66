"""calc/1 carbon efficiency: an enterprise's emissions per value added (L), its ratio to
the industry average (K), its carbon level and its grade (docs/CALC.md §14).

The service computes a ``carbon-efficiency`` record's figures with
:func:`compute_carbon_efficiency` and both the accept path and the verifier recompute them
with :func:`check_carbon_efficiency`, from the records the evaluation links to: the
meter-reading batches of every source, the factor sets, the industry benchmark, the
grading rule and, when it names one, the metadata template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Context, Decimal
from typing import Any

from ledger.core.calc.arithmetic import calc_context, compare, exact_text, round_figure
from ledger.core.calc.inputs import factor_use, find_entry, require_links
from ledger.core.calc.lines import evaluate_line
from ledger.core.canonical import format_timestamp
from ledger.core.errors import (
    MalformedError,
    NotFoundError,
    SignatureError,
)
from ledger.core.readings import verify_readings
from ledger.core.records import Record
from ledger.core.templates import Value, check_values, effective_fields
from ledger.core.types.efficiency import DEDUCTION_KINDS
from ledger.core.types.fields import timestamp

__all__ = ["check_carbon_efficiency", "compute_carbon_efficiency", "grade_of", "level_of"]

_TONNE_KG = Decimal(1000)
_TEN_THOUSAND_CNY = Decimal(10000)


def _need(closure: Mapping[str, Record], ref_id: str, rtype: str, path: str) -> Record:
    record = closure.get(ref_id)
    if record is None:
        raise NotFoundError(f"{path}: {ref_id} is not available to recompute from")
    if record.type != rtype:
        raise MalformedError(f"{ref_id} is a {record.type}, expected a {rtype}", path=path)
    return record


def _band(bands: Sequence[Mapping[str, Any]], key: str, figure: str) -> Any:
    """The first band whose ``max_inclusive`` holds ``figure`` (the last one is open)."""
    value = Decimal(figure)
    for band in bands:
        limit = band["max_inclusive"]
        if limit is None or value <= Decimal(limit):
            return band[key]
    raise MalformedError("the rule's last band must be open")  # validation ensures it is


def level_of(rule: Record, intensity: str) -> str:
    """The carbon level of a (rounded) L under ``rule``."""
    return str(_band(rule.body["levels"], "level", intensity))


def grade_of(rule: Record, efficiency_value: str) -> int:
    """The carbon-efficiency grade of a (rounded) K under ``rule``."""
    return int(_band(rule.body["grades"], "grade", efficiency_value))


def _period(body: Mapping[str, Any]) -> tuple[datetime, datetime]:
    return timestamp(body["period"]["start"], ""), timestamp(body["period"]["end"], "")


def _check_batch(
    batch: Record, source: Mapping[str, Any], body: Mapping[str, Any], path: str
) -> None:
    """A batch may feed a source only if it measures what the source counts."""
    points = body["boundary"]["metering_points"]
    b = batch.body
    if b["metering_point"] not in points:
        raise MalformedError(
            f"{batch.id} reads metering point {b['metering_point']}, which is not in "
            "body.boundary.metering_points",
            path=path,
        )
    for key in ("field", "unit"):
        if b[key] != source[key]:
            raise MalformedError(
                f"{batch.id} reads {key} {b[key]!r}, the source counts {source[key]!r}", path=path
            )


def _coverage(
    readings: list[tuple[datetime, datetime, str]],
    point: str,
    period: tuple[datetime, datetime],
    path: str,
) -> None:
    """The readings of one metering point tile the period: no gap, no overlap, nothing
    outside it (docs/CALC.md §14.1)."""
    readings.sort()
    expected = period[0]
    for start, end, batch_id in readings:
        if start != expected:
            what = "overlaps the reading before it" if start < expected else "leaves a gap"
            raise MalformedError(
                f"metering point {point}: the reading of {batch_id} starting "
                f"{format_timestamp(start)} {what} "
                f"(expected a reading from {format_timestamp(expected)})",
                path=path,
            )
        expected = end
    if expected != period[1]:
        raise MalformedError(
            f"metering point {point}: the readings end at {format_timestamp(expected)}, "
            f"not at the end of the period {format_timestamp(period[1])}",
            path=path,
        )


def _source_figures(
    source: Mapping[str, Any],
    batches: list[Record],
    period: tuple[datetime, datetime],
    path: str,
    ctx: Context,
) -> dict[str, str]:
    by_point: dict[str, list[tuple[datetime, datetime, str]]] = {}
    quantity = Decimal(0)
    # Readings are summed batch by batch in the order the source lists them, each batch
    # in its own (time) order; the sum of decimal strings is exact (docs/CALC.md §14.2).
    for batch in batches:
        point = batch.body["metering_point"]
        for reading in batch.body["readings"]:
            quantity = ctx.add(quantity, Decimal(reading["quantity"]))
            start = timestamp(reading["start"], "")
            end = timestamp(reading["end"], "")
            by_point.setdefault(point, []).append((start, end, batch.id))
    for point, readings in sorted(by_point.items()):
        _coverage(readings, point, period, f"{path}.readings")
    # calc/1 §5.1 scales the quantity by the factor; a CO2 factor has no GWP set to apply.
    line = {
        "line_id": source["line_id"],
        "quantity": exact_text(quantity),
        "unit": source["unit"],
        "stage": "",
        "cbam_channel": "",
    }
    emissions = evaluate_line(line, source["factor"], "AR6", ctx).emissions_kg
    return {"quantity": exact_text(quantity), "emissions_kg": exact_text(emissions)}


def compute_carbon_efficiency(
    body: Mapping[str, Any], closure: Mapping[str, Record]
) -> dict[str, Any]:
    """The computed part of a carbon-efficiency body: ``sources`` (each with its
    ``quantity`` and ``emissions_kg``) and ``result``.

    ``body`` holds everything else (enterprise, industry, period, boundary, rule, benchmark,
    template, the sources' line ids, kinds, fields, batch links, units and factors, the
    value added); ``closure`` holds the linked records by id.
    """
    ctx = calc_context()
    period = _period(body)
    rule = _need(closure, body["rule"]["id"], "efficiency-grading-rule", "body.rule")
    benchmark = _need(closure, body["benchmark"]["id"], "industry-benchmark", "body.benchmark")
    _check_benchmark(benchmark, body)
    sources: list[dict[str, Any]] = []
    fed: dict[str, str] = {}
    for i, source in enumerate(body["sources"]):
        path = f"body.sources[{i}]"
        batches = []
        for j, link in enumerate(source["readings"]):
            batch = _need(closure, link["id"], "meter-reading", f"{path}.readings[{j}]")
            _check_batch(batch, source, body, f"{path}.readings[{j}]")
            point = batch.body["metering_point"]
            if fed.setdefault(point, source["line_id"]) != source["line_id"]:
                raise MalformedError(
                    f"metering point {point} feeds both {fed[point]} and {source['line_id']}",
                    path=f"{path}.readings[{j}]",
                )
            batches.append(batch)
        figures = _source_figures(source, batches, period, path, ctx)
        sources.append({**source, **figures})
    unread = [p for p in body["boundary"]["metering_points"] if p not in fed]
    if unread:
        raise MalformedError(
            f"metering point {unread[0]} is in the boundary but no source reads it",
            path="body.boundary.metering_points",
        )
    return {"sources": sources, "result": _result(body, sources, rule, benchmark, ctx)}


def _check_benchmark(benchmark: Record, body: Mapping[str, Any]) -> None:
    """K compares like with like: the benchmark is the enterprise's industry, same period."""
    bench = benchmark.body
    if bench["industry"]["code"] != body["industry"]["code"]:
        raise MalformedError(
            f"the benchmark {benchmark.id} is for industry {bench['industry']['code']}, "
            f"the enterprise's is {body['industry']['code']}",
            path="body.benchmark",
        )
    if _period(bench) != _period(body):
        raise MalformedError(
            f"the benchmark {benchmark.id} covers {bench['period']['start']} to "
            f"{bench['period']['end']}, not the evaluation's period",
            path="body.benchmark",
        )


def _result(
    body: Mapping[str, Any],
    sources: list[dict[str, Any]],
    rule: Record,
    benchmark: Record,
    ctx: Context,
) -> dict[str, Any]:
    consumption = Decimal(0)
    deductions = Decimal(0)
    # Ascending line_id order, so listing the sources otherwise never changes a figure.
    for source in sorted(sources, key=lambda s: str(s["line_id"])):
        kg = Decimal(source["emissions_kg"])
        if source["kind"] in DEDUCTION_KINDS:
            deductions = ctx.add(deductions, kg)
        else:
            consumption = ctx.add(consumption, kg)
    net_kg = ctx.subtract(consumption, deductions)
    # docs/CALC.md §14.3, each step one operation in this order.
    net_t = ctx.divide(net_kg, _TONNE_KG)
    value_added = ctx.divide(Decimal(body["value_added"]["amount"]), _TEN_THOUSAND_CNY)
    intensity = ctx.divide(net_t, value_added)
    average = Decimal(benchmark.body["average_intensity"])
    efficiency = ctx.divide(intensity, average)
    rounding = rule.body["rounding"]
    intensity_shown = round_figure(intensity, rounding, ctx)
    efficiency_shown = round_figure(efficiency, rounding, ctx)
    return {
        "emissions_kg": {
            "consumption": exact_text(consumption),
            "deductions": exact_text(deductions),
            "net": exact_text(net_kg),
        },
        "net_emissions_t": round_figure(net_t, rounding, ctx),
        "intensity": {"exact": exact_text(intensity), "value": intensity_shown},
        "industry_average": benchmark.body["average_intensity"],
        "efficiency_value": {"exact": exact_text(efficiency), "value": efficiency_shown},
        # The figures people see decide level and grade (docs/CALC.md §14.4).
        "level": level_of(rule, intensity_shown),
        "grade": grade_of(rule, efficiency_shown),
    }


def _links(body: Mapping[str, Any]) -> list[tuple[str, Mapping[str, str]]]:
    links: list[tuple[str, Mapping[str, str]]] = [
        ("body.rule", body["rule"]),
        ("body.benchmark", body["benchmark"]),
    ]
    if "template" in body:
        links.append(("body.template", body["template"]))
    for i, source in enumerate(body["sources"]):
        links.append((f"body.sources[{i}].factor.set", source["factor"]["set"]))
        links += [(f"body.sources[{i}].readings[{j}]", r) for j, r in enumerate(source["readings"])]
    return links


def _check_template(record: Record, closure: Mapping[str, Record]) -> None:
    link = record.body.get("template")
    if link is None:
        return
    template = closure.get(link["id"])
    if template is None:
        raise NotFoundError(f"body.template: {link['id']} is not available")
    if template.type != "metadata-template" or template.body["applies_to"] != "carbon-efficiency":
        raise MalformedError(
            f"{template.id} is not a metadata template of carbon-efficiency records",
            path="body.template.id",
        )
    values = [
        Value(s["field"], f"body.sources[{i}]", Decimal(s["quantity"]), s["unit"])
        for i, s in enumerate(record.body["sources"])
    ]
    fields = effective_fields(template, closure)
    check_values(template.id, fields, values, missing_path="body.sources")


def check_carbon_efficiency(
    record: Record,
    closure: Mapping[str, Record] | Sequence[Record],
    *,
    digests: Mapping[str, str] | None = None,
    signatures: bool = True,
) -> None:
    """Recompute a carbon-efficiency record from the records it links to and raise at the
    first difference (``CalculationMismatchError`` with the path, stated and recomputed).

    Walks from the grade to every reading: each batch's readings must tile the period and,
    with ``signatures`` (the verifier's walk), verify under their terminal's key. The accept
    path, which verified each reading when its batch arrived, passes ``signatures=False``.
    ``digests`` (record id -> digest, as a bundle proved them): every link must match.
    """
    if record.type != "carbon-efficiency":
        raise MalformedError(f"{record.id} is a {record.type}, expected a carbon-efficiency")
    items = closure.values() if isinstance(closure, Mapping) else closure
    by_id = {r.id: r for r in items}
    body = record.body
    require_links(_links(body), by_id, digests)
    for i, source in enumerate(body["sources"]):
        use = source["factor"]
        factor_set = _need(by_id, use["set"]["id"], "factor-set", f"body.sources[{i}].factor")
        expected = factor_use(
            factor_set.id, find_entry(factor_set, use["entry"]), use["set"]["digest"]
        )
        compare(dict(use), expected, f"body.sources[{i}].factor")
    if signatures:
        for source in body["sources"]:
            for link in source["readings"]:
                try:
                    verify_readings(by_id[link["id"]])
                except SignatureError as exc:
                    raise SignatureError(
                        f"{link['id']}: {exc.message}", expected=exc.expected, computed=exc.computed
                    ) from None
    computed = compute_carbon_efficiency(body, by_id)
    _check_template(record, by_id)
    for i, (stated, again) in enumerate(zip(body["sources"], computed["sources"], strict=True)):
        for key in ("quantity", "emissions_kg"):
            compare(stated[key], again[key], f"body.sources[{i}].{key}")
    compare(body["result"], computed["result"], "body.result")
