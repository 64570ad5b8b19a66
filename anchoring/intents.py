"""What the outbox writes: a batch anchor, or a record's status (docs/OPERATIONS.md §1).

Each class tells the outbox (``anchoring.outbox``) how to build its calldata, where its
transaction rows live, what the registry must hold once it is done, and what a refusal, a
revert or a consumed nonce means for it:

- ``BatchIntent``: ``anchorBatch``. Refused or reverted, the batch waits as ``failed`` and
  is retried; another root under its seq is a dispute that stops anchoring. Once anchored,
  the supersessions its records carry are queued (``queue_supersessions``), in the same
  database transaction.
- ``StatusIntent``: ``revoke`` or ``markSuperseded``. Refused or reverted, the status stays
  ``failed`` with an alert and is retried after a doubling back-off: never dropped. When
  the registry already holds the status (someone revoked directly on the chain), the row
  takes the chain's values instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from anchoring.fees import StepReport
from anchoring.outbox import Held, Intent
from anchoring.registry import OnchainBatch, OnchainStatus, Registry, TxReceipt
from anchoring.revert import ContractRevertError
from ledger.store import Transaction, chainfacts
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store.alerts import alert_once, raise_alert, resolve_alerts
from ledger.store.anchors import OutboxTx
from ledger.store.batches import SealedBatch
from ledger.store.chainfacts import StatusChange


@dataclass(frozen=True)
class StatusRetry:
    """Back-off of a status the chain refuses: doubling from ``initial_s``, capped."""

    initial_s: float = 5.0
    max_s: float = 300.0

    def after(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.initial_s * 2 ** max(attempts - 1, 0), self.max_s))


class BatchIntent(Intent):
    """``anchorBatch`` of one sealed batch."""

    crash_prefix = "anchor"
    done_point = "anchor.after_anchored"

    def __init__(
        self, batch: SealedBatch, registry: Registry, clock: Callable[[], datetime]
    ) -> None:
        self.batch = batch
        self.seq = batch.seq
        self.what = f"batch {batch.seq}"
        self.key = batch.seq
        self.registry = registry
        self.clock = clock
        self._onchain: OnchainBatch | None = None

    def calldata(self) -> bytes:
        return self.registry.anchor_calldata(
            seq=self.seq,
            root=bytes.fromhex(self.batch.root_hex),
            leaf_count=self.batch.leaf_count,
            manifest_digest=bytes.fromhex(self.batch.manifest_digest_hex),
            cid=self.batch.manifest_cid,
        )

    def rows(self, session: Transaction) -> list[OutboxTx]:
        return txs.txs_of_batch(session, self.seq)

    def in_flight(self, session: Transaction) -> bool:
        return batch_repo.batch_state(session, self.seq) == "anchoring"

    def record_signed(self, session: Transaction, **tx: Any) -> None:
        batch_repo.mark_anchoring(session, self.seq)
        txs.record_signed_tx(session, batch_seq=self.seq, **tx)

    def store_replacement(self, session: Transaction, **tx: Any) -> None:
        txs.record_signed_tx(session, batch_seq=self.seq, **tx)

    def onchain(self) -> Held:
        self._onchain = onchain = self.registry.get_batch(self.seq)
        if onchain is None:
            return "absent"
        ours = (self.batch.root_hex, self.batch.manifest_digest_hex)
        return "ours" if (onchain.root_hex, onchain.manifest_digest_hex) == ours else "other"

    def on_refused(
        self, session: Transaction, error: ContractRevertError, held: Held, report: StepReport
    ) -> None:
        # No role, wrong seq: the batch waits as failed and is retried after the cause is
        # fixed; the anchorer's next step adopts or disputes a seq the chain already holds.
        if self.batch.state == "sealed":
            batch_repo.mark_failed(session, self.seq, f"would revert: {error.message}")
        if alert_once(
            session,
            kind="anchor_refused",
            message=f"batch {self.seq}: anchorBatch would revert, nothing sent: {error.message}",
            at=self.clock(),
        ):
            report.alerts.append("anchor_refused")

    def on_reverted(
        self,
        session: Transaction,
        row: OutboxTx,
        receipt: TxReceipt,
        reason: str,
        held: Held,
        report: StepReport,
    ) -> None:
        batch_repo.mark_failed(session, self.seq, f"anchor transaction reverted: {reason}")
        raise_alert(
            session,
            kind="anchor_reverted",
            message=f"batch {self.seq}: anchor transaction {row.tx_hash} reverted in block "
            f"{receipt.block_number}: {reason}",
            at=self.clock(),
        )
        report.reverted.append(self.seq)
        report.alerts.append("anchor_reverted")

    def on_confirmed(
        self, session: Transaction, row: OutboxTx, receipt: TxReceipt, report: StepReport
    ) -> None:
        if self._onchain is None:  # onchain() ran just before: the outbox's contract
            raise RuntimeError("BatchIntent.on_confirmed before onchain()")
        batch_repo.mark_anchored(
            session,
            self.seq,
            tx_hash=row.tx_hash,
            block_number=receipt.block_number,
            block_hash=receipt.block_hash,
            log_hash_hex=self._onchain.log_hash_hex,
            anchored_at=self.clock(),
        )
        chainfacts.queue_supersessions(session, self.seq, at=self.clock())
        for kind in ("anchor_refused", "anchor_reverted", "nonce_desync"):
            resolve_alerts(session, kind, at=self.clock())
        if not batch_repo.batches_in_state(session, "anchoring"):
            # Every batch the chain had lost is anchored again (they were all sent back to
            # anchoring at once): the anchor_lost alert is over (docs/OPERATIONS.md §2).
            resolve_alerts(session, "anchor_lost", at=self.clock())
        report.anchored.append(self.seq)

    def on_nonce_consumed(self, session: Transaction, held: Held, report: StepReport) -> bool:
        if held == "ours":
            return True  # ours after all, its receipt not served yet: look again next poll
        if held == "other" and self._onchain is not None:
            root = self._onchain.root_hex
            batch_repo.mark_disputed(
                session,
                self.seq,
                f"the contract holds root {root} for seq {self.seq}, not ours "
                f"({self.batch.root_hex})",
            )
            raise_alert(
                session,
                kind="anchor_disputed",
                message=f"batch {self.seq}: the contract holds another root ({root}); "
                "anchoring stops until an operator looks",
                at=self.clock(),
            )
            report.disputed.append(self.seq)
            report.alerts.append("anchor_disputed")
            return False
        batch_repo.mark_failed(
            session, self.seq, "the anchor nonce was consumed by another transaction"
        )
        _nonce_desync_alert(session, self.what, report, self.clock())
        return False


class StatusIntent(Intent):
    """``revoke`` or ``markSuperseded`` of one record digest."""

    crash_prefix = "status"
    done_point = "status.after_written"

    def __init__(
        self,
        change: StatusChange,
        registry: Registry,
        clock: Callable[[], datetime],
        *,
        retry: StatusRetry,
        successor_proof: list[str] | None = None,
    ) -> None:
        self.change = change
        self.purpose = change.purpose
        self.key = self.name = f"{change.purpose}:{change.id}"
        self.registry = registry
        self.clock = clock
        self.retry = retry
        self.successor_proof = successor_proof or []
        kind = "revocation" if self.purpose == "revoke" else "supersession"
        self.refused_alert = f"{kind}_refused"
        self.what = (
            f"revocation of {change.digest_hex}"
            if self.purpose == "revoke"
            else f"supersession of {change.digest_hex} by {change.successor_digest_hex}"
        )
        self._onchain: OnchainStatus | None = None

    def calldata(self) -> bytes:
        digest = bytes.fromhex(self.change.digest_hex)
        if self.purpose == "revoke":
            return self.registry.revoke_calldata(
                digest=digest,
                reason_code=self.change.reason_code,
                reason_digest=bytes.fromhex(self.change.reason_digest_hex),
            )
        return self.registry.supersede_calldata(
            digest=digest,
            successor=bytes.fromhex(self.change.successor_digest_hex),
            successor_seq=self.change.successor_seq,
            proof=[bytes.fromhex(node) for node in self.successor_proof],
        )

    def rows(self, session: Transaction) -> list[OutboxTx]:
        return txs.txs_of_target(session, self.purpose, self.change.id)

    def in_flight(self, session: Transaction) -> bool:
        change = chainfacts.get_status_change(session, self.purpose, self.change.id)
        return change.state == "broadcast"

    def record_signed(self, session: Transaction, **tx: Any) -> None:
        chainfacts.mark_status_sending(session, self.purpose, self.change.id)
        self.store_replacement(session, **tx)

    def store_replacement(self, session: Transaction, **tx: Any) -> None:
        txs.record_signed_tx(session, purpose=self.purpose, target_id=self.change.id, **tx)

    def onchain(self) -> Held:
        digest = bytes.fromhex(self.change.digest_hex)
        if self.purpose == "revoke":
            self._onchain = self.registry.get_revocation(digest)
            # A revocation held is the status written, whoever wrote it and why: the chain's
            # reason is taken over when the row is settled.
            return "absent" if self._onchain is None else "ours"
        self._onchain = self.registry.get_supersession(digest)
        if self._onchain is None:
            return "absent"
        return "ours" if self._onchain.value == self.change.successor_digest_hex else "other"

    def _settle_from_chain(
        self,
        session: Transaction,
        report: StepReport,
        *,
        tx_hash: str | None = None,
        block_hash: str | None = None,
    ) -> None:
        """Record the status as the registry holds it (the transaction and block hash only
        when it was ours that wrote it)."""
        held = self._onchain
        if held is None:
            raise RuntimeError("StatusIntent settled before onchain()")
        values: dict[str, Any] = (
            {"reason_code": held.value, "reason_digest_hex": held.detail}
            if self.purpose == "revoke"
            else {"successor_digest_hex": held.value, "successor_seq": int(held.detail)}
        )
        chainfacts.mark_status_mined(
            session,
            self.purpose,
            self.change.id,
            tx_hash=tx_hash,
            block_number=held.block_number,
            block_hash=block_hash,
            at=datetime.fromtimestamp(held.timestamp, UTC),
            **values,
        )
        resolve_alerts(session, self.refused_alert, at=self.clock())
        report.written.append(self.name)

    def _refuse(
        self, session: Transaction, reason: str, report: StepReport, *, counted: bool
    ) -> None:
        attempts = self.change.attempts + (1 if counted else 0)
        retry_at = self.clock() + self.retry.after(max(attempts, 1))
        chainfacts.mark_status_failed(
            session, self.purpose, self.change.id, error=reason, retry_at=retry_at,
            count_attempt=counted,
        )  # fmt: skip
        report.refused.append(self.name)
        if alert_once(
            session,
            kind=self.refused_alert,
            message=f"{self.what}: the chain refuses it ({reason}); the request is kept and "
            f"retried from {retry_at.isoformat()}",
            at=self.clock(),
        ):
            report.alerts.append(self.refused_alert)

    def on_refused(
        self, session: Transaction, error: ContractRevertError, held: Held, report: StepReport
    ) -> None:
        if held != "absent":
            self._settle_from_chain(session, report)
            if held == "other":
                self._conflict(session, report)
            return
        self._refuse(session, f"it would revert: {error.message}", report, counted=True)

    def on_reverted(
        self,
        session: Transaction,
        row: OutboxTx,
        receipt: TxReceipt,
        reason: str,
        held: Held,
        report: StepReport,
    ) -> None:
        if held != "absent":  # someone wrote the status first: ours reverted for that
            self._settle_from_chain(session, report)
            if held == "other":
                self._conflict(session, report)
            return
        self._refuse(session, f"transaction {row.tx_hash} reverted: {reason}", report,
                     counted=False)  # fmt: skip

    def on_confirmed(
        self, session: Transaction, row: OutboxTx, receipt: TxReceipt, report: StepReport
    ) -> None:
        self._settle_from_chain(session, report, tx_hash=row.tx_hash, block_hash=receipt.block_hash)

    def on_nonce_consumed(self, session: Transaction, held: Held, report: StepReport) -> bool:
        if held != "absent":
            self._settle_from_chain(session, report)
            if held == "other":
                self._conflict(session, report)
            return False
        chainfacts.mark_status_pending(
            session, self.purpose, self.change.id,
            reason="its nonce was consumed by another transaction; it is signed again",
        )  # fmt: skip
        _nonce_desync_alert(session, self.what, report, self.clock())
        return False

    def _conflict(self, session: Transaction, report: StepReport) -> None:
        held = self._onchain
        if alert_once(
            session,
            kind="supersession_conflict",
            message=f"{self.change.digest_hex}: the registry names successor "
            f"{held.value if held else '?'}, the store {self.change.successor_digest_hex}; "
            "the registry's is kept (another account holds ANCHORER_ROLE?)",
            at=self.clock(),
        ):
            report.alerts.append("supersession_conflict")


def _nonce_desync_alert(session: Transaction, what: str, report: StepReport, at: datetime) -> None:
    if alert_once(
        session,
        kind="nonce_desync",
        message=f"{what}: the nonce of its transaction was used by a transaction the "
        "anchorer did not sign; it is signed again with a fresh nonce",
        at=at,
    ):
        report.alerts.append("nonce_desync")
