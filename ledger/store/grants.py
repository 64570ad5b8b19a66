"""Authorised readers' access to an enterprise's data, and the access log (docs/API.md §2.1).

A bidder or a financial institution asks for an enterprise's data (``access_requests``:
scope, purpose, days); the regulator, or the enterprise itself, approves or refuses; an
approved request is a grant from its decision until ``valid_until``, then it has expired
(a state computed from the clock, never stored). The regulator, or the enterprise that
approved it, may revoke a grant early; its requester may withdraw a request not yet
decided.

``access_log``: every read of a record's non-public view by anyone, through the API, the
pages or a bundle: who (principal and role), what (record, bundle or page, and its
subject and enterprise), when, and on which basis (a grant's id, or the reader's role).
Rows are only ever added.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.models import AutoId, Base
from ledger.store.types import MAX_PRINCIPAL_CHARS, MAX_SUBJECT_CHARS

__all__ = [
    "READER_ROLES",
    "REQUEST_STATES",
    "SCOPES",
    "AccessLogEntry",
    "AccessRequest",
    "LoggedRead",
    "StoredGrant",
    "StoredLogEntry",
    "access_log",
    "add_request",
    "decide_request",
    "end_request",
    "get_request",
    "list_requests",
    "live_grants",
    "log_reads",
]

#: Principals who see only the public view until an enterprise's data is granted to them.
READER_ROLES = ("bidder", "financial-institution")
#: What a grant covers: the enterprise's ratings, its equipment's records, or both.
SCOPES = ("ratings", "carbon", "all")
REQUEST_STATES = ("pending", "approved", "refused", "revoked", "withdrawn")
MAX_GRANT_DAYS = 366
MIN_PURPOSE_CHARS = 10
MAX_PURPOSE_CHARS = 1000
#: A request nobody decided within this many days has lapsed.
PENDING_DAYS = 30
MAX_LOG_PAGE = 200


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AccessRequest(Base):
    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(_in("state", REQUEST_STATES), name="state"),
        CheckConstraint(_in("scope", SCOPES), name="scope"),
        CheckConstraint(f"days >= 1 AND days <= {MAX_GRANT_DAYS}", name="days"),
    )

    request_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    requester: Mapped[str] = mapped_column(ForeignKey("principals.name"), index=True)
    requester_role: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(MAX_PRINCIPAL_CHARS))
    decided_as: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    ended_by: Mapped[str | None] = mapped_column(String(MAX_PRINCIPAL_CHARS))
    ended_at: Mapped[datetime | None]


class AccessLogEntry(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    principal: Mapped[str] = mapped_column(String(MAX_PRINCIPAL_CHARS), index=True)
    role: Mapped[str] = mapped_column(String(32))
    #: ``api`` or ``page``.
    channel: Mapped[str] = mapped_column(String(8))
    #: ``record``, ``bundle`` or ``enterprise`` (a page or answer built from records).
    action: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS))
    enterprise_id: Mapped[str | None] = mapped_column(String(MAX_SUBJECT_CHARS), index=True)
    #: The grant (an access request's id) the read rests on, or the reader's standing
    #: (``role:regulator``, ``auditor-grant``, ``own-records``, ``own-enterprise``).
    basis: Mapped[str] = mapped_column(String(32))
    records: Mapped[int] = mapped_column(Integer, default=1)


@dataclass(frozen=True)
class StoredGrant:
    """An access request and where it stands; ``state`` is ``expired`` for an approved
    request past ``valid_until`` (computed at read time)."""

    request_id: str
    requester: str
    requester_role: str
    enterprise_id: str
    scope: str
    purpose: str
    days: int
    requested_at: datetime
    state: str
    decided_by: str | None
    decided_as: str | None
    decided_at: datetime | None
    valid_until: datetime | None
    note: str | None
    ended_by: str | None
    ended_at: datetime | None


def state_at(row: AccessRequest, now: datetime) -> str:
    if row.state == "approved" and row.valid_until is not None and now >= row.valid_until:
        return "expired"
    if row.state == "pending" and now >= row.requested_at + timedelta(days=PENDING_DAYS):
        return "expired"
    return row.state


def _grant(row: AccessRequest, now: datetime) -> StoredGrant:
    return StoredGrant(
        row.request_id, row.requester, row.requester_role, row.enterprise_id, row.scope,
        row.purpose, row.days, row.requested_at, state_at(row, now), row.decided_by,
        row.decided_as, row.decided_at, row.valid_until, row.note, row.ended_by, row.ended_at,
    )  # fmt: skip


def add_request(
    session: Session,
    *,
    requester: str,
    role: str,
    enterprise_id: str,
    scope: str,
    purpose: str,
    days: int,
    now: datetime,
) -> StoredGrant:
    if role not in READER_ROLES:
        raise MalformedError(f"only {' and '.join(READER_ROLES)} principals ask for access")
    if scope not in SCOPES:
        raise MalformedError(f"scope must be one of {', '.join(SCOPES)}", path="scope")
    purpose = purpose.strip()
    if not MIN_PURPOSE_CHARS <= len(purpose) <= MAX_PURPOSE_CHARS:
        raise MalformedError(
            f"say why, in {MIN_PURPOSE_CHARS} to {MAX_PURPOSE_CHARS} characters", path="purpose"
        )
    if isinstance(days, bool) or not 1 <= days <= MAX_GRANT_DAYS:
        raise MalformedError(f"days must be within 1..{MAX_GRANT_DAYS}", path="days")
    row = AccessRequest(
        request_id=secrets.token_hex(8),
        requester=requester,
        requester_role=role,
        enterprise_id=enterprise_id,
        scope=scope,
        purpose=purpose,
        days=days,
        requested_at=now,
        state="pending",
    )
    session.add(row)
    flush(session)
    return _grant(row, now)


def _row(session: Session, request_id: str) -> AccessRequest:
    row = session.get(AccessRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no access request {request_id!r}")
    return row


def get_request(session: Session, request_id: str, *, now: datetime) -> StoredGrant:
    row = session.get(AccessRequest, request_id)
    if row is None:
        raise NotFoundError(f"no access request {request_id!r}")
    return _grant(row, now)


def decide_request(
    session: Session,
    request_id: str,
    *,
    approve: bool,
    by: str,
    as_role: str,
    note: str | None,
    now: datetime,
) -> StoredGrant:
    """Approve (a grant until now + ``days``) or refuse a pending request."""
    row = _row(session, request_id)
    state = state_at(row, now)
    if state != "pending":
        when = f" on {row.requested_at + timedelta(days=PENDING_DAYS):%Y-%m-%d}"
        raise ConflictError(
            f"access request {request_id} is {state}"
            + (when if state == "expired" else "")
            + ": only a pending request is decided"
        )
    row.state = "approved" if approve else "refused"
    row.decided_by, row.decided_as, row.decided_at = by, as_role, now
    row.valid_until = now + timedelta(days=row.days) if approve else None
    row.note = (note or "").strip()[:MAX_PURPOSE_CHARS] or None
    flush(session)
    return _grant(row, now)


def end_request(
    session: Session, request_id: str, *, to: str, by: str, now: datetime
) -> StoredGrant:
    """Revoke a live grant (``to="revoked"``) or withdraw a pending request."""
    row = _row(session, request_id)
    state = state_at(row, now)
    wanted = "approved" if to == "revoked" else "pending"
    if state != wanted:
        ended = row.valid_until if state == "expired" and row.valid_until else None
        raise ConflictError(
            f"access request {request_id} is {state}"
            + (f" since {ended:%Y-%m-%d %H:%M} UTC" if ended else "")
            + f": only a request that is {wanted} can be {to}"
        )
    row.state, row.ended_by, row.ended_at = to, by, now
    if to == "revoked":
        row.valid_until = now
    flush(session)
    return _grant(row, now)


def list_requests(
    session: Session,
    *,
    now: datetime,
    requester: str | None = None,
    enterprise_ids: Sequence[str] | None = None,
    limit: int = MAX_LOG_PAGE,
) -> list[StoredGrant]:
    """Requests, newest first: a requester's, those about ``enterprise_ids``, or all."""
    query = select(AccessRequest)
    if requester is not None:
        query = query.where(AccessRequest.requester == requester)
    if enterprise_ids is not None:
        query = query.where(AccessRequest.enterprise_id.in_(list(enterprise_ids)))
    rows = session.scalars(
        query.order_by(AccessRequest.requested_at.desc(), AccessRequest.request_id).limit(limit)
    )
    return [_grant(r, now) for r in rows]


def live_grants(session: Session, requester: str, *, now: datetime) -> list[StoredGrant]:
    """The requester's grants in force now."""
    rows = session.scalars(
        select(AccessRequest).where(
            AccessRequest.requester == requester,
            AccessRequest.state == "approved",
            AccessRequest.valid_until > now,
        )
    )
    return [_grant(r, now) for r in rows]


@dataclass(frozen=True)
class LoggedRead:
    principal: str
    role: str
    channel: str
    action: str
    target: str
    subject: str
    enterprise_id: str | None
    basis: str
    records: int = 1


@dataclass(frozen=True)
class StoredLogEntry:
    id: int
    at: datetime
    principal: str
    role: str
    channel: str
    action: str
    target: str
    subject: str
    enterprise_id: str | None
    basis: str
    records: int


def log_reads(session: Session, reads: Sequence[LoggedRead], *, at: datetime) -> None:
    for read in reads:
        session.add(
            AccessLogEntry(
                at=at,
                principal=read.principal[:MAX_PRINCIPAL_CHARS],
                role=read.role,
                channel=read.channel,
                action=read.action,
                target=read.target[:500],
                subject=read.subject[:MAX_SUBJECT_CHARS],
                enterprise_id=read.enterprise_id,
                basis=read.basis[:32],
                records=read.records,
            )
        )
    flush(session)


def access_log(
    session: Session,
    *,
    before: int | None,
    limit: int,
    enterprise_ids: Sequence[str] | None = None,
    principal: str | None = None,
) -> tuple[list[StoredLogEntry], int | None]:
    """Entries newest first, before cursor ``before`` (an entry id; None: from the
    newest); only those about ``enterprise_ids`` (an enterprise reading its own) or by
    ``principal`` when given."""
    limit = max(1, min(limit, MAX_LOG_PAGE))
    query = select(AccessLogEntry)
    if before is not None:
        query = query.where(AccessLogEntry.id < before)
    if enterprise_ids is not None and principal is not None:
        query = query.where(
            or_(
                AccessLogEntry.enterprise_id.in_(list(enterprise_ids)),
                AccessLogEntry.principal == principal,
            )
        )
    elif enterprise_ids is not None:
        query = query.where(AccessLogEntry.enterprise_id.in_(list(enterprise_ids)))
    elif principal is not None:
        query = query.where(AccessLogEntry.principal == principal)
    rows = list(session.scalars(query.order_by(AccessLogEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    out = [
        StoredLogEntry(
            r.id, r.at, r.principal, r.role, r.channel, r.action, r.target, r.subject,
            r.enterprise_id, r.basis, r.records,
        )
        for r in rows
    ]  # fmt: skip
    return out, rows[-1].id if more and rows else None
