"""Producers and their Ed25519 keys (docs/FORMAT.md §3).

``key_id`` is the SHA-256 (lowercase hex) of the raw 32-byte public key; it is computed
here so that no caller can store a key under another key's id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.models import Producer, ProducerKey
from ledger.store.rows import StoredKey


def key_id_of(public_key_hex: str) -> str:
    try:
        raw = bytes.fromhex(public_key_hex)
    except ValueError as exc:
        raise MalformedError("not hex", path="public_key_hex") from exc
    if len(raw) != 32 or public_key_hex != raw.hex():
        raise MalformedError(
            f"expected 32 bytes of lowercase hex, got {len(raw)} bytes", path="public_key_hex"
        )
    return hashlib.sha256(raw).hexdigest()


def add_producer(
    session: Session, producer: str, *, created_at: datetime, display_name: str | None = None
) -> Producer:
    row = Producer(producer=producer, display_name=display_name, created_at=created_at)
    session.add(row)
    flush(session)
    return row


def add_producer_key(
    session: Session,
    *,
    producer: str,
    public_key_hex: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    registered_tx_hash: str | None = None,
) -> ProducerKey:
    if valid_until is not None and valid_until <= valid_from:
        raise MalformedError("valid_until must be after valid_from", path="valid_until")
    row = ProducerKey(
        key_id=key_id_of(public_key_hex),
        producer=producer,
        public_key_hex=public_key_hex,
        valid_from=valid_from,
        valid_until=valid_until,
        registered_tx_hash=registered_tx_hash,
    )
    session.add(row)
    flush(session)
    return row


def get_producer_key(session: Session, key_id: str) -> ProducerKey:
    row = session.get(ProducerKey, key_id)
    if row is None:
        raise NotFoundError(f"no producer key {key_id}")
    return row


def keys_of(session: Session, producer: str) -> list[ProducerKey]:
    return list(
        session.scalars(
            select(ProducerKey)
            .where(ProducerKey.producer == producer)
            .order_by(ProducerKey.valid_from, ProducerKey.key_id)
        )
    )


def revoke_producer_key(session: Session, key_id: str, *, at: datetime) -> ProducerKey:
    row = get_producer_key(session, key_id)
    if row.revoked_at is not None:
        raise ConflictError(f"producer key {key_id} was revoked at {row.revoked_at.isoformat()}")
    row.revoked_at = at
    flush(session)
    return row


def is_key_valid_at(key: ProducerKey | StoredKey, at: datetime) -> bool:
    """True when ``key`` may sign at ``at``: inside its window and not revoked by then."""
    if at < key.valid_from:
        return False
    if key.valid_until is not None and at >= key.valid_until:
        return False
    return key.revoked_at is None or at < key.revoked_at
