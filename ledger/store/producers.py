"""Producers, their Ed25519 keys and the record types each key may sign (docs/FORMAT.md §3,
docs/CONTRACTS.md §4).

``key_id`` is the SHA-256 (lowercase hex) of the raw 32-byte public key; it is computed
here so that no caller can store a key under another key's id. The TrustRegistry is the
authority; these rows mirror it (``carbonledger keys`` writes the chain first, the chain
follower reads back what others wrote), so the accept path checks a signer without a
chain call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.models import Producer, ProducerKeyType
from ledger.store.models import ProducerKey as ProducerKey  # the keys.py command names the type
from ledger.store.rows import StoredKey, StoredKeyType, copy_row


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
    record_types: Sequence[str],
    valid_until: datetime | None = None,
    registered_tx_hash: str | None = None,
) -> ProducerKey:
    """A key, granted ``record_types`` from ``valid_from`` on (an empty list: the key may
    sign nothing until a grant is mirrored)."""
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
    for record_type in record_types:
        grant_key_type(session, row.key_id, record_type, granted_at=valid_from)
    return row


def grant_key_type(
    session: Session,
    key_id: str,
    record_type: str,
    *,
    granted_at: datetime,
    tx_hash: str | None = None,
) -> ProducerKeyType:
    """Mirror a grant (a repeat of one already mirrored changes nothing)."""
    if not 1 <= len(record_type.encode("utf-8")) <= 64:
        raise MalformedError("a record type is 1 to 64 bytes", path="record_type")
    row = session.get(ProducerKeyType, (key_id, record_type))
    if row is None:
        row = ProducerKeyType(
            key_id=key_id, record_type=record_type, granted_at=granted_at, granted_tx_hash=tx_hash
        )
        session.add(row)
        flush(session)
    return row


def withdraw_key_type(session: Session, key_id: str, record_type: str, *, at: datetime) -> None:
    row = session.get(ProducerKeyType, (key_id, record_type))
    if row is not None and row.withdrawn_at is None:
        row.withdrawn_at = at
        flush(session)


def replace_key_types(
    session: Session, key_id: str, grants: dict[str, tuple[datetime, datetime | None]]
) -> None:
    """Make the key's mirrored grants exactly ``grants`` (type -> granted, withdrawn): the
    chain's current state, re-read after a deep reorg."""
    for row in list(
        session.scalars(select(ProducerKeyType).where(ProducerKeyType.key_id == key_id))
    ):
        if row.record_type not in grants:
            session.delete(row)
    for record_type, (granted_at, withdrawn_at) in grants.items():
        row = grant_key_type(session, key_id, record_type, granted_at=granted_at)
        row.granted_at, row.withdrawn_at = granted_at, withdrawn_at
    flush(session)


def types_of_keys(session: Session, key_ids: Iterable[str]) -> dict[str, list[StoredKeyType]]:
    """Key id -> the record types it was ever granted (withdrawn ones included)."""
    out: dict[str, list[StoredKeyType]] = {}
    ids = sorted(set(key_ids))
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(ProducerKeyType)
            .where(ProducerKeyType.key_id.in_(ids[start : start + 500]))
            .order_by(ProducerKeyType.key_id, ProducerKeyType.granted_at)
        )
        for row in rows:
            out.setdefault(row.key_id, []).append(copy_row(StoredKeyType, row))
    return out


def may_sign_type(types: Sequence[StoredKeyType], record_type: str, at: datetime) -> bool:
    """Whether a key with grants ``types`` may sign ``record_type`` at ``at``
    (docs/CONTRACTS.md §4: granted at or before, not withdrawn by then)."""
    return any(
        t.record_type == record_type
        and t.granted_at <= at
        and (t.withdrawn_at is None or at < t.withdrawn_at)
        for t in types
    )


def producer_of_id(session: Session, producer_id_hex: str) -> str | None:
    """The stored producer whose sha256 (UTF-8) is ``producer_id_hex`` (TrustRegistry's
    ``producerId``), None when no stored producer has it."""
    for name in session.scalars(select(Producer.producer)):
        if hashlib.sha256(name.encode("utf-8")).hexdigest() == producer_id_hex:
            return str(name)
    return None


def mirror_key(
    session: Session,
    *,
    producer: str,
    public_key_hex: str,
    valid_from: datetime,
    valid_until: datetime | None,
    revoked_at: datetime | None,
    tx_hash: str | None,
    at: datetime,
) -> ProducerKey:
    """Create or bring in line with the chain the row of a key the TrustRegistry holds (the
    producer is created when missing; ``at`` dates that)."""
    row = session.get(ProducerKey, key_id_of(public_key_hex))
    if row is None:
        if session.get(Producer, producer) is None:
            add_producer(session, producer, created_at=at)
        row = add_producer_key(
            session, producer=producer, public_key_hex=public_key_hex, valid_from=valid_from,
            valid_until=valid_until, registered_tx_hash=tx_hash, record_types=(),
        )  # fmt: skip
    else:
        row.valid_until = valid_until
        row.registered_tx_hash = row.registered_tx_hash or tx_hash
    row.revoked_at = revoked_at
    flush(session)
    return row


def all_producer_keys(session: Session) -> list[ProducerKey]:
    """Every producer key, by producer, then validity, then key id."""
    order = (ProducerKey.producer, ProducerKey.valid_from, ProducerKey.key_id)
    return list(session.scalars(select(ProducerKey).order_by(*order)))


def has_key(session: Session, key_id: str) -> bool:
    return session.get(ProducerKey, key_id) is not None


def mirror_key_revocation(session: Session, key_id: str, *, effective_at: datetime) -> None:
    """The chain's ``revokedAt`` of a stored key (unknown keys are not the store's)."""
    row = session.get(ProducerKey, key_id)
    if row is not None:
        row.revoked_at = effective_at
        flush(session)


def close_key_window(session: Session, key_id: str, *, at: datetime) -> None:
    """A rotation ends the old key's window at the new key's start, if earlier."""
    row = session.get(ProducerKey, key_id)
    if row is not None and (row.valid_until is None or at < row.valid_until):
        row.valid_until = at
        flush(session)


def refresh_key(
    session: Session,
    key_id: str,
    *,
    valid_until: datetime | None,
    revoked_at: datetime | None,
    grants: dict[str, tuple[datetime, datetime | None]],
) -> None:
    """Overwrite a stored key's window end, revocation and grants with the chain's current
    ones (after a deep reorg undid events that had set them)."""
    row = session.get(ProducerKey, key_id)
    if row is None:
        return
    row.valid_until, row.revoked_at = valid_until, revoked_at
    replace_key_types(session, key_id, grants)


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
