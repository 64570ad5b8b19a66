"""The anchor transaction of one batch: sign once, store, broadcast, follow to K confirmations.

The transactional outbox: the signed raw
bytes, hash, nonce and fees are committed in the same transaction that moves the batch to
``anchoring``, and only then broadcast. After a crash the same bytes go out again; a new
transaction is signed only for a fee bump (same nonce) or when the chain shows the nonce
was consumed by something else.

A batch is ``anchored`` only when its transaction's receipt is at least K blocks deep and
its block is still canonical: the receipt and the block hash are read again at
every poll until then. Nothing waits for the ``finalized`` tag, which a default anvil never
moves.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes

from anchoring.fees import FeePolicy, StepReport, alert_once, bumped, gas_limit_of
from anchoring.registry import (
    Registry,
    TxReceipt,
    block_height,
    canonical_block_hash,
    fee_market,
    get_receipt,
    nonce_of,
    send_raw,
)
from anchoring.revert import ContractRevertError
from ledger.core.clock import Clock
from ledger.crashpoints import CrashPoints
from ledger.store import Store
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store.alerts import raise_alert, resolve_alerts
from ledger.store.models import AnchorTx, Batch

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

#: Transaction rows that may still end up mined (a replaced variant can win the race).
LIVE_TX_STATES = ("signed", "broadcast", "mined", "replaced")
# Node refusals that mean "settled or already held": resolved by reading the chain.
_HARMLESS_REFUSALS = ("already known", "known transaction", "already imported", "nonce too low")


class Outbox:
    """Signs, stores, broadcasts and follows the anchor transactions of batches."""

    def __init__(
        self,
        *,
        store: Store,
        registry: Registry,
        signer: LocalAccount,
        confirmations: int,
        fees: FeePolicy,
        clock: Clock,
        crash_points: CrashPoints,
        rebroadcast_interval_s: float,
    ) -> None:
        self.store = store
        self.registry = registry
        self.chain = registry.chain
        self.signer = signer
        self.confirmations = confirmations
        self.fees = fees
        self.clock = clock
        self.crash_points = crash_points
        self.rebroadcast_interval_s = rebroadcast_interval_s
        # tx hash -> monotonic time of our last broadcast in this process. Empty after a
        # restart, so a restart re-broadcasts every unfinished transaction at once.
        self._last_sent: dict[str, float] = {}

    # -- signing --------------------------------------------------------------------

    def _calldata(self, batch: Batch) -> bytes:
        return self.registry.anchor_calldata(
            seq=batch.seq,
            root=bytes.fromhex(batch.root_hex),
            leaf_count=batch.leaf_count,
            manifest_digest=bytes.fromhex(batch.manifest_digest_hex),
            cid=batch.manifest_cid,
        )

    def _sign(
        self, calldata: bytes, *, nonce: int, gas: int, max_fee: int, tip: int, legacy: bool
    ) -> tuple[bytes, str]:
        tx: dict[str, Any] = {
            "chainId": self.chain.chain_id,
            "nonce": nonce,
            "gas": gas,
            "to": self.registry.address,
            "value": 0,
            "data": calldata,
        }
        if legacy:
            tx["gasPrice"] = max_fee
        else:
            tx.update(type=2, maxFeePerGas=max_fee, maxPriorityFeePerGas=tip)
        signed = self.signer.sign_transaction(tx)
        return bytes(signed.raw_transaction), HexBytes(signed.hash).to_0x_hex()

    def start(self, batch: Batch, report: StepReport) -> None:
        """Sign the first anchor transaction of ``batch`` (sealed or failed) and store it
        with the move to ``anchoring``, then broadcast it."""
        calldata = self._calldata(batch)
        try:
            estimate = self.registry.estimate_anchor_gas(self.signer.address, calldata)
        except ContractRevertError as exc:
            # It would revert (no role, wrong seq): nothing is signed or sent. The batch
            # waits as failed and is retried later, after the cause is fixed.
            with self.store.transaction() as session:
                if batch.state == "sealed":
                    batch_repo.mark_failed(session, batch.seq, f"would revert: {exc.message}")
                if alert_once(
                    session,
                    kind="anchor_refused",
                    message=f"batch {batch.seq}: anchorBatch would revert, nothing sent: "
                    f"{exc.message}",
                    at=self.clock(),
                ):
                    report.alerts.append("anchor_refused")
            return
        gas = estimate + estimate * self.fees.gas_headroom_percent // 100
        base_fee, tip = fee_market(self.chain)
        legacy = base_fee is None
        max_fee = tip if base_fee is None else 2 * base_fee + tip
        max_fee = min(max_fee, self.fees.max_fee_per_gas_cap_wei)
        tip = min(tip, max_fee)
        nonce = nonce_of(self.chain, self.signer.address, "pending")
        raw, tx_hash = self._sign(
            calldata, nonce=nonce, gas=gas, max_fee=max_fee, tip=tip, legacy=legacy
        )
        with self.store.transaction() as session:
            batch_repo.mark_anchoring(session, batch.seq)
            txs.record_signed_tx(
                session,
                batch_seq=batch.seq,
                nonce=nonce,
                raw_tx=raw,
                tx_hash=tx_hash,
                max_fee_per_gas=max_fee,
                priority_fee_per_gas=tip,
                created_at=self.clock(),
            )
        report.signed.append(tx_hash)
        log.info("batch %s: signed %s (nonce %s) and stored it", batch.seq, tx_hash, nonce)
        self.crash_points.hit("anchor.after_sign_persist")
        self._broadcast(batch.seq, raw, tx_hash, report, first=True)

    def _broadcast(
        self, seq: int, raw: bytes, tx_hash: str, report: StepReport, *, first: bool
    ) -> None:
        refusal = send_raw(self.chain, raw, tx_hash)
        self._last_sent[tx_hash] = time.monotonic()
        if first:
            self.crash_points.hit("anchor.after_broadcast")
        if refusal is not None and not any(s in refusal.lower() for s in _HARMLESS_REFUSALS):
            log.warning("batch %s: the node refused %s: %s", seq, tx_hash, refusal)
            with self.store.transaction() as session:
                if alert_once(
                    session,
                    kind="broadcast_refused",
                    message=f"batch {seq}: the node refused anchor transaction {tx_hash}: "
                    f"{refusal}",
                    at=self.clock(),
                ):
                    report.alerts.append("broadcast_refused")
            return
        with self.store.transaction() as session:
            tx = txs.get_tx(session, tx_hash)
            if tx.state == "signed":
                txs.mark_tx_broadcast(session, tx_hash, at=self.clock())
            resolve_alerts(session, "broadcast_refused", at=self.clock())
        (report.broadcast if first else report.rebroadcast).append(tx_hash)

    # -- following ------------------------------------------------------------------

    def follow(self, seq: int, report: StepReport) -> bool:
        """One poll of batch ``seq`` in ``anchoring``: receipts, depth, reorgs, stalls.
        True when it (re)broadcast a transaction."""
        with self.store.transaction(readonly=True) as session:
            batch = batch_repo.get_batch(session, seq)
            rows = [t for t in txs.txs_of_batch(session, seq) if t.state in LIVE_TX_STATES]
        if batch.state != "anchoring" or not rows:
            return False
        found: tuple[AnchorTx, TxReceipt] | None = None
        for row in rows:
            receipt = get_receipt(self.chain, row.tx_hash)
            if receipt is None:
                continue
            if canonical_block_hash(self.chain, receipt.block_number) != receipt.block_hash:
                continue  # a receipt from an orphaned block: as good as none
            found = (row, receipt)
            break
        if found is not None:
            self._on_receipt(batch, rows, *found, report)
            return False
        reorged = [r for r in rows if r.state == "mined"]
        if reorged:
            with self.store.transaction() as session:
                for row in reorged:
                    txs.mark_tx_broadcast(session, row.tx_hash, at=self.clock())
                    self._last_sent.pop(row.tx_hash, None)
            report.reorged.append(seq)
            log.warning("batch %s: its transaction left the canonical chain (reorg)", seq)
        newest = max(rows, key=lambda r: r.id)
        if nonce_of(self.chain, self.signer.address, "latest") > newest.nonce:
            self._nonce_consumed(batch, rows, report)
            return False
        if self._is_stalled(newest) and self._bump(batch, newest, report):
            return True
        last = self._last_sent.get(newest.tx_hash)
        if last is None or time.monotonic() - last >= self.rebroadcast_interval_s:
            self._broadcast(seq, newest.raw_tx, newest.tx_hash, report, first=False)
            return True
        return False

    def _on_receipt(
        self,
        batch: Batch,
        rows: list[AnchorTx],
        row: AnchorTx,
        receipt: TxReceipt,
        report: StepReport,
    ) -> None:
        seq = batch.seq
        others = [
            r.tx_hash
            for r in rows
            if r.tx_hash != row.tx_hash and r.state in ("signed", "broadcast")
        ]
        if receipt.status != 1:
            reason = self.registry.replay_revert(
                self.signer.address, self._calldata(batch), receipt.block_number
            )
            with self.store.transaction() as session:
                for other in others:
                    txs.mark_tx_replaced(session, other)
                txs.mark_tx_reverted(
                    session,
                    row.tx_hash,
                    block_number=receipt.block_number,
                    block_hash=receipt.block_hash,
                    error=reason,
                )
                batch_repo.mark_failed(session, seq, f"anchor transaction reverted: {reason}")
                raise_alert(
                    session,
                    kind="anchor_reverted",
                    message=f"batch {seq}: anchor transaction {row.tx_hash} reverted in block "
                    f"{receipt.block_number}: {reason}",
                    at=self.clock(),
                )
            report.reverted.append(seq)
            report.alerts.append("anchor_reverted")
            log.error("batch %s: %s reverted: %s", seq, row.tx_hash, reason)
            return
        if row.state != "mined" or row.block_hash != receipt.block_hash:
            with self.store.transaction() as session:
                if row.state == "mined":  # re-included in another block after a reorg
                    txs.mark_tx_broadcast(session, row.tx_hash, at=self.clock())
                txs.mark_tx_mined(
                    session,
                    row.tx_hash,
                    block_number=receipt.block_number,
                    block_hash=receipt.block_hash,
                )
            report.mined.append(row.tx_hash)
            self.crash_points.hit("anchor.after_receipt")
        height = block_height(self.chain)
        if height - receipt.block_number + 1 < self.confirmations:
            report.waiting.append(seq)
            return
        onchain = self.registry.get_batch(seq)
        if onchain is None or (onchain.root_hex, onchain.manifest_digest_hex) != (
            batch.root_hex,
            batch.manifest_digest_hex,
        ):
            # The receipt says it worked but the contract disagrees: a node in the middle
            # of a reorg. Look again at the next poll rather than record anything.
            report.waiting.append(seq)
            return
        with self.store.transaction() as session:
            for other in others:
                txs.mark_tx_replaced(session, other)
            batch_repo.mark_anchored(
                session,
                seq,
                tx_hash=row.tx_hash,
                block_number=receipt.block_number,
                block_hash=receipt.block_hash,
                log_hash_hex=onchain.log_hash_hex,
                anchored_at=self.clock(),
            )
            for kind in (
                "stuck_tx",
                "fee_cap_reached",
                "broadcast_refused",
                "anchor_refused",
                "anchor_reverted",
            ):
                resolve_alerts(session, kind, at=self.clock())
        report.anchored.append(seq)
        log.info("batch %s anchored by %s in block %s", seq, row.tx_hash, receipt.block_number)
        self.crash_points.hit("anchor.after_anchored")

    def _nonce_consumed(self, batch: Batch, rows: list[AnchorTx], report: StepReport) -> None:
        """Our nonce is used but none of our variants has a receipt: find out by whom."""
        onchain = self.registry.get_batch(batch.seq)
        if onchain is not None and onchain.root_hex == batch.root_hex:
            return  # ours after all, its receipt not served yet: look again next poll
        with self.store.transaction() as session:
            for row in rows:
                if row.state in ("signed", "broadcast"):
                    txs.mark_tx_replaced(session, row.tx_hash)
            if onchain is not None:
                batch_repo.mark_disputed(
                    session,
                    batch.seq,
                    f"the contract holds root {onchain.root_hex} for seq {batch.seq}, "
                    f"not ours ({batch.root_hex})",
                )
                raise_alert(
                    session,
                    kind="anchor_disputed",
                    message=f"batch {batch.seq}: the contract holds another root "
                    f"({onchain.root_hex}); anchoring stops until an operator looks",
                    at=self.clock(),
                )
                report.disputed.append(batch.seq)
                report.alerts.append("anchor_disputed")
                return
            batch_repo.mark_failed(
                session, batch.seq, "the anchor nonce was consumed by another transaction"
            )
            if alert_once(
                session,
                kind="nonce_desync",
                message=f"batch {batch.seq}: nonce {rows[-1].nonce} of "
                f"{self.signer.address} was used by a transaction the anchorer did not "
                "sign; the batch is signed again with a fresh nonce",
                at=self.clock(),
            ):
                report.alerts.append("nonce_desync")

    def _is_stalled(self, newest: AnchorTx) -> bool:
        since = newest.broadcast_at or newest.created_at
        return (self.clock() - since).total_seconds() >= self.fees.stall_timeout_s

    def _bump(self, batch: Batch, newest: AnchorTx, report: StepReport) -> bool:
        """Replace a stalled transaction: same nonce, fees up ≥ 12.5 %, capped. True when a
        replacement went out."""
        base_fee, tip_now = fee_market(self.chain)
        cap = self.fees.max_fee_per_gas_cap_wei
        legacy = base_fee is None
        need_fee = bumped(newest.max_fee_per_gas, self.fees)
        need_tip = bumped(newest.priority_fee_per_gas, self.fees)
        tip = max(need_tip, tip_now)
        max_fee = max(need_fee, tip if legacy else 2 * (base_fee or 0) + tip)
        if legacy:
            tip = max_fee = max(need_fee, tip_now)
        max_fee = min(max_fee, cap)
        tip = min(tip, max_fee)
        # A replacement must outbid the old one by the bump, and pay the current base fee
        # (nodes refuse a max fee below it outright).
        if max_fee < need_fee or tip < need_tip or (base_fee is not None and max_fee < base_fee):
            with self.store.transaction() as session:
                if alert_once(
                    session,
                    kind="fee_cap_reached",
                    message=f"batch {batch.seq}: transaction {newest.tx_hash} is stuck and "
                    f"a replacement would need max fee {max(need_fee, base_fee or 0)} wei/gas, "
                    f"above the cap {cap}; raise the cap or wait for fees to fall",
                    at=self.clock(),
                ):
                    report.alerts.append("fee_cap_reached")
            return False
        raw, tx_hash = self._sign(
            self._calldata(batch),
            nonce=newest.nonce,
            gas=gas_limit_of(newest.raw_tx),
            max_fee=max_fee,
            tip=tip,
            legacy=legacy,
        )
        with self.store.transaction() as session:
            txs.record_signed_tx(
                session,
                batch_seq=batch.seq,
                nonce=newest.nonce,
                raw_tx=raw,
                tx_hash=tx_hash,
                max_fee_per_gas=max_fee,
                priority_fee_per_gas=tip,
                created_at=self.clock(),
            )
            if newest.state in ("signed", "broadcast"):
                txs.mark_tx_replaced(session, newest.tx_hash)
            if alert_once(
                session,
                kind="stuck_tx",
                message=f"batch {batch.seq}: transaction {newest.tx_hash} was not mined within "
                f"{self.fees.stall_timeout_s:g} s; replaced by {tx_hash} (max fee {max_fee} "
                f"wei/gas, same nonce {newest.nonce})",
                at=self.clock(),
            ):
                report.alerts.append("stuck_tx")
        report.signed.append(tx_hash)
        report.replaced.append(newest.tx_hash)
        log.warning("batch %s: %s stalled; replaced by %s", batch.seq, newest.tx_hash, tx_hash)
        self.crash_points.hit("anchor.after_replacement_persist")
        self._broadcast(batch.seq, raw, tx_hash, report, first=False)
        return True
