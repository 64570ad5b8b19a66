"""Check 10: recompute every figure a record states from the records it references (calc/1).

docs/CALC.md is the spec; ``ledger.core.calc`` is the one implementation the service and
the verifier share. Which inputs each type needs:

- ``carbon-record``: its lines' factor sets (refs ``factor-set``); totals recompute.
- ``factor-substitution``: source, rule and factor sets; every line, the result and the
  difference table recompute, and every link's digest is the one the bundle proved.
- ``credit-change``: its rating rule (and, when it supersedes an earlier rating, that
  record for ``previous_grade``); total and grade recompute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import DecimalException

from ledger.core.calc.lines import check_carbon_record
from ledger.core.calc.rating import check_credit_change
from ledger.core.calc.substitution import check_substitution
from ledger.core.errors import CalculationMismatchError, LedgerError
from ledger.core.records import Record

__all__ = ["Recomputation", "recompute"]

_FIGURE_TYPES = ("carbon-record", "factor-substitution", "credit-change")


@dataclass(frozen=True)
class Recomputation:
    status: str  # "PASS", "FAIL" or "SKIP"
    reason: str
    stated: object = None
    computed: object = None


def recompute(
    record: Record | None,
    *,
    record_type: str | None,
    redacted: bool,
    inputs: Mapping[str, Record],
    hidden_inputs: set[str],
    digests: Mapping[str, str],
) -> Recomputation:
    """``inputs``: records of the bundle by id (full views only); ``hidden_inputs``: ids
    whose views are redacted; ``digests``: id -> digest hex as the bundle proved them."""
    if record_type not in _FIGURE_TYPES:
        what = f"a {record_type}" if record_type else "this record"
        return Recomputation("SKIP", f"{what} states no calc/1 figure")
    if redacted or record is None:
        return Recomputation(
            "SKIP",
            "inputs hidden: this is a redacted view (disclosure policy), recomputation "
            "needs the full record",
        )
    needed = {r.id for r in record.refs if r.rel != "supersedes"}
    hidden = sorted(needed & hidden_inputs)
    if hidden:
        return Recomputation(
            "SKIP", f"inputs hidden: {', '.join(hidden)} is in the bundle as a redacted view"
        )
    try:
        if record.type == "carbon-record":
            sets = [inputs[r.id] for r in record.refs_with("factor-set") if r.id in inputs]
            check_carbon_record(record, sets)
            return Recomputation("PASS", "totals recompute from the lines and factor sets")
        if record.type == "factor-substitution":
            check_substitution(record, list(inputs.values()), digests=digests)
            result = record.body.get("result", {})
            total = result.get("total") if isinstance(result, Mapping) else None
            return Recomputation("PASS", f"result recomputes ({total} as stated)")
        rule_id = record.body["rule"]["id"]
        if rule_id not in inputs:
            return Recomputation("FAIL", f"the rating rule {rule_id} is not in the bundle")
        link = record.supersedes
        previous = inputs.get(link.id) if link is not None else None
        if previous is not None and previous.type != "credit-change":
            previous = None
        check_credit_change(record, inputs[rule_id], previous=previous)
        return Recomputation(
            "PASS", f"total {record.body['total']} and grade {record.body['grade']} recompute"
        )
    except CalculationMismatchError as exc:
        return Recomputation(
            "FAIL",
            f"{exc.message}: stated {exc.expected!r}, recomputed {exc.computed!r}",
            exc.expected,
            exc.computed,
        )
    except LedgerError as exc:
        return Recomputation("FAIL", f"cannot recompute: {exc.message}")
    except (KeyError, TypeError, ValueError, IndexError, DecimalException) as exc:
        # validate_record admitted the record, so this is a defect of the data the
        # spec did not foresee: report it as a failure, never as a traceback.
        return Recomputation("FAIL", f"cannot recompute: {type(exc).__name__}: {exc}")
