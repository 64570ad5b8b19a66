"""The audit log of access: keys issued, requested, confirmed, refused and revoked, and
privileged reads (docs/API.md §2.2). Regulators read it (``GET /v1/audit``, the ``/audit``
page); nothing updates or deletes a row.

Each event says what happened (``kind``), when (``at``), who did it (``actor``: a
principal, or ``operator`` for the console), to whom (``principal``), with which API key
(``key_id``, the look-up handle, never the secret) and what it concerned (``target``: a
record id, a bundle query, a key request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.store._session import flush
from ledger.store.models import AutoId, Base

__all__ = [
    "EVENT_KINDS",
    "OPERATOR",
    "AuditEvent",
    "AuditPage",
    "audit_events",
    "record_event",
]

#: What an event records. ``key_requested`` and ``key_confirmed`` are the two halves of the
#: two-person rule; ``privileged_read`` a read of records in full by a regulator or auditor.
EVENT_KINDS = (
    "key_issued",
    "key_requested",
    "key_confirmed",
    "key_request_cancelled",
    "key_revoked",
    "session_ended",
    "privileged_read",
)
#: The actor of what the operator's console (``carbonledger principals``) does.
OPERATOR = "operator"
MAX_PAGE = 200


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), index=True)
    principal: Mapped[str | None] = mapped_column(String(200), index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(500))


def record_event(
    session: Session,
    *,
    kind: str,
    at: datetime,
    actor: str,
    principal: str | None = None,
    key_id: str | None = None,
    target: str | None = None,
) -> AuditEvent:
    row = AuditEvent(
        at=at,
        kind=kind,
        actor=actor[:200],
        principal=principal,
        key_id=key_id,
        target=None if target is None else target[:500],
    )
    session.add(row)
    flush(session)
    return row


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_after: int | None


def audit_events(
    session: Session, *, after: int, limit: int, principal: str | None = None
) -> AuditPage:
    """Events in the order they happened, after cursor ``after`` (an event id)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(AuditEvent).where(AuditEvent.id > after)
    if principal is not None:
        query = query.where((AuditEvent.principal == principal) | (AuditEvent.actor == principal))
    rows = list(session.scalars(query.order_by(AuditEvent.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)
