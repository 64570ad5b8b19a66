"""One current carbon-efficiency evaluation per enterprise and period (docs/RECORDS.md §3.16).

At acceptance a ``carbon-efficiency`` record is checked against the enterprise's
evaluations, stored or earlier in the same bulk: when the period of one that is still
current (neither superseded nor revoked) overlaps the new one's, the new evaluation must
supersede it; otherwise it is refused (409) naming the evaluation that holds the period,
so a plant never shows two grades for one month.

The enterprise's **latest evaluation** is the current one whose period ends last (then
starts last, then was accepted last): what the enterprise's registry entry and page show,
and what its carbon-efficiency code opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.errors import ConflictError
from ledger.core.records import Record
from ledger.core.view import parse_view, reconstruct
from ledger.service.query import Access, record_state, view_of
from ledger.service.registrymodels import LatestEvaluation
from ledger.store import Transaction, chainfacts
from ledger.store import lookups as lookup
from ledger.store import records as record_repo
from ledger.store.rows import StoredRecord

__all__ = [
    "EVALUATION_TYPE",
    "EvaluationBook",
    "EvaluationConflictError",
    "latest_evaluation",
]

EVALUATION_TYPE = "carbon-efficiency"
#: Evaluations of one enterprise looked at (a monthly evaluation for eighty years).
MAX_EVALUATIONS = 1000


class EvaluationConflictError(ConflictError):
    """A second current evaluation of one enterprise for an overlapping period (409)."""

    def __init__(self, message: str, *, record_id: str, index: int, existing_record_id: str):
        super().__init__(message)
        self.record_id = record_id
        self.index = index
        self.existing_record_id = existing_record_id


@dataclass(frozen=True)
class _Held:
    record_id: str
    start: datetime
    end: datetime


def _period(body: Any) -> tuple[datetime, datetime] | None:
    period = body.get("period") if isinstance(body, dict) else None
    if not isinstance(period, dict):
        return None
    try:
        return datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
    except (KeyError, TypeError, ValueError):
        return None


def _stored_body(row: StoredRecord) -> Any:
    view = parse_view(parse_json(row.full_view, root="full_view"), path="full_view")
    return reconstruct(view).get("body")


def _revoked(session: Transaction, digest_hex: str) -> bool:
    revocation = chainfacts.revocation_of(session, digest_hex)
    return revocation is not None and revocation.state == "mined"


class EvaluationBook:
    """The evaluations of one acceptance (a single record or a bulk), checked in order."""

    def __init__(self) -> None:
        self._new: dict[str, list[_Held]] = {}
        self._superseded: set[str] = set()

    def check(self, session: Transaction, record: Record, *, index: int) -> None:
        """Refuse ``record`` when a current evaluation of its enterprise holds an overlapping
        period and ``record`` does not supersede it."""
        if record.type != EVALUATION_TYPE:
            return
        period = _period(record.body)
        if period is None:  # validated before; nothing to compare otherwise
            return
        start, end = period
        held = self._current(session, record.subject)
        link = record.supersedes
        for other in held:
            replaced = link is not None and link.id == other.record_id
            if other.start < end and start < other.end and not replaced:
                raise EvaluationConflictError(
                    f"record {record.id}: body.period: {other.record_id} already evaluates "
                    f"{record.subject} for an overlapping period "
                    f"({format_timestamp(other.start)} to {format_timestamp(other.end)}); "
                    "an evaluation of the same period is accepted only when it supersedes that one",
                    record_id=record.id,
                    index=index,
                    existing_record_id=other.record_id,
                )
        self._new.setdefault(record.subject, []).append(_Held(record.id, start, end))
        if link is not None:
            self._superseded.add(link.id)

    def _current(self, session: Transaction, subject: str) -> list[_Held]:
        rows = record_repo.records_matching(
            session, subject=subject, record_type=EVALUATION_TYPE, limit=MAX_EVALUATIONS
        )
        gone = lookup.superseded_among(session, [r.record_id for r in rows]) | self._superseded
        out = []
        for row in rows:
            if row.record_id in gone or _revoked(session, row.digest_hex):
                continue
            period = _period(_stored_body(row))
            if period is not None:
                out.append(_Held(row.record_id, *period))
        out += [h for h in self._new.get(subject, []) if h.record_id not in gone]
        return out


def latest_evaluation(
    session: Transaction, enterprise_id: str, access: Access
) -> LatestEvaluation | None:
    """The enterprise's current evaluation whose period ends last (None when it has none
    the caller may see): neither superseded nor revoked."""
    rows = record_repo.records_matching(
        session,
        subject=enterprise_id,
        record_type=EVALUATION_TYPE,
        producer=access.owner,
        limit=MAX_EVALUATIONS,
    )
    # The latest period first; the state (four look-ups) only until one is current.
    candidates: list[tuple[tuple[datetime, datetime, int], StoredRecord, dict[str, Any]]] = []
    for row in rows:
        body = reconstruct(view_of(row, access)).get("body")
        period = _period(body)
        if period is not None and isinstance(body, dict):
            candidates.append(((period[1], period[0], row.id), row, body))
    for _, row, body in sorted(candidates, key=lambda c: c[0], reverse=True):
        state = record_state(session, row, access)
        if state.state in ("superseded", "revoked"):
            continue
        result = body.get("result")
        if not isinstance(result, dict):
            result = {}
        grade, level = result.get("grade"), result.get("level")
        return LatestEvaluation(
            record_id=row.record_id,
            digest_hex=row.digest_hex,
            period_start=body["period"]["start"],
            period_end=body["period"]["end"],
            grade=grade if isinstance(grade, int) and not isinstance(grade, bool) else None,
            level=level if isinstance(level, str) else None,
            state=state.state,
        )
    return None
