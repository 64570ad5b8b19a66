"""What an operator watches, read in one transaction: records by status, the oldest record
not yet anchored, batches and anchor transactions by state (the outbox), open alerts by
kind, the last batches. ``/metrics`` and ``carbonledger status`` read it (docs/OPERATIONS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.store import chainmirror
from ledger.store.models import (
    ANCHOR_TX_STATES,
    BATCH_STATES,
    RECORD_STATUSES,
    Alert,
    AnchorTx,
    Batch,
    Record,
)

__all__ = ["OperationsStats", "latest_anchored_batch", "operations_stats"]


@dataclass(frozen=True)
class OperationsStats:
    records_by_status: dict[str, int]
    #: When the oldest record that is not anchored yet was accepted (None: all anchored).
    oldest_unanchored_at: datetime | None
    batches_by_state: dict[str, int]
    anchor_txs_by_state: dict[str, int]
    open_alerts_by_kind: dict[str, int]
    #: Blocks between the head the chain follower last saw and the last block it
    #: mirrored (None until the follower has run).
    follower_lag_blocks: int | None = None


def _grouped(session: Session, column: object, states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    for state, n in session.execute(select(column, func.count()).group_by(column)):  # type: ignore[call-overload]
        counts[str(state)] = int(n)
    return counts


def operations_stats(session: Session) -> OperationsStats:
    alerts: dict[str, int] = {}
    for kind, n in session.execute(
        select(Alert.kind, func.count()).where(Alert.resolved_at.is_(None)).group_by(Alert.kind)
    ):
        alerts[str(kind)] = int(n)
    follower = chainmirror.position(session, chainmirror.FOLLOWER)
    return OperationsStats(
        records_by_status=_grouped(session, Record.status, RECORD_STATUSES),
        oldest_unanchored_at=session.scalar(
            select(func.min(Record.accepted_at)).where(Record.status != "anchored")
        ),
        batches_by_state=_grouped(session, Batch.state, BATCH_STATES),
        anchor_txs_by_state=_grouped(session, AnchorTx.state, ANCHOR_TX_STATES),
        open_alerts_by_kind=alerts,
        follower_lag_blocks=None if follower is None else follower.lag_blocks,
    )


def latest_anchored_batch(session: Session) -> Batch | None:
    return session.scalars(
        select(Batch).where(Batch.state == "anchored").order_by(Batch.seq.desc()).limit(1)
    ).first()
