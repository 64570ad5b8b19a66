"""Pre-assessment of a carbon record for a region, and the `risk-assessment` record's
recomputation (docs/CALC.md §11).

The figure the region would see is a factor substitution under the rule (calc/1 §6, the
same code as conversions) with the rule's mandatory factors; the tariff burden, the risk
level and the findings follow from it, from the rule and from the record's lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledger.core.calc.arithmetic import calc_context, compare, round_figure
from ledger.core.calc.inputs import linked_inputs, require_type
from ledger.core.calc.substitution import Choices, compute_substitution, mandatory_choices
from ledger.core.crossborder.bands import risk_level
from ledger.core.crossborder.rulebook import (
    baseline_for,
    declaration_deadline,
    require_knowledge_base,
)
from ledger.core.crossborder.tariff import compute_tariff, validate_origin_price
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types.assessment import ASSESSMENT_MEMBERS

NO_BASELINE = "no baseline: level not assessable"
RATIO_ROUNDING = {"mode": "ROUND_HALF_EVEN", "places": 4}
# Dates an assessment may use, so that deadlines and supply dates stay computable.
IMPORT_YEARS = (2000, 2100)
# The members of a risk-assessment body that calc/1 computes (all but the two links).
COMPUTED = tuple(m for m in ASSESSMENT_MEMBERS if m not in ("source", "rule"))


# The line member each `where` filter of a required-data item reads (besides activity).
_LINE_FIELD = {"stage": "stage", "channel": "cbam_channel", "emission_class": "emission_class"}


def _matching(
    lines: Sequence[Mapping[str, Any]], where: Mapping[str, str]
) -> list[Mapping[str, Any]]:
    """The lines that meet every filter of ``where``, one filter at a time."""
    found = list(lines)
    for key, wanted in where.items():
        if key == "activity":
            dotted = wanted + "."
            found = [
                line
                for line in found
                if line["factor"]["activity"] == wanted
                or line["factor"]["activity"].startswith(dotted)
            ]
        else:
            field = _LINE_FIELD[key]
            found = [line for line in found if line[field] == wanted]
    return found


def _has_evidence(line: Mapping[str, Any]) -> bool:
    return line.get("data_type") == "primary" and bool(line.get("evidence"))


def required_data_findings(
    source: Record, rule: Record, *, assessed_on: date, deadline: date
) -> list[dict[str, Any]]:
    """A `required-data-missing` finding per required item the record does not satisfy
    (docs/CALC.md §11.2), with the day it could be supplied by and whether that is in time."""
    findings: list[dict[str, Any]] = []
    lines = source.body["lines"]
    for item in rule.body["required_data"]:
        matched = _matching(lines, item["where"])
        if item["lines"] == "some":
            ok = any(not item["evidence"] or _has_evidence(line) for line in matched)
            lacking: list[str] = []
        else:
            lacking = [line["line_id"] for line in matched if not _has_evidence(line)]
            ok = not lacking
        if ok:
            continue
        supply_by = assessed_on + timedelta(days=item["lead_time_days"])
        findings.append(
            {
                "kind": "required-data-missing",
                "key": item["key"],
                "what": item["what"],
                "lines": lacking,
                "status": item["status"],
                "lead_time_days": item["lead_time_days"],
                "supply_by": supply_by.isoformat(),
                "deadline": deadline.isoformat(),
                "in_time": supply_by <= deadline,
            }
        )
    return findings


def restricted_chemical_findings(source: Record, rule: Record) -> list[dict[str, Any]]:
    """A `restricted-chemical` finding per substance of a line that the rule restricts,
    in line order, whatever the line's stage (the equipment contains it all the same)."""
    catalogue = rule.body["restricted_chemicals"]
    restricted = {s["cas"]: s for s in catalogue["substances"]}
    findings: list[dict[str, Any]] = []
    for line in source.body["lines"]:
        for substance in line.get("substances", ()):
            entry = restricted.get(substance["cas"])
            if entry is not None:
                findings.append(
                    {
                        "kind": "restricted-chemical",
                        "line_id": line["line_id"],
                        "cas": entry["cas"],
                        "name": entry["name"],
                        "catalogue": catalogue["catalogue"],
                        "legal_ref": entry["legal_ref"],
                        "status": entry["status"],
                    }
                )
    return findings


def _suggestions(
    rule: Record, level: str, findings: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]]:
    body = rule.body
    out: list[dict[str, str]] = []
    if level in body["suggestions"]:
        out.append({"for": level, **body["suggestions"][level]})
    texts = {item["key"]: item["rectification"] for item in body["required_data"]}
    for finding in findings:
        if finding["kind"] == "required-data-missing":
            out.append({"for": f"required-data:{finding['key']}", **texts[finding["key"]]})
    if any(finding["kind"] == "restricted-chemical" for finding in findings):
        out.append({"for": "restricted-chemicals", **body["restricted_chemicals"]["rectification"]})
    return out


def _inputs(
    import_date: date, choices: Choices, origin_price: Mapping[str, Any] | None, source: Record
) -> dict[str, Any]:
    order = [line["line_id"] for line in source.body["lines"]]
    return {
        "import_date": import_date.isoformat(),
        "choices": [
            {"line_id": i, "set": choices[i][0], "entry": choices[i][1]}
            for i in order
            if i in choices
        ],
        "origin_price": None if origin_price is None else dict(origin_price),
    }


def compute_risk_assessment(
    source: Record,
    rule: Record,
    factor_sets: Sequence[Record] | Mapping[str, Record],
    *,
    assessed_on: date,
    import_date: date,
    choices: Choices | None = None,
    origin_price: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The computed members of a risk-assessment body (:data:`COMPUTED`) for ``source``
    under ``rule``; the caller adds the `source` and `rule` links ({id, digest}). A
    draft carbon record (validated, not stored) is assessed the same way."""
    require_type(source, "carbon-record")
    require_knowledge_base(rule)
    if not (IMPORT_YEARS[0] <= import_date.year <= IMPORT_YEARS[1]) or not (
        IMPORT_YEARS[0] <= assessed_on.year <= IMPORT_YEARS[1]
    ):
        raise MalformedError(
            f"import and assessment dates must fall in {IMPORT_YEARS[0]}-{IMPORT_YEARS[1]}",
            path="inputs.import_date",
        )
    if origin_price is not None:
        validate_origin_price(origin_price)
    given = dict(choices or {})
    # The caller's choices are checked against the mandatory factors here, so that an
    # error names the assessment's input; the substitution applies them again.
    mandatory_choices(rule, source.body["lines"], given, path="inputs.choices")
    conversion = compute_substitution(source, rule, factor_sets, choices=given)
    ctx = calc_context()
    counted = sorted(
        (line for line in conversion["lines"] if line["action"] != "drop"),
        key=lambda line: line["line_id"],
    )
    emissions_kg = Decimal(0)
    for line in counted:  # docs/CALC.md §8.1: ascending line_id, as the result's total
        emissions_kg = ctx.add(emissions_kg, Decimal(line["emissions_kg"]))
    equipment = source.body["equipment"]
    cn_code = equipment.get("cn_code")
    mass = equipment.get("mass_kg")
    baseline = baseline_for(rule, cn_code)
    tariff = compute_tariff(
        rule,
        cn_code=cn_code,
        baseline=baseline,
        emissions_kg=emissions_kg,
        mass_kg=None if mass is None else Decimal(mass),
        import_year=import_date.year,
        origin_price=origin_price,
        ctx=ctx,
    )
    deadline = declaration_deadline(rule, import_date)
    findings = required_data_findings(source, rule, assessed_on=assessed_on, deadline=deadline)
    findings += restricted_chemical_findings(source, rule)
    covered = set(rule.body["gases"]["covered"])
    for gas in conversion["result"]["by_gas"]:
        if gas != "unattributed" and gas not in covered:
            findings.append({"kind": "gas-not-covered", "gas": gas})
    if baseline is None:
        findings.append({"kind": "no-baseline", "cn_code": cn_code, "message": NO_BASELINE})
    late = any(f["kind"] == "required-data-missing" and not f["in_time"] for f in findings)
    figure = Decimal(conversion["result"]["total"])
    bands = rule.body["risk_bands"]
    level, basis = risk_level(
        figure,
        baseline,
        bands,
        burden_ok=tariff["status"] != "computed" or bool(tariff["within_acceptable"]),
        late_data=late,
        ctx=ctx,
    )
    ratio = None
    if baseline is not None:
        ratio = round_figure(ctx.divide(figure, Decimal(baseline["baseline"])), RATIO_ROUNDING, ctx)
    return {
        "factor_sets": conversion["factor_sets"],
        "region": rule.body["region"],
        "inputs": _inputs(import_date, given, origin_price, source),
        "result": conversion["result"],
        "cn_code": cn_code,
        "baseline": None
        if baseline is None
        else {
            "cn_code": baseline["cn_code"],
            "baseline": baseline["baseline"],
            "access_threshold": baseline["access_threshold"],
            "unit": rule.body["output_unit"],
            "status": baseline["status"],
        },
        "bands": {
            "yellow_from_pct": bands["yellow_from_pct"],
            "yellow_to_pct": bands["yellow_to_pct"],
        },
        "ratio": ratio,
        "tariff": tariff,
        "level": level,
        "level_basis": basis,
        "differences": conversion["differences"],
        "findings": findings,
        "suggestions": _suggestions(rule, level, findings),
    }


def check_risk_assessment(
    record: Record,
    closure: Mapping[str, Record] | Sequence[Record],
    *,
    digests: Mapping[str, str] | None = None,
) -> None:
    """Recompute a risk assessment from its source, rule, factor sets and inputs and raise
    CalculationMismatchError at the first member that differs (docs/CALC.md §11.5).

    ``closure`` holds the referenced records. When ``digests`` (record id -> digest, as
    the bundle proved them) is given, every link's digest must match.
    """
    require_type(record, "risk-assessment")
    body = record.body
    source, rule, sets = linked_inputs(body, closure, digests=digests)
    compare(record.subject, source.subject, "subject")
    inputs = body["inputs"]
    computed = compute_risk_assessment(
        source,
        rule,
        sets,
        assessed_on=record.issued_at.date(),
        import_date=date.fromisoformat(inputs["import_date"]),
        choices={c["line_id"]: (c["set"], c["entry"]) for c in inputs["choices"]},
        origin_price=inputs["origin_price"],
    )
    for key in COMPUTED:
        compare(body[key], computed[key], f"body.{key}")
