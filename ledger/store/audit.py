"""What the invariant checker (``carbonledger check``) reads: every record's facts, every
batch and leaf, and the mined anchor transactions, as frozen values. Read-only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.store.models import AnchorTx, Batch, BatchLeaf, Record
from ledger.store.rows import RecordFacts, StoredBatch, StoredLeaf, copy_row

__all__ = [
    "all_batches",
    "duplicated_record_ids",
    "leaves_by_batch",
    "mined_tx_counts",
    "record_facts",
]


def record_facts(session: Session) -> list[RecordFacts]:
    """Id, digest, status, batch and receipt of every stored record."""
    rows = session.execute(
        select(Record.record_id, Record.digest_hex, Record.status, Record.batch_seq, Record.receipt)
    )
    return [
        RecordFacts(str(rid), str(digest), str(status), seq, bytes(receipt))
        for rid, digest, status, seq, receipt in rows
    ]


def duplicated_record_ids(session: Session) -> list[str]:
    """Record ids stored more than once (the unique constraint should make this empty)."""
    rows = session.execute(
        select(Record.record_id).group_by(Record.record_id).having(func.count() > 1)
    )
    return [str(rid) for (rid,) in rows]


def all_batches(session: Session) -> list[StoredBatch]:
    """Every batch, in seq order."""
    return [copy_row(StoredBatch, b) for b in session.scalars(select(Batch).order_by(Batch.seq))]


def leaves_by_batch(session: Session) -> dict[int, list[StoredLeaf]]:
    """Every batch leaf, grouped by batch, in leaf order."""
    out: dict[int, list[StoredLeaf]] = {}
    for leaf in session.scalars(
        select(BatchLeaf).order_by(BatchLeaf.batch_seq, BatchLeaf.leaf_index)
    ):
        out.setdefault(leaf.batch_seq, []).append(copy_row(StoredLeaf, leaf))
    return out


def mined_tx_counts(session: Session) -> dict[int, int]:
    """For each batch with a mined anchor transaction: how many it has (one is right).
    Status transactions (revocations, supersessions) are not anchors and are not counted."""
    rows = session.execute(
        select(AnchorTx.batch_seq, func.count())
        .where(AnchorTx.state == "mined", AnchorTx.purpose == "anchor")
        .group_by(AnchorTx.batch_seq)
    )
    return {int(seq): int(n) for seq, n in rows if seq is not None}
