"""Whole records of the cross-border workflow from calc/1's computed bodies: a
risk assessment (docs/RECORDS.md §3.9) and a factor substitution (§3.4, schema 3 with
supplementary lines or allocations), with the links their figures rest on.

The service composes the records it signs with these (``ledger.service.crossborder``),
and the examples theirs; the inputs are validated records and the digests they are
stored under.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ledger.core.calc.substitution import Choices, compute_substitution
from ledger.core.crossborder.assessment import compute_risk_assessment
from ledger.core.records import Record

__all__ = ["assessment_record", "record_envelope", "substitution_record"]


def record_envelope(
    rtype: str,
    rid: str,
    subject: str,
    issued_at: str,
    producer: str,
    body: dict[str, Any],
    refs: Sequence[Mapping[str, Any]],
    schema_version: str = "1",
) -> dict[str, Any]:
    """A record of any type (docs/RECORDS.md §1), unsigned and uncommitted."""
    return {
        "type": rtype,
        "schema_version": schema_version,
        "id": rid,
        "subject": subject,
        "issued_at": issued_at,
        "producer": producer,
        "refs": [dict(ref) for ref in refs],
        "body": body,
    }


def _link(record: Record, digests: Mapping[str, str]) -> dict[str, str]:
    return {"id": record.id, "digest": digests[record.id]}


def assessment_record(
    rid: str,
    issued_at: str,
    producer: str,
    source: Record,
    rule: Record,
    sets: Sequence[Record],
    digests: Mapping[str, str],
    *,
    import_date: date,
    choices: Choices | None = None,
    origin_price: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A risk-assessment record computed with calc/1 (assessed on ``issued_at``'s day)."""
    computed = compute_risk_assessment(
        source,
        rule,
        sets,
        assessed_on=date.fromisoformat(issued_at[:10]),
        import_date=import_date,
        choices=choices,
        origin_price=origin_price,
    )
    refs = [
        {"rel": "source", **_link(source, digests)},
        {"rel": "rule", **_link(rule, digests)},
        *({"rel": "factor-set", **link} for link in computed["factor_sets"]),
    ]
    body = {"source": _link(source, digests), "rule": _link(rule, digests), **computed}
    return record_envelope("risk-assessment", rid, source.subject, issued_at, producer, body, refs)


def substitution_record(
    rid: str,
    issued_at: str,
    producer: str,
    source: Record,
    rule: Record,
    sets: Sequence[Record],
    digests: Mapping[str, str],
    *,
    choices: Choices | None = None,
    validity_exceptions: Sequence[Mapping[str, Any]] | None = None,
    supplements: Sequence[Mapping[str, Any]] | None = None,
    allocations: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A factor-substitution record computed with calc/1; with ``validity_exceptions``
    it is schema 2, with supplementary lines or an allocated stage schema 3."""
    computed = compute_substitution(
        source,
        rule,
        sets,
        choices=choices,
        supplements=supplements or (),
        allocations=allocations or (),
    )
    body: dict[str, Any] = {
        "source": _link(source, digests),
        "rule": _link(rule, digests),
        **computed,
    }
    boundary = supplements is not None or allocations is not None
    if boundary:
        body["supplements"] = [dict(s) for s in supplements or ()]
        body["allocations"] = [dict(a) for a in allocations or ()]
    refs = [
        {"rel": "source", **_link(source, digests)},
        {"rel": "rule", **_link(rule, digests)},
    ]
    # Kept lines quote the source's factor sets: those belong to the closure too.
    sets_used = {link["id"]: link["digest"] for link in computed["factor_sets"]}
    for line in [*computed["lines"], *(supplements or ())]:
        for key in ("factor", "original", "replacement"):
            if key in line:
                sets_used.setdefault(line[key]["set"]["id"], line[key]["set"]["digest"])
    refs += [{"rel": "factor-set", "id": i, "digest": d} for i, d in sets_used.items()]
    if validity_exceptions:
        body["validity_exceptions"] = [dict(v) for v in validity_exceptions]
    version = "3" if boundary else "2" if validity_exceptions else "1"
    return record_envelope(
        "factor-substitution", rid, source.subject, issued_at, producer, body, refs, version
    )
