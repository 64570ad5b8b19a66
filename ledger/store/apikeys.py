"""API keys over their whole life, each step audited: issued, requested and confirmed (the
two-person rule), revoked (docs/API.md §2.1, §2.2).

Two-person rule: a key for a principal of a privileged role (``regulator``, who reads every
record in full, and ``admin``, who makes principals and keys) is never issued by one admin
alone. The first admin's request is stored as a *key request*; a second admin, neither the
requester nor the key's principal, confirms it within ``KEY_REQUEST_TTL``, and only then is
the key made. The operator's console (``carbonledger principals``), which holds the
database itself, issues keys directly, audited with the actor ``operator``.

Revoking a key ends the page sessions opened with it in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.access import IssuedKey, get_principal, issue_api_key, revoke_api_key
from ledger.store.auditlog import OPERATOR, record_event
from ledger.store.models import Base
from ledger.store.sessions import end_sessions_of_key

__all__ = [
    "KEY_REQUEST_TTL",
    "PRIVILEGED_ROLES",
    "KeyRequest",
    "SecondAdminRequiredError",
    "cancel_key_request",
    "confirm_key_request",
    "issue_key",
    "pending_key_requests",
    "request_key",
    "revoke_key",
]

#: Roles whose keys need a second admin's confirmation.
PRIVILEGED_ROLES = ("regulator", "admin")
#: How long a key request waits for its confirmation.
KEY_REQUEST_TTL = timedelta(hours=24)
_STATES = ("pending", "confirmed", "cancelled")


class SecondAdminRequiredError(ConflictError):
    """The step of the two-person rule needs another admin than this one."""


class KeyRequest(Base):
    __tablename__ = "key_requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in _STATES)})", name="state"),
    )

    request_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    key_id: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class KeyGrant:
    """What asking for a key gave: the key itself, or a request awaiting a second admin."""

    key: IssuedKey | None
    request: KeyRequest | None


def issue_key(session: Session, principal: str, *, actor: str, at: datetime) -> KeyGrant:
    """A key for ``principal`` at once, or, for a privileged role asked by an admin (any
    ``actor`` but the operator's console), a pending request (the two-person rule)."""
    role = get_principal(session, principal).role
    if role in PRIVILEGED_ROLES and actor != OPERATOR:
        return KeyGrant(None, request_key(session, principal, actor=actor, at=at))
    issued = issue_api_key(session, principal, created_at=at)
    record_event(
        session, kind="key_issued", at=at, actor=actor, principal=principal, key_id=issued.key_id
    )
    return KeyGrant(issued, None)


def request_key(session: Session, principal: str, *, actor: str, at: datetime) -> KeyRequest:
    get_principal(session, principal)
    row = KeyRequest(
        request_id=secrets.token_hex(8),
        principal=principal,
        requested_by=actor,
        requested_at=at,
        expires_at=at + KEY_REQUEST_TTL,
        state="pending",
        decided_by=None,
        decided_at=None,
        key_id=None,
    )
    session.add(row)
    flush(session)
    record_event(
        session,
        kind="key_requested",
        at=at,
        actor=actor,
        principal=principal,
        target=f"key request {row.request_id}",
    )
    return row


def _pending(session: Session, request_id: str, at: datetime) -> KeyRequest:
    row = session.get(KeyRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no key request {request_id!r}")
    if row.state != "pending":
        raise ConflictError(f"key request {request_id} is already {row.state}")
    if row.expires_at <= at:
        raise ConflictError(f"key request {request_id} expired; request the key again")
    return row


def confirm_key_request(
    session: Session, request_id: str, *, actor: str, at: datetime
) -> IssuedKey:
    """The second admin's confirmation: the key is made now (shown to ``actor`` once)."""
    row = _pending(session, request_id, at)
    if actor == row.requested_by:
        raise SecondAdminRequiredError(
            f"key request {request_id} was made by {actor}: another admin must confirm it"
        )
    if actor == row.principal:
        raise SecondAdminRequiredError(
            f"key request {request_id} is for {actor}: another admin must confirm it"
        )
    issued = issue_api_key(session, row.principal, created_at=at)
    row.state, row.decided_by, row.decided_at, row.key_id = "confirmed", actor, at, issued.key_id
    flush(session)
    record_event(
        session,
        kind="key_confirmed",
        at=at,
        actor=actor,
        principal=row.principal,
        key_id=issued.key_id,
        target=f"key request {request_id} of {row.requested_by}",
    )
    return issued


def cancel_key_request(session: Session, request_id: str, *, actor: str, at: datetime) -> None:
    row = _pending(session, request_id, at)
    row.state, row.decided_by, row.decided_at = "cancelled", actor, at
    flush(session)
    record_event(
        session,
        kind="key_request_cancelled",
        at=at,
        actor=actor,
        principal=row.principal,
        target=f"key request {request_id}",
    )


def pending_key_requests(session: Session, *, now: datetime) -> list[KeyRequest]:
    return list(
        session.scalars(
            select(KeyRequest)
            .where(KeyRequest.state == "pending", KeyRequest.expires_at > now)
            .order_by(KeyRequest.requested_at, KeyRequest.request_id)
        )
    )


def revoke_key(session: Session, key_id: str, *, actor: str, at: datetime) -> None:
    """Revoke an API key and end its page sessions (one transaction), audited."""
    if not isinstance(key_id, str) or not key_id:
        raise MalformedError("expected a key id", path="key_id")
    row = revoke_api_key(session, key_id, at=at)
    ended = end_sessions_of_key(session, key_id, at=at, reason="key revoked")
    if row.revoked_at == at:
        record_event(
            session,
            kind="key_revoked",
            at=at,
            actor=actor,
            principal=row.principal,
            key_id=key_id,
            target=f"{ended} page sessions ended" if ended else None,
        )
