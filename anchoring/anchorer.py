"""The anchorer: seals pending records into batches and anchors each batch root once.

One step (``Anchorer.run_once``), in this order:

1. leader lock: only the holder of the database lock ``anchorer`` acts;
2. seal: when ``batch_max_records`` records are pending or the oldest has waited
   ``batch_max_age_s``, the oldest pending records become the next batch: tree, proofs,
   manifest and the records' move to ``batched`` in one transaction (the sealed batch is
   the anchor intent). Sealing needs no chain, so it goes on while the chain is down;
3. guard: the chain's genesis hash and the registry's code must be those of the
   deployment record, at every step; otherwise a ``ChainResetError`` is raised after an
   alert, and nothing is marked anchored against that chain;
4. audit: a batch recorded as anchored that the contract no longer holds (a dev chain
   killed before it wrote its state, docs/OPERATIONS.md §2 ``anchor_lost``) goes back to
   anchoring, with the same seq, root and — where the nonce allows — the very same signed
   bytes;
5. follow every batch in ``anchoring`` (``anchoring.outbox``): receipts, confirmations,
   reorgs, stalled transactions, reverts;
6. start the next batch: strictly in seq order, one batch in flight at a time, so a
   revert or a reorg of batch n can never leave n + 1 waiting on a gap;
7. write the record statuses that are due (``anchoring.intents.StatusIntent``): requested
   revocations, and supersessions queued when a successor's batch was anchored; through
   the same outbox, a few in flight at a time, the refused ones retried after a back-off;
8. follow the registries' events (``anchoring.follower``) into the store: attestations,
   revocations and supersessions written by others, key and accreditation changes;
9. publish the manifests not yet published, with a ``publisher`` (``anchoring.publishing``):
   after the chain's work, and also when that failed, so neither waits for the other.

``run_forever`` repeats steps, backing off while the chain is unavailable and resuming by
itself when it answers again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils import keccak

from anchoring.chain.base import ArtifactLike, Chain
from anchoring.deployment import DeploymentRecord
from anchoring.fees import FeePolicy, StepReport
from anchoring.follower import Follower
from anchoring.intents import BatchIntent, StatusIntent, StatusRetry
from anchoring.outbox import Intent, Outbox
from anchoring.publishing import ManifestPublisher, PublishLimits, optional_publishing, publish_step
from anchoring.registry import Registry, find_anchor_event, genesis_hash, rpc
from ledger.core.clock import Clock
from ledger.core.errors import (
    AnchoringError,
    DeploymentMismatchError,
    LedgerError,
    UnavailableError,
)
from ledger.crashpoints import NO_CRASH, CrashPoints
from ledger.service.sealing import seal_one
from ledger.store import Store, Transaction, chainfacts
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store.alerts import alert_once, resolve_alerts
from ledger.store.batches import SealedBatch
from ledger.store.chainfacts import StatusChange

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

LEADER_LOCK = "anchorer"
#: Every crash point the accept path and the anchorer pass, in the order a record meets
#: them (the crash tests enumerate these).
CRASH_POINTS = (
    "accept.after_commit",
    "seal.after_commit",
    "anchor.after_sign_persist",
    "anchor.after_broadcast",
    "anchor.after_receipt",
    "anchor.after_anchored",
    "anchor.after_replacement_persist",
    "status.after_sign_persist",
    "status.after_broadcast",
    "status.after_receipt",
    "status.after_written",
    "status.after_replacement_persist",
)


class ChainResetError(DeploymentMismatchError):
    """The chain is not the one the contracts were deployed on (reset or replaced):
    anchoring stops until an operator redeploys or points it at the right chain."""


@dataclass(frozen=True)
class AnchorerLimits:
    """Settings of the anchorer (passed down from the operator's settings)."""

    batch_max_records: int = 1000
    batch_max_age_s: float = 10.0
    max_batches_per_step: int = 10
    confirmations: int = 1
    poll_interval_s: float = 1.0
    rebroadcast_interval_s: float = 10.0
    retry_failed_after_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    leader_lease_s: float = 30.0
    #: Record statuses (revocations, supersessions) in flight at once, and the back-off of
    #: one the chain refuses (doubling from the first, capped by the second).
    max_statuses_in_flight: int = 4
    status_retry_initial_s: float = 5.0
    status_retry_max_s: float = 300.0
    #: Blocks the follower reads per ``eth_getLogs`` call.
    follow_max_blocks: int = 2000

    def __post_init__(self) -> None:
        if self.batch_max_records < 1 or self.batch_max_records > 2**32 - 1:
            raise AnchoringError("batch_max_records must be within 1 .. 2**32-1")
        if self.confirmations < 1:
            raise AnchoringError(f"confirmations must be at least 1, got {self.confirmations}")


class Anchorer:
    """Seals and anchors; see the module docstring for one step."""

    def __init__(
        self,
        *,
        store: Store,
        chain: Chain,
        deployment: DeploymentRecord,
        artifacts: Mapping[str, ArtifactLike],
        signer: LocalAccount | None = None,
        clock: Clock | None = None,
        limits: AnchorerLimits | None = None,
        fees: FeePolicy | None = None,
        crash_points: CrashPoints = NO_CRASH,
        holder: str | None = None,
        publisher: ManifestPublisher | None = None,
        publish_limits: PublishLimits | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.deployment = deployment
        self.limits = limits or AnchorerLimits()
        self.clock = clock or store.clock
        self.crash_points = crash_points
        self.signer = signer or chain.signer
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._artifact = artifacts["AnchorRegistry"]
        self.registry = Registry(chain, self._artifact.abi, deployment.address_of("AnchorRegistry"))
        self.outbox = Outbox(
            store=store,
            registry=self.registry,
            signer=self.signer,
            confirmations=self.limits.confirmations,
            fees=fees or FeePolicy(),
            clock=self.clock,
            crash_points=crash_points,
            rebroadcast_interval_s=self.limits.rebroadcast_interval_s,
        )
        self.publishing = optional_publishing(
            publisher, store=store, clock=self.clock, limits=publish_limits
        )
        self.follower = Follower(
            store=store,
            chain=chain,
            deployment=deployment,
            artifacts=artifacts,
            confirmations=self.limits.confirmations,
            clock=self.clock,
            max_blocks=self.limits.follow_max_blocks,
        )
        self.status_retry = StatusRetry(
            initial_s=self.limits.status_retry_initial_s, max_s=self.limits.status_retry_max_s
        )
        self._failed_seen: dict[int, float] = {}
        self._renewed_at: float | None = None
        self._unavailable_noted = False
        self._backfilled = False
        self._reached_chain = False
        #: Until the first batch starts, a seq_gap alert of an earlier process may be open.
        self._gap_noted = True

    # -- one step ---------------------------------------------------------------------

    def run_once(self) -> StepReport:
        report = StepReport()
        if not self._lead():
            report.leader = False
            return report
        self._seal_due(report)
        try:
            self._anchor(report)
        except LedgerError:
            publish_step(self.publishing, report, quietly=True)
            raise
        publish_step(self.publishing, report)
        return report

    def _anchor(self, report: StepReport) -> None:
        self.check_chain(report)
        if not self._backfilled:
            # Records anchored before supersessions were written on-chain (an upgrade):
            # queued once per process; the queue is idempotent, so a restart costs a scan.
            with self.store.transaction() as session:
                chainfacts.queue_supersessions(session, None, at=self.clock())
            self._backfilled = True
        self._audit_anchored(report)
        self._follow_all(report)
        if self._start_next(report):
            self._follow_all(report)
        if self._start_statuses(report):
            self._follow_all(report)
        self.follower.step(report)
        if self._unavailable_noted or not self._reached_chain:
            # The chain answered and is the deployment's: alerts saying otherwise close,
            # also those an earlier process raised (docs/OPERATIONS.md §2).
            with self.store.transaction() as session:
                resolve_alerts(session, "chain_unavailable", at=self.clock())
                resolve_alerts(session, "chain_reset", at=self.clock())
            self._unavailable_noted = False
            self._reached_chain = True

    def _lead(self) -> bool:
        """Take or renew the leader lease; renewed every third of the lease, so an idle
        anchorer does not write to the database at every poll."""
        now = time.monotonic()
        lease_s = self.limits.leader_lease_s
        if self._renewed_at is not None and now - self._renewed_at < lease_s / 3:
            return True
        if self.store.acquire_leader(LEADER_LOCK, self.holder, lease_s):
            self._renewed_at = now
            return True
        self._renewed_at = None
        return False

    def _follow_all(self, report: StepReport) -> None:
        with self.store.transaction(readonly=True) as session:
            intents: list[Intent] = [
                BatchIntent(b, self.registry, self.clock)
                for b in batch_repo.batches_in_state(session, "anchoring")
            ]
            intents += [
                self._status_intent(session, c)
                for c in chainfacts.status_changes_in_flight(session)
            ]
        for intent in intents:
            # A transaction sent during this poll may be mined at once (automine): one
            # more look records it now rather than a poll interval later.
            if self.outbox.follow(intent, report):
                self.outbox.follow(intent, report)

    def _status_intent(self, session: Transaction, change: StatusChange) -> StatusIntent:
        proof = None
        if change.purpose == "supersede":
            proof = list(batch_repo.get_leaf(session, change.successor_digest_hex).proof)
        return StatusIntent(
            change, self.registry, self.clock, retry=self.status_retry, successor_proof=proof
        )

    def _start_statuses(self, report: StepReport) -> bool:
        """Sign the due statuses, up to ``max_statuses_in_flight`` in flight; True when one
        started."""
        with self.store.transaction(readonly=True) as session:
            room = self.limits.max_statuses_in_flight - len(
                chainfacts.status_changes_in_flight(session)
            )
            if room <= 0:
                return False
            due = [
                self._status_intent(session, c)
                for c in chainfacts.due_status_changes(session, now=self.clock(), limit=room)
            ]
        started = False
        for intent in due:
            started = self.outbox.start(intent, report) or started
        return started

    def run_forever(self, stop: threading.Event) -> None:
        """Steps until ``stop`` is set. Backs off (doubling) while the chain or the store is
        unavailable; raises ``ChainResetError`` (anchoring must stop) and storage errors."""
        backoff_s = self.limits.backoff_initial_s
        while not stop.is_set():
            try:
                report = self.run_once()
            except UnavailableError as exc:
                log.warning("anchoring paused, retrying in %.1f s: %s", backoff_s, exc.message)
                self._note_unavailable(exc)
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, self.limits.backoff_max_s)
                continue
            except DeploymentMismatchError:
                raise
            except AnchoringError as exc:
                log.error("anchoring step failed, retrying in %.1f s: %s", backoff_s, exc.message)
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, self.limits.backoff_max_s)
                continue
            backoff_s = self.limits.backoff_initial_s
            if not report.did_work() or not report.leader:
                # Nothing new was sealed or anchored: more work is not queued behind this
                # step, so wait a poll interval (also while confirmations accrue).
                stop.wait(self.limits.poll_interval_s)

    def close(self) -> None:
        self.store.release_leader(LEADER_LOCK, self.holder)
        self._renewed_at = None

    def _note_unavailable(self, exc: UnavailableError) -> None:
        self._unavailable_noted = True
        try:
            with self.store.transaction() as session:
                alert_once(
                    session,
                    kind="chain_unavailable",
                    message=f"the chain does not answer; anchoring backs off and resumes by "
                    f"itself (records are still accepted): {exc.message}",
                    at=self.clock(),
                )
        except UnavailableError:
            pass  # the store is the unavailable one; nothing to record it in

    # -- sealing ------------------------------------------------------------------------

    def _seal_due(self, report: StepReport) -> None:
        for _ in range(self.limits.max_batches_per_step):
            seq = self._seal_one()
            if seq is None:
                return
            report.sealed.append(seq)
            self.crash_points.hit("seal.after_commit")

    def _seal_one(self) -> int | None:
        return seal_one(
            self.store,
            now=self.clock(),
            max_records=self.limits.batch_max_records,
            max_age_s=self.limits.batch_max_age_s,
        )

    # -- the chain ----------------------------------------------------------------------

    def check_chain(self, report: StepReport | None = None) -> None:
        """Raise ``ChainResetError`` (after an alert) unless the chain is the deployment's."""
        problems: list[str] = []
        genesis = genesis_hash(self.chain)
        if genesis != self.deployment.genesis_hash_hex:
            problems.append(f"genesis hash {genesis}, recorded {self.deployment.genesis_hash_hex}")
        with rpc(self.chain, "reading the registry code"):
            code = bytes(self.chain.w3.eth.get_code(self.registry.address))
        if not code:
            problems.append(f"no code at the AnchorRegistry address {self.registry.address}")
        elif not self._code_matches(code):
            problems.append(
                f"the code at {self.registry.address} has hash 0x{keccak(code).hex()}, not "
                f"the deployed AnchorRegistry's"
            )
        if not problems:
            return
        message = (
            "the chain is not the one the contracts were deployed on (a reset dev chain or "
            "another chain): " + "; ".join(problems) + ". Anchoring stopped; nothing is "
            "marked anchored against this chain. Restore the chain, or archive the deployment "
            "and redeploy (`carbonledger deploy --replace`)"
        )
        with self.store.transaction() as session:
            raised = alert_once(session, kind="chain_reset", message=message, at=self.clock())
        if report is not None and raised:
            report.alerts.append("chain_reset")
        raise ChainResetError(message, differences=problems)

    def _code_matches(self, code: bytes) -> bool:
        matches = getattr(self._artifact, "matches_runtime_code", None)
        if callable(matches):
            return bool(matches(code))
        recorded = self.deployment.contracts["AnchorRegistry"].runtime_code_hash_hex
        return "0x" + keccak(code).hex() == recorded

    def _audit_anchored(self, report: StepReport) -> None:
        """Batches we recorded as anchored that the contract no longer holds go back to
        anchoring (same seq, same root); one that holds another root is disputed."""
        with self.store.transaction(readonly=True) as session:
            highest = batch_repo.highest_anchored_seq(session)
        if highest is None:
            return
        onchain_count = self.registry.next_seq() - 1
        if onchain_count >= highest:
            return
        with self.store.transaction() as session:
            lost = [
                b for b in batch_repo.batches_in_state(session, "anchored") if b.seq > onchain_count
            ]
            for batch in lost:
                batch_repo.reopen_batch(
                    session,
                    batch.seq,
                    "the chain no longer holds this batch (dev chain state lost)",
                )
                batch_repo.mark_anchoring(session, batch.seq)
                for row in txs.txs_of_batch(session, batch.seq):
                    if row.state == "mined":
                        # The same signed bytes go out again (same nonce, seq and root).
                        txs.mark_tx_broadcast(session, row.tx_hash, at=self.clock())
                report.reopened.append(batch.seq)
            seqs = ", ".join(str(b.seq) for b in lost)
            alert_once(
                session,
                kind="anchor_lost",
                message=f"the contract holds {onchain_count} batches but batches {seqs} were "
                "recorded as anchored: they are being anchored again with the same seq and root",
                at=self.clock(),
            )
        report.alerts.append("anchor_lost")
        log.warning("batches %s were lost by the chain; anchoring them again", report.reopened)

    def _start_next(self, report: StepReport) -> bool:
        """Sign the next batch in seq order when none is in flight; True when one started."""
        with self.store.transaction(readonly=True) as session:
            if batch_repo.batches_in_state(session, "anchoring"):
                return False
            waiting = batch_repo.batches_in_state(session, "sealed", "failed", "disputed")
        if not waiting:
            return False
        batch = waiting[0]
        if batch.state == "disputed":
            return False  # anchoring cannot skip a seq; an operator must look (alert raised)
        if batch.state == "failed":
            seen = self._failed_seen.setdefault(batch.seq, time.monotonic())
            if time.monotonic() - seen < self.limits.retry_failed_after_s:
                return False
            self._failed_seen.pop(batch.seq, None)
        next_seq = self.registry.next_seq()
        if next_seq > batch.seq:
            self._adopt(batch, report)
            return False
        if next_seq < batch.seq:
            self._gap_noted = True
            with self.store.transaction() as session:
                alert_once(
                    session,
                    kind="seq_gap",
                    message=f"batch {batch.seq} is next here but the contract expects "
                    f"{next_seq}: batches {next_seq}..{batch.seq - 1} are missing on-chain",
                    at=self.clock(),
                )
            return False
        if self._gap_noted:
            with self.store.transaction() as session:
                resolve_alerts(session, "seq_gap", at=self.clock())
        self._gap_noted = False
        return self.outbox.start(BatchIntent(batch, self.registry, self.clock), report)

    def _adopt(self, batch: SealedBatch, report: StepReport) -> None:
        """The contract already holds ``batch.seq``: ours (record it) or not (dispute)."""
        onchain = self.registry.get_batch(batch.seq)
        if onchain is None:
            return
        if (onchain.root_hex, onchain.manifest_digest_hex) != (
            batch.root_hex,
            batch.manifest_digest_hex,
        ):
            with self.store.transaction() as session:
                batch_repo.mark_disputed(
                    session, batch.seq, f"the contract holds root {onchain.root_hex}"
                )
                alert_once(
                    session,
                    kind="anchor_disputed",
                    message=f"batch {batch.seq}: the contract holds another root "
                    f"({onchain.root_hex}); anchoring stops until an operator looks",
                    at=self.clock(),
                )
            report.disputed.append(batch.seq)
            return
        from_block = self.deployment.contracts["AnchorRegistry"].deploy_block
        event = find_anchor_event(self.registry, batch.seq, from_block=from_block)
        if event is None:
            return
        with self.store.transaction() as session:
            batch_repo.mark_anchoring(session, batch.seq)
            batch_repo.mark_anchored(
                session,
                batch.seq,
                tx_hash=event.tx_hash,
                block_number=event.block_number,
                block_hash=event.block_hash,
                log_hash_hex=onchain.log_hash_hex,
                anchored_at=self.clock(),
            )
            chainfacts.queue_supersessions(session, batch.seq, at=self.clock())
        report.anchored.append(batch.seq)
