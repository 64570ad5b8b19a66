"""Records: insertion as pending, look-ups, the trail of a subject, links both ways, and
what a bundle's closure and the metrics read. Every look-up hands out frozen values
(``ledger.store.rows``), never ORM objects.

``insert_pending_records`` runs in the caller's transaction: either every row is stored or,
when one row breaks a constraint (the same record id or digest twice), the error leaves
the transaction and ``Store.transaction`` rolls all of it back. The caller acknowledges
(returns receipts) only after that transaction has committed (docs/OPERATIONS.md §1).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.core.errors import MalformedError, NotFoundError
from ledger.store.errors import map_db_error
from ledger.store.models import RECORD_STATUSES, Base, Record, RecordRef
from ledger.store.rows import Referrer, StoredRecord, copy_row

MAX_PAGE = 1000
_RECORDS = Base.metadata.tables[Record.__tablename__]
_RECORD_REFS = Base.metadata.tables[RecordRef.__tablename__]


@dataclass(frozen=True)
class Link:
    """One entry of a record's ``refs`` (docs/RECORDS.md §1)."""

    rel: str
    ref_id: str
    ref_digest_hex: str | None = None


@dataclass(frozen=True)
class NewRecord:
    """An accepted record as the accept path hands it to the store."""

    record_id: str
    type: str
    schema_version: str
    subject: str
    producer: str
    issued_at: datetime
    digest_hex: str
    full_view: bytes
    key_id: str
    signature: bytes
    accepted_at: datetime
    receipt: bytes
    refs: Sequence[Link] = field(default_factory=tuple)
    supersedes: str | None = None


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise MalformedError(f"limit must be within 1..{MAX_PAGE}, got {limit}", path="limit")
    return limit


@dataclass(frozen=True)
class InsertedRecord:
    """What ``insert_pending_records`` returns of each row: its store id and record id."""

    id: int
    record_id: str


def insert_pending_records(session: Session, rows: Sequence[NewRecord]) -> list[InsertedRecord]:
    """Stores ``rows`` as pending records, all or nothing; returns their ids, in ``rows`` order.

    Core inserts of all rows at once (the records, then the links) instead of the ORM unit
    of work: on a bulk of 1,000 records the ORM's per-object bookkeeping cost about as much
    as the database round trips themselves (scripts/benchmarks/accept.py). On SQLite the
    records' ids are read back in one query by record id: an ``INSERT … RETURNING`` that
    must give the ids in parameter order is sent there row by row, one statement per
    record, as SQLite has no form of it that keeps the order. The constraints are the same
    database constraints; a violation surfaces here as ``ConstraintError``.
    """
    if not rows:
        return []
    values = [
        {
            "record_id": row.record_id,
            "type": row.type,
            "schema_version": row.schema_version,
            "subject": row.subject,
            "producer": row.producer,
            "issued_at": row.issued_at,
            "digest_hex": row.digest_hex,
            "full_view": row.full_view,
            "key_id": row.key_id,
            "signature": row.signature,
            "accepted_at": row.accepted_at,
            "receipt": row.receipt,
            "status": "pending",
            "batch_seq": None,
            "supersedes": row.supersedes,
        }
        for row in rows
    ]
    # Ids are the acceptance order; the links need them, so the records go first, in one
    # statement that returns each record's id. PostgreSQL generates them in parameter order
    # when asked; SQLite generates them in VALUES order but would need a statement per row
    # to return them so, hence the ids are matched by record id.
    ordered = session.get_bind().dialect.name != "sqlite"
    returning = insert(_RECORDS).returning(
        _RECORDS.c.record_id, _RECORDS.c.id, sort_by_parameter_order=ordered
    )
    pk_of = {str(rid): int(pk) for rid, pk in _execute_many(session, returning, values)}
    ids = [pk_of[row.record_id] for row in rows]
    links = [
        {
            "record_pk": pk,
            "position": position,
            "rel": link.rel,
            "ref_id": link.ref_id,
            "ref_digest_hex": link.ref_digest_hex,
        }
        for row, pk in zip(rows, ids, strict=True)
        for position, link in enumerate(row.refs)
    ]
    if links:
        _execute_many(session, insert(_RECORD_REFS), links)
    return [InsertedRecord(pk, row.record_id) for row, pk in zip(rows, ids, strict=True)]


def _execute_many(session: Session, statement: Any, values: list[dict[str, Any]]) -> Any:
    try:
        return session.execute(statement, values)
    except SQLAlchemyError as exc:
        raise map_db_error(exc, Base.metadata) from exc


def find_record(session: Session, record_id: str) -> StoredRecord | None:
    row = session.scalars(select(Record).where(Record.record_id == record_id)).one_or_none()
    return None if row is None else copy_row(StoredRecord, row)


def get_record(session: Session, record_id: str) -> StoredRecord:
    record = find_record(session, record_id)
    if record is None:
        raise NotFoundError(f"no record with id {record_id!r}")
    return record


def get_record_by_digest(session: Session, digest_hex: str) -> StoredRecord:
    row = session.scalars(select(Record).where(Record.digest_hex == digest_hex)).one_or_none()
    if row is None:
        raise NotFoundError(f"no record with digest {digest_hex}")
    return copy_row(StoredRecord, row)


def records_by_ids(session: Session, record_ids: Collection[str]) -> dict[str, StoredRecord]:
    """The stored records among ``record_ids``, by id (unknown ids are left out)."""
    if not record_ids:
        return {}
    rows = session.scalars(select(Record).where(Record.record_id.in_(list(record_ids))))
    return {r.record_id: copy_row(StoredRecord, r) for r in rows}


def links_of(session: Session, record: StoredRecord) -> list[Link]:
    """The ``refs`` of ``record``, in their order."""
    refs = session.scalars(
        select(RecordRef).where(RecordRef.record_pk == record.id).order_by(RecordRef.position)
    )
    return [Link(r.rel, r.ref_id, r.ref_digest_hex) for r in refs]


def list_pending(session: Session, limit: int) -> list[Record]:
    """The oldest pending records, in acceptance order (what the next batch takes)."""
    return list(
        session.scalars(
            select(Record)
            .where(Record.status == "pending")
            .order_by(Record.id)
            .limit(_limit(limit))
        )
    )


def subject_trail(
    session: Session,
    subject: str,
    *,
    after_id: int = 0,
    limit: int = 100,
    producer: str | None = None,
) -> list[StoredRecord]:
    """The records about ``subject`` in acceptance order, a page after ``after_id``; only
    ``producer``'s when it is given."""
    return records_matching(
        session, subject=subject, producer=producer, after=after_id, limit=_limit(limit)
    )


def records_matching(
    session: Session,
    *,
    subject: str | None = None,
    record_type: str | None = None,
    producer: str | None = None,
    batch_seq: int | None = None,
    after: int = 0,
    limit: int,
    record_ids: Sequence[str] | None = None,
) -> list[StoredRecord]:
    """The records matching every given filter after store id ``after``, in acceptance
    order, at most ``limit`` of them; ``record_ids`` keeps exactly those records."""
    query = select(Record).where(Record.id > after)
    if record_ids is not None:
        query = query.where(Record.record_id.in_(list(record_ids)))
    if batch_seq is not None:
        query = query.where(Record.batch_seq == batch_seq)
    if subject is not None:
        query = query.where(Record.subject == subject)
    if record_type is not None:
        query = query.where(Record.type == record_type)
    if producer is not None:
        query = query.where(Record.producer == producer)
    rows = session.scalars(query.order_by(Record.id).limit(limit))
    return [copy_row(StoredRecord, r) for r in rows]


def records_superseding(session: Session, record_id: str, *, limit: int) -> list[StoredRecord]:
    """The records that name ``record_id`` as the one they supersede, in acceptance order."""
    rows = session.scalars(
        select(Record).where(Record.supersedes == record_id).order_by(Record.id).limit(limit)
    )
    return [copy_row(StoredRecord, r) for r in rows]


def referrers(session: Session, record_id: str, *, limit: int = 100) -> list[Referrer]:
    """Records whose refs point at ``record_id``, with the relation, in acceptance order."""
    rows = session.execute(
        select(RecordRef.rel, Record.record_id, Record.type, Record.producer)
        .join(Record, Record.id == RecordRef.record_pk)
        .where(RecordRef.ref_id == record_id)
        .order_by(Record.id, RecordRef.position)
        .limit(_limit(limit))
    )
    return [Referrer(str(rel), str(rid), str(rtype), str(p)) for rel, rid, rtype, p in rows]


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


def count_by_status(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(RECORD_STATUSES, 0)
    for row in session.execute(select(Record.status, func.count()).group_by(Record.status)):
        counts[str(row[0])] = int(row[1])
    return counts


def oldest_unanchored_accepted_at(session: Session) -> datetime | None:
    """When the oldest record not yet anchored was accepted (None: every one is)."""
    return session.scalar(select(func.min(Record.accepted_at)).where(Record.status != "anchored"))
