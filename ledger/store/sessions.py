"""Page sessions, kept on the server so that signing out ends them (docs/PAGES.md §2).

A session cookie carries a random token; only its SHA-256 is stored here, with the
principal, the API key it was opened with, its expiry and, once ended, when and why. A
session counts while it is neither ended nor expired, its key is not revoked and its
principal not disabled: signing out (``end_session``) or revoking the key
(``ledger.store.access.revoke_api_key`` calls ``end_sessions_of_key``) ends it at once, and
a copied cookie then signs in as nobody.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.store._session import execute, flush, rowcount
from ledger.store.access import Principal, live_key_principal
from ledger.store.models import Base

__all__ = [
    "PageSession",
    "end_session",
    "end_sessions_of_key",
    "live_session_principal",
    "open_session",
    "purge_sessions",
]


class PageSession(Base):
    __tablename__ = "page_sessions"

    token_sha256_hex: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"), index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    #: Why it ended: ``signed out``, ``key revoked``.
    ended_reason: Mapped[str | None] = mapped_column(String(32))


def open_session(
    session: Session,
    *,
    token_sha256_hex: str,
    principal: str,
    key_id: str,
    created_at: datetime,
    expires_at: datetime,
) -> PageSession:
    row = PageSession(
        token_sha256_hex=token_sha256_hex,
        principal=principal,
        key_id=key_id,
        created_at=created_at,
        expires_at=expires_at,
        ended_at=None,
        ended_reason=None,
    )
    session.add(row)
    flush(session)
    return row


def live_session_principal(
    session: Session, token_sha256_hex: str, *, now: datetime
) -> tuple[Principal, str] | None:
    """The principal of a session that still counts (see the module docstring) and the id
    of the API key it was opened with, or None."""
    row = session.get(PageSession, token_sha256_hex)
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    principal = live_key_principal(session, row.key_id, row.principal)
    return None if principal is None else (principal, row.key_id)


def end_session(session: Session, token_sha256_hex: str, *, at: datetime, reason: str) -> bool:
    """End one session; False when it was unknown or already ended."""
    return (
        rowcount(
            execute(
                session,
                update(PageSession)
                .where(
                    PageSession.token_sha256_hex == token_sha256_hex,
                    PageSession.ended_at.is_(None),
                )
                .values(ended_at=at, ended_reason=reason)
                .execution_options(synchronize_session=False),
            )
        )
        == 1
    )


def end_sessions_of_key(session: Session, key_id: str, *, at: datetime, reason: str) -> int:
    """End every open session opened with API key ``key_id``; returns how many."""
    return rowcount(
        execute(
            session,
            update(PageSession)
            .where(PageSession.key_id == key_id, PageSession.ended_at.is_(None))
            .values(ended_at=at, ended_reason=reason)
            .execution_options(synchronize_session=False),
        )
    )


def purge_sessions(session: Session, *, expired_before: datetime, limit: int) -> int:
    """Delete at most ``limit`` sessions that expired before ``expired_before``."""
    if limit < 1:
        return 0
    tokens = list(
        session.scalars(
            select(PageSession.token_sha256_hex)
            .where(PageSession.expires_at < expired_before)
            .order_by(PageSession.expires_at)
            .limit(limit)
        )
    )
    if not tokens:
        return 0
    execute(
        session,
        delete(PageSession)
        .where(PageSession.token_sha256_hex.in_(tokens))
        .execution_options(synchronize_session=False),
    )
    return len(tokens)
