"""The memory (py-evm) and dev (anvil) chains behind one interface, on the real contracts."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from eth_account import Account
from web3.contract import Contract

from anchoring.chain import Chain, DevChain
from anchoring.revert import ContractRevertError
from anchoring.toolchain import ContractArtifact
from ledger.core.errors import AnchoringError, UnavailableError

ROOT_1 = bytes.fromhex("11" * 32)
MANIFEST_1 = bytes.fromhex("22" * 32)


def _deploy(chain: Chain, artifacts: dict[str, ContractArtifact], name: str) -> tuple[str, Any]:
    args: list[Any] = [0, chain.signer.address]
    if name == "AnchorRegistry":
        trust, _ = chain.deploy(artifacts["TrustRegistry"], 0, chain.signer.address)
        args.append(trust)
    return chain.deploy(artifacts[name], *args)


def _registry(chain: Chain, artifacts: dict[str, ContractArtifact]) -> Contract:
    address, _ = _deploy(chain, artifacts, "AnchorRegistry")
    return chain.contract(artifacts["AnchorRegistry"], address)


def test_identity_and_dev_accounts(any_chain: Chain) -> None:
    assert any_chain.chain_id > 0
    assert re.fullmatch(r"0x[0-9a-f]{64}", any_chain.genesis_hash_hex())
    accounts = any_chain.dev_accounts()
    assert len(accounts) >= 10
    assert any_chain.signer.address == accounts[0].address
    for account in accounts:
        # Each account carries its key: re-deriving the address from it must agree.
        assert Account.from_key(account.key).address == account.address
        assert any_chain.balance_wei(account.address) >= 10**18


def test_deploy_code_matches_compiled_runtime(
    any_chain: Chain, artifacts: dict[str, ContractArtifact]
) -> None:
    for name in ("AnchorRegistry", "TrustRegistry"):
        address, receipt = _deploy(any_chain, artifacts, name)
        assert receipt["status"] == 1
        assert artifacts[name].matches_runtime_code(any_chain.get_code(address))


def test_anchor_and_read_back(any_chain: Chain, artifacts: dict[str, ContractArtifact]) -> None:
    registry = _registry(any_chain, artifacts)
    role = any_chain.call(registry.functions.ANCHORER_ROLE())
    any_chain.transact(registry.functions.grantRole(role, any_chain.signer.address))
    receipt = any_chain.transact(
        registry.functions.anchorBatch(1, ROOT_1, 3, MANIFEST_1, "bafkreidemo")
    )
    assert receipt["status"] == 1
    batch = any_chain.call(registry.functions.getBatch(1))
    assert batch[0] == ROOT_1 and batch[1] == 3 and batch[2] == MANIFEST_1
    assert batch[3] == receipt["blockNumber"]
    assert any_chain.call(registry.functions.nextSeq()) == 2


def test_custom_errors_are_decoded(
    any_chain: Chain, artifacts: dict[str, ContractArtifact]
) -> None:
    registry = _registry(any_chain, artifacts)
    stranger = any_chain.dev_accounts()[3]
    role = any_chain.call(registry.functions.ANCHORER_ROLE())

    with pytest.raises(ContractRevertError) as denied:
        any_chain.transact(
            registry.functions.anchorBatch(1, ROOT_1, 1, MANIFEST_1, ""), sender=stranger
        )
    assert denied.value.error_name == "AccessControlUnauthorizedAccount"
    assert denied.value.error_args == {"account": stranger.address, "neededRole": role}

    any_chain.transact(registry.functions.grantRole(role, any_chain.signer.address))
    with pytest.raises(ContractRevertError) as gap:
        any_chain.transact(registry.functions.anchorBatch(5, ROOT_1, 1, MANIFEST_1, ""))
    assert gap.value.error_name == "AnchorRegistryOutOfSequence"
    assert gap.value.error_args == {"expected": 1, "given": 5}

    with pytest.raises(ContractRevertError) as unknown:
        any_chain.call(registry.functions.getBatch(7))
    assert unknown.value.error_name == "AnchorRegistryUnknownBatch"
    assert unknown.value.error_args == {"seq": 7}


def test_mined_failure_is_decoded_by_replay(
    any_chain: Chain, artifacts: dict[str, ContractArtifact]
) -> None:
    """With a fixed gas limit nothing is estimated: the tx is mined with status 0 and
    the reason is recovered by replaying it as a call."""
    registry = _registry(any_chain, artifacts)
    with pytest.raises(ContractRevertError) as failed:
        any_chain.transact(
            registry.functions.anchorBatch(1, bytes(32), 1, MANIFEST_1, ""), gas=200_000
        )
    assert failed.value.error_name == "AccessControlUnauthorizedAccount"
    assert failed.value.tx_hash_hex is not None


def test_out_of_gas_is_reported(any_chain: Chain, artifacts: dict[str, ContractArtifact]) -> None:
    registry = _registry(any_chain, artifacts)
    role = any_chain.call(registry.functions.ANCHORER_ROLE())
    any_chain.transact(registry.functions.grantRole(role, any_chain.signer.address))
    with pytest.raises(ContractRevertError, match="out of gas"):
        any_chain.transact(registry.functions.anchorBatch(1, ROOT_1, 1, MANIFEST_1, ""), gas=30_000)


def test_snapshot_revert_and_time(any_chain: Chain, artifacts: dict[str, ContractArtifact]) -> None:
    snapshot = any_chain.snapshot()
    height = any_chain.block_number()
    address, _ = _deploy(any_chain, artifacts, "AnchorRegistry")
    assert any_chain.get_code(address)
    any_chain.revert(snapshot)
    assert any_chain.block_number() == height
    assert any_chain.get_code(address) == b""

    before = any_chain.latest_timestamp()
    any_chain.advance_time(86_400)
    assert any_chain.latest_timestamp() - before >= 86_400
    with pytest.raises(AnchoringError):
        any_chain.advance_time(-1)


def test_value_transfer_costs_base_gas(any_chain: Chain) -> None:
    receiver = any_chain.dev_accounts()[5].address
    before = any_chain.balance_wei(receiver)
    receipt = any_chain.send_value(receiver, 12345)
    assert receipt["gasUsed"] == 21000
    assert any_chain.balance_wei(receiver) == before + 12345


@pytest.mark.anvil
def test_stopped_dev_chain_is_unavailable(anvil_chain: DevChain) -> None:
    pid = anvil_chain.pid
    anvil_chain.stop()
    assert not anvil_chain.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(UnavailableError, match="did not answer"):
        anvil_chain.block_number()


def test_signed_bytes_can_be_broadcast_again(
    any_chain: Chain, artifacts: dict[str, ContractArtifact]
) -> None:
    """Sign once, keep the raw bytes, send them again after a crash: one tx, one batch."""
    registry = _registry(any_chain, artifacts)
    role = any_chain.call(registry.functions.ANCHORER_ROLE())
    any_chain.transact(registry.functions.grantRole(role, any_chain.signer.address))
    signed = any_chain.sign(registry.functions.anchorBatch(1, ROOT_1, 2, MANIFEST_1, ""))
    assert any_chain.find_receipt(signed.tx_hash_hex) is None
    any_chain.broadcast(signed)
    any_chain.broadcast(signed)
    receipt = any_chain.wait_for_receipt(signed)
    assert receipt["transactionHash"].to_0x_hex() == signed.tx_hash_hex
    any_chain.broadcast(signed)  # already mined: still harmless
    assert any_chain.call(registry.functions.nextSeq()) == 2
    found = any_chain.find_receipt(signed.tx_hash_hex)
    assert found is not None and found["blockNumber"] == receipt["blockNumber"]
