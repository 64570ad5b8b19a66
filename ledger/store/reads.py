"""The named queries of the read side: a record by id, a subject's records, batches,
links both ways, revocations and attestations, figures for the metrics, and what an
evidence bundle needs (anchored batches, leaves, the closure of a record's links).

Each takes the session of the caller's transaction and returns frozen values
(``ledger.store.rows``); who may see what is decided above, by the ledger service.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.store.models import Attestation, Batch, BatchLeaf, Record, RecordRef, Revocation
from ledger.store.records import Link
from ledger.store.rows import (
    Referrer,
    StoredAttestation,
    StoredBatch,
    StoredLeaf,
    StoredRecord,
    StoredRevocation,
    copy_row,
)

__all__ = [
    "anchored_batches",
    "attestations_of_digest",
    "batch_by_seq",
    "batches_after",
    "count_batches",
    "leaves_of_digests",
    "link_targets_of",
    "oldest_unanchored_accepted_at",
    "record_by_id",
    "record_ids_by_digest",
    "records_about",
    "records_by_ids",
    "records_matching",
    "records_superseding",
    "referrers_of",
    "refs_of",
    "revocation_of",
    "status_counts",
]


def record_by_id(session: Session, record_id: str) -> StoredRecord | None:
    row = session.scalars(select(Record).where(Record.record_id == record_id)).one_or_none()
    return None if row is None else copy_row(StoredRecord, row)


def records_by_ids(session: Session, record_ids: Collection[str]) -> dict[str, StoredRecord]:
    """The stored records among ``record_ids``, by id (unknown ids are left out)."""
    if not record_ids:
        return {}
    rows = session.scalars(select(Record).where(Record.record_id.in_(list(record_ids))))
    return {r.record_id: copy_row(StoredRecord, r) for r in rows}


def records_superseding(session: Session, record_id: str, *, limit: int) -> list[StoredRecord]:
    """The records that name ``record_id`` as the one they supersede, in acceptance order."""
    rows = session.scalars(
        select(Record).where(Record.supersedes == record_id).order_by(Record.id).limit(limit)
    )
    return [copy_row(StoredRecord, r) for r in rows]


def records_about(
    session: Session, subject: str, *, after: int, limit: int, producer: str | None = None
) -> list[StoredRecord]:
    """The records about ``subject`` after store id ``after``, in acceptance order; only
    ``producer``'s when it is given."""
    return records_matching(session, subject=subject, producer=producer, after=after, limit=limit)


def records_matching(
    session: Session,
    *,
    subject: str | None = None,
    record_type: str | None = None,
    producer: str | None = None,
    after: int = 0,
    limit: int,
) -> list[StoredRecord]:
    """The records matching every given filter after store id ``after``, in acceptance
    order, at most ``limit`` of them."""
    query = select(Record).where(Record.id > after)
    if subject is not None:
        query = query.where(Record.subject == subject)
    if record_type is not None:
        query = query.where(Record.type == record_type)
    if producer is not None:
        query = query.where(Record.producer == producer)
    rows = session.scalars(query.order_by(Record.id).limit(limit))
    return [copy_row(StoredRecord, r) for r in rows]


def refs_of(session: Session, record_pk: int) -> list[Link]:
    """The ``refs`` of the record with store id ``record_pk``, in their order."""
    rows = session.scalars(
        select(RecordRef).where(RecordRef.record_pk == record_pk).order_by(RecordRef.position)
    )
    return [Link(r.rel, r.ref_id, r.ref_digest_hex) for r in rows]


def referrers_of(session: Session, record_id: str, *, limit: int) -> list[Referrer]:
    """The records whose ``refs`` point at ``record_id``, in acceptance order."""
    rows = session.execute(
        select(Record.record_id, Record.type, Record.producer, RecordRef.rel)
        .join(RecordRef, RecordRef.record_pk == Record.id)
        .where(RecordRef.ref_id == record_id)
        .order_by(Record.id)
        .limit(limit)
    )
    return [Referrer(str(rel), str(rid), str(rtype), str(p)) for rid, rtype, p, rel in rows]


def link_targets_of(
    session: Session, record_pks: Sequence[int], rels: Collection[str]
) -> list[str]:
    """The record ids the ``refs`` of the given records point at under ``rels``, in the
    records' order and each record's link order (repeats included)."""
    return [
        str(t)
        for t in session.scalars(
            select(RecordRef.ref_id)
            .where(RecordRef.record_pk.in_(list(record_pks)), RecordRef.rel.in_(list(rels)))
            .order_by(RecordRef.record_pk, RecordRef.position)
        )
    ]


def record_ids_by_digest(
    session: Session, digests_hex: Collection[str]
) -> dict[str, tuple[str, str]]:
    """For each stored digest among ``digests_hex``: its record id and producer."""
    if not digests_hex:
        return {}
    rows = session.execute(
        select(Record.digest_hex, Record.record_id, Record.producer).where(
            Record.digest_hex.in_(list(digests_hex))
        )
    )
    return {str(d): (str(rid), str(p)) for d, rid, p in rows}


def batch_by_seq(session: Session, seq: int) -> StoredBatch | None:
    row = session.get(Batch, seq)
    return None if row is None else copy_row(StoredBatch, row)


def batches_after(session: Session, *, after: int, limit: int) -> list[StoredBatch]:
    """The batches with seq above ``after``, in seq order, at most ``limit``."""
    rows = session.scalars(select(Batch).where(Batch.seq > after).order_by(Batch.seq).limit(limit))
    return [copy_row(StoredBatch, r) for r in rows]


def anchored_batches(session: Session, seqs: Collection[int]) -> dict[int, StoredBatch]:
    """The anchored batches among ``seqs``, by seq."""
    if not seqs:
        return {}
    rows = session.scalars(
        select(Batch).where(Batch.seq.in_(list(seqs)), Batch.state == "anchored")
    )
    return {b.seq: copy_row(StoredBatch, b) for b in rows}


def leaves_of_digests(session: Session, digests_hex: Collection[str]) -> dict[str, StoredLeaf]:
    """The batch leaves of the given record digests, by digest."""
    rows = session.scalars(select(BatchLeaf).where(BatchLeaf.digest_hex.in_(list(digests_hex))))
    return {r.digest_hex: copy_row(StoredLeaf, r) for r in rows}


def count_batches(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Batch)) or 0)


def revocation_of(session: Session, digest_hex: str) -> StoredRevocation | None:
    row = session.scalars(
        select(Revocation).where(Revocation.digest_hex == digest_hex)
    ).one_or_none()
    return None if row is None else copy_row(StoredRevocation, row)


def attestations_of_digest(
    session: Session, digest_hex: str, *, limit: int
) -> list[StoredAttestation]:
    """The attestations of a record digest, in the order they were noted."""
    rows = session.scalars(
        select(Attestation)
        .where(Attestation.digest_hex == digest_hex)
        .order_by(Attestation.id)
        .limit(limit)
    )
    return [copy_row(StoredAttestation, a) for a in rows]


def status_counts(session: Session) -> dict[str, int]:
    """Records by lifecycle status (statuses no record has are left out)."""
    return {
        str(status): int(n)
        for status, n in session.execute(
            select(Record.status, func.count()).group_by(Record.status)
        )
    }


def oldest_unanchored_accepted_at(session: Session) -> datetime | None:
    """When the oldest record not yet anchored was accepted (None: every one is)."""
    return session.scalar(select(func.min(Record.accepted_at)).where(Record.status != "anchored"))
