"""Factor sets used inside their validity period, or a stated reason (docs/CALC.md §10.1).

A factor set's ``validity`` is ``{from, to}``, calendar dates, both inclusive (UTC). A
record *uses* a factor set for a period:

- a `carbon-record` uses the set of each line's factor for its ``reference_period``;
- a `factor-substitution` uses each factor set it takes a factor from (a substituted
  line's replacement, or a kept line whose factor is one of the rule's sets, kept by
  choice) for the ``reference_period`` of its source. Factors it keeps from the source
  are the source's use, checked with the source.

The use is inside the validity when ``from`` ≤ the period's start and the period's end
(exclusive) is at most the day after ``to``, 00:00 UTC: the whole period lies in the
validity. A use outside it needs a ``validity_exceptions`` entry naming the set
(schema version 2); an entry for a set the record does not use outside its validity is
refused too, so every stated reason justifies something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types.schema2 import VALIDITY_EXCEPTIONS

__all__ = ["FactorValidityError", "ValidityFinding", "check_validity", "validity_findings"]


class FactorValidityError(MalformedError):
    """A factor set used outside its validity period without a stated reason (or a reason
    stated for a use that needs none). ``set_id`` names the factor set."""

    def __init__(self, message: str, *, path: str, set_id: str) -> None:
        super().__init__(message, path=path)
        self.set_id = set_id


@dataclass(frozen=True)
class ValidityFinding:
    """One factor set used outside its validity period."""

    path: str
    set_id: str
    message: str
    justified: bool


def _covers(validity: Mapping[str, Any], start: datetime, end: datetime) -> bool:
    first = datetime.combine(date.fromisoformat(validity["from"]), time(0), tzinfo=UTC)
    last = date.fromisoformat(validity["to"])
    if first > start:
        return False
    if last == date.max:  # "9999-12-31": no end
        return True
    return end <= datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def _period(record: Record) -> tuple[datetime, datetime, str]:
    rp = record.body["reference_period"]
    start = datetime.fromisoformat(rp["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(rp["end"].replace("Z", "+00:00"))
    return start, end, f"{rp['start']}..{rp['end']}"


def _uses(record: Record) -> list[tuple[str, str]]:
    """(path, factor-set id) of each use the record answers for, first path per set."""
    body = record.body
    found: dict[str, str] = {}
    if record.type == "carbon-record":
        for i, line in enumerate(body["lines"]):
            found.setdefault(line["factor"]["set"]["id"], f"body.lines[{i}].factor.set")
    else:
        rule_sets = {s["id"] for s in body["factor_sets"]}
        for i, line in enumerate(body["lines"]):
            if line["action"] == "substitute":
                key, use = "replacement", line["replacement"]
            elif line["action"] == "keep" and line["factor"]["set"]["id"] in rule_sets:
                key, use = "factor", line["factor"]
            else:
                continue
            found.setdefault(use["set"]["id"], f"body.lines[{i}].{key}.set")
    return [(path, set_id) for set_id, path in found.items()]


def validity_findings(record: Record, inputs: Mapping[str, Record]) -> list[ValidityFinding]:
    """Every factor set ``record`` uses outside its validity, justified or not.

    ``inputs`` holds the factor sets (and, for a substitution, its source) by id. Raises
    ``FactorValidityError`` for a ``validity_exceptions`` entry that justifies nothing.
    """
    if record.type not in ("carbon-record", "factor-substitution"):
        return []
    period_of = record if record.type == "carbon-record" else inputs[record.body["source"]["id"]]
    start, end, period_text = _period(period_of)
    stated = {
        e["factor_set"]["id"]: i for i, e in enumerate(record.body.get(VALIDITY_EXCEPTIONS, ()))
    }
    findings: list[ValidityFinding] = []
    for path, set_id in _uses(record):
        validity = inputs[set_id].body["validity"]
        if _covers(validity, start, end):
            continue
        findings.append(
            ValidityFinding(
                path,
                set_id,
                f"factor set {set_id} is valid {validity['from']}..{validity['to']}, used for "
                f"the reference period {period_text}",
                set_id in stated,
            )
        )
    outside = {f.set_id for f in findings}
    for set_id, i in stated.items():
        if set_id not in outside:
            raise FactorValidityError(
                f"{set_id} is not used outside its validity period: there is nothing to justify",
                path=f"body.{VALIDITY_EXCEPTIONS}[{i}].factor_set.id",
                set_id=set_id,
            )
    return findings


def check_validity(record: Record, inputs: Mapping[str, Record], *, strict: bool) -> Sequence[str]:
    """Raise ``FactorValidityError`` at the first unjustified use; return the warnings.

    Schema version 1 has no field for a reason, so its records are refused only when
    ``strict`` (acceptance); a verifier reading an older record gets a warning instead.
    """
    warnings = []
    for finding in validity_findings(record, inputs):
        if finding.justified:
            continue
        if strict or record.schema_version != "1":
            raise FactorValidityError(
                f"{finding.message}, and no {VALIDITY_EXCEPTIONS} entry states why "
                "(schema version 2)",
                path=finding.path,
                set_id=finding.set_id,
            )
        warnings.append(f"{finding.message} (schema version 1 cannot state why)")
    return warnings
