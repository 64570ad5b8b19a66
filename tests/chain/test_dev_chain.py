"""The dev chain (anvil) keeps its state across a stop and restart, and a reset is refused."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from anchoring.chain import DEV_CHAIN_ID, ChainSetupError, DevChain, PortInUseError
from anchoring.deployment import deployment_path, ensure_deployment, load_deployment
from anchoring.toolchain import ContractArtifact
from ledger.core.errors import DeploymentMismatchError
from ledger.core.merkle import MerkleTree

pytestmark = pytest.mark.anvil

Artifacts = dict[str, ContractArtifact]
DIGESTS = [bytes([i]) * 32 for i in range(1, 6)]


def _anchor_first_batch(chain: DevChain, artifacts: Artifacts, data_dir: Path) -> bytes:
    record, created = ensure_deployment(chain, artifacts, data_dir=data_dir, admin_delay_s=0)
    assert created
    registry = chain.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
    tree = MerkleTree.build(DIGESTS)
    chain.transact(registry.functions.anchorBatch(1, tree.root, 5, b"\x07" * 32, "bafkrei"))
    return tree.root


def test_state_survives_stop_and_restart(
    tmp_path: Path, anvil_path: Path, artifacts: Artifacts
) -> None:
    first = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
    try:
        assert first.chain_id == DEV_CHAIN_ID
        genesis = first.genesis_hash_hex()
        root = _anchor_first_batch(first, artifacts, tmp_path)
        height = first.block_number()
    finally:
        first.stop()
    assert not first.is_running()
    assert (tmp_path / "anvil-state.json").stat().st_size > 0

    second = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
    try:
        assert second.pid != first.pid
        assert second.genesis_hash_hex() == genesis
        assert second.block_number() == height
        record, created = ensure_deployment(second, artifacts, data_dir=tmp_path, admin_delay_s=0)
        assert not created
        registry = second.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
        batch = second.call(registry.functions.getBatch(1))
        assert batch[0] == root and batch[1] == 5
        proof = MerkleTree.build(DIGESTS).proof(DIGESTS[2])
        assert second.call(registry.functions.verifyInclusion(1, proof, DIGESTS[2]))
        # The chain goes on where it stopped: batch 2 is next.
        assert second.call(registry.functions.nextSeq()) == 2
    finally:
        second.stop()


def test_reset_chain_is_refused_not_redeployed(
    tmp_path: Path, anvil_path: Path, artifacts: Artifacts
) -> None:
    first = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
    try:
        _anchor_first_batch(first, artifacts, tmp_path)
        old_genesis = first.genesis_hash_hex()
    finally:
        first.stop()
    record_bytes = deployment_path(tmp_path).read_bytes()
    record = load_deployment(tmp_path)
    assert record is not None
    (tmp_path / "anvil-state.json").unlink()  # what a `rm -rf` of the chain state does

    fresh = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
    try:
        with pytest.raises(DeploymentMismatchError) as refused:
            ensure_deployment(fresh, artifacts, data_dir=tmp_path, admin_delay_s=0)
        differences = refused.value.differences
        # A new chain draws a new genesis (gas limit), even within the same second.
        assert fresh.genesis_hash_hex() != old_genesis
        assert differences.pop(0) == (
            f"genesis hash: recorded {old_genesis}, the connected chain has "
            f"{fresh.genesis_hash_hex()} (a reset or different chain)"
        )
        anchor, trust = record.address_of("AnchorRegistry"), record.address_of("TrustRegistry")
        anchor_block = record.contracts["AnchorRegistry"].deploy_block
        trust_block = record.contracts["TrustRegistry"].deploy_block
        assert differences == [
            f"AnchorRegistry: no code at the recorded address {anchor}",
            f"AnchorRegistry: recorded deploy block {anchor_block} is above the chain height 0",
            f"TrustRegistry: no code at the recorded address {trust}",
            f"TrustRegistry: recorded deploy block {trust_block} is above the chain height 0",
        ]
        # Nothing was sent and the record is untouched.
        assert fresh.w3.eth.get_transaction_count(fresh.signer.address) == 0
        assert deployment_path(tmp_path).read_bytes() == record_bytes
    finally:
        fresh.stop()


def test_sigkill_after_the_state_interval_keeps_the_batch(
    tmp_path: Path, anvil_path: Path, artifacts: Artifacts
) -> None:
    """anvil dumps its state every --state-interval seconds: a SIGKILL after that loses
    nothing already dumped (docs/OPERATIONS.md §1)."""
    chain = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path, state_interval_s=1)
    state = tmp_path / "anvil-state.json"
    try:
        _anchor_first_batch(chain, artifacts, tmp_path)
        stamp = state.stat().st_mtime_ns if state.exists() else 0
        deadline = time.monotonic() + 10
        while (not state.exists() or state.stat().st_mtime_ns == stamp) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        time.sleep(0.3)
        os.kill(chain.pid, signal.SIGKILL)
        while chain.is_running():
            time.sleep(0.05)
    finally:
        chain.stop()
    again = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
    try:
        record, created = ensure_deployment(again, artifacts, data_dir=tmp_path, admin_delay_s=0)
        assert not created
        registry = again.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
        assert again.call(registry.functions.nextSeq()) == 2
    finally:
        again.stop()


def test_pinned_port_in_use_is_refused_before_starting(tmp_path: Path, anvil_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            DevChain.start(data_dir=tmp_path, anvil_path=anvil_path, port=port)
    assert not (tmp_path / "anvil-state.json").exists()


def test_missing_anvil_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ChainSetupError, match="run `npm ci`"):
        DevChain.start(data_dir=tmp_path, anvil_path=tmp_path / "node_modules" / "anvil")


def test_genesis_and_clock_are_stable_over_restarts(tmp_path: Path, anvil_path: Path) -> None:
    """anvil adds a fresh genesis block to its state on each start; restarting with the
    first genesis timestamp keeps block 0 identical, and the clock is set back to now."""
    hashes = []
    for _ in range(4):
        chain = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path)
        try:
            hashes.append(chain.genesis_hash_hex())
            chain.send_value(chain.dev_accounts()[1].address, 1)
            assert abs(chain.latest_timestamp() - time.time()) < 5
        finally:
            chain.stop()
        time.sleep(1.1)  # a new second: a wandering genesis would get a new hash
    assert len(set(hashes)) == 1


def test_two_data_directories_get_two_genesis_hashes(tmp_path: Path, anvil_path: Path) -> None:
    """Same chain id, same deployer, the same second: only block 0 tells them apart, so it
    must differ (a bundle from one must not verify against the other's pins)."""
    chains = [
        DevChain.start(data_dir=tmp_path / name, anvil_path=anvil_path) for name in ("a", "b")
    ]
    try:
        genesis = [chain.genesis_hash_hex() for chain in chains]
        blocks = [chain.w3.eth.get_block(0) for chain in chains]
        assert chains[0].chain_id == chains[1].chain_id == 31337
        assert genesis[0] != genesis[1]
        sidecars = [json.loads((tmp_path / n / "anvil-genesis.json").read_text()) for n in "ab"]
        for chain, block, sidecar in zip(chains, blocks, sidecars, strict=True):
            assert sidecar["genesis_hash"] == chain.genesis_hash_hex()
            assert int(block["gasLimit"]) == sidecar["gas_limit"] >= 30_000_000
    finally:
        for chain in chains:
            chain.stop()
    again = DevChain.start(data_dir=tmp_path / "a", anvil_path=anvil_path)
    try:
        assert again.genesis_hash_hex() == genesis[0]  # kept over a restart
    finally:
        again.stop()
