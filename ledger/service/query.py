"""Read queries over the store: a record in the caller's view, its status, the trail of a
subject, batches with their manifests, attestations (DESIGN.md §1, §3.2).

Who sees what is an ``Access`` value, decided by the caller (the API maps roles to it) and
enforced here, below the routes, so that no read path can forget it:

- ``owner`` set (a producer): only that producer's records exist; any other is "not found"
  (never "forbidden", which would confirm that it exists), and those it sees it sees in full.
- otherwise a record is shown in full when ``sees_full`` says so (regulators: every record;
  auditors: the subjects they are granted) and as the public redacted view otherwise
  (``ledger.core.policy``): what every anonymous caller may read.

Everything returned is plain JSON-ready data; no ORM object leaves this module.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.errors import MalformedError, NotFoundError, StorageError
from ledger.core.policy import public_view
from ledger.core.reasons import describe_reason
from ledger.core.view import Commitment, View, parse_view
from ledger.service.disclosure import confidential_sets
from ledger.store import Store
from ledger.store.models import (
    Attestation,
    Batch,
    BatchLeaf,
    Record,
    RecordRef,
    Revocation,
    Supersession,
)
from ledger.store.records import links_of

__all__ = [
    "PUBLIC",
    "REGULATOR",
    "Access",
    "LedgerQueries",
    "Page",
]

DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class Access:
    """What a caller may read. ``full_subjects=None`` means every record in full."""

    owner: str | None = None
    full_subjects: frozenset[str] | None = frozenset()

    def may_see(self, producer: str) -> bool:
        return self.owner is None or producer == self.owner

    def sees_full(self, producer: str, subject: str) -> bool:
        if self.owner is not None:
            return producer == self.owner
        if self.full_subjects is None:
            return True
        return subject in self.full_subjects or "*" in self.full_subjects

    def audience(self, producer: str, subject: str) -> str:
        return "regulator" if self.sees_full(producer, subject) else "public"


PUBLIC = Access()
REGULATOR = Access(full_subjects=None)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_after: int | None


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise MalformedError(f"limit must be within 1..{MAX_PAGE}", path="limit")
    return limit


def commitment_of(row: Record) -> Commitment:
    """The full view stored with the record (canonical bytes, docs/FORMAT.md §2.3)."""
    try:
        view = parse_view(parse_json(row.full_view, root="full_view"), path="full_view")
    except MalformedError as exc:
        raise StorageError(f"record {row.record_id}: stored full view unreadable: {exc}") from None
    if not isinstance(view, Commitment):
        raise StorageError(f"record {row.record_id}: stored view is not a full view")
    return view


def view_of(
    row: Record,
    access: Access,
    *,
    confidential_sets: Collection[str] = (),
    full: bool = False,
) -> View:
    """The row in the caller's view: full when ``access`` (or ``full``, for the inputs of
    a figure the caller sees in full) allows it, else what the public sees
    (``ledger.core.policy.public_view``, given the confidential factor sets it links)."""
    commitment = commitment_of(row)
    if full or access.sees_full(row.producer, row.subject):
        return commitment
    return public_view(commitment, confidential_sets=confidential_sets)


def _ts(value: Any) -> str | None:
    return None if value is None else format_timestamp(value)


def _visible(session: Session, record_id: str, access: Access) -> Record:
    row = session.scalars(select(Record).where(Record.record_id == record_id)).one_or_none()
    if row is None or not access.may_see(row.producer):
        raise NotFoundError(f"no record with id {record_id!r}")
    return row


def _batch_json(batch: Batch | None) -> dict[str, Any] | None:
    if batch is None:
        return None
    return {
        "seq": batch.seq,
        "state": batch.state,
        "root": batch.root_hex,
        "leaf_count": batch.leaf_count,
        "manifest_digest": batch.manifest_digest_hex,
        "manifest_cid": batch.manifest_cid,
        "created_at": _ts(batch.created_at),
        "anchored_at": _ts(batch.anchored_at),
        "tx_hash": batch.tx_hash,
        "block_number": batch.anchored_block_number,
        "block_hash": batch.anchored_block_hash,
        "log_hash": batch.log_hash_hex,
    }


def _summary(row: Record) -> dict[str, Any]:
    return {
        "record_id": row.record_id,
        "type": row.type,
        "schema_version": row.schema_version,
        "subject": row.subject,
        "producer": row.producer,
        "issued_at": _ts(row.issued_at),
        "accepted_at": _ts(row.accepted_at),
        "digest": row.digest_hex,
        "status": row.status,
        "batch_seq": row.batch_seq,
    }


def _superseded_by(session: Session, record_id: str, access: Access) -> list[str]:
    rows = session.scalars(
        select(Record).where(Record.supersedes == record_id).order_by(Record.id).limit(MAX_PAGE)
    )
    return [r.record_id for r in rows if access.may_see(r.producer)]


def _state(session: Session, row: Record, access: Access) -> dict[str, Any]:
    batch = session.get(Batch, row.batch_seq) if row.batch_seq is not None else None
    revocation = session.scalars(
        select(Revocation).where(Revocation.digest_hex == row.digest_hex)
    ).one_or_none()
    superseded_by = _superseded_by(session, row.record_id, access)
    supersession = session.scalars(
        select(Supersession).where(Supersession.digest_hex == row.digest_hex)
    ).one_or_none()
    # The lifecycle state a reader acts on: a revocation on-chain outranks everything, then
    # supersession (stored link or registry status), then how far anchoring has come.
    if revocation is not None and revocation.state == "mined":
        state = "revoked"
    elif superseded_by or (supersession is not None and supersession.state == "mined"):
        state = "superseded"
    else:
        state = row.status
    return {
        "state": state,
        "anchoring": row.status,
        "batch": _batch_json(batch),
        "revocation": None
        if revocation is None
        else {
            "state": revocation.state,
            "reason_code": revocation.reason_code,
            "reason_digest": revocation.reason_digest_hex,
            "requested_at": _ts(revocation.requested_at),
            "tx_hash": revocation.tx_hash,
            "block_number": revocation.block_number,
            "reason": describe_reason(revocation.reason_code),
            "source": revocation.source,
            "revoked_at": _ts(revocation.revoked_at),
            "last_error": revocation.last_error,
        },
        "supersedes": row.supersedes,
        "superseded_by": superseded_by,
        "supersession": None
        if supersession is None
        else {
            "state": supersession.state,
            "successor_digest": supersession.successor_digest_hex,
            "successor_seq": supersession.successor_seq,
            "tx_hash": supersession.tx_hash,
            "block_number": supersession.block_number,
            "superseded_at": _ts(supersession.superseded_at),
        },
    }


class LedgerQueries:
    """The read side of the ledger service over one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, record_id: str, access: Access) -> dict[str, Any]:
        """The record in the caller's view, with its digest and signature."""

        def work(session: Session) -> dict[str, Any]:
            row = _visible(session, record_id, access)
            hidden_sets: frozenset[str] = frozenset()
            if not access.sees_full(row.producer, row.subject):
                hidden_sets = confidential_sets(session, [commitment_of(row).record])
            view = view_of(row, access, confidential_sets=hidden_sets)
            return {
                **_summary(row),
                "view": view.to_json(),
                "signature": {"key_id": row.key_id, "alg": "ed25519", "value": row.signature.hex()},
            }

        return self.store.run(work, readonly=True)

    def status(self, record_id: str, access: Access) -> dict[str, Any]:
        """Where the record stands: pending, batched, anchored (seq, tx, block), revoked,
        superseded; with the signed receipt it was given."""

        def work(session: Session) -> dict[str, Any]:
            row = _visible(session, record_id, access)
            receipt = (
                parse_json(row.receipt, root="receipt") if access.may_see(row.producer) else None
            )
            return {**_summary(row), **_state(session, row, access), "receipt": receipt}

        return self.store.run(work, readonly=True)

    def trail(self, subject: str, access: Access, *, after: int, limit: int) -> Page:
        """Every record about ``subject`` in acceptance order, with supersession and
        conversion links both ways."""
        check_limit(limit)

        def work(session: Session) -> Page:
            query = select(Record).where(Record.subject == subject, Record.id > after)
            if access.owner is not None:
                query = query.where(Record.producer == access.owner)
            rows = list(session.scalars(query.order_by(Record.id).limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            items = []
            for row in rows:
                refs = [
                    {"rel": link.rel, "id": link.ref_id, "digest": link.ref_digest_hex}
                    for link in links_of(session, row)
                ]
                referrers = session.execute(
                    select(Record.record_id, Record.type, Record.producer, RecordRef.rel)
                    .join(RecordRef, RecordRef.record_pk == Record.id)
                    .where(RecordRef.ref_id == row.record_id)
                    .order_by(Record.id)
                    .limit(MAX_PAGE)
                )
                referenced_by = [
                    {"rel": str(rel), "record_id": str(rid), "type": str(rtype)}
                    for rid, rtype, producer, rel in referrers
                    if access.may_see(str(producer))
                ]
                items.append(
                    {
                        **_summary(row),
                        **_state(session, row, access),
                        "refs": refs,
                        "referenced_by": referenced_by,
                        "cursor": row.id,
                    }
                )
            return Page(items, rows[-1].id if more and rows else None)

        return self.store.run(work, readonly=True)

    def batches(self, *, after: int, limit: int) -> Page:
        check_limit(limit)

        def work(session: Session) -> Page:
            rows = list(
                session.scalars(
                    select(Batch).where(Batch.seq > after).order_by(Batch.seq).limit(limit + 1)
                )
            )
            more = len(rows) > limit
            rows = rows[:limit]
            items = [b for b in (_batch_json(r) for r in rows) if b is not None]
            return Page(items, rows[-1].seq if more and rows else None)

        return self.store.run(work, readonly=True)

    def batch(self, seq: int) -> dict[str, Any]:
        """A batch with its manifest (the sorted digests, never record ids: DESIGN.md §3.4)."""

        def work(session: Session) -> dict[str, Any]:
            row = session.get(Batch, seq)
            if row is None:
                raise NotFoundError(f"no batch {seq}")
            out = _batch_json(row)
            assert out is not None
            out["manifest"] = parse_json(row.manifest, root="manifest")
            return out

        return self.store.run(work, readonly=True)

    def attestations(self, record_id: str, access: Access) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            row = _visible(session, record_id, access)
            found = session.scalars(
                select(Attestation)
                .where(Attestation.digest_hex == row.digest_hex)
                .order_by(Attestation.id)
                .limit(MAX_PAGE)
            )
            return [
                {
                    "digest": a.digest_hex,
                    "attester": a.attester,
                    "report_digest": a.report_digest_hex,
                    "verdict": a.verdict,
                    "observed_at": _ts(a.observed_at),
                    "state": a.state,
                    "tx_hash": a.tx_hash,
                    "block_number": a.block_number,
                    "source": a.source,
                    "body": a.body_address,
                    "index": a.attestation_index,
                    "filed_at": _ts(a.filed_at),
                }
                for a in found
            ]

        return self.store.run(work, readonly=True)

    def digest_of(self, record_id: str, access: Access) -> str:
        return self.store.run(lambda s: _visible(s, record_id, access).digest_hex, readonly=True)

    def counts(self) -> dict[str, Any]:
        """Figures for the metrics endpoint: records by status and the anchoring lag."""

        def work(session: Session) -> dict[str, Any]:
            by_status = {
                str(status): int(n)
                for status, n in session.execute(
                    select(Record.status, func.count()).group_by(Record.status)
                )
            }
            oldest = session.scalar(
                select(func.min(Record.accepted_at)).where(Record.status != "anchored")
            )
            return {"by_status": by_status, "oldest_unanchored_accepted_at": oldest}

        return self.store.run(work, readonly=True)

    def ping(self) -> None:
        self.store.run(lambda s: s.scalar(select(func.count()).select_from(Batch)), readonly=True)


def leaves_for(session: Session, digests: Sequence[str]) -> dict[str, BatchLeaf]:
    rows = session.scalars(select(BatchLeaf).where(BatchLeaf.digest_hex.in_(list(digests))))
    return {r.digest_hex: r for r in rows}
