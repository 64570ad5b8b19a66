"""Known answers for the verifier's header and proof checks (tests/vectors/evm): real
headers of four forks and a real EIP-1186 proof, all produced by go-ethereum, and
negative vectors named for the attack. Pure: runs in the verifier's wheel-only venv too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import keccak

from verifier.evm import errors
from verifier.evm.header import FORKS, header_from_rpc
from verifier.evm.state import verify_proof

pytestmark = pytest.mark.verifier_dist

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "evm"
HEADERS = json.loads((VECTORS / "headers.json").read_text())
PROOFS = json.loads((VECTORS / "proofs.json").read_text())
BY_NAME = {v["name"]: v for v in HEADERS["vectors"]}


@pytest.mark.parametrize("vector", HEADERS["vectors"], ids=lambda v: v["name"])
def test_header_hash_recomputed(vector: dict[str, Any]) -> None:
    header = header_from_rpc(
        vector["block"], url="vector", number=int(vector["block"]["number"], 16)
    )
    assert header.hash_hex == vector["expected_hash"]
    assert header.fork == vector["fork"]
    assert len(rlp.decode(header.rlp)) == FORKS[vector["fork"]]


@pytest.mark.parametrize("vector", HEADERS["negative"], ids=lambda v: v["name"])
def test_header_attack_refused(vector: dict[str, Any]) -> None:
    block = dict(BY_NAME[vector["base"]]["block"])
    for name, value in vector["change"].items():
        if value is None:
            block.pop(name)
        else:
            block[name] = value
    number = vector.get("ask_number", int(block["number"], 16))
    with pytest.raises(getattr(errors, vector["expected_error"])) as caught:
        header_from_rpc(block, url="http://node.example", number=number)
    assert "http://node.example" in caught.value.message


def _proof_args(proof: dict[str, Any], address: str | None = None) -> dict[str, Any]:
    root = keccak(bytes.fromhex(proof["accountProof"][0][2:]))
    return {
        "state_root": root,
        "address": address or proof["address"],
        "slots": PROOFS["slots"],
        "url": "http://node.example",
        "block": 3,
    }


def test_geth_proof_folds_to_the_stated_account_and_slot() -> None:
    proof = PROOFS["proof"]
    proven = verify_proof(proof, **_proof_args(proof))
    want = PROOFS["expected"]
    assert proven.account.nonce == want["nonce"] and proven.account.balance == want["balance"]
    assert "0x" + proven.account.storage_root.hex() == want["storage_root"]
    assert "0x" + proven.account.code_hash.hex() == want["code_hash"]
    assert {hex(k): hex(v) for k, v in proven.words.items()} == want["words"]


def _attack(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    proof = json.loads(json.dumps(PROOFS["proof"]))
    args = _proof_args(PROOFS["proof"])
    if name == "account_proof_node_tampered":
        leaf = proof["accountProof"][1]
        proof["accountProof"][1] = leaf[:-2] + ("00" if leaf[-2:] != "00" else "01")
    elif name == "storage_value_overstated":
        proof["storageProof"][0]["value"] = "0x2a"
    elif name == "proof_for_other_account":
        args["address"] = "0xbb00000000000000000000000000000000000000"
    elif name == "balance_overstated":
        proof["balance"] = "0x3635c9adc5dea00000"
    elif name == "oversized_node":
        proof["storageProof"][0]["proof"] = ["0x" + "c0" * 2048]
    return proof, args


@pytest.mark.parametrize("vector", PROOFS["negative"], ids=lambda v: v["name"])
def test_proof_attack_refused(vector: dict[str, Any]) -> None:
    proof, args = _attack(vector["name"])
    with pytest.raises(getattr(errors, vector["expected_error"])) as caught:
        verify_proof(proof, **args)
    assert "http://node.example" in caught.value.message or isinstance(
        caught.value, errors.ProofError
    )
