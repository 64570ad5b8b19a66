"""Metadata templates: what activity data a record carries, and the check of a submission
against the template it names (docs/RECORDS.md §3.13).

A template's effective fields are those of the templates it extends, from the public
template down, with each level's own fields laid over them. A lower level may add fields
and may narrow an inherited one (fewer units, a tighter range, optional made required), but
never widen it: an enterprise template cannot allow what its industry's template forbids.

A submission naming a template is checked field by field; every field that does not fit
is reported (out of range, unit not allowed, missing), each at its own JSON path, in one
:class:`TemplateMismatchError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.core.errors import MalformedError, NotFoundError
from ledger.core.records import Record

__all__ = [
    "Finding",
    "TemplateField",
    "TemplateMismatchError",
    "Value",
    "check_meter_reading_template",
    "check_values",
    "effective_fields",
]

# The order of levels from the most general; a template extends one of the rank before.
_RANK = {"public": 0, "industry": 1, "enterprise": 2}
_ARTICLE = {"public": "the", "industry": "an", "enterprise": "an"}
# Findings listed in full in an error message; the rest are counted.
_LISTED = 10


@dataclass(frozen=True)
class TemplateField:
    """A field as the effective template defines it."""

    key: str
    name: str
    units: tuple[str, ...]
    minimum: Decimal | None
    maximum: Decimal | None
    required: bool
    template_id: str  # the template that last defined or narrowed it


@dataclass(frozen=True)
class Finding:
    """One field that does not fit its template: where, and why."""

    path: str
    message: str


@dataclass(frozen=True)
class Value:
    """One value of a submission, for the check: the field it fills, where it is written,
    and its quantity and unit."""

    field: str
    path: str
    quantity: Decimal
    unit: str


class TemplateMismatchError(MalformedError):
    """A submission does not fit the template it names; ``findings`` lists every field."""

    def __init__(self, template_id: str, findings: Sequence[Finding]) -> None:
        listed = "; ".join(f"{x.path}: {x.message}" for x in findings[:_LISTED])
        more = len(findings) - _LISTED
        tail = f"; and {more} more" if more > 0 else ""
        first = findings[0]
        super().__init__(
            f"{first.message} (template {template_id}; {len(findings)} finding(s): {listed}{tail})",
            path=first.path,
        )
        self.template_id = template_id
        self.findings = tuple(findings)


def _need(closure: Mapping[str, Record], ref_id: str, what: str) -> Record:
    record = closure.get(ref_id)
    if record is None:
        raise NotFoundError(f"{what} {ref_id} is not available")
    if record.type != "metadata-template":
        raise MalformedError(f"{ref_id} is a {record.type}, expected a metadata-template")
    return record


def _chain(template: Record, closure: Mapping[str, Record]) -> list[Record]:
    """The template and those it extends, most general first."""
    chain = [template]
    while "extends" in chain[-1].body:
        parent = _need(closure, chain[-1].body["extends"]["id"], "extended template")
        child = chain[-1]
        # An enterprise template extends an industry template, an industry template the
        # public one: each level narrows the one just above it.
        if _RANK[parent.body["level"]] != _RANK[child.body["level"]] - 1:
            wanted = {"enterprise": "an industry", "industry": "the public"}[child.body["level"]]
            raise MalformedError(
                f"{child.id}: {_ARTICLE[child.body['level']]} {child.body['level']} template "
                f"extends {wanted} template, not the {parent.body['level']} template {parent.id}",
                path="body.extends",
            )
        if parent.body["applies_to"] != child.body["applies_to"]:
            raise MalformedError(
                f"{child.id}: describes {child.body['applies_to']} records, the template it "
                f"extends ({parent.id}) describes {parent.body['applies_to']}",
                path="body.extends",
            )
        if "industry" in parent.body and (
            parent.body["industry"]["code"] != child.body["industry"]["code"]
        ):
            raise MalformedError(
                f"{child.id}: industry {child.body['industry']['code']} differs from the "
                f"industry {parent.body['industry']['code']} of {parent.id}",
                path="body.industry.code",
            )
        chain.append(parent)
    return chain[::-1]


def _field(raw: Mapping[str, Any], template_id: str) -> TemplateField:
    return TemplateField(
        key=raw["key"],
        name=raw["name"],
        units=tuple(raw["units"]),
        minimum=Decimal(raw["min"]) if "min" in raw else None,
        maximum=Decimal(raw["max"]) if "max" in raw else None,
        required=bool(raw["required"]),
        template_id=template_id,
    )


def _narrow(inherited: TemplateField, own: TemplateField, path: str) -> TemplateField:
    """``own`` laid over ``inherited``; raises where it would widen what is inherited."""
    widened = sorted(set(own.units) - set(inherited.units))
    if widened:
        raise MalformedError(
            f"{own.template_id}: field {own.key!r} allows unit {widened[0]!r}, which "
            f"{inherited.template_id} does not",
            path=f"{path}.units",
        )
    if inherited.minimum is not None and (own.minimum is None or own.minimum < inherited.minimum):
        raise MalformedError(
            f"{own.template_id}: field {own.key!r} goes below the minimum "
            f"{inherited.minimum} of {inherited.template_id}",
            path=f"{path}.min",
        )
    if inherited.maximum is not None and (own.maximum is None or own.maximum > inherited.maximum):
        raise MalformedError(
            f"{own.template_id}: field {own.key!r} goes above the maximum "
            f"{inherited.maximum} of {inherited.template_id}",
            path=f"{path}.max",
        )
    if inherited.required and not own.required:
        raise MalformedError(
            f"{own.template_id}: field {own.key!r} is required by {inherited.template_id}",
            path=f"{path}.required",
        )
    return own


def effective_fields(template: Record, closure: Mapping[str, Record]) -> dict[str, TemplateField]:
    """The fields ``template`` defines, with everything it extends (``closure``: records by
    id, holding each extended template)."""
    if template.type != "metadata-template":
        raise MalformedError(f"{template.id} is a {template.type}, expected a metadata-template")
    fields: dict[str, TemplateField] = {}
    for record in _chain(template, closure):
        for i, raw in enumerate(record.body["fields"]):
            own = _field(raw, record.id)
            inherited = fields.get(own.key)
            path = f"body.fields[{i}]"
            fields[own.key] = own if inherited is None else _narrow(inherited, own, path)
    return fields


def _unit_problem(field: TemplateField, unit: str) -> str | None:
    if unit in field.units:
        return None
    return (
        f"unit {unit!r} is not allowed for field {field.key!r}; allowed: {', '.join(field.units)}"
    )


def _range_problem(field: TemplateField, quantity: Decimal) -> str | None:
    if field.minimum is not None and quantity < field.minimum:
        return f"{quantity} is below the minimum {field.minimum} of field {field.key!r}"
    if field.maximum is not None and quantity > field.maximum:
        return f"{quantity} is above the maximum {field.maximum} of field {field.key!r}"
    return None


def check_values(
    template_id: str,
    fields: Mapping[str, TemplateField],
    values: Sequence[Value],
    *,
    missing_path: str,
) -> None:
    """Check ``values`` against a template's effective ``fields``; raise
    :class:`TemplateMismatchError` listing every value that does not fit and every required
    field no value fills (reported at ``missing_path``)."""
    findings: list[Finding] = []
    for value in values:
        field = fields.get(value.field)
        if field is None:
            findings.append(Finding(value.path, f"field {value.field!r} is not in the template"))
            continue
        problem = _unit_problem(field, value.unit) or _range_problem(field, value.quantity)
        if problem is not None:
            findings.append(Finding(value.path, problem))
    filled = {v.field for v in values}
    for key, field in fields.items():
        if field.required and key not in filled:
            findings.append(
                Finding(missing_path, f"missing field {key!r} ({field.name}), which is required")
            )
    if findings:
        raise TemplateMismatchError(template_id, findings)


def check_meter_reading_template(batch: Record, closure: Mapping[str, Record]) -> None:
    """A meter-reading batch that names a template: its field is one of the template's, its
    unit allowed, and every reading's quantity within the field's range."""
    if batch.type != "meter-reading":
        raise MalformedError(f"{batch.id} is a {batch.type}, expected a meter-reading")
    link = batch.body.get("template")
    if link is None:
        return
    template = _need(closure, link["id"], "template")
    if template.body["applies_to"] != "meter-reading":
        raise MalformedError(
            f"{template.id} describes {template.body['applies_to']} records, not meter readings",
            path="body.template.id",
        )
    fields = effective_fields(template, closure)
    body = batch.body
    if body["field"] not in fields:
        raise TemplateMismatchError(
            template.id,
            [Finding("body.field", f"field {body['field']!r} is not in the template")],
        )
    field = fields[body["field"]]
    # The unit is the batch's, not each reading's: it is reported once, at its own path.
    problem = _unit_problem(field, body["unit"])
    if problem is not None:
        raise TemplateMismatchError(template.id, [Finding("body.unit", problem)])
    findings = [
        Finding(f"body.readings[{i}].quantity", problem)
        for i, r in enumerate(body["readings"])
        if (problem := _range_problem(field, Decimal(r["quantity"]))) is not None
    ]
    if findings:
        raise TemplateMismatchError(template.id, findings)
