"""Operator alerts: raised by the service, shown by the status command, resolved by kind
when their condition clears (docs/OPERATIONS.md §2). A resolved alert stays, with the time
it was resolved: that is the history ``alert_history`` reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.store._session import execute, flush, rowcount
from ledger.store.models import Alert

MAX_OPEN = 200


def raise_alert(session: Session, *, kind: str, message: str, at: datetime) -> Alert:
    alert = Alert(raised_at=at, kind=kind, message=message)
    session.add(alert)
    flush(session)
    return alert


def open_alerts(session: Session, *, limit: int = MAX_OPEN) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.resolved_at.is_(None))
            .order_by(Alert.id)
            .limit(min(max(limit, 1), MAX_OPEN))
        )
    )


def alert_once(session: Session, *, kind: str, message: str, at: datetime) -> bool:
    """Raise an alert unless one of ``kind`` is open already; True when raised."""
    if session.scalar(
        select(Alert.id).where(Alert.kind == kind, Alert.resolved_at.is_(None)).limit(1)
    ):
        return False
    raise_alert(session, kind=kind, message=message, at=at)
    return True


def resolve_alerts(session: Session, kind: str, *, at: datetime) -> int:
    """Resolves every open alert of ``kind``; returns how many."""
    return rowcount(
        execute(
            session,
            update(Alert)
            .where(Alert.kind == kind, Alert.resolved_at.is_(None))
            .values(resolved_at=at)
            .execution_options(synchronize_session=False),
        )
    )


def alert_history(session: Session, *, limit: int = 20) -> list[Alert]:
    """The most recently resolved alerts, newest first."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.resolved_at.is_not(None))
            .order_by(Alert.resolved_at.desc(), Alert.id.desc())
            .limit(min(max(limit, 1), MAX_OPEN))
        )
    )
