"""Batches and their leaves: sealing, anchoring state, proofs.

Sealing writes the batch, its leaves (one per record digest, unique across all batches)
and moves those records from pending to batched, in the caller's transaction: a crash
leaves either the whole batch or nothing.

Batch states and the moves allowed (``TRANSITIONS``):

- ``sealed`` → ``anchoring`` (a transaction is being sent), ``failed``, ``disputed``;
- ``anchoring`` → ``anchored`` (mined with enough confirmations), ``failed``, ``sealed``
  (abandoned), ``disputed``;
- ``failed`` → ``anchoring`` (retry), ``sealed``, ``disputed``;
- ``anchored`` → ``sealed`` (the chain lost it: anchor the same seq and root again,
  docs/OPERATIONS.md §1), ``disputed`` (the chain holds something else);
- ``disputed`` is final until an operator acts.

Every move is a conditional UPDATE on the expected current state, so two anchorers racing
on the same batch cannot both move it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import execute, flush, move_state, rowcount
from ledger.store.models import Batch, BatchLeaf, Record
from ledger.store.rows import StoredBatch, StoredLeaf, copy_row

_CHUNK = 500

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sealed": ("anchoring", "failed", "disputed"),
    "anchoring": ("anchored", "failed", "sealed", "disputed"),
    "failed": ("sealed", "anchoring", "disputed"),
    "anchored": ("sealed", "disputed"),
    "disputed": (),
}


@dataclass(frozen=True)
class SealedBatch:
    """A batch as the anchorer reads it (a snapshot, not a live row)."""

    seq: int
    state: str
    root_hex: str
    leaf_count: int
    manifest_digest_hex: str
    manifest_cid: str

    @classmethod
    def of(cls, row: Batch) -> SealedBatch:
        return cls(
            row.seq, row.state, row.root_hex, row.leaf_count, row.manifest_digest_hex,
            row.manifest_cid,
        )  # fmt: skip


@dataclass(frozen=True)
class SealedLeaf:
    """A leaf of a new batch: the record digest, its index and its Merkle proof."""

    leaf_index: int
    digest_hex: str
    proof: Sequence[str]


def next_batch_seq(session: Session) -> int:
    """The next batch number: one after the highest stored, from 1 (AnchorRegistry)."""
    highest = session.scalar(select(func.max(Batch.seq)))
    return int(highest or 0) + 1


def seal_batch(
    session: Session,
    *,
    seq: int,
    root_hex: str,
    manifest: bytes,
    manifest_digest_hex: str,
    manifest_cid: str,
    created_at: datetime,
    leaves: Sequence[SealedLeaf],
) -> Batch:
    """Stores batch ``seq`` with ``leaves`` and moves their records pending → batched.

    Raises ``ConstraintError`` when ``seq`` exists or a digest is already in a batch, and
    ``ConflictError`` when a digest is not a pending record.
    """
    if not leaves:
        raise MalformedError("a batch needs at least one leaf", path="leaves")
    batch = Batch(
        seq=seq,
        root_hex=root_hex,
        leaf_count=len(leaves),
        manifest=manifest,
        manifest_digest_hex=manifest_digest_hex,
        manifest_cid=manifest_cid,
        created_at=created_at,
        state="sealed",
    )
    session.add(batch)
    flush(session)
    session.add_all(
        BatchLeaf(
            batch_seq=seq,
            leaf_index=leaf.leaf_index,
            digest_hex=leaf.digest_hex,
            proof=list(leaf.proof),
        )
        for leaf in leaves
    )
    flush(session)
    digests = [leaf.digest_hex for leaf in leaves]
    moved = 0
    # In chunks: SQLite caps the number of bound parameters of one statement.
    for start in range(0, len(digests), _CHUNK):
        moved += rowcount(
            execute(
                session,
                update(Record)
                .where(
                    Record.digest_hex.in_(digests[start : start + _CHUNK]),
                    Record.status == "pending",
                )
                .values(status="batched", batch_seq=seq)
                .execution_options(synchronize_session=False),
            )
        )
    if moved != len(set(digests)):
        raise ConflictError(
            f"batch {seq}: {len(digests) - moved} of {len(digests)} digests are not pending records"
        )
    return batch


def pending_summary(session: Session) -> tuple[int, datetime | None]:
    """How many records are pending, and when the oldest of them was accepted."""
    count, oldest = session.execute(
        select(func.count(), func.min(Record.accepted_at)).where(Record.status == "pending")
    ).one()
    return int(count), oldest


def oldest_pending_digests(session: Session, limit: int) -> list[str]:
    """Digests of the oldest pending records, in acceptance order (the next batch)."""
    return list(
        session.scalars(
            select(Record.digest_hex)
            .where(Record.status == "pending")
            .order_by(Record.id)
            .limit(limit)
        )
    )


def highest_anchored_seq(session: Session) -> int | None:
    return session.scalar(select(func.max(Batch.seq)).where(Batch.state == "anchored"))


def get_batch(session: Session, seq: int) -> Batch:
    batch = session.get(Batch, seq)
    if batch is None:
        raise NotFoundError(f"no batch {seq}")
    return batch


def batches_in_state(session: Session, *states: str) -> list[SealedBatch]:
    rows = session.scalars(select(Batch).where(Batch.state.in_(states)).order_by(Batch.seq))
    return [SealedBatch.of(row) for row in rows]


def batch_state(session: Session, seq: int) -> str:
    return get_batch(session, seq).state


def latest_batch(session: Session) -> Batch | None:
    return session.scalars(select(Batch).order_by(Batch.seq.desc()).limit(1)).first()


def leaves_of(session: Session, seq: int) -> list[BatchLeaf]:
    return list(
        session.scalars(
            select(BatchLeaf).where(BatchLeaf.batch_seq == seq).order_by(BatchLeaf.leaf_index)
        )
    )


def get_leaf(session: Session, digest_hex: str) -> BatchLeaf:
    """The leaf (batch seq, index, proof) of a record digest."""
    leaf = session.scalars(select(BatchLeaf).where(BatchLeaf.digest_hex == digest_hex)).first()
    if leaf is None:
        raise NotFoundError(f"digest {digest_hex} is in no batch")
    return leaf


def _move(session: Session, seq: int, to: str, **values: object) -> Batch:
    move_state(
        session, Batch.seq, seq, transitions=TRANSITIONS, to=to, what=f"batch {seq}", **values
    )
    batch = get_batch(session, seq)
    session.refresh(batch)
    return batch


def mark_anchoring(session: Session, seq: int) -> Batch:
    return _move(session, seq, "anchoring", last_error=None)


def mark_failed(session: Session, seq: int, error: str) -> Batch:
    return _move(session, seq, "failed", last_error=error)


def mark_disputed(session: Session, seq: int, reason: str) -> Batch:
    return _move(session, seq, "disputed", last_error=reason)


def mark_anchored(
    session: Session,
    seq: int,
    *,
    tx_hash: str,
    block_number: int,
    block_hash: str,
    log_hash_hex: str,
    anchored_at: datetime,
) -> Batch:
    """Records the anchor of batch ``seq`` and moves its records batched → anchored."""
    batch = _move(
        session,
        seq,
        "anchored",
        tx_hash=tx_hash,
        anchored_block_number=block_number,
        anchored_block_hash=block_hash,
        log_hash_hex=log_hash_hex,
        anchored_at=anchored_at,
        last_error=None,
    )
    execute(
        session,
        update(Record)
        .where(Record.batch_seq == seq, Record.status == "batched")
        .values(status="anchored")
        .execution_options(synchronize_session=False),
    )
    return batch


def reopen_batch(session: Session, seq: int, reason: str) -> Batch:
    """Back to sealed, to anchor the same seq and root again: the chain no longer has it
    (a dev chain that lost its last seconds, docs/OPERATIONS.md §1) or the attempt was abandoned."""
    batch = _move(
        session,
        seq,
        "sealed",
        tx_hash=None,
        anchored_block_number=None,
        anchored_block_hash=None,
        log_hash_hex=None,
        anchored_at=None,
        last_error=reason,
    )
    execute(
        session,
        update(Record)
        .where(Record.batch_seq == seq, Record.status == "anchored")
        .values(status="batched")
        .execution_options(synchronize_session=False),
    )
    return batch


def unpublished_batches(session: Session, *, limit: int, skip: Sequence[int] = ()) -> list[Batch]:
    """Batches whose manifest is not yet on the IPFS node, oldest first (any state: a
    manifest is final once sealed), leaving out ``skip``."""
    query = select(Batch).where(Batch.manifest_published_at.is_(None))
    if skip:
        query = query.where(Batch.seq.not_in(list(skip)))
    return list(session.scalars(query.order_by(Batch.seq).limit(max(limit, 1))))


def count_unpublished(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Batch).where(Batch.manifest_published_at.is_(None))
        )
        or 0
    )


def mark_published(session: Session, seq: int, *, at: datetime) -> bool:
    """Records that batch ``seq``'s manifest is published; False when it already was (a
    second anchorer or a repeat after a crash: ``block/put`` is idempotent)."""
    return (
        rowcount(
            execute(
                session,
                update(Batch)
                .where(Batch.seq == seq, Batch.manifest_published_at.is_(None))
                .values(manifest_published_at=at)
                .execution_options(synchronize_session=False),
            )
        )
        == 1
    )


# -- frozen reads (what the ledger service's queries and bundles read) ---------------------


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
