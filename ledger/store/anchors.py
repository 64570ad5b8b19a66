"""The anchorer's outbox: signed transactions stored before broadcast (docs/OPERATIONS.md
§1).

The anchorer signs once, stores the raw bytes and hash here in the same transaction that
moves the intent on (a batch to ``anchoring``, a status to ``broadcast``), then broadcasts;
after a crash it re-broadcasts the same bytes. A fee bump is a new row with the same nonce;
the replaced one becomes ``replaced``. At most one transaction per batch, and per status,
can be ``mined`` (unique partial indexes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.errors import NotFoundError
from ledger.store._session import flush, move_state
from ledger.store.models import AnchorTx

TX_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "signed": ("broadcast", "replaced", "mined", "reverted"),
    "broadcast": ("mined", "replaced", "reverted", "broadcast"),
    "mined": ("broadcast",),  # a reorg dropped the block: the same bytes go out again
    "replaced": ("mined",),  # the replaced transaction may still be the one mined
    "reverted": (),
}


@dataclass(frozen=True)
class OutboxTx:
    """A stored transaction as the anchorer reads it (a snapshot, not a live row)."""

    id: int
    purpose: str
    batch_seq: int | None
    target_id: int | None
    nonce: int
    raw_tx: bytes
    tx_hash: str
    max_fee_per_gas: int
    priority_fee_per_gas: int
    created_at: datetime
    broadcast_at: datetime | None
    state: str
    block_number: int | None
    block_hash: str | None
    last_error: str | None

    @classmethod
    def of(cls, row: AnchorTx) -> OutboxTx:
        return cls(
            row.id, row.purpose, row.batch_seq, row.target_id, row.nonce, row.raw_tx,
            row.tx_hash, row.max_fee_per_gas, row.priority_fee_per_gas, row.created_at,
            row.broadcast_at, row.state, row.block_number, row.block_hash, row.last_error,
        )  # fmt: skip


def record_signed_tx(
    session: Session,
    *,
    nonce: int,
    raw_tx: bytes,
    tx_hash: str,
    max_fee_per_gas: int,
    priority_fee_per_gas: int,
    created_at: datetime,
    batch_seq: int | None = None,
    purpose: str = "anchor",
    target_id: int | None = None,
) -> OutboxTx:
    """Store a signed transaction: an anchor (``batch_seq``) or a status write
    (``purpose`` ``revoke``/``supersede`` and ``target_id``; a check constraint holds the
    pairing)."""
    tx = AnchorTx(
        purpose=purpose,
        batch_seq=batch_seq,
        target_id=target_id,
        nonce=nonce,
        raw_tx=raw_tx,
        tx_hash=tx_hash,
        max_fee_per_gas=max_fee_per_gas,
        priority_fee_per_gas=priority_fee_per_gas,
        created_at=created_at,
        state="signed",
    )
    session.add(tx)
    flush(session)
    return OutboxTx.of(tx)


def _row(session: Session, tx_hash: str) -> AnchorTx:
    tx = session.scalars(select(AnchorTx).where(AnchorTx.tx_hash == tx_hash)).one_or_none()
    if tx is None:
        raise NotFoundError(f"no anchor transaction {tx_hash}")
    return tx


def get_tx(session: Session, tx_hash: str) -> OutboxTx:
    return OutboxTx.of(_row(session, tx_hash))


def txs_of_batch(session: Session, batch_seq: int) -> list[OutboxTx]:
    return [
        OutboxTx.of(row)
        for row in session.scalars(
            select(AnchorTx).where(AnchorTx.batch_seq == batch_seq).order_by(AnchorTx.id)
        )
    ]


def txs_of_target(session: Session, purpose: str, target_id: int) -> list[OutboxTx]:
    """The transactions of a status write, oldest first."""
    return [
        OutboxTx.of(row)
        for row in session.scalars(
            select(AnchorTx)
            .where(AnchorTx.purpose == purpose, AnchorTx.target_id == target_id)
            .order_by(AnchorTx.id)
        )
    ]


def next_free_nonce(session: Session) -> int:
    """One above the highest nonce of a transaction still in flight (signed or broadcast),
    0 when none is: a new transaction never takes the nonce of one the node may have
    dropped and the outbox will broadcast again."""
    highest = session.scalar(
        select(func.max(AnchorTx.nonce)).where(AnchorTx.state.in_(("signed", "broadcast")))
    )
    return 0 if highest is None else int(highest) + 1


def unfinished_txs(session: Session) -> list[OutboxTx]:
    """Transactions to re-broadcast or look up after a restart."""
    return [
        OutboxTx.of(row)
        for row in session.scalars(
            select(AnchorTx)
            .where(AnchorTx.state.in_(("signed", "broadcast")))
            .order_by(AnchorTx.id)
        )
    ]


def _move(session: Session, tx_hash: str, to: str, **values: object) -> OutboxTx:
    move_state(
        session,
        AnchorTx.tx_hash,
        tx_hash,
        transitions=TX_TRANSITIONS,
        to=to,
        what=f"anchor transaction {tx_hash}",
        **values,
    )
    tx = _row(session, tx_hash)
    session.refresh(tx)
    return OutboxTx.of(tx)


def mark_tx_broadcast(session: Session, tx_hash: str, *, at: datetime) -> OutboxTx:
    return _move(session, tx_hash, "broadcast", broadcast_at=at, last_error=None)


def mark_tx_mined(
    session: Session, tx_hash: str, *, block_number: int, block_hash: str
) -> OutboxTx:
    """Raises ``ConstraintError`` (``uq_anchor_txs_mined_batch``) if another transaction of
    the same batch is already recorded as mined."""
    return _move(session, tx_hash, "mined", block_number=block_number, block_hash=block_hash)


def mark_tx_replaced(session: Session, tx_hash: str) -> OutboxTx:
    return _move(session, tx_hash, "replaced")


def mark_tx_reverted(
    session: Session, tx_hash: str, *, block_number: int, block_hash: str, error: str
) -> OutboxTx:
    return _move(
        session,
        tx_hash,
        "reverted",
        block_number=block_number,
        block_hash=block_hash,
        last_error=error,
    )
