"""The look-ups of the accept path, one query per kind for a whole bulk (never one per
record): the records a bulk names (receipts already given, and the records links point
at), producer keys with their granted types, and which records are superseded already.

Each takes the session of the accepting transaction and returns frozen values
(``ledger.store.rows``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.store.models import Producer, ProducerKey, ProducerKeyType, Record
from ledger.store.rows import LinkTarget, StoredKey, StoredKeyType

__all__ = [
    "producer_exists",
    "records_named",
    "signing_keys",
    "superseded_among",
]

_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def records_named(
    session: Session, record_ids: Collection[str], ref_ids: Collection[str]
) -> tuple[dict[str, tuple[str, bytes]], dict[str, LinkTarget]]:
    """In one query per chunk of ids, for both: each stored record among ``record_ids``
    (the submitted ones: a replay) with its digest and receipt bytes, and what a link check
    needs of each stored record among ``ref_ids`` (the records links point at)."""
    receipts: dict[str, tuple[str, bytes]] = {}
    targets: dict[str, LinkTarget] = {}
    columns = (
        Record.record_id,
        Record.digest_hex,
        Record.type,
        Record.subject,
        Record.producer,
        Record.receipt,
    )
    for chunk in _chunks(set(record_ids) | set(ref_ids)):
        for rid, digest_hex, rtype, subject, producer, receipt in session.execute(
            select(*columns).where(Record.record_id.in_(chunk))
        ):
            if rid in record_ids:
                receipts[str(rid)] = (str(digest_hex), bytes(receipt))
            if rid in ref_ids:
                targets[str(rid)] = LinkTarget(
                    str(rid), str(digest_hex), str(rtype), str(subject), str(producer)
                )
    return receipts, targets


def signing_keys(
    session: Session, key_ids: Collection[str]
) -> dict[str, tuple[StoredKey, list[StoredKeyType]]]:
    """The registered producer keys among ``key_ids``, by key id, each with the record types
    it was ever granted (withdrawn ones included), in grant order: one query per chunk."""
    out: dict[str, tuple[StoredKey, list[StoredKeyType]]] = {}
    key = ProducerKey
    grant = ProducerKeyType
    columns = (
        key.key_id,
        key.producer,
        key.public_key_hex,
        key.valid_from,
        key.valid_until,
        key.revoked_at,
        grant.record_type,
        grant.granted_at,
        grant.withdrawn_at,
    )
    for chunk in _chunks(key_ids):
        rows = session.execute(
            select(*columns)
            .outerjoin(grant, grant.key_id == key.key_id)
            .where(key.key_id.in_(chunk))
            .order_by(key.key_id, grant.granted_at)
        )
        for kid, producer, public_hex, since, until, revoked, rtype, granted, withdrawn in rows:
            found = out.get(kid)
            if found is None:
                stored = StoredKey(kid, producer, public_hex, since, until, revoked)
                found = out[kid] = (stored, [])
            if rtype is not None:
                found[1].append(StoredKeyType(kid, rtype, granted, withdrawn))
    return out


def producer_exists(session: Session, producer: str) -> bool:
    return session.get(Producer, producer) is not None


def superseded_among(session: Session, record_ids: Collection[str]) -> set[str]:
    """The records among ``record_ids`` that a stored record supersedes already."""
    out: set[str] = set()
    for chunk in _chunks(record_ids):
        rows = session.scalars(select(Record.supersedes).where(Record.supersedes.in_(chunk)))
        out.update(str(r) for r in rows if r is not None)
    return out
