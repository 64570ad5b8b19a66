"""Records that state figures, what they are recomputed from, and the check (docs/CALC.md §10).

One registry for the two places that recompute: the accept path (its inputs come from
the store, ``ledger.service.recompute``) and the verifier's check 10 (its inputs come
from the bundle). A type with figures maps to a ``FigureRule``: the links whose records
are its inputs, and the calc/1 check that recomputes the figures from them. A later type
with figures plugs in as one more entry of ``FIGURE_RULES``. Some inputs have inputs of
their own: a metadata template's fields include those of the template it ``extends``. A
rule names such links in ``follow``, and a caller resolves ``further_inputs`` until there
are none left.

Inputs are handed over by record id; the caller guarantees that each is the record with
exactly the digest the link states (the store checked it at acceptance, the verifier
resolves links by digest). A check raises at the first difference:
``CalculationMismatchError`` (path, stated, recomputed), ``FactorValidityError``,
``MalformedError`` or ``NotFoundError`` (an input is missing); it returns what was
recomputed and any warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from ledger.core.calc.efficiency import check_carbon_efficiency
from ledger.core.calc.lines import check_carbon_record
from ledger.core.calc.rating import check_credit_change
from ledger.core.calc.substitution import check_substitution
from ledger.core.crossborder.assessment import check_risk_assessment
from ledger.core.errors import CalculationMismatchError, MalformedError, NotFoundError
from ledger.core.records import Record, Ref
from ledger.core.validity import check_validity

__all__ = [
    "FIGURE_RULES",
    "FigureRule",
    "Outcome",
    "check_figures",
    "figure_rule",
    "further_inputs",
    "input_refs",
]


@dataclass(frozen=True)
class Outcome:
    """What a figure check recomputed (``summary``) and what a reader should look at."""

    summary: str
    warnings: tuple[str, ...] = ()


Inputs = Mapping[str, Record]


@dataclass(frozen=True)
class FigureRule:
    """How the figures of one record type are recomputed.

    ``inputs(record)``: the links whose records the check reads. ``check(record, inputs,
    strict)``: recompute and compare; ``strict`` at acceptance (no leniency for records
    of an older schema version). ``follow``: the rels of the inputs' own links whose
    records are inputs too.
    """

    record_type: str
    inputs: Callable[[Record], tuple[Ref, ...]]
    check: Callable[[Record, Inputs, bool], Outcome]
    follow: tuple[str, ...] = ()


def _need(inputs: Inputs, ref_id: str, what: str) -> Record:
    record = inputs.get(ref_id)
    if record is None:
        raise NotFoundError(f"{what} {ref_id} is not available to recompute from")
    return record


# -- carbon-record -------------------------------------------------------------------


def _carbon_inputs(record: Record) -> tuple[Ref, ...]:
    return record.refs_with("factor-set")


def _check_carbon(record: Record, inputs: Inputs, strict: bool) -> Outcome:
    sets = [_need(inputs, r.id, "factor set") for r in record.refs_with("factor-set")]
    check_carbon_record(record, sets)
    warnings = check_validity(record, inputs, strict=strict)
    total = record.body["totals"]["total"]
    return Outcome(
        f"totals recompute from the lines and factor sets ({total} kgCO2e as stated)",
        tuple(warnings),
    )


# -- factor-substitution -------------------------------------------------------------


def _substitution_inputs(record: Record) -> tuple[Ref, ...]:
    return tuple(r for r in record.refs if r.rel in ("source", "rule", "factor-set"))


def _check_substitution(record: Record, inputs: Inputs, strict: bool) -> Outcome:
    for ref in _substitution_inputs(record):
        _need(inputs, ref.id, ref.rel)
    check_substitution(record, {r.id: inputs[r.id] for r in _substitution_inputs(record)})
    warnings = check_validity(record, inputs, strict=strict)
    result = record.body["result"]
    return Outcome(
        f"result recomputes ({result['total']} {result['unit']} as stated)", tuple(warnings)
    )


# -- credit-change -------------------------------------------------------------------


def _followed(record: Record) -> Ref | None:
    """The rating a credit change follows: schema 2 names it (``previous``); schema 1 only
    when it supersedes one."""
    if record.schema_version == "1":
        return record.supersedes
    return record.previous


def _credit_inputs(record: Record) -> tuple[Ref, ...]:
    wanted = list(record.refs_with("rule"))
    followed = _followed(record)
    if followed is not None:
        wanted.append(followed)
    return tuple(wanted)


def _check_credit(record: Record, inputs: Inputs, strict: bool) -> Outcome:
    rule = _need(inputs, record.body["rule"]["id"], "rating rule")
    link = _followed(record)
    previous = _need(inputs, link.id, "previous rating") if link is not None else None
    if previous is not None and previous.type != "credit-change":
        if record.schema_version == "1":
            previous = None  # a schema-1 record superseding something else states no grade
        else:
            raise MalformedError(f"{previous.id} is a {previous.type}, not a credit change")
    check_credit_change(record, rule, previous=previous)
    warnings: list[str] = []
    grade, before = record.body["grade"], record.body["previous_grade"]
    if previous is not None:
        if previous.issued_at > record.issued_at:
            raise MalformedError(
                f"the rating it follows, {previous.id}, was issued after it "
                f"({previous.raw['issued_at']})",
                path="refs",
            )
        follows = f", previous grade {before} as set by {previous.id}"
    elif before is not None:
        if strict:
            raise CalculationMismatchError(
                "body.previous_grade: no earlier rating is named to have set it",
                expected=before,
                computed=None,
            )
        warnings.append(
            f"previous_grade {before} is not checked: schema version 1 names no previous "
            "rating unless it supersedes one"
        )
        follows = ""
    else:
        follows = ", first rating (no previous grade)"
    return Outcome(
        f"total {record.body['total']} and grade {grade} recompute{follows}", tuple(warnings)
    )


# -- risk-assessment -----------------------------------------------------------------


def _check_assessment(record: Record, inputs: Inputs, strict: bool) -> Outcome:
    for ref in _substitution_inputs(record):
        _need(inputs, ref.id, ref.rel)
    check_risk_assessment(record, {r.id: inputs[r.id] for r in _substitution_inputs(record)})
    body = record.body
    return Outcome(
        f"figure {body['result']['total']} {body['result']['unit']}, level {body['level']} "
        "and findings recompute"
    )


# -- carbon-efficiency ---------------------------------------------------------------

_EFFICIENCY_RELS = ("meter-reading", "factor-set", "rule", "benchmark", "template")


def _efficiency_inputs(record: Record) -> tuple[Ref, ...]:
    return tuple(r for r in record.refs if r.rel in _EFFICIENCY_RELS)


def _check_efficiency(record: Record, inputs: Inputs, strict: bool) -> Outcome:
    # At acceptance every batch's readings were verified against the terminal's registered
    # key when the batch was accepted (docs/SUBMISSION.md); a verifier walks them again.
    check_carbon_efficiency(record, inputs, signatures=not strict)
    result = record.body["result"]
    readings = sum(len(inputs[r.id].body["readings"]) for r in record.refs_with("meter-reading"))
    signed = "terminal-signed readings" if not strict else "readings"
    return Outcome(
        f"grade {result['grade']} and level {result['level']} recompute from {readings} "
        f"{signed} (K {result['efficiency_value']['value']}, L {result['intensity']['value']})"
    )


FIGURE_RULES: dict[str, FigureRule] = {
    rule.record_type: rule
    for rule in (
        FigureRule("carbon-record", _carbon_inputs, _check_carbon),
        FigureRule("factor-substitution", _substitution_inputs, _check_substitution),
        FigureRule("credit-change", _credit_inputs, _check_credit),
        # A risk assessment reads what a substitution reads: source, rule, factor sets.
        FigureRule("risk-assessment", _substitution_inputs, _check_assessment),
        FigureRule(
            "carbon-efficiency", _efficiency_inputs, _check_efficiency, follow=("template",)
        ),
    )
}


def figure_rule(record_type: str | None) -> FigureRule | None:
    """The rule of a type with figures; None for a type that states none."""
    return FIGURE_RULES.get(record_type) if record_type is not None else None


def input_refs(record: Record) -> tuple[Ref, ...]:
    """The links whose records ``record``'s figures are recomputed from (none without)."""
    rule = figure_rule(record.type)
    return rule.inputs(record) if rule is not None else ()


def further_inputs(follow: Collection[str], found: Inputs) -> tuple[Ref, ...]:
    """The links of the rels ``follow`` (a rule's ``follow``) from the records ``found`` so
    far to records not among them (resolve these, add them, and ask again until none are
    left)."""
    wanted: dict[str, Ref] = {}
    for record in found.values():
        for ref in record.refs:
            if ref.rel in follow and ref.id not in found:
                wanted.setdefault(ref.id, ref)
    return tuple(wanted.values())


def check_figures(record: Record, inputs: Inputs, *, strict: bool) -> Outcome:
    """Recompute ``record``'s figures from ``inputs`` (records by id) and compare."""
    rule = figure_rule(record.type)
    if rule is None:
        return Outcome(f"a {record.type} states no calc/1 figure")
    return rule.check(record, inputs, strict)
