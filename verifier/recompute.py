"""Check 10: recompute every figure a record states from the records it links (calc/1).

docs/CALC.md is the spec; ``ledger.core.figures`` is the one registry of types with
figures that the service (at acceptance) and the verifier share, and ``ledger.core.calc``
the one implementation. Inputs are the bundle's records, resolved by digest, never by id:
a bundle may carry two versions of one record, and only the one a link names is an input.

A record with figures is either recomputed (PASS, or WARN with what to look at), found
wrong (FAIL, with the stated and the recomputed value), or **not recomputed** because
this view hides it or an input: then the check says so, what is hidden and which view to
ask for, and the run cannot end in "verified" (docs/VERIFY.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import DecimalException
from typing import TYPE_CHECKING

from ledger.core.errors import CalculationMismatchError, LedgerError
from ledger.core.figures import check_figures, figure_rule, further_inputs
from ledger.core.records import Record

if TYPE_CHECKING:
    from verifier.checks import Entry

__all__ = ["ASK_FOR", "Recomputation", "recompute"]


@dataclass(frozen=True)
class Recomputation:
    status: str  # "PASS", "FAIL", "SKIP" or "WARN"
    reason: str
    stated: object = None
    computed: object = None
    #: False when the record states figures that this bundle does not let anyone recompute
    recomputed: bool | None = None


#: How the reason of a record not recomputed ends: which view to ask for (the report
#: gathers these into one line under the result).
ASK_FOR = "ask the service for a bundle in the regulator's view, or as an auditor granted "


def _ask_for(entry: Entry) -> str:
    subject = entry.raw.get("subject")
    return ASK_FOR + (subject if isinstance(subject, str) else "the record's subject")


def _hidden_item(entry: Entry, record_type: str) -> Recomputation:
    if record_type == "credit-change":
        why = (
            "the public view of a credit change hides its scores by design "
            "(docs/RECORDS.md §4): its total and grade cannot be recomputed from it"
        )
    else:
        why = (
            f"this view of the {record_type} hides fields its figures are computed from "
            "(confidential inputs, docs/RECORDS.md §4)"
        )
    return Recomputation("SKIP", f"not recomputed: {why}; {_ask_for(entry)}", recomputed=False)


def recompute(entry: Entry, by_digest: Mapping[bytes, Entry]) -> Recomputation:
    """Check 10 for one record of the bundle."""
    record_type = entry.record_type
    rule = figure_rule(record_type)
    if rule is None or record_type is None:
        what = f"a {record_type}" if record_type else "this record"
        return Recomputation("SKIP", f"{what} states no calc/1 figure")
    record = entry.record
    if record is None:
        if entry.hides:
            return _hidden_item(entry, record_type)
        return Recomputation("FAIL", "cannot recompute: the record is malformed (check 4)")
    inputs: dict[str, Record] = {}
    hidden: list[str] = []
    missing: list[str] = []
    refs = rule.inputs(record)
    while refs:
        for ref in refs:
            target = by_digest.get(bytes.fromhex(ref.digest))
            if target is None:
                missing.append(ref.id)
            elif target.record is None or target.record.id != ref.id:
                if target.hides:
                    hidden.append(ref.id)
                else:
                    missing.append(ref.id)
            else:
                inputs[ref.id] = target.record
        refs = () if missing or hidden else further_inputs(rule.follow, inputs)
    if missing:
        return Recomputation(
            "FAIL", f"cannot recompute: {', '.join(missing)} is not in the bundle (check 9)"
        )
    if hidden:
        return Recomputation(
            "SKIP",
            f"not recomputed: {', '.join(hidden)} is in the bundle as a redacted view that "
            f"hides fields the figures are computed from; {_ask_for(entry)}",
            recomputed=False,
        )
    try:
        outcome = check_figures(record, inputs, strict=False)
    except CalculationMismatchError as exc:
        return Recomputation(
            "FAIL",
            f"{exc.message}: stated {exc.expected!r}, recomputed {exc.computed!r}"
            if "stated" not in exc.message
            else exc.message,
            exc.expected,
            exc.computed,
            recomputed=True,
        )
    except LedgerError as exc:
        return Recomputation("FAIL", f"cannot recompute: {exc.message}", recomputed=True)
    except (KeyError, TypeError, ValueError, IndexError, DecimalException) as exc:
        # validate_record admitted the record, so this is a defect of the data the
        # spec did not foresee: report it as a failure, never as a traceback.
        return Recomputation(
            "FAIL", f"cannot recompute: {type(exc).__name__}: {exc}", recomputed=True
        )
    if outcome.warnings:
        return Recomputation(
            "WARN", f"{outcome.summary}; " + "; ".join(outcome.warnings), recomputed=True
        )
    return Recomputation("PASS", outcome.summary, recomputed=True)
