"""Deploying the registries and checking, on every start, that they are still there.

The deployment record (``<data_dir>/deployment.json``, format
``carbonledger-deployment/1``) pins the chain (chain id, genesis hash), every
contract (address, runtime code hash, deploy tx, block number and hash) and the
roles granted. On every start the chain is compared with it, and any difference
(a reset dev chain, another chain, a wrong address, recompiled contracts)
refuses the start with a DeploymentMismatchError listing all of them. A recorded
deployment is never replaced silently: only an explicit ``archive_deployment`` moves it
aside.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from anchoring.chain.base import ArtifactLike, Chain
from ledger.core import jsonshape
from ledger.core.errors import AnchoringError, DeploymentMismatchError, MalformedError

DEPLOYMENT_FORMAT = "carbonledger-deployment/1"
DEPLOYMENT_FILE_NAME = "deployment.json"
CONTRACT_NAMES = ("AnchorRegistry", "TrustRegistry")
# AnchorRegistry names its TrustRegistry in its constructor, so that one goes first.
DEPLOY_ORDER = ("TrustRegistry", "AnchorRegistry")
#: Duty roles per contract (docs/CONTRACTS.md); the deployer keeps DEFAULT_ADMIN_ROLE.
ROLE_NAMES: Mapping[str, tuple[str, ...]] = {
    "AnchorRegistry": ("ANCHORER_ROLE", "REVOKER_ROLE"),
    "TrustRegistry": ("KEY_ADMIN_ROLE", "REGISTRAR_ROLE"),
}
#: AccessControlDefaultAdminRules delay before an admin hand-over takes effect.
DEFAULT_ADMIN_DELAY_S: Mapping[str, int] = {"rpc": 2 * 86_400, "dev": 0, "memory": 0}


@dataclass(frozen=True)
class DeployedContract:
    name: str
    address: str
    runtime_code_hash_hex: str
    deploy_tx_hex: str
    deploy_block: int
    deploy_block_hash_hex: str


@dataclass(frozen=True)
class RoleGrant:
    contract: str
    role: str
    role_id_hex: str
    account: str
    tx_hex: str


@dataclass(frozen=True)
class RoleAssignment:
    """Who receives each duty role; None means the operator (the deployer)."""

    anchorer: str | None = None
    revoker: str | None = None
    key_admin: str | None = None
    registrar: str | None = None

    def account_for(self, role: str, operator: str) -> str:
        chosen = {
            "ANCHORER_ROLE": self.anchorer,
            "REVOKER_ROLE": self.revoker,
            "KEY_ADMIN_ROLE": self.key_admin,
            "REGISTRAR_ROLE": self.registrar,
        }[role]
        return to_checksum_address(chosen or operator)


@dataclass(frozen=True)
class DeploymentRecord:
    chain_kind: str
    chain_id: int
    genesis_hash_hex: str
    deployer: str
    admin: str
    admin_delay_s: int
    contracts: dict[str, DeployedContract]
    roles: tuple[RoleGrant, ...]
    compiler_version: str
    deployed_at: str
    format: str = field(default=DEPLOYMENT_FORMAT)

    def address_of(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise AnchoringError(f"the deployment record has no {name}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "chain_kind": self.chain_kind,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash_hex,
            "deployer": self.deployer,
            "admin": self.admin,
            "admin_delay_s": self.admin_delay_s,
            "compiler_version": self.compiler_version,
            "deployed_at": self.deployed_at,
            "contracts": {
                name: {
                    "address": c.address,
                    "runtime_code_hash": c.runtime_code_hash_hex,
                    "deploy_tx": c.deploy_tx_hex,
                    "deploy_block": c.deploy_block,
                    "deploy_block_hash": c.deploy_block_hash_hex,
                }
                for name, c in sorted(self.contracts.items())
            },
            "roles": [
                {
                    "contract": g.contract,
                    "role": g.role,
                    "role_id": g.role_id_hex,
                    "account": g.account,
                    "tx": g.tx_hex,
                }
                for g in self.roles
            ],
        }

    @classmethod
    def from_json(cls, data: Any, *, path: str = "deployment") -> DeploymentRecord:
        obj = jsonshape.obj(data, path)
        if obj.get("format") != DEPLOYMENT_FORMAT:
            raise MalformedError(
                f"expected {DEPLOYMENT_FORMAT!r}, got {obj.get('format')!r}", path=f"{path}.format"
            )
        contracts_obj = jsonshape.obj(obj.get("contracts"), f"{path}.contracts")
        contracts = {}
        for name, raw in contracts_obj.items():
            p = f"{path}.contracts.{name}"
            c = jsonshape.obj(raw, p)
            contracts[name] = DeployedContract(
                name=name,
                address=jsonshape.address(c.get("address"), f"{p}.address"),
                runtime_code_hash_hex=jsonshape.hex_text(
                    c.get("runtime_code_hash"), f"{p}.runtime_code_hash", size=32, prefixed=True
                ),
                deploy_tx_hex=jsonshape.hex_text(
                    c.get("deploy_tx"), f"{p}.deploy_tx", size=32, prefixed=True
                ),
                deploy_block=jsonshape.integer(
                    c.get("deploy_block"), f"{p}.deploy_block", minimum=0
                ),
                deploy_block_hash_hex=jsonshape.hex_text(
                    c.get("deploy_block_hash"), f"{p}.deploy_block_hash", size=32, prefixed=True
                ),
            )
        for name in CONTRACT_NAMES:
            if name not in contracts:
                raise MalformedError(f"{name} is missing", path=f"{path}.contracts")
        roles_raw = jsonshape.array(obj.get("roles"), f"{path}.roles")
        roles = []
        for i, raw in enumerate(roles_raw):
            p = f"{path}.roles[{i}]"
            g = jsonshape.obj(raw, p)
            roles.append(
                RoleGrant(
                    contract=jsonshape.string(g.get("contract"), f"{p}.contract", min_chars=1),
                    role=jsonshape.string(g.get("role"), f"{p}.role", min_chars=1),
                    role_id_hex=jsonshape.hex_text(
                        g.get("role_id"), f"{p}.role_id", size=32, prefixed=True
                    ),
                    account=jsonshape.address(g.get("account"), f"{p}.account"),
                    tx_hex=jsonshape.hex_text(g.get("tx"), f"{p}.tx", size=32, prefixed=True),
                )
            )
        return cls(
            chain_kind=jsonshape.string(obj.get("chain_kind"), f"{path}.chain_kind", min_chars=1),
            chain_id=jsonshape.integer(obj.get("chain_id"), f"{path}.chain_id", minimum=0),
            genesis_hash_hex=jsonshape.hex_text(
                obj.get("genesis_hash"), f"{path}.genesis_hash", size=32, prefixed=True
            ),
            deployer=jsonshape.address(obj.get("deployer"), f"{path}.deployer"),
            admin=jsonshape.address(obj.get("admin"), f"{path}.admin"),
            admin_delay_s=jsonshape.integer(
                obj.get("admin_delay_s"), f"{path}.admin_delay_s", minimum=0
            ),
            contracts=contracts,
            roles=tuple(roles),
            compiler_version=jsonshape.string(
                obj.get("compiler_version"), f"{path}.compiler_version", min_chars=1
            ),
            deployed_at=jsonshape.string(
                obj.get("deployed_at"), f"{path}.deployed_at", min_chars=1
            ),
        )


# -- persistence ------------------------------------------------------------------


def deployment_path(data_dir: Path) -> Path:
    return data_dir / DEPLOYMENT_FILE_NAME


def load_deployment(data_dir: Path) -> DeploymentRecord | None:
    """The recorded deployment in ``data_dir``, None when there is none."""
    path = deployment_path(data_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchoringError(f"cannot read the deployment record {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MalformedError(f"{path} is not JSON ({exc})", path="deployment") from exc
    return DeploymentRecord.from_json(data)


def save_deployment(record: DeploymentRecord, data_dir: Path) -> Path:
    """Write the record atomically (temp file, fsync, rename); never over an existing one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = deployment_path(data_dir)
    if path.exists():
        raise AnchoringError(
            f"{path} already records a deployment: it is never overwritten; archive it first "
            "(carbonledger deploy --replace)"
        )
    tmp = path.with_suffix(".json.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(record.to_json(), out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path


def archive_deployment(data_dir: Path) -> Path | None:
    """Move the recorded deployment aside (``deployment.<utc>.json``); returns its new path."""
    path = deployment_path(data_dir)
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = data_dir / f"deployment.{stamp}.json"
    os.replace(path, target)
    return target


# -- deploying and checking ---------------------------------------------------------


def _artifact(artifacts: Mapping[str, ArtifactLike], name: str) -> ArtifactLike:
    try:
        return artifacts[name]
    except KeyError:
        raise AnchoringError(
            f"no compiled artifact for {name}: is contracts/{name}.sol there?"
        ) from None


def deploy_contracts(
    chain: Chain,
    artifacts: Mapping[str, ArtifactLike],
    *,
    admin_delay_s: int,
    roles: RoleAssignment | None = None,
) -> DeploymentRecord:
    """Deploy both registries with the operator as admin and grant the duty roles."""
    roles = roles or RoleAssignment()
    operator = chain.signer.address
    deployed: dict[str, DeployedContract] = {}
    grants: list[RoleGrant] = []
    for name in DEPLOY_ORDER:
        artifact = _artifact(artifacts, name)
        args: tuple[object, ...] = (admin_delay_s, operator)
        if name == "AnchorRegistry":
            args += (deployed["TrustRegistry"].address,)
        address, receipt = chain.deploy(artifact, *args)
        deployed[name] = DeployedContract(
            name=name,
            address=address,
            runtime_code_hash_hex=artifact.runtime_code_hash_hex,
            deploy_tx_hex=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            deploy_block=int(receipt["blockNumber"]),
            deploy_block_hash_hex=HexBytes(receipt["blockHash"]).to_0x_hex(),
        )
        contract = chain.contract(artifact, address)
        for role in ROLE_NAMES[name]:
            role_id = bytes(chain.call(getattr(contract.functions, role)()))
            account = roles.account_for(role, operator)
            grant = chain.transact(contract.functions.grantRole(role_id, account))
            if not chain.call(contract.functions.hasRole(role_id, account)):
                raise AnchoringError(f"{name}.grantRole({role}, {account}) did not take effect")
            grants.append(
                RoleGrant(
                    contract=name,
                    role=role,
                    role_id_hex="0x" + role_id.hex(),
                    account=account,
                    tx_hex=HexBytes(grant["transactionHash"]).to_0x_hex(),
                )
            )
    first_block = deployed[DEPLOY_ORDER[0]].deploy_block
    with chain.boundary("reading the deploy block"):
        timestamp = int(chain.w3.eth.get_block(first_block)["timestamp"])
    compiler = str(getattr(_artifact(artifacts, CONTRACT_NAMES[0]), "compiler_version", ""))
    return DeploymentRecord(
        chain_kind=chain.kind,
        chain_id=chain.chain_id,
        genesis_hash_hex=chain.genesis_hash_hex(),
        deployer=operator,
        admin=operator,
        admin_delay_s=admin_delay_s,
        contracts=deployed,
        roles=tuple(grants),
        compiler_version=compiler or "unknown",
        deployed_at=datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _code_matches(artifact: ArtifactLike, code: bytes) -> bool:
    matches = getattr(artifact, "matches_runtime_code", None)
    if callable(matches):
        return bool(matches(code))
    return "0x" + keccak(code).hex() == artifact.runtime_code_hash_hex


def deployment_differences(
    chain: Chain, record: DeploymentRecord, artifacts: Mapping[str, ArtifactLike]
) -> list[str]:
    """Every way the connected chain and compiled contracts differ from ``record``."""
    differences: list[str] = []
    if chain.chain_id != record.chain_id:
        differences.append(
            f"chain id: recorded {record.chain_id}, the connected chain reports {chain.chain_id}"
        )
    genesis = chain.genesis_hash_hex()
    if genesis != record.genesis_hash_hex:
        differences.append(
            f"genesis hash: recorded {record.genesis_hash_hex}, the connected chain has {genesis} "
            "(a reset or different chain)"
        )
    height = chain.block_number()
    for name in CONTRACT_NAMES:
        entry = record.contracts[name]
        artifact = _artifact(artifacts, name)
        if artifact.runtime_code_hash_hex != entry.runtime_code_hash_hex:
            differences.append(
                f"{name}: recorded runtime code hash {entry.runtime_code_hash_hex}, the compiled "
                f"contract has {artifact.runtime_code_hash_hex} (the sources changed since "
                "deployment)"
            )
        code = chain.get_code(entry.address)
        if not code:
            differences.append(f"{name}: no code at the recorded address {entry.address}")
        elif not _code_matches(artifact, code):
            differences.append(
                f"{name}: the code at {entry.address} has hash 0x{keccak(code).hex()}, not the "
                f"compiled {artifact.runtime_code_hash_hex} (a wrong address or another contract)"
            )
        if entry.deploy_block > height:
            differences.append(
                f"{name}: recorded deploy block {entry.deploy_block} is above the chain height "
                f"{height}"
            )
        else:
            block_hash = chain.block_hash_hex(entry.deploy_block)
            if block_hash != entry.deploy_block_hash_hex:
                differences.append(
                    f"{name}: deploy block {entry.deploy_block} has hash {block_hash}, recorded "
                    f"{entry.deploy_block_hash_hex} (a reorg or a different chain)"
                )
    if not differences:
        anchor = chain.contract(
            _artifact(artifacts, "AnchorRegistry"), record.address_of("AnchorRegistry")
        )
        linked = chain.call(anchor.functions.trustRegistry())
        if linked != record.address_of("TrustRegistry"):
            differences.append(
                f"AnchorRegistry is linked to TrustRegistry {linked}, the record names "
                f"{record.address_of('TrustRegistry')}"
            )
    return differences


def check_deployment(
    chain: Chain, record: DeploymentRecord, artifacts: Mapping[str, ArtifactLike]
) -> None:
    """Raise DeploymentMismatchError naming every difference; return when all match."""
    differences = deployment_differences(chain, record, artifacts)
    if differences:
        raise DeploymentMismatchError(
            f"the chain does not hold the recorded deployment ({len(differences)} "
            f"difference{'s' if len(differences) > 1 else ''}): " + "; ".join(differences),
            differences=differences,
        )


def ensure_deployment(
    chain: Chain,
    artifacts: Mapping[str, ArtifactLike],
    *,
    data_dir: Path | None,
    admin_delay_s: int,
    roles: RoleAssignment | None = None,
) -> tuple[DeploymentRecord, bool]:
    """Check the recorded deployment, or deploy and record one when there is none.

    Returns (record, created). ``data_dir=None`` keeps the record in memory only
    (the memory chain, which is gone when the process ends).
    """
    record = load_deployment(data_dir) if data_dir is not None else None
    if record is not None:
        check_deployment(chain, record, artifacts)
        return record, False
    record = deploy_contracts(chain, artifacts, admin_delay_s=admin_delay_s, roles=roles)
    if data_dir is not None:
        save_deployment(record, data_dir)
    return record, True
