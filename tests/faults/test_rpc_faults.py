"""RPC node failures between the anchorer and anvil, through our fault proxy
(docs/OPERATIONS.md §2 ``chain_unavailable``), among them the RPC refusing for a minute
while records keep arriving.

Every answer of the node is untrusted input: a refused connection, a 502, a truncated body
and a slow node each make a step fail as ``UnavailableError`` (retryable) and change
nothing; a node serving a stale height can delay anchoring but never make a batch look
deeper than it is. After the fault the anchorer resumes by itself, and every receipt given
meanwhile ends up anchored and verifies against the chain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import DevChain, RpcChain
from ledger.checker import run_checks
from ledger.core.errors import UnavailableError
from ledger.store import batches as batch_repo
from ledger.store.alerts import open_alerts
from tests.support.anchorenv import Env
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.anvil

#: The issue asks for a minute of refused connections; the test keeps the real minute.
OUTAGE_S = 60.0


@pytest.fixture
def proxy(anvil_chain: DevChain) -> Iterator[FaultProxy]:
    with FaultProxy(anvil_chain.rpc_url or "", lifetime_s=300) as running:
        yield running


def proxied_anchorer(env: Env, proxy: FaultProxy, **limits: Any) -> Anchorer:
    chain = RpcChain(
        proxy.url, expected_chain_id=env.chain.chain_id, signer=env.chain.signer, timeout_s=2.0
    )
    defaults: dict[str, Any] = {
        "batch_max_records": 5,
        "poll_interval_s": 0.1,
        "backoff_initial_s": 0.2,
        "backoff_max_s": 2.0,
        "rebroadcast_interval_s": 0.5,
    }
    return Anchorer(
        store=env.store,
        chain=chain,
        deployment=env.deployment,
        artifacts=env.artifacts,
        clock=env.clock,
        limits=AnchorerLimits(**{**defaults, **limits}),
    )


def anchored_count(env: Env) -> int:
    with env.store.transaction(readonly=True) as session:
        return len(batch_repo.batches_in_state(session, "anchored"))


def wait_until(predicate: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def everything_verifies(env: Env) -> None:
    for receipt in env.receipts:
        env.assert_verifies_on_chain(receipt)
    report = run_checks(env.store, env.registry, receipts=env.receipts)
    assert report.ok, [c.detail for c in report.failed()]
    # Zero duplicate anchors: the contract holds exactly the batches we sealed.
    with env.store.transaction(readonly=True) as session:
        sealed = batch_repo.latest_batch(session)
    assert env.registry.next_seq() - 1 == (sealed.seq if sealed else 0)


@pytest.mark.timeout(240)
def test_rpc_refused_for_a_minute_while_records_keep_arriving(
    anvil_env: Env, proxy: FaultProxy
) -> None:
    anchorer = proxied_anchorer(anvil_env, proxy)
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            anchorer.run_forever(stop)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        anvil_env.accept(5)
        wait_until(lambda: anchored_count(anvil_env) == 1, 30)
        proxy.mode = "refuse"
        outage_end = time.monotonic() + OUTAGE_S
        while time.monotonic() < outage_end:
            anvil_env.accept(1)  # acceptance goes on: receipts keep being issued
            time.sleep(1.0)
        assert anchored_count(anvil_env) == 1
        with anvil_env.store.transaction(readonly=True) as session:
            assert "chain_unavailable" in {a.kind for a in open_alerts(session)}
        proxy.mode = "pass"
        wait_until(lambda: _all_anchored(anvil_env), 60)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert len(anvil_env.receipts) >= 5 + int(OUTAGE_S * 0.8)
    with anvil_env.store.transaction(readonly=True) as session:
        assert "chain_unavailable" not in {a.kind for a in open_alerts(session)}
    everything_verifies(anvil_env)


def _all_anchored(env: Env) -> bool:
    from ledger.store.records import count_by_status

    with env.store.transaction(readonly=True) as session:
        counts = count_by_status(session)
    if counts["pending"] and not counts["batched"]:
        env.clock.advance(11)  # let the age rule seal the last, partial batch
    return counts["pending"] == 0 and counts["batched"] == 0


@pytest.mark.parametrize("mode", ["http502", "truncate", "delay", "refuse"])
def test_a_failing_node_changes_nothing_then_anchoring_resumes(
    anvil_env: Env, proxy: FaultProxy, mode: str
) -> None:
    anchorer = proxied_anchorer(anvil_env, proxy)
    anvil_env.accept(5)
    proxy.delay_s = 3.0  # above the client's 2 s timeout
    proxy.mode = mode
    with pytest.raises(UnavailableError):
        anchorer.run_once()
    with anvil_env.store.transaction(readonly=True) as session:
        assert [b.state for b in batch_repo.batches_in_state(session, "sealed")] == ["sealed"]
    assert anvil_env.registry.next_seq() == 1
    proxy.mode = "pass"
    assert anchorer.run_once().anchored == [1]
    everything_verifies(anvil_env)


def test_a_stale_height_never_makes_a_batch_look_deep_enough(
    anvil_env: Env, proxy: FaultProxy
) -> None:
    anchorer = proxied_anchorer(anvil_env, proxy, confirmations=2)
    proxy.mode = "stale_block"  # eth_blockNumber frozen below the anchor's block
    anvil_env.accept(5)
    report = anchorer.run_once()
    assert report.mined and report.waiting == [1]
    for _ in range(2):
        anvil_env.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert anchorer.run_once().anchored == []  # deep enough in truth, but not as reported
    proxy.mode = "pass"
    assert anchorer.run_once().anchored == [1]
    everything_verifies(anvil_env)
