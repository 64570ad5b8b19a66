"""Revocations and attestations: facts that live on the chain, mirrored for reads.

A revocation is requested here (``pending``), then sent by the anchorer; an attestation
is observed from TrustRegistry events. Both move ``pending → broadcast → mined`` or
``failed``; the chain stays the authority (docs/CONTRACTS.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.models import CHAIN_TX_STATES, Attestation, Revocation
from ledger.store.rows import StoredAttestation, StoredRevocation, copy_row


def request_revocation(
    session: Session,
    *,
    digest_hex: str,
    reason_code: int,
    reason_digest_hex: str,
    requested_at: datetime,
) -> Revocation:
    """Raises ``ConstraintError`` (``uq_revocations_digest_hex``) for a second request."""
    row = Revocation(
        digest_hex=digest_hex,
        reason_code=reason_code,
        reason_digest_hex=reason_digest_hex,
        requested_at=requested_at,
        state="pending",
    )
    session.add(row)
    flush(session)
    return row


def find_revocation(session: Session, digest_hex: str) -> Revocation | None:
    return session.scalars(
        select(Revocation).where(Revocation.digest_hex == digest_hex)
    ).one_or_none()


def pending_revocations(session: Session) -> list[Revocation]:
    return list(
        session.scalars(
            select(Revocation).where(Revocation.state == "pending").order_by(Revocation.id)
        )
    )


def set_revocation_state(
    session: Session,
    digest_hex: str,
    state: str,
    *,
    tx_hash: str | None = None,
    block_number: int | None = None,
) -> Revocation:
    if state not in CHAIN_TX_STATES:
        raise MalformedError(f"unknown state {state!r}", path="state")
    row = find_revocation(session, digest_hex)
    if row is None:
        raise NotFoundError(f"no revocation of {digest_hex}")
    row.state = state
    if tx_hash is not None:
        row.tx_hash = tx_hash
    if block_number is not None:
        row.block_number = block_number
    flush(session)
    return row


def add_attestation(
    session: Session,
    *,
    digest_hex: str,
    attester: str,
    report_digest_hex: str,
    verdict: str,
    observed_at: datetime,
    state: str = "mined",
    tx_hash: str | None = None,
    block_number: int | None = None,
) -> Attestation:
    if state not in CHAIN_TX_STATES:
        raise MalformedError(f"unknown state {state!r}", path="state")
    row = Attestation(
        digest_hex=digest_hex,
        attester=attester,
        report_digest_hex=report_digest_hex,
        verdict=verdict,
        observed_at=observed_at,
        state=state,
        tx_hash=tx_hash,
        block_number=block_number,
    )
    session.add(row)
    flush(session)
    return row


def attestations_of(
    session: Session, digest_hex: str, *, limit: int | None = None
) -> list[StoredAttestation]:
    """The attestations of a record digest, in the order they were noted."""
    query = select(Attestation).where(Attestation.digest_hex == digest_hex).order_by(Attestation.id)
    if limit is not None:
        query = query.limit(limit)
    return [copy_row(StoredAttestation, a) for a in session.scalars(query)]


def revocation_of(session: Session, digest_hex: str) -> StoredRevocation | None:
    """The revocation of a record digest, if one was requested."""
    row = find_revocation(session, digest_hex)
    return None if row is None else copy_row(StoredRevocation, row)
