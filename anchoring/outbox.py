"""The anchorer's outbox: sign once, store, broadcast, follow to K confirmations.

Every transaction the anchorer sends goes through here, whatever it writes: a batch
anchor, or a record's status (a revocation, a supersession). What a transaction is *for*
is an ``Intent`` (``anchoring.intents``): its calldata, where its rows live, and what a
receipt, a revert or a refusal means for it. The discipline is the same for all
(docs/OPERATIONS.md §1):

- the signed raw bytes, hash, nonce and fees are committed in the same database
  transaction that moves the intent on (a batch to ``anchoring``, a status to
  ``broadcast``), and only then broadcast; after a crash the same bytes go out again;
- a new transaction is signed only for a fee bump (same nonce) or when the chain shows the
  nonce was consumed by something else;
- an intent is done only when its receipt is K blocks deep on a still-canonical block and
  the registry holds what it wrote: the receipt and the block hash are read again at every
  poll until then. Nothing waits for the ``finalized`` tag, which a default anvil never
  moves.

Nonces: several intents may be in flight at once (one batch, a few statuses), so a new
transaction takes the node's pending nonce or one above the highest nonce still in flight,
whichever is higher (``next_free_nonce``): a transaction the node dropped keeps its nonce
and is broadcast again.
"""

from __future__ import annotations

import abc
import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from hexbytes import HexBytes

from anchoring.fees import FeePolicy, StepReport, bumped, gas_limit_of
from anchoring.registry import (
    Registry,
    TxReceipt,
    block_height,
    canonical_block_hash,
    estimate_gas,
    fee_market,
    get_receipt,
    nonce_of,
    send_raw,
)
from anchoring.revert import ContractRevertError
from ledger.core.clock import Clock
from ledger.crashpoints import CrashPoints
from ledger.store import Store, Transaction
from ledger.store import anchors as txs
from ledger.store.alerts import alert_once, resolve_alerts
from ledger.store.anchors import OutboxTx

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

#: Transaction rows that may still end up mined (a replaced variant can win the race).
LIVE_TX_STATES = ("signed", "broadcast", "mined", "replaced")
# Node refusals that mean "settled or already held": resolved by reading the chain.
_HARMLESS_REFUSALS = ("already known", "known transaction", "already imported", "nonce too low")


#: What the registry holds for an intent: what it writes ("ours"), something else in its
#: place ("other": another root for the seq, another successor), or nothing yet.
Held = Literal["ours", "other", "absent"]


class Intent(abc.ABC):
    """One thing to write on the chain and what its outcomes mean.

    ``crash_prefix`` names its crash points (``<prefix>.after_sign_persist``, …) and
    ``done_point`` the one passed once it is recorded done; ``key`` is how step reports
    name it (a batch's seq, ``revoke:7`` for a status).
    """

    what: str
    key: int | str
    crash_prefix: str
    done_point: str

    @abc.abstractmethod
    def calldata(self) -> bytes: ...

    @abc.abstractmethod
    def rows(self, session: Transaction) -> list[OutboxTx]:
        """Its stored transactions, oldest first."""

    @abc.abstractmethod
    def in_flight(self, session: Transaction) -> bool:
        """Whether its transaction is signed and stored and not yet settled."""

    @abc.abstractmethod
    def record_signed(self, session: Transaction, **tx: Any) -> None:
        """Store a first signed transaction (``record_signed_tx`` fields) and move the intent
        to in flight, in the caller's database transaction."""

    @abc.abstractmethod
    def store_replacement(self, session: Transaction, **tx: Any) -> None:
        """Store a fee bump of an in-flight transaction (same nonce)."""

    @abc.abstractmethod
    def onchain(self) -> Held:
        """What the registry holds for it now (read at the latest block, outside any database
        transaction); the handlers below are given this answer."""

    @abc.abstractmethod
    def on_refused(
        self, session: Transaction, error: ContractRevertError, held: Held, report: StepReport
    ) -> None:
        """It would revert at gas estimation: nothing was signed."""

    @abc.abstractmethod
    def on_reverted(
        self,
        session: Transaction,
        row: OutboxTx,
        receipt: TxReceipt,
        reason: str,
        held: Held,
        report: StepReport,
    ) -> None:
        """Its transaction was mined and failed (``reason`` is the decoded error)."""

    @abc.abstractmethod
    def on_confirmed(
        self, session: Transaction, row: OutboxTx, receipt: TxReceipt, report: StepReport
    ) -> None:
        """K blocks deep and held as written: record it done."""

    @abc.abstractmethod
    def on_nonce_consumed(self, session: Transaction, held: Held, report: StepReport) -> bool:
        """Its nonce went to a transaction none of its rows is; return True to look again at
        the next poll instead (its receipt may not be served yet). Its live rows are marked
        replaced by the caller when this returns False."""


class Outbox:
    """Signs, stores, broadcasts and follows the transactions of intents."""

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

    def start(self, intent: Intent, report: StepReport) -> bool:
        """Sign the first transaction of ``intent``, store it with the move to in flight,
        then broadcast it. False when the chain refuses it at estimation (nothing signed)."""
        calldata = intent.calldata()
        try:
            estimate = estimate_gas(self.registry, self.signer.address, calldata, intent.what)
        except ContractRevertError as exc:
            # It would revert (no role, wrong seq, already revoked): nothing is signed or
            # sent. The intent says what that means for it (waits, adopts, retries later).
            held = intent.onchain()
            with self.store.transaction() as session:
                intent.on_refused(session, exc, held, report)
            return False
        gas = estimate + estimate * self.fees.gas_headroom_percent // 100
        base_fee, tip = fee_market(self.chain)
        legacy = base_fee is None
        max_fee = tip if base_fee is None else 2 * base_fee + tip
        max_fee = min(max_fee, self.fees.max_fee_per_gas_cap_wei)
        tip = min(tip, max_fee)
        with self.store.transaction(readonly=True) as session:
            stored_next = txs.next_free_nonce(session)
        nonce = max(nonce_of(self.chain, self.signer.address, "pending"), stored_next)
        raw, tx_hash = self._sign(
            calldata, nonce=nonce, gas=gas, max_fee=max_fee, tip=tip, legacy=legacy
        )
        with self.store.transaction() as session:
            intent.record_signed(
                session,
                nonce=nonce,
                raw_tx=raw,
                tx_hash=tx_hash,
                max_fee_per_gas=max_fee,
                priority_fee_per_gas=tip,
                created_at=self.clock(),
            )
        report.signed.append(tx_hash)
        log.info("%s: signed %s (nonce %s) and stored it", intent.what, tx_hash, nonce)
        self.crash_points.hit(f"{intent.crash_prefix}.after_sign_persist")
        self._broadcast(intent, raw, tx_hash, report, first=True)
        return True

    def _broadcast(
        self, intent: Intent, raw: bytes, tx_hash: str, report: StepReport, *, first: bool
    ) -> None:
        refusal = send_raw(self.chain, raw, tx_hash)
        self._last_sent[tx_hash] = time.monotonic()
        if first:
            self.crash_points.hit(f"{intent.crash_prefix}.after_broadcast")
        if refusal is not None and not any(s in refusal.lower() for s in _HARMLESS_REFUSALS):
            log.warning("%s: the node refused %s: %s", intent.what, tx_hash, refusal)
            with self.store.transaction() as session:
                if alert_once(
                    session,
                    kind="broadcast_refused",
                    message=f"{intent.what}: the node refused transaction {tx_hash}: {refusal}",
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

    def follow(self, intent: Intent, report: StepReport) -> bool:
        """One poll of an in-flight intent: receipts, depth, reorgs, stalls. True when it
        (re)broadcast a transaction."""
        with self.store.transaction(readonly=True) as session:
            flying = intent.in_flight(session)
            rows = [t for t in intent.rows(session) if t.state in LIVE_TX_STATES]
        if not flying or not rows:
            return False
        found: tuple[OutboxTx, TxReceipt] | None = None
        for row in rows:
            receipt = get_receipt(self.chain, row.tx_hash)
            if receipt is None:
                continue
            if canonical_block_hash(self.chain, receipt.block_number) != receipt.block_hash:
                continue  # a receipt from an orphaned block: as good as none
            found = (row, receipt)
            break
        if found is not None:
            self._on_receipt(intent, rows, *found, report)
            return False
        reorged = [r for r in rows if r.state == "mined"]
        if reorged:
            with self.store.transaction() as session:
                for row in reorged:
                    txs.mark_tx_broadcast(session, row.tx_hash, at=self.clock())
                    self._last_sent.pop(row.tx_hash, None)
            report.reorged.append(intent.key)
            log.warning("%s: its transaction left the canonical chain (reorg)", intent.what)
        newest = max(rows, key=lambda r: r.id)
        if nonce_of(self.chain, self.signer.address, "latest") > newest.nonce:
            self._nonce_consumed(intent, rows, report)
            return False
        if self._is_stalled(newest) and self._bump(intent, newest, report):
            return True
        last = self._last_sent.get(newest.tx_hash)
        if last is None or time.monotonic() - last >= self.rebroadcast_interval_s:
            self._broadcast(intent, newest.raw_tx, newest.tx_hash, report, first=False)
            return True
        return False

    def _on_receipt(
        self,
        intent: Intent,
        rows: list[OutboxTx],
        row: OutboxTx,
        receipt: TxReceipt,
        report: StepReport,
    ) -> None:
        others = [
            r.tx_hash
            for r in rows
            if r.tx_hash != row.tx_hash and r.state in ("signed", "broadcast")
        ]
        if receipt.status != 1:
            reason = self.registry.replay_revert(
                self.signer.address, intent.calldata(), receipt.block_number
            )
            held = intent.onchain()
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
                intent.on_reverted(session, row, receipt, reason, held, report)
            log.error("%s: %s reverted: %s", intent.what, row.tx_hash, reason)
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
            self.crash_points.hit(f"{intent.crash_prefix}.after_receipt")
        height = block_height(self.chain)
        deep = height - receipt.block_number + 1 >= self.confirmations
        if not deep or intent.onchain() != "ours":
            # Not deep enough yet; or the receipt says it worked but the registry disagrees
            # (a node in the middle of a reorg): look again at the next poll.
            report.waiting.append(intent.key)
            return
        with self.store.transaction() as session:
            for other in others:
                txs.mark_tx_replaced(session, other)
            intent.on_confirmed(session, row, receipt, report)
            for kind in ("stuck_tx", "fee_cap_reached", "broadcast_refused"):
                resolve_alerts(session, kind, at=self.clock())
        log.info("%s: done by %s in block %s", intent.what, row.tx_hash, receipt.block_number)
        self.crash_points.hit(intent.done_point)

    def _nonce_consumed(self, intent: Intent, rows: list[OutboxTx], report: StepReport) -> None:
        """Our nonce is used but none of our variants has a receipt: find out by whom."""
        held = intent.onchain()
        with self.store.transaction() as session:
            if intent.on_nonce_consumed(session, held, report):
                return
            for row in rows:
                if row.state in ("signed", "broadcast"):
                    txs.mark_tx_replaced(session, row.tx_hash)

    def _is_stalled(self, newest: OutboxTx) -> bool:
        since = newest.broadcast_at or newest.created_at
        return (self.clock() - since).total_seconds() >= self.fees.stall_timeout_s

    def _bump(self, intent: Intent, newest: OutboxTx, report: StepReport) -> bool:
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
                    message=f"{intent.what}: transaction {newest.tx_hash} is stuck and a "
                    f"replacement would need max fee {max(need_fee, base_fee or 0)} wei/gas, "
                    f"above the cap {cap}; raise the cap or wait for fees to fall",
                    at=self.clock(),
                ):
                    report.alerts.append("fee_cap_reached")
            return False
        raw, tx_hash = self._sign(
            intent.calldata(),
            nonce=newest.nonce,
            gas=gas_limit_of(newest.raw_tx),
            max_fee=max_fee,
            tip=tip,
            legacy=legacy,
        )
        with self.store.transaction() as session:
            intent.store_replacement(
                session,
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
                message=f"{intent.what}: transaction {newest.tx_hash} was not mined within "
                f"{self.fees.stall_timeout_s:g} s; replaced by {tx_hash} (max fee {max_fee} "
                f"wei/gas, same nonce {newest.nonce})",
                at=self.clock(),
            ):
                report.alerts.append("stuck_tx")
        report.signed.append(tx_hash)
        report.replaced.append(newest.tx_hash)
        log.warning("%s: %s stalled; replaced by %s", intent.what, newest.tx_hash, tx_hash)
        self.crash_points.hit(f"{intent.crash_prefix}.after_replacement_persist")
        self._broadcast(intent, raw, tx_hash, report, first=False)
        return True
