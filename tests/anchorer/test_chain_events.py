"""Chain events on a real anvil (docs/OPERATIONS.md §1, §2): a reorg shallower than the
confirmation depth, a stuck transaction under a base-fee spike, a reverted anchor, a dev
chain restarted empty on the same port, and a dev chain killed before it wrote its last
state."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from anchoring.anchorer import ChainResetError
from anchoring.chain import DevChain, RpcChain
from anchoring.chain.dev import STATE_FILE_NAME, _free_port
from anchoring.deployment import RoleAssignment, check_deployment
from anchoring.fees import FeePolicy
from ledger.checker import run_checks
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store.alerts import open_alerts
from tests.support.anchorenv import CrashHere, Env, RaisingCrashPoints, make_env

pytestmark = pytest.mark.anvil
GWEI = 10**9


def anvil(chain: Any, method: str, *params: Any) -> Any:
    response = chain.w3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response.get("result")


def batch_state(env: Env, seq: int) -> str:
    with env.store.transaction(readonly=True) as session:
        return batch_repo.get_batch(session, seq).state


def alert_kinds(env: Env) -> set[str]:
    with env.store.transaction(readonly=True) as session:
        return {a.kind for a in open_alerts(session)}


def all_verify(env: Env) -> None:
    for receipt in env.receipts:
        env.assert_verifies_on_chain(receipt)
    report = run_checks(env.store, env.registry, receipts=env.receipts)
    assert report.ok, [c.detail for c in report.failed()]


def test_reorg_below_confirmation_depth_is_never_reported_anchored_early(anvil_env: Env) -> None:
    anchorer = anvil_env.anchorer(confirmations=3)
    anvil_env.accept(5)
    report = anchorer.run_once()
    (tx_hash,) = report.mined
    assert report.waiting == [1] and report.anchored == []
    with anvil_env.store.transaction(readonly=True) as session:
        first_block = txs.get_tx(session, tx_hash).block_hash
    anvil(anvil_env.chain, "anvil_reorg", 1, [])  # depth 1 < K = 3: the anchor's block goes
    report = anchorer.run_once()
    assert report.reorged == [1] and report.rebroadcast == [tx_hash]  # the same bytes
    assert report.anchored == [] and batch_state(anvil_env, 1) == "anchoring"
    for _ in range(20):  # anvil may serve the new receipt a poll later on a loaded machine
        with anvil_env.store.transaction(readonly=True) as session:
            row = txs.get_tx(session, tx_hash)
        if row.state == "mined":
            break
        time.sleep(0.1)
        assert anchorer.run_once().anchored == []
    assert row.state == "mined" and row.block_hash != first_block
    anvil(anvil_env.chain, "evm_mine")
    assert anchorer.run_once().anchored == []  # 2 deep
    anvil(anvil_env.chain, "evm_mine")
    assert anchorer.run_once().anchored == [1]  # 3 deep
    all_verify(anvil_env)


def test_stuck_transaction_is_replaced_same_nonce_higher_fee_capped(anvil_env: Env) -> None:
    chain = anvil_env.chain
    anvil(chain, "evm_setAutomine", False)
    anchorer = anvil_env.anchorer(fees=FeePolicy(stall_timeout_s=30))
    anvil_env.accept(5)
    report = anchorer.run_once()
    (first,) = report.broadcast
    with anvil_env.store.transaction(readonly=True) as session:
        old = txs.get_tx(session, first)
    anvil(chain, "anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
    anvil(chain, "evm_mine")  # the spike: our transaction cannot pay this base fee
    assert anchorer.run_once().signed == []  # not stalled yet
    anvil_env.clock.advance(31)
    # Capped below what a replacement needs: an alert, and no new transaction.
    anchorer.outbox.fees = FeePolicy(stall_timeout_s=30, max_fee_per_gas_cap_wei=20 * GWEI)
    report = anchorer.run_once()
    assert report.signed == [] and "fee_cap_reached" in report.alerts
    anchorer.outbox.fees = FeePolicy(stall_timeout_s=30, max_fee_per_gas_cap_wei=400 * GWEI)
    report = anchorer.run_once()
    (second,) = report.signed
    assert report.replaced == [first] and "stuck_tx" in report.alerts
    with anvil_env.store.transaction(readonly=True) as session:
        new = txs.get_tx(session, second)
    assert new.nonce == old.nonce
    assert new.max_fee_per_gas >= old.max_fee_per_gas * 9 // 8
    assert new.priority_fee_per_gas >= old.priority_fee_per_gas * 9 // 8
    assert new.max_fee_per_gas <= 400 * GWEI
    anvil(chain, "evm_mine")
    assert anchorer.run_once().anchored == [1]
    with anvil_env.store.transaction(readonly=True) as session:
        rows = {r.tx_hash: r.state for r in txs.txs_of_batch(session, 1)}
    assert rows == {first: "replaced", second: "mined"}  # exactly one variant mined
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == old.nonce + 1
    assert "stuck_tx" not in alert_kinds(anvil_env)  # resolved once anchored
    all_verify(anvil_env)


def test_crash_after_the_replacement_is_stored_sends_that_replacement(anvil_env: Env) -> None:
    chain = anvil_env.chain
    anvil(chain, "evm_setAutomine", False)
    crashing = anvil_env.anchorer(fees=FeePolicy(stall_timeout_s=30))
    anvil_env.accept(5)
    (first,) = crashing.run_once().broadcast
    anvil(chain, "anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
    anvil(chain, "evm_mine")
    anvil_env.clock.advance(31)
    crashing.crash_points = crashing.outbox.crash_points = RaisingCrashPoints(
        "anchor.after_replacement_persist"
    )
    with pytest.raises(CrashHere):
        crashing.run_once()
    crashing.close()
    with anvil_env.store.transaction(readonly=True) as session:
        rows = {r.tx_hash: r.state for r in txs.txs_of_batch(session, 1)}
    (second,) = [h for h, state in rows.items() if state == "signed"]
    restarted = anvil_env.anchorer(fees=FeePolicy(stall_timeout_s=30))
    report = restarted.run_once()
    assert report.signed == [] and set(report.rebroadcast) == {second}  # stored, not re-signed
    anvil(chain, "evm_mine")
    assert restarted.run_once().anchored == [1]
    with anvil_env.store.transaction(readonly=True) as session:
        rows = {r.tx_hash: r.state for r in txs.txs_of_batch(session, 1)}
    assert rows == {first: "replaced", second: "mined"}
    all_verify(anvil_env)


def test_revert_is_a_failure_with_the_decoded_error_then_retried(
    anvil_chain: DevChain, artifacts: Any, tmp_path: Path
) -> None:
    operator, hot = anvil_chain.dev_accounts()[:2]
    gen = make_env(
        anvil_chain, artifacts, tmp_path / "data", roles=RoleAssignment(anchorer=hot.address)
    )
    env = next(gen)
    try:
        anchorer = env.anchorer(signer=hot)
        anvil(anvil_chain, "evm_setAutomine", False)
        env.accept(5)
        assert anchorer.run_once().broadcast
        # The admin revokes the anchorer's role with a higher tip: the next block runs the
        # revocation first, and the pending anchor transaction reverts.
        registry = env.registry.contract
        role = registry.functions.ANCHORER_ROLE().call()
        params: Any = {
            "from": operator.address,
            "nonce": anvil_chain.w3.eth.get_transaction_count(operator.address),
            "gas": 200_000,
            "maxFeePerGas": 200 * GWEI,
            "maxPriorityFeePerGas": 100 * GWEI,
            "chainId": anvil_chain.chain_id,
        }
        revoke: Any = registry.functions.revokeRole(role, hot.address).build_transaction(params)
        signed = operator.sign_transaction(revoke)
        anvil_chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        anvil(anvil_chain, "evm_mine")
        report = anchorer.run_once()
        assert report.reverted == [1] and report.anchored == []
        with env.store.transaction(readonly=True) as session:
            batch = batch_repo.get_batch(session, 1)
        assert batch.state == "failed"
        assert "AccessControlUnauthorizedAccount" in (batch.last_error or "")
        assert "anchor_reverted" in alert_kinds(env)
        # The cause is fixed; the batch is signed again with a fresh nonce and anchored.
        anvil(anvil_chain, "evm_setAutomine", True)
        anvil_chain.transact(registry.functions.grantRole(role, hot.address))
        assert anchorer.run_once().anchored == [1]
        with env.store.transaction(readonly=True) as session:
            states = sorted(r.state for r in txs.txs_of_batch(session, 1))
        assert states == ["mined", "reverted"]
        all_verify(env)
    finally:
        gen.close()


@pytest.fixture
def restartable(tmp_path: Path, anvil_path: Path) -> Iterator[dict[str, Any]]:
    """An anvil on a pinned port that the test may stop, kill and start again; the
    anchorer reaches it by URL (as a separate process would)."""
    port = _free_port()
    box: dict[str, Any] = {"dir": tmp_path / "anvil", "port": port, "path": anvil_path}
    box["dev"] = DevChain.start(data_dir=box["dir"], anvil_path=anvil_path, port=port)
    try:
        yield box
    finally:
        box["dev"].stop()


def restart(box: dict[str, Any], *, state_interval_s: int = 1) -> None:
    """Start anvil again on the same port, right after the previous one stopped."""
    box["dev"] = DevChain.start(
        data_dir=box["dir"],
        anvil_path=box["path"],
        port=box["port"],
        state_interval_s=state_interval_s,
    )


def rpc_chain(dev: DevChain, signer: LocalAccount | None = None) -> RpcChain:
    return RpcChain(dev.rpc_url or "", expected_chain_id=dev.chain_id, signer=signer or dev.signer)


def test_reset_dev_chain_stops_anchoring_and_marks_nothing(
    restartable: dict[str, Any], artifacts: Any, tmp_path: Path
) -> None:
    gen = make_env(rpc_chain(restartable["dev"]), artifacts, tmp_path / "data")
    env = next(gen)
    try:
        anchorer = env.anchorer()
        env.accept(5)
        assert anchorer.run_once().anchored == [1]
        restartable["dev"].stop()
        (restartable["dir"] / STATE_FILE_NAME).unlink()
        restart(restartable)  # anvil restarted empty on the same port
        env.accept(5)
        # anvil derives its genesis from the start time: restarted within the same second it
        # has the same genesis hash, and only the registry's missing code tells. Both count.
        with pytest.raises(ChainResetError, match="not the one the contracts were deployed"):
            anchorer.run_once()
        assert "chain_reset" in alert_kinds(env)
        assert batch_state(env, 2) == "sealed"  # sealed, never marked anchored
        assert env.chain.get_code(env.deployment.address_of("AnchorRegistry")) == b""
        with pytest.raises(ChainResetError):
            anchorer.run_forever(threading.Event())  # the runner stops, exit non-zero
    finally:
        gen.close()


def test_killed_dev_chain_lost_an_anchor_same_seq_same_root_again(
    restartable: dict[str, Any], artifacts: Any, tmp_path: Path
) -> None:
    """anvil saves its state on exit and every --state-interval seconds; killed with SIGKILL
    it comes back without its last seconds, including our anchor (docs/OPERATIONS.md §2
    ``anchor_lost``)."""
    gen = make_env(rpc_chain(restartable["dev"]), artifacts, tmp_path / "data")
    env = next(gen)
    try:
        restartable["dev"].stop()  # the deployment is saved
        restart(restartable, state_interval_s=3600)
        check_deployment(env.chain, env.deployment, artifacts)
        anchorer = env.anchorer()
        env.accept(5)
        report = anchorer.run_once()
        assert report.anchored == [1]
        (tx_hash,) = report.mined
        os.kill(restartable["dev"].pid, signal.SIGKILL)
        restartable["dev"]._process.wait()
        restart(restartable)
        assert env.registry.next_seq() == 1  # the chain lost batch 1
        report = anchorer.run_once()
        assert report.reopened == [1] and "anchor_lost" in report.alerts
        assert tx_hash in report.rebroadcast and report.signed == []  # the same bytes again
        for _ in range(20):  # anvil may serve the receipt a poll later on a loaded machine
            if report.anchored:
                break
            time.sleep(0.1)
            report = anchorer.run_once()
            assert report.signed == []
        assert report.anchored == [1]
        assert env.registry.get_batch(1) is not None
        all_verify(env)
    finally:
        gen.close()
