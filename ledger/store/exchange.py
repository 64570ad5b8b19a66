"""The PACT footprint index and the footprint requests of buyers (docs/PACT.md §7).

``pact_footprints`` holds one row per anchored carbon record or conversion that has a
footprint: its id, the static facts (``ledger.exchange.footprint.footprint_facts``), where it
is anchored and its status, which moves from ``Active`` to ``Deprecated`` when a successor
is anchored or the record is revoked. ``pact_footprint_keys`` holds the case-folded values
the filters match (product ids, classifications, geography), so a filtered page is one
indexed query. A record without a footprint is listed in ``pact_exclusions`` with the
reason, so it is looked at once. ``pact_requests`` keeps each RequestCreated event of a
client until it is answered (fulfilled or rejected) through the delivery outbox.

Functions take a session and hand out frozen snapshots, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import NotFoundError
from ledger.store._session import execute, flush
from ledger.store.models import Attestation, AutoId, Base, Batch, Record, Revocation

__all__ = [
    "FOOTPRINT_STATUSES",
    "REQUEST_STATES",
    "FootprintRow",
    "NewFootprint",
    "PactRequestRow",
    "add_footprints",
    "add_pact_request",
    "exclude_from_pact",
    "find_footprint",
    "footprint_by_record",
    "list_footprints",
    "mark_request",
    "pending_pact_requests",
    "records_to_index",
    "revoked_footprints_to_deprecate",
    "set_footprint_status",
]

FOOTPRINT_STATUSES = ("Active", "Deprecated")
#: Why a footprint is Deprecated, or that it is not: carbonledger's state of the record.
FOOTPRINT_STATES = ("anchored", "superseded", "revoked")
REQUEST_STATES = ("pending", "fulfilled", "rejected")
KEY_KINDS = ("product", "classification", "geography")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PactFootprint(Base):
    __tablename__ = "pact_footprints"
    __table_args__ = (
        CheckConstraint(_in("status", FOOTPRINT_STATUSES), name="status"),
        CheckConstraint(_in("state", FOOTPRINT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"), unique=True)
    pf_id: Mapped[str] = mapped_column(String(36), unique=True)
    record_id: Mapped[str] = mapped_column(String(200), index=True)
    record_type: Mapped[str] = mapped_column(String(64))
    producer: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(400))
    digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16))
    validity_start: Mapped[datetime]
    validity_end: Mapped[datetime]
    preceding: Mapped[list[str]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    batch_seq: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    indexed_at: Mapped[datetime]


class PactFootprintKey(Base):
    __tablename__ = "pact_footprint_keys"
    __table_args__ = (
        CheckConstraint(_in("kind", KEY_KINDS), name="kind"),
        Index("ix_pact_footprint_keys_kind_value", "kind", "value"),
    )

    footprint_pk: Mapped[int] = mapped_column(ForeignKey("pact_footprints.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)


class PactExclusion(Base):
    __tablename__ = "pact_exclusions"

    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    excluded_at: Mapped[datetime]


class PactRequest(Base):
    __tablename__ = "pact_requests"
    __table_args__ = (
        CheckConstraint(_in("state", REQUEST_STATES), name="state"),
        UniqueConstraint("principal", "event_key_hex"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"))
    #: SHA-256 of source || 0x00 || id: CloudEvents make (source, id) unique per event.
    event_key_hex: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_url: Mapped[str] = mapped_column(String(2000))
    received_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    answered_at: Mapped[datetime | None]


@dataclass(frozen=True)
class NewFootprint:
    record_pk: int
    pf_id: str
    record_id: str
    record_type: str
    producer: str
    subject: str
    digest_hex: str
    validity_start: datetime
    validity_end: datetime
    preceding: tuple[str, ...]
    facts: Mapping[str, Any]
    batch_seq: int
    tx_hash: str
    block_number: int
    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FootprintRow:
    id: int
    pf_id: str
    record_id: str
    record_type: str
    producer: str
    subject: str
    digest_hex: str
    status: str
    state: str
    preceding: tuple[str, ...]
    facts: Mapping[str, Any]
    batch_seq: int
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class PactRequestRow:
    id: int
    principal: str
    event_id: str
    source: str
    criteria: Mapping[str, Any]
    base_url: str
    received_at: datetime


def _row(f: PactFootprint) -> FootprintRow:
    return FootprintRow(
        id=f.id,
        pf_id=f.pf_id,
        record_id=f.record_id,
        record_type=f.record_type,
        producer=f.producer,
        subject=f.subject,
        digest_hex=f.digest_hex,
        status=f.status,
        state=f.state,
        preceding=tuple(f.preceding),
        facts=f.facts,
        batch_seq=f.batch_seq,
        tx_hash=f.tx_hash,
        block_number=f.block_number,
    )


# -- indexing ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordToIndex:
    record_pk: int
    record_id: str
    type: str
    producer: str
    subject: str
    digest_hex: str
    full_view: bytes
    supersedes: str | None
    batch_seq: int
    tx_hash: str
    block_number: int


def records_to_index(session: Session, types: Sequence[str], *, limit: int) -> list[RecordToIndex]:
    """Anchored records of ``types`` neither indexed nor excluded yet, oldest first."""
    query = (
        select(Record, Batch.tx_hash, Batch.anchored_block_number)
        .join(Batch, Batch.seq == Record.batch_seq)
        .where(
            Record.type.in_(list(types)),
            Record.status == "anchored",
            Batch.state == "anchored",
            ~exists().where(PactFootprint.record_pk == Record.id),
            ~exists().where(PactExclusion.record_pk == Record.id),
        )
        .order_by(Record.id)
        .limit(limit)
    )
    out = []
    for row, tx_hash, block in session.execute(query):
        out.append(
            RecordToIndex(
                record_pk=row.id,
                record_id=row.record_id,
                type=row.type,
                producer=row.producer,
                subject=row.subject,
                digest_hex=row.digest_hex,
                full_view=row.full_view,
                supersedes=row.supersedes,
                batch_seq=int(row.batch_seq or 0),
                tx_hash=str(tx_hash or ""),
                block_number=int(block or 0),
            )
        )
    return out


def full_view_of(session: Session, record_id: str) -> bytes | None:
    """The stored full view of a record (the source of a conversion), if accepted."""
    return session.scalar(select(Record.full_view).where(Record.record_id == record_id))


def footprint_by_record(session: Session, record_id: str) -> FootprintRow | None:
    row = session.scalars(
        select(PactFootprint).where(PactFootprint.record_id == record_id)
    ).one_or_none()
    return None if row is None else _row(row)


def revoked_among(session: Session, digests: Sequence[str]) -> set[str]:
    """The digests among ``digests`` whose revocation is mined on-chain."""
    if not digests:
        return set()
    return set(
        session.scalars(
            select(Revocation.digest_hex).where(
                Revocation.digest_hex.in_(list(digests)), Revocation.state == "mined"
            )
        )
    )


def superseded_among(session: Session, record_ids: Sequence[str]) -> set[str]:
    """The ids among ``record_ids`` that an anchored record supersedes."""
    if not record_ids:
        return set()
    return set(
        str(rid)
        for rid in session.scalars(
            select(Record.supersedes).where(
                Record.supersedes.in_(list(record_ids)), Record.status == "anchored"
            )
        )
    )


def add_footprints(
    session: Session, items: Sequence[tuple[NewFootprint, str, str]], *, now: datetime
) -> None:
    """Inserts footprints ``(new, status, state)`` and their filter keys: two multi-row
    statements, whatever the count."""
    if not items:
        return
    table = Base.metadata.tables[PactFootprint.__tablename__]
    keys_table = Base.metadata.tables[PactFootprintKey.__tablename__]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    values = [
        {
            "record_pk": new.record_pk,
            "pf_id": new.pf_id,
            "record_id": new.record_id,
            "record_type": new.record_type,
            "producer": new.producer,
            "subject": new.subject,
            "digest_hex": new.digest_hex,
            "status": status,
            "state": state,
            "validity_start": new.validity_start,
            "validity_end": new.validity_end,
            "preceding": list(new.preceding),
            "facts": dict(new.facts),
            "batch_seq": new.batch_seq,
            "tx_hash": new.tx_hash,
            "block_number": new.block_number,
            "indexed_at": now,
        }
        for new, status, state in items
    ]
    ids = [int(pk) for pk in execute(session, statement, values).scalars()]
    keys = [
        {"footprint_pk": pk, "kind": kind, "value": value[:500]}
        for (new, _, _), pk in zip(items, ids, strict=True)
        for kind, value in dict.fromkeys(new.keys)
    ]
    if keys:
        execute(session, insert(keys_table), keys)


def exclude_from_pact(session: Session, record_pk: int, reason: str, *, now: datetime) -> None:
    session.add(PactExclusion(record_pk=record_pk, reason=reason[:2000], excluded_at=now))
    flush(session)


def set_footprint_status(
    session: Session, record_id: str, *, status: str, state: str
) -> FootprintRow | None:
    """Moves a footprint to ``status``/``state``; returns it when something changed."""
    row = session.scalars(
        select(PactFootprint).where(PactFootprint.record_id == record_id)
    ).one_or_none()
    if row is None or (row.status, row.state) == (status, state) or row.state == "revoked":
        return None
    row.status = status
    row.state = state
    flush(session)
    return _row(row)


def revoked_footprints_to_deprecate(session: Session, *, limit: int) -> list[str]:
    """Record ids of footprints whose record's revocation is mined but which are not yet
    marked revoked."""
    query = (
        select(PactFootprint.record_id)
        .join(Revocation, Revocation.digest_hex == PactFootprint.digest_hex)
        .where(Revocation.state == "mined", PactFootprint.state != "revoked")
        .order_by(PactFootprint.id)
        .limit(limit)
    )
    return list(session.scalars(query))


# -- reading -------------------------------------------------------------------------


class FootprintCriteria(Protocol):
    """What a footprint query filters by (``ledger.exchange.filters.FootprintFilter``):
    case-folded values, each criterion OR-ed within and AND-ed with the others."""

    @property
    def product_ids(self) -> tuple[str, ...]: ...
    @property
    def classifications(self) -> tuple[str, ...]: ...
    @property
    def geographies(self) -> tuple[str, ...]: ...
    @property
    def valid_on(self) -> datetime | None: ...
    @property
    def valid_after(self) -> datetime | None: ...
    @property
    def valid_before(self) -> datetime | None: ...
    @property
    def status(self) -> str | None: ...


def _matches(query: Any, f: FootprintCriteria, owner: str | None) -> Any:
    if owner is not None:
        query = query.where(PactFootprint.producer == owner)
    for kind, values in (
        ("product", f.product_ids),
        ("classification", f.classifications),
        ("geography", f.geographies),
    ):
        if values:
            query = query.where(
                exists().where(
                    PactFootprintKey.footprint_pk == PactFootprint.id,
                    PactFootprintKey.kind == kind,
                    PactFootprintKey.value.in_(list(values)),
                )
            )
    if f.valid_on is not None:
        query = query.where(
            and_(
                PactFootprint.validity_start <= f.valid_on, PactFootprint.validity_end >= f.valid_on
            )
        )
    if f.valid_after is not None:
        query = query.where(PactFootprint.validity_start > f.valid_after)
    if f.valid_before is not None:
        query = query.where(PactFootprint.validity_end < f.valid_before)
    if f.status is not None:
        wanted = [s for s in FOOTPRINT_STATUSES if s.casefold() == f.status]
        query = query.where(PactFootprint.status.in_(wanted))
    return query


def list_footprints(
    session: Session, f: FootprintCriteria, *, owner: str | None, offset: int, limit: int
) -> tuple[list[FootprintRow], int]:
    """A page of the footprints matching ``f`` (in index order) and how many match."""
    total = session.scalar(_matches(select(func.count()).select_from(PactFootprint), f, owner))
    rows: list[FootprintRow] = []
    if limit > 0 and offset < int(total or 0):
        query = _matches(select(PactFootprint), f, owner).order_by(PactFootprint.id)
        rows = [_row(r) for r in session.scalars(query.offset(offset).limit(limit))]
    return rows, int(total or 0)


def find_footprint(session: Session, pf_id: str, *, owner: str | None) -> FootprintRow:
    row = session.scalars(select(PactFootprint).where(PactFootprint.pf_id == pf_id)).one_or_none()
    if row is None or (owner is not None and row.producer != owner):
        raise NotFoundError(f"Footprint with ID {pf_id!r} does not exist")
    return _row(row)


def footprints_by_pf_ids(session: Session, pf_ids: Iterable[str]) -> list[FootprintRow]:
    rows = session.scalars(select(PactFootprint).where(PactFootprint.pf_id.in_(list(pf_ids))))
    return [_row(r) for r in rows]


# -- requests ------------------------------------------------------------------------


def add_pact_request(
    session: Session,
    *,
    principal: str,
    event_key_hex: str,
    event_id: str,
    source: str,
    criteria: Mapping[str, Any],
    base_url: str,
    received_at: datetime,
) -> bool:
    """Stores a RequestCreated event; False when the same event (source, id) of this
    principal is already stored (a retry: nothing is added)."""
    known = session.scalar(
        select(PactRequest.id).where(
            PactRequest.principal == principal, PactRequest.event_key_hex == event_key_hex
        )
    )
    if known is not None:
        return False
    session.add(
        PactRequest(
            principal=principal,
            event_key_hex=event_key_hex,
            event_id=event_id,
            source=source,
            criteria=dict(criteria),
            base_url=base_url,
            received_at=received_at,
            state="pending",
            answered_at=None,
        )
    )
    flush(session)
    return True


def pending_pact_requests(session: Session, *, limit: int) -> list[PactRequestRow]:
    rows = session.scalars(
        select(PactRequest)
        .where(PactRequest.state == "pending")
        .order_by(PactRequest.id)
        .limit(limit)
    )
    return [
        PactRequestRow(
            r.id, r.principal, r.event_id, r.source, r.criteria, r.base_url, r.received_at
        )
        for r in rows
    ]


def mark_request(session: Session, request_id: int, *, state: str, at: datetime) -> None:
    moved = session.execute(
        update(PactRequest)
        .where(PactRequest.id == request_id, PactRequest.state == "pending")
        .values(state=state, answered_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise NotFoundError(f"no pending PACT request {request_id}")


def mined_attestations(session: Session, digests: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The attestations mined on-chain for each of ``digests``."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not digests:
        return out
    rows = session.scalars(
        select(Attestation)
        .where(Attestation.digest_hex.in_(list(digests)), Attestation.state == "mined")
        .order_by(Attestation.id)
    )
    for a in rows:
        out.setdefault(a.digest_hex, []).append(
            {"attester": a.attester, "report_digest": a.report_digest_hex, "tx_hash": a.tx_hash}
        )
    return out


# -- records for the CBAM package -------------------------------------------------------


@dataclass(frozen=True)
class RecordSnapshot:
    record_id: str
    type: str
    producer: str
    subject: str
    digest_hex: str
    full_view: bytes
    anchored: bool
    #: The state of the record's revocation (``pending`` … ``mined``), None when there is none.
    revocation: str | None = None
    #: The anchored record that supersedes this one, if any.
    superseded_by: str | None = None


def records_by_id(session: Session, record_ids: Iterable[str]) -> dict[str, RecordSnapshot]:
    """The stored records among ``record_ids``: whether each one's batch is anchored,
    whether it is revoked (its revocation's state, requested or on chain) and which
    anchored record supersedes it."""
    wanted = list(dict.fromkeys(record_ids))
    out: dict[str, RecordSnapshot] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Record, Batch.state, Revocation.state)
            .outerjoin(Batch, Batch.seq == Record.batch_seq)
            .outerjoin(Revocation, Revocation.digest_hex == Record.digest_hex)
            .where(Record.record_id.in_(chunk))
        )
        successors = {
            str(old): str(new)
            for new, old in session.execute(
                select(Record.record_id, Record.supersedes).where(
                    Record.supersedes.in_(chunk), Record.status == "anchored"
                )
            )
        }
        for row, batch_state, revocation_state in rows:
            out[row.record_id] = RecordSnapshot(
                record_id=row.record_id,
                type=row.type,
                producer=row.producer,
                subject=row.subject,
                digest_hex=row.digest_hex,
                full_view=row.full_view,
                anchored=row.status == "anchored" and batch_state == "anchored",
                revocation=revocation_state,
                superseded_by=successors.get(row.record_id),
            )
    return out
