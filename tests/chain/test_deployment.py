"""Deployment records: deploy, grant roles, persist, and refuse any difference."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from anchoring.deployment import (
    CONTRACT_NAMES,
    DeploymentRecord,
    RoleAssignment,
    archive_deployment,
    check_deployment,
    deploy_contracts,
    deployment_differences,
    deployment_path,
    ensure_deployment,
    load_deployment,
    save_deployment,
)
from anchoring.toolchain import ContractArtifact
from ledger.core.errors import AnchoringError, DeploymentMismatchError, MalformedError

Artifacts = dict[str, ContractArtifact]


def test_deploy_grants_every_duty_role_to_the_operator(
    memory_chain: MemoryChain, artifacts: Artifacts
) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=3600)
    operator = memory_chain.signer.address
    assert record.chain_id == memory_chain.chain_id
    assert record.genesis_hash_hex == memory_chain.genesis_hash_hex()
    assert {(g.contract, g.role) for g in record.roles} == {
        ("AnchorRegistry", "ANCHORER_ROLE"),
        ("AnchorRegistry", "REVOKER_ROLE"),
        ("TrustRegistry", "KEY_ADMIN_ROLE"),
        ("TrustRegistry", "REGISTRAR_ROLE"),
    }
    for grant in record.roles:
        contract = memory_chain.contract(
            artifacts[grant.contract], record.address_of(grant.contract)
        )
        role_id = bytes.fromhex(grant.role_id_hex[2:])
        assert memory_chain.call(contract.functions.hasRole(role_id, operator))
    for name in CONTRACT_NAMES:
        contract = memory_chain.contract(artifacts[name], record.address_of(name))
        assert memory_chain.call(contract.functions.defaultAdmin()) == operator
        assert memory_chain.call(contract.functions.defaultAdminDelay()) == 3600
    check_deployment(memory_chain, record, artifacts)


def test_roles_can_go_to_other_accounts(memory_chain: MemoryChain, artifacts: Artifacts) -> None:
    accounts = [a.address for a in memory_chain.dev_accounts()]
    roles = RoleAssignment(
        anchorer=accounts[1], revoker=accounts[2], key_admin=accounts[3], registrar=accounts[4]
    )
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0, roles=roles)
    holders = {g.role: g.account for g in record.roles}
    assert holders == {
        "ANCHORER_ROLE": accounts[1],
        "REVOKER_ROLE": accounts[2],
        "KEY_ADMIN_ROLE": accounts[3],
        "REGISTRAR_ROLE": accounts[4],
    }
    registry = memory_chain.contract(
        artifacts["AnchorRegistry"], record.address_of("AnchorRegistry")
    )
    anchorer = registry.functions.ANCHORER_ROLE().call()
    assert not memory_chain.call(registry.functions.hasRole(anchorer, memory_chain.signer.address))


def test_record_round_trips_through_its_file(
    memory_chain: MemoryChain, artifacts: Artifacts, tmp_path: Path
) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0)
    path = save_deployment(record, tmp_path)
    assert path == deployment_path(tmp_path)
    loaded = load_deployment(tmp_path)
    assert loaded == record
    assert json.loads(path.read_text())["format"] == "carbonledger-deployment/1"


def test_a_record_is_never_overwritten(
    memory_chain: MemoryChain, artifacts: Artifacts, tmp_path: Path
) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0)
    save_deployment(record, tmp_path)
    before = deployment_path(tmp_path).read_bytes()
    with pytest.raises(AnchoringError, match="never overwritten"):
        save_deployment(record, tmp_path)
    assert deployment_path(tmp_path).read_bytes() == before
    archived = archive_deployment(tmp_path)
    assert archived is not None and archived.read_bytes() == before
    assert load_deployment(tmp_path) is None


def test_ensure_deploys_once_then_checks(
    memory_chain: MemoryChain, artifacts: Artifacts, tmp_path: Path
) -> None:
    first, created = ensure_deployment(memory_chain, artifacts, data_dir=tmp_path, admin_delay_s=0)
    assert created
    nonce = memory_chain.w3.eth.get_transaction_count(memory_chain.signer.address)
    second, created_again = ensure_deployment(
        memory_chain, artifacts, data_dir=tmp_path, admin_delay_s=0
    )
    assert not created_again and second == first
    assert memory_chain.w3.eth.get_transaction_count(memory_chain.signer.address) == nonce


def test_another_chain_is_refused_with_every_difference(artifacts: Artifacts) -> None:
    """Two fresh chains give the same addresses (same deployer, same nonces) and the same
    code: only the genesis and the deploy blocks tell them apart, and both are named."""
    with MemoryChain() as first, MemoryChain() as second:
        record = deploy_contracts(first, artifacts, admin_delay_s=0)
        deploy_contracts(second, artifacts, admin_delay_s=0)
        with pytest.raises(DeploymentMismatchError) as refused:
            check_deployment(second, record, artifacts)
    differences = refused.value.differences
    assert differences[0] == (
        f"genesis hash: recorded {record.genesis_hash_hex}, the connected chain has "
        f"{second.genesis_hash_hex()} (a reset or different chain)"
    )
    assert [d.split(":")[0] for d in differences[1:]] == ["AnchorRegistry", "TrustRegistry"]
    assert all("deploy block" in d for d in differences[1:])


def test_wrong_chain_id_is_named(memory_chain: MemoryChain, artifacts: Artifacts) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0)
    wrong = dataclasses.replace(record, chain_id=31337)
    assert deployment_differences(memory_chain, wrong, artifacts) == [
        f"chain id: recorded 31337, the connected chain reports {memory_chain.chain_id}"
    ]


def test_wrong_addresses_are_named(memory_chain: MemoryChain, artifacts: Artifacts) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0)
    anchor = record.contracts["AnchorRegistry"]
    trust = record.contracts["TrustRegistry"]
    empty = memory_chain.dev_accounts()[9].address
    swapped = dataclasses.replace(
        record,
        contracts={
            "AnchorRegistry": dataclasses.replace(anchor, address=trust.address),
            "TrustRegistry": dataclasses.replace(trust, address=empty),
        },
    )
    differences = deployment_differences(memory_chain, swapped, artifacts)
    trust_hash = artifacts["TrustRegistry"].runtime_code_hash_hex
    assert differences == [
        f"AnchorRegistry: the code at {trust.address} has hash {trust_hash}, not the compiled "
        f"{artifacts['AnchorRegistry'].runtime_code_hash_hex} (a wrong address or another "
        "contract)",
        f"TrustRegistry: no code at the recorded address {empty}",
    ]


def test_changed_sources_are_named(memory_chain: MemoryChain, artifacts: Artifacts) -> None:
    record = deploy_contracts(memory_chain, artifacts, admin_delay_s=0)
    changed = dict(artifacts)
    changed["TrustRegistry"] = dataclasses.replace(
        artifacts["TrustRegistry"], runtime_code_hash_hex="0x" + "ee" * 32
    )
    differences = deployment_differences(memory_chain, record, changed)
    assert differences[0].startswith(
        f"TrustRegistry: recorded runtime code hash "
        f"{record.contracts['TrustRegistry'].runtime_code_hash_hex}, the compiled contract has "
        f"0x{'ee' * 32} (the sources changed"
    )


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(format="carbonledger-deployment/0"), "deployment.format"),
        (lambda d: d.update(chain_id="31337"), "deployment.chain_id"),
        (
            lambda d: d["contracts"]["AnchorRegistry"].update(address="0xabc"),
            "deployment.contracts.AnchorRegistry.address",
        ),
        (lambda d: d["contracts"].pop("TrustRegistry"), "deployment.contracts"),
        (lambda d: d["roles"][1].update(tx="0x" + "AB" * 32), "deployment.roles[1].tx"),
    ],
)
def test_malformed_records_name_the_path(
    memory_chain: MemoryChain,
    artifacts: Artifacts,
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], object],
    path: str,
) -> None:
    data = deploy_contracts(memory_chain, artifacts, admin_delay_s=0).to_json()
    mutate(data)
    deployment_path(tmp_path).write_text(json.dumps(data))
    with pytest.raises(MalformedError) as bad:
        load_deployment(tmp_path)
    assert bad.value.path == path


def test_record_that_is_not_json(tmp_path: Path) -> None:
    deployment_path(tmp_path).write_text("{not json")
    with pytest.raises(MalformedError, match="is not JSON"):
        load_deployment(tmp_path)
    with pytest.raises(MalformedError):
        DeploymentRecord.from_json([])
