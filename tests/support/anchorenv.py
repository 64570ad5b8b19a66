"""The world of an anchorer test: a store, a chain with the registries deployed, the real
accept path, and an anchorer over them with a clock the test moves (used by the
anchorer and fault suites)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import Chain
from anchoring.deployment import DeploymentRecord, RoleAssignment, deploy_contracts
from anchoring.fees import FeePolicy
from anchoring.registry import Registry
from ledger.core.merkle import verify_inclusion
from ledger.core.receipt import Receipt
from ledger.crashpoints import CrashPoints
from ledger.service import LedgerService, ManualClock
from ledger.store import Store, sqlite_url
from ledger.store import batches as batch_repo
from ledger.store import records as record_repo
from tests.storefixtures import clone_sqlite_template
from tests.support import ledgerdata

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


class CrashHere(BaseException):
    """Stands in for SIGKILL in-process: nothing after the crash point runs. (The crash
    suite in tests/faults kills real processes; this keeps the outbox tests fast.)"""


class RaisingCrashPoints(CrashPoints):
    def hit(self, name: str) -> None:
        self.seen.add(name)
        if name == self.armed:
            raise CrashHere(name)


@dataclass
class Env:
    """One test's world: store, chain, deployment, accept path, clock."""

    store: Store
    chain: Chain
    deployment: DeploymentRecord
    artifacts: Mapping[str, Any]
    clock: ManualClock
    service: LedgerService
    receipts: list[Receipt] = field(default_factory=list)
    _counter: int = 0

    def anchorer(self, **limits: Any) -> Anchorer:
        fees = limits.pop("fees", None)
        signer = limits.pop("signer", None)
        publisher = limits.pop("publisher", None)
        publish_limits = limits.pop("publish_limits", None)
        defaults: dict[str, Any] = {
            "batch_max_records": 5,
            "batch_max_age_s": 10.0,
            "rebroadcast_interval_s": 0.0,
            "retry_failed_after_s": 0.0,
            "poll_interval_s": 0.05,
            "backoff_initial_s": 0.05,
            "backoff_max_s": 0.5,
        }
        return Anchorer(
            store=self.store,
            chain=self.chain,
            deployment=self.deployment,
            artifacts=self.artifacts,
            clock=self.clock,
            limits=AnchorerLimits(**{**defaults, **limits}),
            fees=fees or FeePolicy(),
            signer=signer,
            publisher=publisher,
            publish_limits=publish_limits,
        )

    def accept(self, count: int) -> list[Receipt]:
        out = []
        for _ in range(count):
            self._counter += 1
            out.append(
                self.service.accept(ledgerdata.submission(ledgerdata.record_id("t", self._counter)))
            )
        self.receipts += out
        return out

    @property
    def registry(self) -> Registry:
        return Registry(
            self.chain,
            self.artifacts["AnchorRegistry"].abi,
            self.deployment.address_of("AnchorRegistry"),
        )

    def assert_verifies_on_chain(self, receipt: Receipt) -> None:
        """The receipt's record is in an anchored batch whose root the contract holds, and
        its stored proof leads from the record digest to that root (docs/FORMAT.md §5)."""
        ledgerdata.check_receipt(receipt)
        with self.store.transaction(readonly=True) as session:
            record = record_repo.get_record(session, receipt.record_id)
            assert record.digest_hex == receipt.digest_hex
            assert record.status == "anchored", (receipt.record_id, record.status)
            leaf = batch_repo.get_leaf(session, receipt.digest_hex)
            batch = batch_repo.get_batch(session, leaf.batch_seq)
        onchain = self.registry.get_batch(batch.seq)
        assert onchain is not None and onchain.root_hex == batch.root_hex
        verify_inclusion(
            bytes.fromhex(receipt.digest_hex),
            [bytes.fromhex(p) for p in leaf.proof],
            bytes.fromhex(onchain.root_hex),
        )
        proof = [bytes.fromhex(p) for p in leaf.proof]
        fn = self.registry.contract.functions.verifyInclusion(
            batch.seq, proof, bytes.fromhex(receipt.digest_hex)
        )
        assert self.chain.call(fn) is True


def make_env(
    chain: Chain,
    artifacts: Mapping[str, Any],
    data_dir: Path,
    *,
    roles: RoleAssignment | None = None,
    store_template: Path | None = None,
) -> Generator[Env, None, None]:
    """The world over ``data_dir``: its store a copy of ``store_template`` (the session's
    migrated SQLite file, tests/storefixtures.py) when given, else migrated from empty."""
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=0, roles=roles)
    clock = ManualClock(NOW)
    url = (
        clone_sqlite_template(store_template, data_dir) if store_template else sqlite_url(data_dir)
    )
    store = Store.open(url, clock=clock)
    try:
        yield Env(
            store=store,
            chain=chain,
            deployment=deployment,
            artifacts=artifacts,
            clock=clock,
            service=ledgerdata.service(store, clock),
        )
    finally:
        store.close()
