"""Helpers shared by the contract tests: deployed registries, expected-revert checks,
the independent log hash, and reference Merkle trees built by @openzeppelin/merkle-tree."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD

from anchoring.chain.base import Chain
from anchoring.revert import ContractRevertError

# Short enough to wait out on every chain, long enough to be distinguishable from "no delay".
ADMIN_DELAY_S = 3600
ZERO32 = b"\x00" * 32
# An accreditation window wide enough to cover every test's time travel.
FAR_FUTURE_S = 10**9

JS_DIR = Path(__file__).resolve().parent / "js"


def random32() -> bytes:
    return secrets.token_bytes(32)


def role_id(name: str) -> bytes:
    return keccak(text=name)


DEFAULT_ADMIN_ROLE = ZERO32


@dataclass
class Registries:
    """Both registries deployed on one chain, with one account per duty.

    Baseline state (restored before every test by a snapshot): roles granted, one producer
    key ``key_id`` registered, one body accredited from well before to well after now.
    """

    chain: Chain
    anchor: Any
    trust: Any
    accounts: dict[str, Any]
    key_id: bytes
    key_public: bytes
    producer_id: bytes

    def addr(self, name: str) -> str:
        return str(self.accounts[name].address)

    def tx(self, fn: Any, sender: str) -> Any:
        """Send ``fn`` as the named account and return the receipt."""
        return self.chain.transact(fn, sender=self.accounts[sender])

    def call(self, fn: Any) -> Any:
        return self.chain.call(fn)

    def now(self) -> int:
        return self.chain.latest_timestamp()

    def events(self, contract: Any, name: str, receipt: Any) -> list[dict[str, Any]]:
        """Decoded ``name`` events of ``contract`` in ``receipt``, as plain dicts."""
        # Other events of the same receipt are not ours to decode here: discard, not warn.
        logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]


def deploy_registries(chain: Chain, artifacts: dict[str, Any]) -> Registries:
    accounts_list = chain.dev_accounts()
    names = ("admin", "anchorer", "revoker", "key_admin", "registrar", "body", "stranger", "heir")
    accounts = dict(zip(names, accounts_list, strict=False))
    admin = accounts["admin"]
    trust_address, _ = chain.deploy(
        artifacts["TrustRegistry"], ADMIN_DELAY_S, admin.address, sender=admin
    )
    anchor_address, _ = chain.deploy(
        artifacts["AnchorRegistry"], ADMIN_DELAY_S, admin.address, trust_address, sender=admin
    )
    anchor = chain.contract(artifacts["AnchorRegistry"], anchor_address)
    trust = chain.contract(artifacts["TrustRegistry"], trust_address)
    grants = [
        (anchor, "ANCHORER_ROLE", "anchorer"),
        (anchor, "REVOKER_ROLE", "revoker"),
        (trust, "KEY_ADMIN_ROLE", "key_admin"),
        (trust, "REGISTRAR_ROLE", "registrar"),
    ]
    for contract, role, holder in grants:
        fn = contract.functions.grantRole(role_id(role), accounts[holder].address)
        chain.transact(fn, sender=admin)

    now = chain.latest_timestamp()
    public = random32()
    key_id = sha256(public)
    producer_id = sha256(b"Example Titanium Works")
    chain.transact(
        trust.functions.registerKey(key_id, public, producer_id, now - 1000, now + FAR_FUTURE_S),
        sender=accounts["key_admin"],
    )
    chain.transact(
        trust.functions.accreditBody(
            accounts["body"].address,
            "Example Verification GmbH",
            "ISO 14065 GHG verification",
            "EU,GB,CBAM",
            now - 1000,
            now + FAR_FUTURE_S,
        ),
        sender=accounts["registrar"],
    )
    return Registries(chain, anchor, trust, accounts, key_id, public, producer_id)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def expect_revert(action: Any, name: str, **args: Any) -> ContractRevertError:
    """Run ``action()`` and check it reverts with custom error ``name`` and exactly ``args``."""
    with pytest.raises(ContractRevertError) as info:
        action()
    error = info.value
    assert error.error_name == name, f"expected {name}, got: {error}"
    assert error.error_args == args, f"arguments of {name}: {error}"
    return error


def log_hash(previous: bytes, seq: int, root: bytes, leaf_count: int, manifest: bytes) -> bytes:
    """logHash_n = keccak256(abi.encode(logHash_{n-1}, seq, root, leafCount, manifestDigest)),
    computed with eth_abi, independently of the contract (docs/FORMAT.md §4)."""
    encoded = encode(
        ["bytes32", "uint64", "bytes32", "uint32", "bytes32"],
        [previous, seq, root, leaf_count, manifest],
    )
    return keccak(encoded)


@dataclass(frozen=True)
class ReferenceTree:
    """A tree built by @openzeppelin/merkle-tree: root, flat node array, per-digest proofs."""

    root: bytes
    nodes: list[bytes]
    proofs: dict[bytes, list[bytes]]
    tree_index: dict[bytes, int]


def reference_tree(repo_root: Path, digests: list[bytes]) -> ReferenceTree:
    node = repo_root / "node_modules" / ".bin" / "node"
    if not node.exists():
        pytest.fail(f"{node} is missing: run `npm ci` in the project directory")
    request = json.dumps({"digests": ["0x" + d.hex() for d in digests]})
    done = subprocess.run(
        [str(node), str(JS_DIR / "merkle_proofs.mjs")],
        input=request,
        capture_output=True,
        text=True,
        cwd=repo_root,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    def b(h: str) -> bytes:
        return bytes.fromhex(h.removeprefix("0x"))

    return ReferenceTree(
        root=b(out["root"]),
        nodes=[b(n) for n in out["tree"]],
        proofs={b(i["digest"]): [b(p) for p in i["proof"]] for i in out["items"]},
        tree_index={b(i["digest"]): int(i["treeIndex"]) for i in out["items"]},
    )


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative node hash (sorted pair), for the attack demonstrations."""
    return keccak(a + b) if a < b else keccak(b + a)


def process_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    """MerkleProof.processProof in Python: what a verifier that accepts raw leaves computes."""
    computed = leaf
    for sibling in proof:
        computed = hash_pair(computed, sibling)
    return computed
